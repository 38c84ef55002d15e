package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/routekeeper/routekeeper/shared/retry"
	"github.com/routekeeper/routekeeper/shared/store"
)

// record is what the idempotency record of one request is keyed and listed by.
type record struct {
	id, hash string
	info     store.ChangeInfo
}

// once runs work for the request rec at most once to a terminal outcome, as AWS Lambda
// Powertools' idempotency does (package doc, Algorithm steps 1 and 5): it claims the
// record, returns the stored result of a completed request without running work, refuses
// an id reused for another payload, runs work under the claim's time, and records the
// outcome: a failure that may pass (retry.Classify) as an attempt and a *RetryError, any
// other failure as REJECTED, else the Result work filled in. res holds what is known of the
// request before work runs. The change logic itself knows nothing of records.
func (e *Engine) once(ctx context.Context, rec record, res Result, log *slog.Logger, work func(ctx context.Context, res *Result) error) (Result, error) {
	// The work ends at the lock (the invocation's deadline, else LockDuration); the claim
	// lasts ClockSkew longer, so it never expires while this invocation can still write.
	lock := e.lockFor(ctx)
	if err := ctx.Err(); err != nil {
		return res, &RetryError{ChangeID: rec.id, Err: err}
	}
	// The claim is made with the bookkeeping context: a claim written but cancelled before
	// its answer arrived would be held, unknown to us, until it expired.
	cctx, ccancel := e.bookkeeping(ctx)
	claimed, err := e.s.Claim(cctx, rec.id, rec.hash, e.opts.RecordExpiry, lock+e.opts.ClockSkew, rec.info)
	ccancel()
	switch {
	case err == nil:
	case errors.Is(err, store.ErrAlreadyCompleted):
		stored, derr := storedResult(claimed, rec.id)
		if derr != nil {
			return res, derr
		}
		log.InfoContext(ctx, "change request replayed: returning the stored result", slog.String("status", string(stored.Status)))
		return stored, nil
	case errors.Is(err, store.ErrPayloadMismatch):
		res.Status, res.NotRecorded = store.StatusRejected, true
		if res.Reason == "" {
			res.Reason = "change id already used by a request with a different payload: " + err.Error()
		}
		res.CompletedAt = e.opts.Now().UTC()
		log.WarnContext(ctx, "change request rejected: its id belongs to another payload", slog.String("reason", res.Reason))
		return res, nil
	default:
		// Held by another invocation (ErrInProgress) or the store failed: we hold nothing,
		// so record nothing.
		log.WarnContext(ctx, "change request not claimed; retrying later", slog.String("error", err.Error()))
		return res, &RetryError{ChangeID: rec.id, Err: err}
	}
	if claimed != nil && claimed.Claims > 1 {
		res.PriorAttempts = claimed.Claims - 1
	}

	wctx := ctx
	if _, ok := ctx.Deadline(); !ok {
		// The deadline is read on the engine's clock, like a caller's deadline (lockFor)
		// and the Genesys client's budget checks: a timeout on the real clock would end
		// a run on a fake one early (or late).
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(ctx, e.opts.Now().Add(lock))
		defer cancel()
	}
	err = work(wctx, &res)
	bctx, cancel := e.bookkeeping(ctx)
	defer cancel()
	if d := retry.Classify(err); d.Retry {
		re := &RetryError{ChangeID: rec.id, Err: err, CorrelationID: correlationID(err), RetryAfter: d.After}
		if rerr := e.s.RecordAttempt(bctx, rec.id, err.Error()); rerr != nil {
			log.ErrorContext(ctx, "could not record the failed attempt", slog.String("error", rerr.Error()))
		}
		log.WarnContext(ctx, "change request failed; retrying later", slog.String("error", err.Error()),
			slog.String("correlationId", re.CorrelationID), slog.Duration("retryAfter", re.RetryAfter))
		return res, re
	}
	if err != nil {
		res.Status, res.Reason, res.CorrelationID = store.StatusRejected, err.Error(), correlationID(err)
		res.Written, res.Conflicts = nil, nil
	}
	if res.Status == store.StatusNoop && res.PriorAttempts > 0 {
		res.Reason += fmt.Sprintf(" (this request had %d earlier attempt(s) that did not finish; one of them may have made this change)", res.PriorAttempts)
	}
	res.CompletedAt = e.opts.Now().UTC()
	body, jerr := fitResult(&res)
	if jerr != nil {
		return res, &RetryError{ChangeID: rec.id, Err: fmt.Errorf("encode result: %w", jerr)}
	}
	if cerr := e.s.Complete(bctx, rec.id, res.Status, body); cerr != nil {
		// The outcome (maybe a write) happened but is not recorded. Say so as a failed
		// attempt, which also releases the claim; if even that fails the claim stays
		// INPROGRESS until it expires. Either way the redelivery re-reads live, ends NOOP
		// for a write that was made, and its result counts this attempt.
		cerr = fmt.Errorf("record outcome %s: %w", res.Status, cerr)
		if rerr := e.s.RecordAttempt(bctx, rec.id, fmt.Sprintf("outcome %s reached (%s) but not recorded: %v", res.Status, detail(res), cerr)); rerr != nil {
			log.ErrorContext(ctx, "could not record the failed attempt", slog.String("error", rerr.Error()))
		}
		log.ErrorContext(ctx, "could not record the outcome", slog.String("status", string(res.Status)), slog.String("error", cerr.Error()))
		return res, &RetryError{ChangeID: rec.id, Err: cerr}
	}
	return res, nil
}

// omitAbove is the size from which a conflict value is left out of a result that does
// not fit in its record.
const omitAbove = 1024

// fitResult encodes res for its record. A result over store.MaxResultBytes (large
// conflicting values) keeps every conflict's path and reason but replaces values of
// omitAbove bytes or more with a note, and is marked Truncated; a reason that still does
// not fit is cut.
func fitResult(res *Result) ([]byte, error) {
	body, err := json.Marshal(res)
	if err != nil || len(body) <= store.MaxResultBytes {
		return body, err
	}
	res.Truncated = true
	omit := func(v any) any {
		b, err := json.Marshal(v)
		if err != nil || len(b) < omitAbove {
			return v
		}
		return fmt.Sprintf("(value of %d bytes omitted: too large for the change record; read it in Genesys or the config)", len(b))
	}
	for i := range res.Conflicts {
		c := &res.Conflicts[i]
		c.Base, c.Ours, c.Theirs = omit(c.Base), omit(c.Ours), omit(c.Theirs)
	}
	if body, err = json.Marshal(res); err != nil || len(body) <= store.MaxResultBytes {
		return body, err
	}
	if len(res.Reason) > 4096 {
		res.Reason = res.Reason[:4096] + "…"
	}
	if len(res.Conflicts) > 1000 {
		res.Conflicts = res.Conflicts[:1000]
	}
	return json.Marshal(res)
}

// detail says in a few words what a result did, for a record that cannot hold the result.
func detail(r Result) string {
	if s := r.Summary(); s != "" {
		return s
	}
	return "no detail"
}

// storedResult is the Result of a completed record, as Claim returned it.
func storedResult(c *store.Change, id string) (Result, error) {
	var res Result
	if c == nil {
		return res, &RetryError{ChangeID: id, Err: errors.New("store reported the request completed without its record")}
	}
	if len(c.Result) > 0 {
		if err := json.Unmarshal(c.Result, &res); err != nil {
			return res, &RetryError{ChangeID: id, Err: fmt.Errorf("decode stored result: %w", err)}
		}
	}
	res.ChangeID, res.Status, res.Replayed = id, c.Status, true
	return res, nil
}
