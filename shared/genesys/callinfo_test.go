package genesys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCallInfo: a context from WithCallInfo learns the correlation id of successful
// calls (which no error carries) and of every retried response; a context without one
// records nothing and works as before.
func TestCallInfo(t *testing.T) {
	var n atomic.Int64
	org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		if r.URL.Path == "/api/v2/routing/queues/flaky" && i == 1 {
			writeError(w, http.StatusServiceUnavailable, "service.unavailable", "try again", "corr-503")
			return
		}
		w.Header().Set("ININ-Correlation-Id", fmt.Sprintf("corr-ok-%d", i))
		writeJSON(w, http.StatusOK, map[string]any{"id": "q1", "name": "Q"})
	}}
	c, _ := newTestClient(t, org)

	ctx, ci := WithCallInfo(t.Context())
	if _, ok := ci.Last(); ok {
		t.Fatalf("fresh CallInfo: got a call, want none")
	}
	if _, err := c.GetQueue(ctx, "flaky"); err != nil {
		t.Fatal(err)
	}
	want := []Call{
		{Method: "GET", Path: "/api/v2/routing/queues/flaky", StatusCode: 503, CorrelationID: "corr-503"},
		{Method: "GET", Path: "/api/v2/routing/queues/flaky", StatusCode: 200, CorrelationID: "corr-ok-2"},
	}
	if d := cmp.Diff(want, ci.Calls()); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
	if got := ci.CorrelationID(); got != "corr-ok-2" {
		t.Errorf("CorrelationID: got %q, want the successful response's corr-ok-2", got)
	}

	// Another call of interest gets its own CallInfo; the first is left alone.
	ctx2, ci2 := WithCallInfo(t.Context())
	// A nested CallInfo records into its own and the enclosing one.
	nctx, inner := WithCallInfo(ctx2)
	if _, err := c.GetQueue(nctx, "q1"); err != nil {
		t.Fatal(err)
	}
	if got, outer := inner.CorrelationID(), ci2.CorrelationID(); got != "corr-ok-3" || outer != got {
		t.Errorf("nested CallInfo: inner %q, outer %q; want both corr-ok-3", got, outer)
	}
	if _, err := c.GetQueue(ctx2, "q1"); err != nil {
		t.Fatal(err)
	}
	if got := ci2.CorrelationID(); got != "corr-ok-4" || len(ci2.Calls()) != 2 {
		t.Errorf("second CallInfo: got %q after %d calls, want corr-ok-4 after 2", got, len(ci2.Calls()))
	}
	if got := len(ci.Calls()); got != 2 {
		t.Errorf("first CallInfo after another call: got %d calls, want 2", got)
	}
	// Without a CallInfo nothing is recorded and nothing fails.
	if _, err := c.GetQueue(t.Context(), "q1"); err != nil {
		t.Fatal(err)
	}

	// A failing call: the error and the CallInfo agree.
	org2 := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not.found", "no queue", "corr-404")
	}}
	c2, _ := newTestClient(t, org2)
	ctx3, ci3 := WithCallInfo(t.Context())
	_, err := c2.GetQueue(ctx3, "gone")
	ae, ok := errors.AsType[*APIError](err)
	if !ok || ae.CorrelationID != "corr-404" || ci3.CorrelationID() != "corr-404" {
		t.Errorf("failed call: error %v, CallInfo %q; want both corr-404", err, ci3.CorrelationID())
	}
}

// ExampleWithCallInfo shows how a caller learns the correlation id of a successful write.
func ExampleWithCallInfo() {
	ctx, ci := WithCallInfo(context.Background())
	_ = ctx // pass ctx to the call, e.g. client.UpdateQueueRaw(ctx, id, raw)
	fmt.Printf("correlation id %q\n", ci.CorrelationID())
	// Output: correlation id ""
}
