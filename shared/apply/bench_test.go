package apply_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// BenchmarkApplyBudget applies 500 queue updates through the real client against the
// simulator, both holding Genesys' 300 requests/minute per-token budget, on one fake
// clock that moves only when the client waits for the budget or a Retry-After (so the
// run takes seconds, not the minutes it would against Genesys; HTTP, JSON and engine
// work still run for real). It reports:
//
//	changes/min          changes applied per (simulated) minute
//	ceiling-changes/min  what the budget allows: 300 / Genesys calls per change
//	calls/change         Genesys API requests per change (GET + PUT, plus the names load)
//	429s                 rate-limited answers the client saw
//	wall-ms              real time of the run
//
// The store is the in-memory one: DynamoDB does not draw on the Genesys budget.
//
// Sub-benchmarks: "paced" (the client spends the budget evenly, as deployed) and
// "unpaced" (client pacing off: the simulator's 429s and their Retry-After govern), both
// on the fake clock; "paced-realtime" is the paced run on the real clock (about 3.5
// minutes), so the simulated minutes above are checked against real ones in the same run.
func BenchmarkApplyBudget(b *testing.B) {
	b.Run("paced", func(b *testing.B) { benchApplyBudget(b, false, true) })
	b.Run("unpaced", func(b *testing.B) { benchApplyBudget(b, true, true) })
	b.Run("paced-realtime", func(b *testing.B) { benchApplyBudget(b, false, false) })
}

func benchApplyBudget(b *testing.B, unpaced, fakeClock bool) {
	const n, budget = 500, 300
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := sim.Generate(sim.GenerateOptions{Queues: n, Skills: 20, Worktypes: 5, Seed: 3})
		env := applytest.New(b, applytest.Options{Fixture: &f, RequestsPerMinute: budget, ClientUnpaced: unpaced, Memory: true, FakeClock: fakeClock, RealSleep: !fakeClock})
		reqs := planAll(b, env, f)
		env.Sim.ResetCalls()
		now := time.Now
		if env.Clock != nil {
			now = env.Clock.Now
		}
		start := now()
		stats0 := env.Client.Calls()
		wall := time.Now()
		b.StartTimer()

		applied := 0
		for _, r := range reqs {
			res, err := env.Engine.Apply(context.Background(), r)
			if err != nil {
				b.Fatalf("apply %s: %v", r.Key(), err)
			}
			if res.Status == store.StatusApplied {
				applied++
			}
		}

		b.StopTimer()
		elapsed := now().Sub(start)
		stats := env.Client.Calls()
		calls := float64(stats.Requests - stats0.Requests)
		if applied != n {
			b.Fatalf("applied %d of %d", applied, n)
		}
		perChange := calls / n
		b.ReportMetric(n/elapsed.Minutes(), "changes/min")
		b.ReportMetric(budget/perChange, "ceiling-changes/min")
		b.ReportMetric(perChange, "calls/change")
		b.ReportMetric(float64(stats.RateLimited-stats0.RateLimited), "429s")
		b.ReportMetric(float64(time.Since(wall).Milliseconds()), "wall-ms")
		b.StartTimer()
	}
}

// planAll plans one description update per queue, with baseEtags computed from the
// simulator's stored queues (names come through the client, before the measurement).
func planAll(b *testing.B, env *applytest.Env, f sim.Fixture) []*changes.Request {
	b.Helper()
	names := env.Names(b)
	reqs := make([]*changes.Request, 0, len(f.Queues))
	for i, q := range f.Queues {
		id, name := q["id"].(string), q["name"].(string)
		raw := env.Raw(b, entity.Queue, id)
		canon, err := live.Canonical(entity.Queue, raw, names)
		if err != nil {
			b.Fatal(err)
		}
		etag, err := document.ETag(canon)
		if err != nil {
			b.Fatal(err)
		}
		reqs = append(reqs, &changes.Request{Schema: changes.SchemaV1, ChangeID: fmt.Sprintf("chg-bench-%d", i),
			Environment: env.Env, Entity: changes.Entity{Type: entity.Queue, Name: name, ID: id},
			Operation: changes.OpUpdate, BaseEtag: etag, Reason: "bench", RequestedBy: "bench", CreatedAt: time.Now().UTC(),
			Desired: map[string]any{"name": name, "description": fmt.Sprintf("bench %d", i)}})
	}
	return reqs
}
