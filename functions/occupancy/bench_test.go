package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// BenchmarkRun: one occupancy run of 200 rules over 400 queues (each rule its own queue
// and overflow queue), ids from the table, against the simulator and moto. calls/op is
// the Genesys requests of a run: ceil(400 ÷ 100) observation queries + 200 workitem counts
// = 204. "unpaced" is what the run costs by itself (loopback simulator, moto); "paced"
// runs the client at its default budget of 300 requests a minute, as deployed, which is
// what bounds a run's duration: about 204 ÷ (290/60) s after the first burst of 10.
//
//	go test -run '^$' -bench BenchmarkRun -benchtime 3x ./functions/occupancy
func BenchmarkRun(b *testing.B) {
	fix := sim.Generate(sim.GenerateOptions{Queues: 400, Worktypes: 200, Skills: 8, Seed: 3})
	w := newWorld(b, worldOptions{observe: true, fixture: &fix})
	ctx := context.Background()
	org, err := live.Read(ctx, w.Client, nil)
	if err != nil {
		b.Fatal(err)
	}
	queues, worktypes := org.Sorted(entity.Queue), org.Sorted(entity.Worktype)
	if len(queues) != 400 || len(worktypes) != 200 {
		b.Fatalf("org of %d queues and %d worktypes, want 400 and 200", len(queues), len(worktypes))
	}
	var rules []store.OverflowRule
	for i, wt := range worktypes {
		q, o := queues[2*i], queues[2*i+1]
		rules = append(rules, store.OverflowRule{Rule: fmt.Sprintf("rule-%03d", i), Worktype: wt.Name, Queue: q.Name, OverflowQueue: o.Name,
			MaxCapacity: 50, OverflowAfter: 2, ResumeBelow: 40, ResumeAfter: 3, MinDwell: 5 * time.Minute})
		w.load(q.ID, i%60, float64(i%60), 3, 4)
		w.load(o.ID, 0, 0, 1, 2)
	}
	if _, err := w.Table.PublishOverflowRules(ctx, applytest.Environment, "bench", rules); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		rpm  int
	}{{"unpaced", -1}, {"paced 300 per minute", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			c, err := genesys.New(genesys.Config{APIURL: w.URL, LoginURL: w.URL, ClientID: sim.DefaultClientID, ClientSecret: sim.DefaultClientSecret,
				RequestsPerMinute: tc.rpm})
			if err != nil {
				b.Fatal(err)
			}
			w.h.Genesys = c
			at := t0
			var res Result
			for b.Loop() {
				at = at.Add(time.Minute)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				res, err = w.h.Handle(ctx, scheduled(at))
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				if res.Partial || res.Rules != 200 || res.Queues != 400 {
					b.Fatalf("run: %d rules, %d queues, partial %v %v", res.Rules, res.Queues, res.Partial, res.Problems)
				}
			}
			b.ReportMetric(float64(res.GenesysCalls), "calls/op")
			b.ReportMetric(float64(res.PlannedCalls), "planned-calls/op")
			b.ReportMetric(float64(res.Metrics), "metric-values/op")
		})
	}
}
