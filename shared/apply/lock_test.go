package apply_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// watchGenesys is the real client with the queue read intercepted: it records the
// context the engine works under and the claim held at that moment, and can act as a
// Genesys that hangs until that context's deadline.
type watchGenesys struct {
	live.Genesys
	mem      *store.Memory
	changeID string
	block    bool

	deadline    time.Time
	hasDeadline bool
	claim       *store.Change
}

func (w *watchGenesys) GetQueueRaw(ctx context.Context, id string) (map[string]any, error) {
	w.deadline, w.hasDeadline = ctx.Deadline()
	w.claim, _ = w.mem.GetChange(ctx, w.changeID)
	if w.block {
		// A Genesys that does not answer: the call ends when the work's deadline passes.
		// The deadline was checked above; answering as the client does once it passes
		// keeps the test independent of the machine's speed (no wall-clock wait).
		return nil, fmt.Errorf("get queue %s: %w", id, context.DeadlineExceeded)
	}
	return w.Genesys.GetQueueRaw(ctx, id)
}

// TestClaimOutlivesWork: the engine never works past its claim. Without a deadline
// (`apply --direct`) the work is bounded by LockDuration; the claim lasts that long plus
// ClockSkew, so another invocation whose clock runs ahead cannot take the request over
// while this one may still write. The engine's clock is fake and the lock long, so no
// case depends on how fast the machine runs the apply.
func TestClaimOutlivesWork(t *testing.T) {
	now := time.Now().UTC()
	clock := func() time.Time { return now }
	const lock, skew = 10 * time.Minute, 30 * time.Second
	tests := []struct {
		name     string
		timeout  time.Duration // 0: no deadline
		block    bool
		wantLock func(deadline time.Time) time.Time
	}{
		{name: "no deadline", wantLock: func(time.Time) time.Time { return now.Add(lock + skew) }},
		{name: "no deadline, Genesys hangs", block: true, wantLock: func(time.Time) time.Time { return now.Add(lock + skew) }},
		{name: "lambda deadline", timeout: time.Hour, wantLock: func(dl time.Time) time.Time { return dl.Add(skew) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, qName, _, _ := newEnv(t, applytest.Options{Memory: true, Now: clock})
			mem := env.Store.(*store.Memory)
			req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"bounded"}`))
			g := &watchGenesys{Genesys: env.Client, mem: mem, changeID: req.ChangeID, block: tc.block}
			eng := apply.New(g, mem, apply.Options{Now: clock, LockDuration: lock, ClockSkew: skew})
			ctx := context.Background()
			var dl time.Time
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
				dl, _ = ctx.Deadline()
			}
			res, err := eng.Apply(ctx, req)
			if !g.hasDeadline {
				t.Fatalf("Genesys was called without a deadline: work could outlive the claim")
			}
			if tc.timeout > 0 && !g.deadline.Equal(dl) {
				t.Errorf("work deadline %v, want the invocation's %v", g.deadline, dl)
			}
			if tc.timeout == 0 && g.deadline.After(time.Now().Add(lock)) {
				t.Errorf("work deadline %v is later than LockDuration (%v) from now", g.deadline, lock)
			}
			// Both stores keep the lock's deadline in milliseconds, as the table does.
			if want := tc.wantLock(dl).Truncate(time.Millisecond); g.claim == nil || !g.claim.InProgressExpiry.Equal(want) {
				t.Errorf("claim held until %v, want %v", g.claim.InProgressExpiry, want)
			}
			if tc.block {
				if !errors.Is(err, apply.ErrRetry) || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("hung Genesys: got %v, want a retry after the lock's time ran out", err)
				}
				return
			}
			if err != nil || res.Status != store.StatusApplied {
				t.Errorf("got %s, %v; want APPLIED", res.Status, err)
			}
		})
	}
}
