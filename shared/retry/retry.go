// Package retry is routekeeper's one classification of failures: whether work that failed
// may succeed when tried again, and how long to wait first. The apply engine, the apply
// function (the visibility of a returned SQS record) and every other handler (a webhook
// answering 503 with Retry-After, a scan that stops early) decide with Classify.
//
// The rules, in order:
//
//   - an error marked Permanent, or any error in the chain with a method
//     Permanent() bool returning true (a malformed change request, a field the model does
//     not know, a live document with no canonical form), is not retried: retrying cannot
//     fix it;
//   - a Genesys API error (*genesys.APIError) is retried for 5xx, 401 and 403 (credentials
//     or role being fixed), 408, 409 (Genesys answers transient conflicts on worktypes)
//     and 429; any other 4xx is permanent;
//   - anything else is retried: context deadlines, transport errors, DynamoDB and SQS
//     faults, a request held by another invocation. Retrying a permanent failure costs a
//     few deliveries and ends in a dead-letter queue with the reason recorded; giving up
//     on a transient one would lose the work.
//
// The wait is what the error says: an error in the chain with a method
// Wait() time.Duration (apply.RetryError), else what Genesys asked for (Retry-After of a
// 429 or 503) or what the client's request budget needed (genesys.RetryAfter).
package retry

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/routekeeper/routekeeper/shared/genesys"
)

// Decision is the classification of a failure.
type Decision struct {
	// Retry: the work may succeed when tried again.
	Retry bool
	// After is how long to wait before trying again, when Genesys (or the client's
	// budget) said; 0 when nothing was said.
	After time.Duration
}

// Classify decides whether the failure err may pass (see the package doc). A nil err is
// not retried.
func Classify(err error) Decision {
	if err == nil || permanent(err) {
		return Decision{}
	}
	d := Decision{Retry: true}
	if w, ok := errors.AsType[waiter](err); ok && w.Wait() > 0 {
		d.After = w.Wait()
	} else {
		d.After, _ = genesys.RetryAfter(err)
	}
	if ae, ok := errors.AsType[*genesys.APIError](err); ok {
		switch s := ae.StatusCode; {
		case s >= 500, s == http.StatusUnauthorized, s == http.StatusForbidden, s == http.StatusRequestTimeout,
			s == http.StatusConflict, s == http.StatusTooManyRequests:
		case s >= 400:
			return Decision{}
		}
	}
	return d
}

// waiter is an error that says how long to wait before trying again.
type waiter interface {
	error
	Wait() time.Duration
}

// Permanent marks err as a failure that retrying cannot fix. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Permanent() bool { return true }

// permanent reports whether an error in err's chain says it is permanent.
func permanent(err error) bool {
	type permanenter interface{ Permanent() bool }
	for _, e := range chain(err) {
		if p, ok := e.(permanenter); ok && p.Permanent() {
			return true
		}
	}
	return false
}

// chain lists err and every error it wraps, depth first (errors.Join and %w with several
// errors included).
func chain(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}

// Sleep waits d, or until ctx is done (its error). It is the default of the injectable
// waits of the engine and the functions.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
