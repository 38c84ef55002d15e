package store

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func rule(name, worktype string) OverflowRule {
	return OverflowRule{Rule: name, Worktype: worktype, Queue: worktype + " Tasks", OverflowQueue: worktype + " Overflow",
		MaxCapacity: 50, OverflowAfter: 2, ResumeBelow: 40, ResumeAfter: 3, MinDwell: 5 * time.Minute}
}

// TestPublishOverflowRules: a publish replaces the environment's set, stamps version and
// time, returns the rules it removed, and leaves other environments alone.
func TestPublishOverflowRules(t *testing.T) {
	f := newFixture(t)
	a, b, c := rule("a", "Claim"), rule("b", "Motor Claim"), rule("c", "Complaint")
	if removed, err := f.s.PublishOverflowRules(ctx, "dev", "v1", []OverflowRule{b, a}); err != nil || len(removed) != 0 {
		t.Fatalf("first publish: removed %v, %v", removed, err)
	}
	if _, err := f.s.PublishOverflowRules(ctx, "prod", "p1", []OverflowRule{c}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	a.MaxCapacity, a.ResumeBelow = 10, 8
	removed, err := f.s.PublishOverflowRules(ctx, "dev", "v2", []OverflowRule{a, c})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b"}, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	got, err := f.s.ListOverflowRules(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	stamp := func(r OverflowRule, env, version string, at time.Time) OverflowRule {
		r.Environment, r.Version, r.PublishedAt = env, version, at.UTC()
		return r
	}
	want := []OverflowRule{stamp(a, "dev", "v2", t0.Add(time.Minute)), stamp(c, "dev", "v2", t0.Add(time.Minute))}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListOverflowRules(dev) (-want +got):\n%s", diff)
	}
	prod, err := f.s.ListOverflowRules(ctx, "prod")
	if err != nil || len(prod) != 1 || prod[0].Version != "p1" {
		t.Errorf("ListOverflowRules(prod) = %+v, %v; want rule c at p1, untouched by dev's publish", prod, err)
	}
	if removed, err := f.s.PublishOverflowRules(ctx, "dev", "v3", nil); err != nil || len(removed) != 2 {
		t.Errorf("publish of no rules: removed %v, %v; want both removed", removed, err)
	}
}

