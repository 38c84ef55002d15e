package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// The CLI's garbage collector policy (docs/ARCHITECTURE.md, "A config's memory"): loading
// a config allocates about ten times the live heap it builds (YAML nodes, JSON values for
// the schema, Go values), and with GOGC=100 the collector runs every time the heap doubles,
// some thirty times for a 5,000-queue config. Up to gcSoftLimit of heap it runs only when
// the heap reaches that limit; once a collection finds more than half of it live, the
// default (GOGC=100, no limit) is restored for the rest of the run, so a config whose live
// heap outgrows the limit (50,000 queues) is never collected again and again at the limit.
const (
	gcSoftLimit    = 80 << 20 // bytes of heap the CLI may use before collecting
	gcLiveFraction = 2        // the default is restored once live heap > gcSoftLimit/gcLiveFraction
)

// setGCPolicy applies the policy unless GOGC or GOMEMLIMIT says otherwise (the user's
// setting wins).
func setGCPolicy(getenv func(string) string) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(gcSoftLimit)
	w := &gcWatch{limit: gcSoftLimit, restore: restoreGCDefaults}
	w.arm()
}

// restoreGCDefaults is GOGC=100 and no memory limit, the runtime's default.
func restoreGCDefaults() {
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
}

// gcWatch looks at the live heap after every collection (a finalizer runs once per cycle
// that frees its object, and re-arms itself) and calls restore, once, when it is above
// limit/gcLiveFraction.
type gcWatch struct {
	limit    int64
	restore  func()
	restored atomic.Bool
	sample   [1]metrics.Sample
}

func (w *gcWatch) arm() {
	w.sample[0].Name = "/gc/heap/live:bytes"
	runtime.SetFinalizer(&gcSentinel{w: w}, (*gcSentinel).collected)
}

// gcSentinel is garbage as soon as it is made: its finalizer runs after the next cycle.
type gcSentinel struct {
	w    *gcWatch
	_pad [16]byte // not a tiny allocation (those may be batched and outlive a cycle)
}

func (s *gcSentinel) collected() {
	w := s.w
	if w.restored.Load() {
		return
	}
	metrics.Read(w.sample[:])
	if v := w.sample[0].Value; v.Kind() == metrics.KindUint64 && v.Uint64() > uint64(w.limit/gcLiveFraction) {
		w.restored.Store(true)
		w.restore()
		return
	}
	runtime.SetFinalizer(&gcSentinel{w: w}, (*gcSentinel).collected)
}
