package drift_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
)

// BenchmarkScanEngine measures the scan engine itself (the org read with live.List and
// every entity assessed), without a table, at 5,000 queues, 1,000 skills and 200
// worktypes and at ten times that (both times ROUTEKEEPER_BENCH_SCALE): the part of a scan that depends on the org's size and
// not on the store. The simulator runs in a process of its own (infra/genesyssim), paced
// at 300 requests/minute per token with 50 ms added to every request, so the heap
// measured is the engine's alone. The whole org is declared (its own documents), so
// every entity is compared. The drift scan function's run with the table on moto is
// BenchmarkDriftScan (infra/localstack/stack); the ten-times org is measured here only,
// because moto reads the whole table for every page of a Query, which no Lambda timeout
// covers at 186,000 items (DynamoDB reads a key range).
//
// Metrics: genesys-calls (the simulator's count), wall-s, peak-heap-MB (HeapInuse sampled
// every 2 ms, above the heap before the scan: the declared documents and the process; with
// GOGC's default the collector lets it grow to twice what is live, so it also counts
// garbage in proportion to those documents), peak-live-heap-MB (the live heap after each
// collection, above the same baseline: what the scan holds) and entities.
//
//	go test -run '^$' -bench ScanEngine -benchtime 1x -timeout 30m ./shared/drift/
func BenchmarkScanEngine(b *testing.B) {
	scale := benchScale(b)
	for _, size := range []struct {
		name string
		n    int
	}{{"5k", 5000}, {"50k", 50000}} {
		b.Run(size.name, func(b *testing.B) {
			n := max(1, int(float64(size.n)*scale))
			benchScanEngine(b, sim.GenerateOptions{Queues: n, Skills: max(1, n/5), Worktypes: max(1, n/25), Seed: 42})
		})
	}
}

func benchScanEngine(b *testing.B, g sim.GenerateOptions) {
	ctx := context.Background()
	url := startSimProcess(b, g)
	setup, err := genesys.New(genesys.Config{APIURL: url, LoginURL: url, ClientID: sim.DefaultClientID, ClientSecret: sim.DefaultClientSecret})
	if err != nil {
		b.Fatal(err)
	}
	l, err := live.List(ctx, setup)
	if err != nil {
		b.Fatal(err)
	}
	docs := make([]entity.Doc, 0, len(l.Entities))
	for _, e := range l.Entities {
		ent, err := e.Entity()
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, ent.Doc())
	}
	total := len(docs)
	l = nil
	simAdmin(b, url, http.MethodPut, "/_sim/faults", `{"latencyMs": 50}`)

	for b.Loop() {
		c, err := genesys.New(genesys.Config{APIURL: url, LoginURL: url, ClientID: sim.DefaultClientID, ClientSecret: sim.DefaultClientSecret})
		if err != nil {
			b.Fatal(err)
		}
		simAdmin(b, url, http.MethodDelete, "/_sim/calls", "")
		s := &drift.Scanner{Environment: "bench", Genesys: c, Declared: docs}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		baseSample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(baseSample)
		baseLive := baseSample[0].Value.Uint64()
		var peak, live atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			t := time.NewTicker(2 * time.Millisecond)
			defer t.Stop()
			var ms runtime.MemStats
			sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
				metrics.Read(sample)
				if v := sample[0].Value.Uint64(); v > live.Load() {
					live.Store(v)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		})
		start := time.Now()
		r, err := s.Scan(ctx)
		wall := time.Since(start)
		close(stop)
		wg.Wait()
		if err != nil {
			b.Fatal(err)
		}
		if r.Summary.Entities.InSync != total || !r.Summary.Complete {
			b.Fatalf("scan %+v; want %d entities in sync", r.Summary, total)
		}
		var calls struct{ Total int }
		_ = json.Unmarshal(simAdmin(b, url, http.MethodGet, "/_sim/calls", ""), &calls)
		b.ReportMetric(float64(calls.Total), "genesys-calls")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(peak.Load()-min(base, peak.Load()))/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(live.Load()-min(baseLive, live.Load()))/(1<<20), "peak-live-heap-MB")
		b.ReportMetric(float64(total), "entities")
	}
}

// startSimProcess builds and starts infra/genesyssim with org g (300 requests/minute per
// token) and returns its URL; it is stopped when b ends.
func startSimProcess(b *testing.B, g sim.GenerateOptions) string {
	b.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		b.Fatal("cannot find the module root")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(b.TempDir(), "genesyssim")
	build := exec.Command("go", "build", "-o", bin, "./infra/genesyssim")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build the simulator: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--rpm", "300", "--seed", fmt.Sprint(g.Seed),
		"--queues", fmt.Sprint(g.Queues), "--skills", fmt.Sprint(g.Skills), "--worktypes", fmt.Sprint(g.Worktypes))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "genesyssim listening on ")
	if err != nil || !ok {
		b.Fatalf("simulator said %q (%v), want its URL", line, err)
	}
	return url
}

// simAdmin calls the simulator's control plane (/_sim/...).
func simAdmin(b *testing.B, url, method, path, body string) []byte {
	b.Helper()
	req, err := http.NewRequest(method, url+path, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	if resp.StatusCode >= 300 {
		b.Fatalf("%s %s: %s %s", method, path, resp.Status, out.String())
	}
	return out.Bytes()
}