// TestPublishOverflowRulesRefuses: an invalid set writes nothing and says what is wrong.
func TestPublishOverflowRulesRefuses(t *testing.T) {
	f := newFixture(t)
	if _, err := f.s.PublishOverflowRules(ctx, "dev", "v1", []OverflowRule{rule("keep", "Claim")}); err != nil {
		t.Fatal(err)
	}
	mod := func(edit func(*OverflowRule)) OverflowRule {
		r := rule("r", "Motor Claim")
		edit(&r)
		return r
	}
	tests := []struct {
		name    string
		env     string
		version string
		rules   []OverflowRule
		want    string
	}{
		{name: "no version", env: "dev", rules: nil, want: "empty version"},
		{name: "bad environment", env: "a#b", version: "v", want: "want a non-empty name without '#'"},
		{name: "other environment", env: "dev", version: "v", rules: []OverflowRule{mod(func(r *OverflowRule) { r.Environment = "prod" })}, want: `rule "r" belongs to environment prod`},
		{name: "resumeBelow at capacity", env: "dev", version: "v", rules: []OverflowRule{mod(func(r *OverflowRule) { r.ResumeBelow = 50 })}, want: "resumeBelow 50: want 0 to maxCapacity-1 (49)"},
		{name: "no samples", env: "dev", version: "v", rules: []OverflowRule{mod(func(r *OverflowRule) { r.OverflowAfter = 0 })}, want: "overflowAfter 0, resumeAfter 3: want at least 1 sample each"},
		{name: "own queue", env: "dev", version: "v", rules: []OverflowRule{mod(func(r *OverflowRule) { r.OverflowQueue = r.Queue })}, want: "is the rule's own queue"},
		{name: "fractional dwell", env: "dev", version: "v", rules: []OverflowRule{mod(func(r *OverflowRule) { r.MinDwell = 1500 * time.Millisecond })}, want: "minDwell 1.5s: want whole seconds"},
		{name: "two rules one worktype", env: "dev", version: "v", rules: []OverflowRule{rule("x", "Claim"), rule("y", "Claim")}, want: `rules "x" and "y" both route worktype "Claim"`},
		{name: "one name twice", env: "dev", version: "v", rules: []OverflowRule{rule("x", "Claim"), rule("x", "Motor")}, want: `rule "x" listed twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.PublishOverflowRules(ctx, tc.env, tc.version, tc.rules)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("PublishOverflowRules: %v; want an error containing %q", err, tc.want)
			}
			got, err := f.s.ListOverflowRules(ctx, "dev")
			if err != nil || len(got) != 1 || got[0].Rule != "keep" {
				t.Errorf("after a refused publish: %+v, %v; want the earlier set unchanged", got, err)
			}
		})
	}
}

// TestSwapOverflowState: a swap writes only over the version it was made from, so of two
// overlapping runs that read one state only the first writes.
func TestSwapOverflowState(t *testing.T) {
	f := newFixture(t)
	first := OverflowState{Environment: "dev", Worktype: "Claim", Rule: "vip", Queue: "Q", OverflowQueue: "O",
		Above: 1, Backlog: 55, LastSampleAt: t0}
	v1, err := f.s.SwapOverflowState(ctx, first)
	if err != nil || v1.Version != 1 {
		t.Fatalf("first swap: version %d, %v; want 1", v1.Version, err)
	}
	if _, err := f.s.SwapOverflowState(ctx, first); !errors.Is(err, ErrOverflowChanged) {
		t.Errorf("second swap from version 0: %v, want ErrOverflowChanged", err)
	}
	entered := v1
	entered.Active, entered.Above, entered.ChangedAt, entered.EnterChangeID = true, 0, t0.Add(time.Minute), "chg-1"
	entered.LastSampleAt = t0.Add(time.Minute)
	v2, err := f.s.SwapOverflowState(ctx, entered)
	if err != nil {
		t.Fatal(err)
	}
	late := v1 // an overlapping run that read version 1 too
	late.Above = 2
	if _, err := f.s.SwapOverflowState(ctx, late); !errors.Is(err, ErrOverflowChanged) {
		t.Errorf("swap from a stale version: %v, want ErrOverflowChanged", err)
	}
	got, err := f.s.GetOverflowState(ctx, "dev", "Claim")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v2, got); diff != "" {
		t.Errorf("stored state (-want +got):\n%s", diff)
	}
	if err := f.s.PutOverflowState(ctx, OverflowState{Environment: "dev", Worktype: "Another"}); err != nil {
		t.Fatal(err)
	}
	list, err := f.s.ListOverflowStates(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Worktype != "Another" || list[1].Worktype != "Claim" || !list[1].Active {
		t.Errorf("ListOverflowStates(dev) = %+v; want Another, then Claim active", list)
	}
	if other, err := f.s.ListOverflowStates(ctx, "prod"); err != nil || len(other) != 0 {
		t.Errorf("ListOverflowStates(prod) = %+v, %v; want none", other, err)
	}
}

// TestPutOccupancySamples: a batch of samples (more than one batch write) is stored with
// its partial flag and TTL; an invalid sample stops the whole batch.
func TestPutOccupancySamples(t *testing.T) {
	f := newFixture(t)
	var samples []OccupancySample
	for i := range 30 {
		samples = append(samples, OccupancySample{Environment: "dev", QueueID: "q" + string(rune('a'+i%26)) + strings.Repeat("x", i/26),
			SampledAt: t0, Metrics: map[string]float64{"oWaiting": float64(i)}, Partial: i == 3})
	}
	if err := f.s.PutOccupancySamples(ctx, samples, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.ListOccupancySamples(ctx, "dev", samples[3].QueueID, t0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]OccupancySample{samples[3]}, got); diff != "" {
		t.Errorf("sample of %s (-want +got):\n%s", samples[3].QueueID, diff)
	}
	last, err := f.s.ListOccupancySamples(ctx, "dev", samples[29].QueueID, t0)
	if err != nil || len(last) != 1 || last[0].Partial {
		t.Errorf("sample of the 30th queue: %+v, %v; want one complete sample (the second batch write)", last, err)
	}
	if ttl := numAttr(f.rawItem(t, occupancyPK("dev", samples[0].QueueID), occupancySK(t0)), "ttl"); ttl != strconv.FormatInt(t0.Add(7*24*time.Hour).Unix(), 10) {
		t.Errorf("ttl = %s, want sampledAt + 7 days", ttl)
	}
	bad := []OccupancySample{{Environment: "dev", QueueID: "ok", SampledAt: t0.Add(time.Hour)}, {Environment: "dev", SampledAt: t0.Add(time.Hour)}}
	if err := f.s.PutOccupancySamples(ctx, bad, time.Hour); err == nil || !strings.Contains(err.Error(), "want a queue id") {
		t.Errorf("batch with a sample without queue id: %v; want the error naming it", err)
	}
	if got, _ := f.s.ListOccupancySamples(ctx, "dev", "ok", t0.Add(time.Hour)); len(got) != 0 {
		t.Errorf("a refused batch stored %d samples", len(got))
	}
}
