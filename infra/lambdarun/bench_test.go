package lambdarun

import (
	"context"
	"os"
	"testing"
	"time"
)

// BenchmarkColdStart starts echofn under the RIE and invokes it once per
// iteration, reporting the INIT REPORT duration, the first invocation's
// latency as the caller sees it, and the bootstrap's size.
func BenchmarkColdStart(b *testing.B) {
	requireRIE(b)
	boot := echoBootstrap(b)
	fi, err := os.Stat(boot)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var initTotal, firstTotal time.Duration
	for b.Loop() {
		f, err := Start(ctx, Options{Bootstrap: boot})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		inv, err := f.InvokeDetailed(ctx, sqsEvent("ok"))
		firstTotal += time.Since(t0)
		if err != nil || inv.Init == nil {
			b.Fatalf("cold invoke: %v (init %v)", err, inv)
		}
		initTotal += inv.Init.Duration
		if err := f.Stop(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(initTotal.Microseconds())/1000/float64(b.N), "init-ms")
	b.ReportMetric(float64(firstTotal.Microseconds())/1000/float64(b.N), "first-invoke-ms")
	b.ReportMetric(float64(fi.Size()), "bootstrap-bytes")
}

// BenchmarkWarmInvoke measures one warm invocation through the RIE.
func BenchmarkWarmInvoke(b *testing.B) {
	requireRIE(b)
	f, err := Start(context.Background(), Options{Bootstrap: echoBootstrap(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Stop()
	ev := sqsEvent("ok", "ok", "ok")
	ctx := context.Background()
	if _, err := f.Invoke(ctx, ev); err != nil { // the cold start is not measured
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.Invoke(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}
