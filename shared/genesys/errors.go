package genesys

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinels callers branch on with errors.Is. *APIError matches them by HTTP
// status; *BudgetError matches ErrRateLimited; *AuthError matches ErrUnauthorized.
var (
	ErrNotFound     = errors.New("genesys: not found")
	ErrConflict     = errors.New("genesys: conflict")
	ErrRateLimited  = errors.New("genesys: rate limited")
	ErrUnauthorized = errors.New("genesys: unauthorized")
	ErrForbidden    = errors.New("genesys: forbidden")
)

// APIError is a non-2xx answer from the Platform API (SDK ErrorBody plus the
// request it answered). It never holds a token, secret or request header.
type APIError struct {
	Method     string // HTTP method of the request
	Path       string // URL path of the request (no query)
	StatusCode int

	Code          string // Genesys error code, e.g. "not.found", "too.many.requests.retry.after"
	Message       string
	ContextID     string
	CorrelationID string // ININ-Correlation-Id response header: quote it to Genesys support
	Limit         *Limit // the limit that was hit, when the server names one

	// RetryAfter is how long the server asked the caller to wait (Retry-After
	// on a 429 or 503). It is set when the client gave up without waiting
	// because the wait would pass the context deadline or Config.MaxRetryWait:
	// requeue the work to run after this duration.
	RetryAfter time.Duration
}

// Limit names the Genesys limit a request hit (ErrorBody.limit).
type Limit struct {
	Key       string `json:"key"`
	Namespace string `json:"namespace"`
	Value     int64  `json:"value"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "genesys: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Limit != nil && e.Limit.Key != "" {
		fmt.Fprintf(&b, "; limit %s/%s=%d", e.Limit.Namespace, e.Limit.Key, e.Limit.Value)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	if e.CorrelationID != "" {
		fmt.Fprintf(&b, " [correlation id %s]", e.CorrelationID)
	}
	return b.String()
}

// Is maps the status to the package sentinels. A 400 whose message contains
// "does not match the current version" is a version conflict, as the
// Terraform provider's IsVersionMismatch treats it (docs/genesys-api.md §1).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict ||
			(e.StatusCode == http.StatusBadRequest && strings.Contains(e.Message, "does not match the current version"))
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	}
	return false
}

// BudgetError reports that the client's own request budget (Config.RequestsPerMinute,
// or a pause a 429 imposed on the whole client) could not grant a request
// before the context deadline, or the pause is longer than Config.MaxRetryWait.
// Nothing was sent. Wait is how long it would have taken.
type BudgetError struct {
	Method, Path string
	Wait         time.Duration
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("genesys: %s %s: request budget needs %s, more than the context deadline or MaxRetryWait allows; retry later", e.Method, e.Path, e.Wait)
}

// Is reports true for ErrRateLimited.
func (e *BudgetError) Is(target error) bool { return target == ErrRateLimited }

// AuthError is a failed OAuth client-credentials token request. It carries the
// token endpoint's error code and description, never the response body (the
// oauth2 package's own error embeds it) nor the credentials.
type AuthError struct {
	TokenURL      string
	StatusCode    int    // 0 when no response arrived
	Code          string // OAuth "error", e.g. invalid_client
	Description   string // OAuth "error_description"
	CorrelationID string
	Err           error // transport error when no response arrived (already redacted)

	retryAfter time.Duration // the token endpoint's Retry-After, if any
}

func (e *AuthError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "genesys: oauth token request to %s failed", e.TokenURL)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.CorrelationID != "" {
		fmt.Fprintf(&b, " [correlation id %s]", e.CorrelationID)
	}
	if e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnauthorized {
		b.WriteString("; check GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET and the login URL")
	}
	return b.String()
}

// Is reports true for ErrUnauthorized when the token endpoint rejected the credentials.
func (e *AuthError) Is(target error) bool {
	return target == ErrUnauthorized && (e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnauthorized)
}

func (e *AuthError) Unwrap() error { return e.Err }

// RetryAfter returns the wait carried by err: the server's Retry-After of an
// *APIError, or the budget wait of a *BudgetError. The apply Lambda uses it
// to requeue a change request with a visibility timeout instead of sleeping.
func RetryAfter(err error) (time.Duration, bool) {
	if be, ok := errors.AsType[*BudgetError](err); ok {
		return be.Wait, true
	}
	if ae, ok := errors.AsType[*APIError](err); ok && ae.RetryAfter > 0 {
		return ae.RetryAfter, true
	}
	return 0, false
}

// WaitReason says why a Client waits before an attempt.
type WaitReason string

// Reasons of a Wait.
const (
	// WaitBudget: the client's own request budget (RequestsPerMinute) paces the attempt.
	WaitBudget WaitReason = "request budget"
	// WaitRetryAfter: Genesys answered 429 and asked to wait (Retry-After); every attempt
	// of the client waits it out.
	WaitRetryAfter WaitReason = "Retry-After"
	// WaitBackoff: the attempt before failed (a 5xx or a transport error); the client
	// backs off before trying again.
	WaitBackoff WaitReason = "backoff"
)

// Wait is one wait of a Client (Config.OnWait).
type Wait struct {
	Reason   WaitReason
	Duration time.Duration
	Method   string
	Path     string
}
