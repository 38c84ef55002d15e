package genesys

import (
	"context"
	"sync"
)

// Call is what the client learned from one response: every attempt's, so a retried call
// appears once per response and the last one is the call's outcome.
type Call struct {
	Method, Path  string
	StatusCode    int
	CorrelationID string // ININ-Correlation-Id; "" if the response had none
}

// CallInfo collects the responses to the calls made with a context from WithCallInfo,
// successful ones included: *APIError carries the correlation id of a failure, CallInfo
// that of a success (for example to record which Genesys request made a write). It is
// safe for concurrent use (a list's pages are fetched concurrently).
type CallInfo struct {
	parent *CallInfo // the CallInfo of the context WithCallInfo was given, if any

	mu    sync.Mutex
	calls []Call
}

type callInfoKey struct{}

// WithCallInfo returns a context whose calls the client records in the returned
// CallInfo. Derive a fresh one per call of interest: contexts derived from it record into
// the same CallInfo, and a CallInfo already on ctx keeps recording them too (a wrapper
// may watch the calls of a caller that watches its own).
func WithCallInfo(ctx context.Context) (context.Context, *CallInfo) {
	parent, _ := ctx.Value(callInfoKey{}).(*CallInfo)
	ci := &CallInfo{parent: parent}
	return context.WithValue(ctx, callInfoKey{}, ci), ci
}

// Calls returns the recorded calls in the order their responses arrived.
func (ci *CallInfo) Calls() []Call {
	ci.mu.Lock()
	defer ci.mu.Unlock()
	return append([]Call(nil), ci.calls...)
}

// Last returns the most recent response, and false if none arrived.
func (ci *CallInfo) Last() (Call, bool) {
	ci.mu.Lock()
	defer ci.mu.Unlock()
	if len(ci.calls) == 0 {
		return Call{}, false
	}
	return ci.calls[len(ci.calls)-1], true
}

// CorrelationID is the correlation id of the most recent response ("" if none).
func (ci *CallInfo) CorrelationID() string {
	c, _ := ci.Last()
	return c.CorrelationID
}

// recordCall adds a response to ctx's CallInfo, if any.
func recordCall(ctx context.Context, c Call) {
	ci, _ := ctx.Value(callInfoKey{}).(*CallInfo)
	for ; ci != nil; ci = ci.parent {
		ci.mu.Lock()
		ci.calls = append(ci.calls, c)
		ci.mu.Unlock()
	}
}
