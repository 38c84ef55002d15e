package main

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/store"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// testRule overflows at 50, resumes at 40 or fewer: 2 samples in, 3 out, 5 minutes' dwell.
func testRule() store.OverflowRule {
	return store.OverflowRule{Environment: "prod", Rule: "vip-claims", Worktype: "Claim", Queue: "Claims Tasks", OverflowQueue: "Claims Overflow",
		MaxCapacity: 50, OverflowAfter: 2, ResumeBelow: 40, ResumeAfter: 3, MinDwell: 5 * time.Minute}
}

// step is one sample of a sequence: a backlog, or "p" for a partial sample, taken a
// minute after the previous one unless at says otherwise (minutes after t0).
type step struct {
	backlog int
	partial bool
	at      int // minutes after t0; 0: one minute after the previous step
}

// backlogs is a sequence of complete samples one minute apart, "p" for partial.
func backlogs(s string) []step {
	var out []step
	for _, f := range strings.Fields(s) {
		if f == "p" {
			out = append(out, step{partial: true})
			continue
		}
		n := 0
		for _, c := range f {
			n = n*10 + int(c-'0')
		}
		out = append(out, step{backlog: n})
	}
	return out
}

// run feeds steps through Step from st and returns the switches, as "<minute><e|l>"
// (minute of the sample, enter or leave), and the final state.
func run(st store.OverflowState, r store.OverflowRule, steps []step) ([]string, store.OverflowState) {
	var got []string
	minute := 0
	for _, s := range steps {
		if s.at != 0 {
			minute = s.at
		} else {
			minute++
		}
		var sw Switch
		st, sw = Step(st, Sample{Backlog: s.backlog, Partial: s.partial}, r, t0.Add(time.Duration(minute)*time.Minute))
		switch sw {
		case Enter:
			got = append(got, itoa(minute)+"e")
		case Leave:
			got = append(got, itoa(minute)+"l")
		}
	}
	return got, st
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestStepSequences: the switches a sequence of samples makes (minute 1 is the first
// sample; maxCapacity 50, resumeBelow 40, overflowAfter 2, resumeAfter 3, minDwell 5m
// unless the case changes the rule).
func TestStepSequences(t *testing.T) {
	tests := []struct {
		name  string
		rule  func(*store.OverflowRule)
		steps []step
		want  []string
	}{
		{name: "surge then drain: enter after 2, leave after 3 and the dwell",
			steps: backlogs("30 55 60 70 35 20 10 5 5"), want: []string{"3e", "8l"}},
		{name: "one sample at capacity does not enter", steps: backlogs("30 50 30 50 30 50 30"), want: nil},
		{name: "exactly maxCapacity counts as at capacity", steps: backlogs("50 50"), want: []string{"2e"}},
		{name: "resumeBelow is inclusive, above it ends the run", steps: backlogs("60 60 40 41 40 40 40 40"), want: []string{"2e", "7l"}},
		{name: "drained before the dwell: leaves when the dwell is over", steps: backlogs("60 60 0 0 0 0 0 0 0"), want: []string{"2e", "7l"}},
		{name: "a partial sample never switches and restarts the run",
			steps: backlogs("60 p 60 p 60 60"), want: []string{"6e"}},
		{name: "partial while active keeps the overflow",
			steps: backlogs("60 60 0 0 p 0 0 p p 0 0 0"), want: []string{"2e", "12l"}},
		{name: "all partial: nothing", steps: backlogs("p p p p p"), want: nil},
		{name: "overflowAfter 1 enters at once", rule: func(r *store.OverflowRule) { r.OverflowAfter = 1 },
			steps: backlogs("20 51"), want: []string{"2e"}},
		{name: "a late or repeated sample changes nothing",
			steps: []step{{backlog: 60, at: 1}, {backlog: 60, at: 1}, {backlog: 60, at: 0 + 1}, {backlog: 60}}, want: []string{"2e"}},
		// Flapping: with the dwell both ways, any two switches are at least minDwell apart
		// (also asserted for every case below).
		{name: "flapping around both thresholds switches at most once per dwell",
			rule:  func(r *store.OverflowRule) { r.OverflowAfter, r.ResumeAfter, r.ResumeBelow = 1, 1, 49 },
			steps: backlogs("50 49 50 49 50 49 50 49 50 49 50 49 50 49 50 49"), want: []string{"1e", "6l", "11e", "16l"}},
		{name: "no dwell: flapping switches every sample",
			rule:  func(r *store.OverflowRule) { r.OverflowAfter, r.ResumeAfter, r.ResumeBelow, r.MinDwell = 1, 1, 49, 0 },
			steps: backlogs("50 49 50 49"), want: []string{"1e", "2l", "3e", "4l"}},
		{name: "re-entering waits for the dwell after leaving",
			rule:  func(r *store.OverflowRule) { r.ResumeAfter = 1 },
			steps: backlogs("60 60 0 0 0 0 0 60 60 60 60 60"), want: []string{"2e", "7l", "12e"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := testRule()
			if tc.rule != nil {
				tc.rule(&r)
			}
			got, _ := run(store.OverflowState{Environment: "prod", Worktype: r.Worktype}, r, tc.steps)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("switches of %v (-want +got):\n%s", tc.steps, diff)
			}
		})
	}
}

// TestStepState: what a sample leaves in the state (counters, since, queues).
func TestStepState(t *testing.T) {
	r := testRule()
	base := store.OverflowState{Environment: "prod", Worktype: "Claim", Version: 7, EnterChangeID: "chg-old"}
	tests := []struct {
		name   string
		from   store.OverflowState
		sample Sample
		at     time.Time
		want   store.OverflowState
		sw     Switch
	}{
		{name: "first sample at capacity", from: base, sample: Sample{Backlog: 55}, at: t0,
			want: with(base, func(s *store.OverflowState) {
				s.Rule, s.Queue, s.OverflowQueue, s.Backlog, s.Above, s.LastSampleAt = "vip-claims", "Claims Tasks", "Claims Overflow", 55, 1, t0
			})},
		{name: "second one enters", from: with(base, func(s *store.OverflowState) { s.Above, s.LastSampleAt = 1, t0 }), sample: Sample{Backlog: 60}, at: t0.Add(time.Minute),
			want: with(base, func(s *store.OverflowState) {
				s.Rule, s.Queue, s.OverflowQueue, s.Backlog, s.Active, s.ChangedAt, s.LastSampleAt = "vip-claims", "Claims Tasks", "Claims Overflow", 60, true, t0.Add(time.Minute), t0.Add(time.Minute)
			}), sw: Enter},
		{name: "partial keeps the backlog and resets the counters",
			from:   with(base, func(s *store.OverflowState) { s.Above, s.Backlog, s.LastSampleAt = 1, 55, t0 }),
			sample: Sample{Backlog: 0, Partial: true}, at: t0.Add(time.Minute),
			want: with(base, func(s *store.OverflowState) {
				s.Rule, s.Queue, s.OverflowQueue, s.Backlog, s.LastSampleAt = "vip-claims", "Claims Tasks", "Claims Overflow", 55, t0.Add(time.Minute)
			})},
		{name: "while active the overflow queue stays the one entered with",
			from: with(base, func(s *store.OverflowState) {
				s.Active, s.OverflowQueue, s.ChangedAt, s.LastSampleAt = true, "Old Overflow", t0, t0
			}), sample: Sample{Backlog: 10}, at: t0.Add(time.Minute),
			want: with(base, func(s *store.OverflowState) {
				s.Active, s.OverflowQueue, s.ChangedAt, s.Below, s.Backlog = true, "Old Overflow", t0, 1, 10
				s.Rule, s.Queue, s.LastSampleAt = "vip-claims", "Claims Tasks", t0.Add(time.Minute)
			})},
		{name: "an older sample is ignored", from: with(base, func(s *store.OverflowState) { s.Above, s.LastSampleAt = 1, t0 }),
			sample: Sample{Backlog: 99}, at: t0.Add(-time.Minute),
			want: with(base, func(s *store.OverflowState) { s.Above, s.LastSampleAt = 1, t0 })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, sw := Step(tc.from, tc.sample, r, tc.at)
			if sw != tc.sw {
				t.Errorf("switch = %s, want %s", sw, tc.sw)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
		})
	}
}

func with(s store.OverflowState, edit func(*store.OverflowState)) store.OverflowState {
	edit(&s)
	return s
}

// TestStepProperties runs random sequences (backlogs around both thresholds, partial
// samples, uneven and repeated times) and checks what must hold for any of them: two
// switches are at least minDwell apart, no switch happens on a partial or stale sample,
// an enter follows overflowAfter complete samples at capacity, and switches alternate.
func TestStepProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		r := testRule()
		r.OverflowAfter, r.ResumeAfter = 1+rng.IntN(3), 1+rng.IntN(4)
		r.MinDwell = time.Duration(rng.IntN(8)) * time.Minute
		r.ResumeBelow = rng.IntN(r.MaxCapacity)
		st := store.OverflowState{Environment: "prod", Worktype: r.Worktype}
		at := t0
		var lastSwitch time.Time
		lastKind := Leave
		atCapacity := 0
		for j := range 60 {
			at = at.Add(time.Duration(rng.IntN(3)) * 30 * time.Second) // 0, 30 or 60 s later
			s := Sample{Backlog: r.ResumeBelow - 3 + rng.IntN(r.MaxCapacity-r.ResumeBelow+6), Partial: rng.IntN(6) == 0}
			stale := !st.LastSampleAt.IsZero() && !at.After(st.LastSampleAt)
			if !stale {
				switch {
				case s.Partial:
					atCapacity = 0
				case s.Backlog >= r.MaxCapacity:
					atCapacity++
				default:
					atCapacity = 0
				}
			}
			next, sw := Step(st, s, r, at)
			where := func() string { return "case " + itoa(i) + " sample " + itoa(j) }
			if sw != Stay {
				switch {
				case s.Partial:
					t.Fatalf("%s: switched (%s) on a partial sample", where(), sw)
				case stale:
					t.Fatalf("%s: switched (%s) on a stale sample", where(), sw)
				case !lastSwitch.IsZero() && at.Sub(lastSwitch) < r.MinDwell:
					t.Fatalf("%s: %s %s after the last switch, within minDwell %s", where(), sw, at.Sub(lastSwitch), r.MinDwell)
				case sw == lastKind:
					t.Fatalf("%s: %s twice in a row", where(), sw)
				case sw == Enter && atCapacity < r.OverflowAfter:
					t.Fatalf("%s: entered after %d samples at capacity, want %d", where(), atCapacity, r.OverflowAfter)
				}
				lastSwitch, lastKind = at, sw
			}
			if stale && next != st {
				t.Fatalf("%s: a stale sample changed the state", where())
			}
			if next.Active != (lastKind == Enter) {
				t.Fatalf("%s: Active %v after a %s", where(), next.Active, lastKind)
			}
			st = next
		}
	}
}
