package store

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// A window never closed is open until its Until (the attempt's claim's end), then
// abandoned: its runtime died, and it covers edits only up to Until.
func TestWindowAbandoned(t *testing.T) {
	w := WriteWindow{ChangeID: "c1", Start: t0, Until: t0.Add(time.Minute)}
	tests := []struct {
		name            string
		w               WriteWindow
		now             time.Time
		abandoned       bool
		coversLaterEdit bool // an edit two minutes after the start
	}{
		{"open, within its time", w, t0.Add(30 * time.Second), false, false},
		{"open past its time: abandoned", w, t0.Add(3 * time.Minute), true, false},
		{"closed", WriteWindow{ChangeID: "c1", Start: t0, End: t0.Add(time.Second), Until: w.Until}, t0.Add(3 * time.Minute), false, false},
		{"open, no Until (written before it existed)", WriteWindow{ChangeID: "c1", Start: t0}, t0.Add(3 * time.Minute), false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.w.Abandoned(tc.now); got != tc.abandoned {
				t.Errorf("Abandoned(now %v after start) = %v, want %v", tc.now.Sub(t0), got, tc.abandoned)
			}
			if got := tc.w.Covers(t0.Add(2*time.Minute), tc.now, time.Second); got != tc.coversLaterEdit {
				t.Errorf("Covers(start+2m, now %v after start) = %v, want %v", tc.now.Sub(t0), got, tc.coversLaterEdit)
			}
		})
	}
}

// Until is stored and read back, by the table and by Memory.
func TestWindowUntilStored(t *testing.T) {
	k := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims"}
	want := WriteWindow{Key: k, ChangeID: "c1", Start: t0, Until: t0.Add(90 * time.Second)}
	f := newFixture(t)
	for name, s := range map[string]contractStore{"table": f.s, "memory": NewMemory(f.clock.Now)} {
		must(t, name+": put", s.PutWriteWindow(ctx, want))
		got, err := s.ListWriteWindows(ctx, k, t0.Add(-time.Hour))
		must(t, name+": list", err)
		if d := cmp.Diff([]WriteWindow{want}, got); d != "" {
			t.Errorf("%s: windows (-want +got):\n%s", name, d)
		}
	}
}
