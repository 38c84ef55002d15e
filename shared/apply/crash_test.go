package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// lossyStore is a MemoryStore whose bookkeeping writes can be made to fail, as a
// DynamoDB outage or an invocation that dies right after the Genesys write would.
type lossyStore struct {
	*store.Memory
	failComplete, failAttempt bool
}

var errStoreDown = errors.New("store unavailable")

func (s *lossyStore) Complete(ctx context.Context, id string, st store.Status, r json.RawMessage) error {
	if s.failComplete {
		return errStoreDown
	}
	return s.Memory.Complete(ctx, id, st, r)
}

func (s *lossyStore) RecordAttempt(ctx context.Context, id, msg string) error {
	if s.failAttempt {
		return errStoreDown
	}
	return s.Memory.RecordAttempt(ctx, id, msg)
}

// TestOutcomeNotRecorded: the Genesys write succeeds but its outcome is not recorded.
// The request is retried, never lost; the redelivery finds the change in place and ends
// NOOP, and its result says an earlier attempt of this very request may have made it.
// When only Complete fails, the attempt is recorded (FAILED, the lock released, the
// unrecorded outcome as last error); when nothing can be recorded (the invocation died),
// the claim blocks redeliveries until it expires, then is taken over.
func TestOutcomeNotRecorded(t *testing.T) {
	for _, tc := range []struct {
		name        string
		failAttempt bool
	}{
		{name: "complete fails"},
		{name: "invocation died", failAttempt: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now().UTC()
			clock := func() time.Time { return now }
			env, qName, _, _ := newEnv(t, applytest.Options{Memory: true, Now: clock})
			st := &lossyStore{Memory: env.Store.(*store.Memory), failComplete: true, failAttempt: tc.failAttempt}
			eng := apply.New(env.Client, st, apply.Options{Now: clock, LockDuration: time.Minute})
			req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"written once"}`))

			_, err := eng.Apply(context.Background(), req)
			if !errors.Is(err, apply.ErrRetry) || !errors.Is(err, errStoreDown) {
				t.Fatalf("first attempt: got %v, want a retry for the unrecorded outcome", err)
			}
			c, _ := st.GetChange(context.Background(), req.ChangeID)
			if tc.failAttempt {
				if c.Status != store.StatusInProgress {
					t.Fatalf("record: got %s, want INPROGRESS (nothing could be written)", c.Status)
				}
				st.failAttempt = false
				if _, err := eng.Apply(context.Background(), req); !errors.Is(err, store.ErrInProgress) {
					t.Fatalf("redelivery while claimed: got %v, want ErrInProgress", err)
				}
				now = now.Add(2 * time.Minute)
			} else if c.Status != store.StatusFailed || !strings.Contains(c.LastError, "APPLIED") {
				t.Fatalf("record: got %s, last error %q; want FAILED naming the unrecorded APPLIED", c.Status, c.LastError)
			}
			st.failComplete = false
			puts := env.Sim.Calls()[putQueue]
			res, err := eng.Apply(context.Background(), req)
			if err != nil || res.Status != store.StatusNoop {
				t.Fatalf("redelivery: got %s, %v; want NOOP", res.Status, err)
			}
			if got := env.Sim.Calls()[putQueue]; got != puts {
				t.Errorf("redelivery wrote %d times, want 0", got-puts)
			}
			if res.PriorAttempts != 1 || !strings.Contains(res.Reason, "earlier attempt") {
				t.Errorf("redelivery: got prior attempts %d, reason %q; want 1 and a reason naming the earlier attempt", res.PriorAttempts, res.Reason)
			}
			c, _ = st.GetChange(context.Background(), req.ChangeID)
			var stored apply.Result
			if err := json.Unmarshal(c.Result, &stored); err != nil || stored.PriorAttempts != 1 {
				t.Errorf("stored result %s (%v): want priorAttempts 1", c.Result, err)
			}
		})
	}
}

// TestCreateAfterLostResponse: a create whose response was lost (the entity exists, the
// attempt failed) is not created twice: the redelivery re-reads the names before
// deciding and ends NOOP.
func TestCreateAfterLostResponse(t *testing.T) {
	env, _, _, _ := newEnv(t, applytest.Options{Memory: true})
	st := &lossyStore{Memory: env.Store.(*store.Memory), failComplete: true}
	eng := apply.New(env.Client, st, apply.Options{})
	req := env.Plan(t, changes.OpCreate, entity.Skill, "Lost Response Skill", applytest.Obj(t, `{"name":"Lost Response Skill"}`))
	if _, err := eng.Apply(context.Background(), req); !errors.Is(err, apply.ErrRetry) {
		t.Fatalf("first attempt: got %v, want a retry", err)
	}
	st.failComplete = false
	env.Sim.ResetCalls()
	res, err := eng.Apply(context.Background(), req)
	if err != nil || res.Status != store.StatusNoop || res.PriorAttempts != 1 {
		t.Fatalf("redelivery: got %s (prior %d), %v; want NOOP after 1 prior attempt", res.Status, res.PriorAttempts, err)
	}
	if n := env.Sim.Calls()["POST /api/v2/routing/skills"]; n != 0 {
		t.Errorf("redelivery sent %d skill creates, want 0", n)
	}
}
