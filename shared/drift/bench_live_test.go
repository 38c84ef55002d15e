package drift_test

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/routing"
)

// BenchmarkExportPlan measures what export and plan cost against a realistic
// org: 5,000 queues, 1,000 skills and 200 worktypes (times
// ROUTEKEEPER_BENCH_SCALE, default 1.0), every request delayed 50 ms by the
// simulator, and a budget of 300 requests/minute on both the client and the
// simulator (Genesys's per-token limit).
//
// One op is one read of the live org plus the export (canonical config,
// routing.MarshalYAML) and the plan of that export against the read
// (routing.Parse, Compile, PlanLive, which must find no changes). `routekeeper
// export` and `routekeeper plan` each do exactly one such read.
//
//   - list: how routekeeper reads (live.Read): list endpoints only, pages
//     concurrently inside the client's budget.
//   - per-entity: the baseline a naive tool uses: list ids, then one GET per
//     skill, queue and worktype. At full size that is ~6,200 GETs, which the
//     300/minute budget stretches to ~21 minutes.
//
// Metrics: calls/op (API requests the simulator saw), wall-s/op, peak-heap-MB
// (HeapAlloc high-water, sampled every 10 ms) and 429s/op.
//
// Run the list variant at full size and the baseline smaller, e.g.:
//
//	go test -run '^$' -bench 'ExportPlan/list' -benchmem ./shared/drift/
//	ROUTEKEEPER_BENCH_SCALE=0.05 go test -run '^$' -bench 'ExportPlan/per-entity' -benchmem ./shared/drift/
//	go test -run '^$' -bench 'ExportPlan/per-entity' -benchmem -timeout 60m ./shared/drift/   # full baseline
//
// A variant whose budget-bound duration would not fit in the test binary's
// -timeout is skipped with a message saying so (so `make bench` with the
// default 10-minute timeout skips the full baseline instead of panicking).
func BenchmarkExportPlan(b *testing.B) {
	scale := benchScale(b)
	org := sim.GenerateOptions{
		Queues:    max(1, int(5000*scale)),
		Skills:    max(1, int(1000*scale)),
		Worktypes: max(1, int(200*scale)),
		Seed:      42,
	}
	b.Run("list", func(b *testing.B) { benchExportPlan(b, org, false) })
	b.Run("per-entity", func(b *testing.B) {
		// ~5 requests/second: skip early when it cannot finish in time.
		need := time.Duration(org.Queues+org.Skills+org.Worktypes) * time.Second / 5
		if left, ok := timeoutLeft(); ok && need > left-time.Minute {
			b.Skipf("per-entity baseline needs ~%s at 300 requests/minute for %d objects, more than the -timeout allows (%s left): "+
				"set ROUTEKEEPER_BENCH_SCALE lower or pass -timeout %dm", need.Round(time.Second), org.Queues+org.Skills+org.Worktypes, left.Round(time.Second), int(need.Minutes())+10)
		}
		benchExportPlan(b, org, true)
	})
}

const benchRPM = 300

