package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestGCWatchRestoresDefaultsOnceLiveHeapIsBig(t *testing.T) {
	runtime.GC() // the live heap metric is that of the last cycle
	for _, tc := range []struct {
		name  string
		limit int64
		want  int // restore calls
	}{
		{"live heap above half the limit", 1 << 10, 1},
		{"live heap far below the limit", math.MaxInt64, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			w := &gcWatch{limit: tc.limit, restore: func() { calls++ }}
			w.sample[0].Name = "/gc/heap/live:bytes"
			s := &gcSentinel{w: w}
			s.collected()
			s.collected() // a second cycle: restore is never called twice
			if calls != tc.want {
				t.Errorf("limit %d: restore called %d times, want %d", tc.limit, calls, tc.want)
			}
		})
	}
}

func TestSetGCPolicyLeavesTheUsersSetting(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			before := debug.SetGCPercent(100)
			defer debug.SetGCPercent(before)
			setGCPolicy(func(k string) string {
				if k == env {
					return "200"
				}
				return ""
			})
			if got := debug.SetGCPercent(100); got != 100 {
				t.Errorf("with %s set, GC percent became %d, want it left at 100", env, got)
			}
			if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
				t.Errorf("with %s set, memory limit became %d, want none", env, got)
			}
		})
	}
}
