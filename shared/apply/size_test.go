package apply_test

import (
	"context"
	"strings"
	"testing"

	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// TestLargeConflictIsRecorded: a CONFLICT whose values are large (a near-limit message
// against a large live field) still ends in a recorded terminal state. DynamoDB refuses
// items over 400 KB, so the stored result keeps every conflicting path and drops the
// values that do not fit, saying so, instead of failing Complete on every redelivery
// until the message reaches the dead-letter queue.
func TestLargeConflictIsRecorded(t *testing.T) {
	env, qName, _, _ := newEnv(t, applytest.Options{})
	qid := env.ID(t, entity.Queue, qName)
	req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t,
		`{"name":"`+qName+`","description":"`+strings.Repeat("o", 200_000)+`"}`))
	if _, err := changes.Encode(req); err != nil {
		t.Fatalf("the request must fit in one message: %v", err)
	}
	// A concurrent edit of the same field, not known to the store: every value differs.
	if err := env.Sim.EditQueue(qid, func(q map[string]any) { q["description"] = strings.Repeat("t", 220_000) }); err != nil {
		t.Fatal(err)
	}
	res, err := env.Engine.Apply(context.Background(), req)
	if err != nil {
		t.Fatalf("Apply: %v (want a recorded CONFLICT)", err)
	}
	if res.Status != store.StatusConflict {
		t.Fatalf("got %s (%s), want CONFLICT", res.Status, res.Reason)
	}
	c := record(t, env, req.ChangeID)
	if c.Status != store.StatusConflict {
		t.Fatalf("record: got %s (last error %q), want CONFLICT", c.Status, c.LastError)
	}
	if len(c.Result) > store.MaxResultBytes {
		t.Errorf("stored result is %d bytes, want at most %d", len(c.Result), store.MaxResultBytes)
	}
	if !strings.Contains(string(c.Result), `"path":"description"`) || !strings.Contains(string(c.Result), "omitted") {
		t.Errorf("stored result %.300s…: want the conflicting path kept and the omission said", c.Result)
	}
}