func benchScale(b *testing.B) float64 {
	s := os.Getenv("ROUTEKEEPER_BENCH_SCALE")
	if s == "" {
		return 1
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 10 {
		b.Fatalf("ROUTEKEEPER_BENCH_SCALE=%q: want a number in (0, 10], e.g. 0.05", s)
	}
	return f
}

// timeoutLeft is how long the test binary may still run (-test.timeout).
var benchStart = time.Now()

func timeoutLeft() (time.Duration, bool) {
	f := flag.Lookup("test.timeout")
	if f == nil {
		return 0, false
	}
	d, err := time.ParseDuration(f.Value.String())
	if err != nil || d <= 0 {
		return 0, false
	}
	return d - time.Since(benchStart), true
}

func benchExportPlan(b *testing.B, gen sim.GenerateOptions, perEntity bool) {
	s := sim.New(sim.Options{RequestsPerMinute: benchRPM})
	if err := s.Load(sim.Generate(gen)); err != nil {
		b.Fatal(err)
	}
	s.SetFaults(sim.Faults{Latency: 50 * time.Millisecond})
	ts := httptest.NewServer(s)
	defer ts.Close()
	c, err := genesys.New(genesys.Config{APIURL: ts.URL, LoginURL: ts.URL,
		ClientID: sim.DefaultClientID, ClientSecret: sim.DefaultClientSecret, RequestsPerMinute: benchRPM})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s.ResetCalls()
	before := c.Calls()

	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()

	b.ResetTimer()
	start := time.Now()
	for range b.N {
		var org *live.Org
		if perEntity {
			org, err = readPerEntity(ctx, c)
		} else {
			org, err = live.Read(ctx, c, nil)
		}
		if err != nil {
			b.Fatal(err)
		}
		cfg, err := exportOf(org, "bench")
		if err != nil {
			b.Fatal(err)
		}
		out, err := routing.MarshalYAML(cfg)
		if err != nil {
			b.Fatal(err)
		}
		back, err := routing.Parse("export.yaml", out)
		if err != nil {
			b.Fatal(err)
		}
		d, err := routing.Compile(back)
		if err != nil {
			b.Fatal(err)
		}
		plan, err := planOf(b, d, org, drift.PlanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if plan.HasChanges() || plan.Summary.Unchanged != gen.Queues+gen.Skills+gen.Worktypes {
			b.Fatalf("plan of an export against its org: %+v, want no changes", plan.Summary)
		}
	}
	wall := time.Since(start)
	b.StopTimer()
	close(stop)
	wg.Wait()

	after := c.Calls()
	n := float64(b.N)
	b.ReportMetric(float64(s.TotalCalls())/n, "calls/op")
	b.ReportMetric(wall.Seconds()/n, "wall-s/op")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(after.RateLimited-before.RateLimited)/n, "429s/op")
}

// readPerEntity is the baseline: list ids, then GET every skill, queue and worktype
// (as a reader that refreshes one object per call does). It goes through ReadLive with a
// reader whose entity lists are answered by one GET per object, so the assembly (names,
// deleted skills, duplicate names) is ReadLive's own and only the reads differ.
func readPerEntity(ctx context.Context, c *genesys.Client) (*live.Org, error) {
	return live.Read(ctx, perEntityReader{c}, nil)
}

// perEntityReader lists ids, then GETs each object (16 at a time, inside the client's
// budget). Divisions, languages and workbins are only referenced: they are listed.
type perEntityReader struct{ *genesys.Client }

func (r perEntityReader) ListSkills(ctx context.Context) ([]genesys.Skill, error) {
	list, err := r.Client.ListSkills(ctx)
	if err != nil {
		return nil, err
	}
	return getEach(ctx, list, func(s genesys.Skill) string { return s.ID }, r.GetSkill)
}

func (r perEntityReader) ListQueues(ctx context.Context) ([]genesys.Queue, error) {
	list, err := r.Client.ListQueues(ctx)
	if err != nil {
		return nil, err
	}
	return getEach(ctx, list, func(q genesys.Queue) string { return q.ID }, r.GetQueue)
}

func (r perEntityReader) ListWorktypes(ctx context.Context) ([]genesys.Worktype, error) {
	list, err := r.Client.ListWorktypes(ctx)
	if err != nil {
		return nil, err
	}
	return getEach(ctx, list, func(w genesys.Worktype) string { return w.ID }, r.GetWorktype)
}

func getEach[T any](ctx context.Context, list []T, id func(T) string, get func(context.Context, string) (*T, error)) ([]T, error) {
	out := make([]T, len(list))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, v := range list {
		g.Go(func() error {
			got, err := get(gctx, id(v))
			if err != nil {
				return fmt.Errorf("get %s: %w", id(v), err)
			}
			out[i] = *got
			return nil
		})
	}
	return out, g.Wait()
}
