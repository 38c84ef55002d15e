package store

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/entity"
)

func TestDriftState(t *testing.T) {
	f := newFixture(t)
	k := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims #1"}
	if _, err := f.s.GetDriftState(ctx, k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetDriftState of a new entity: %v, want ErrNotFound", err)
	}
	first := DriftState{Key: k, State: "IN_SYNC", ETag: etag('a'), ObservedAt: t0, Cause: &Cause{EventID: "ev-1", UserID: "u"}}
	must(t, "first put", f.s.PutDriftState(ctx, first, nil))
	got, err := f.s.GetDriftState(ctx, k)
	must(t, "GetDriftState", err)
	first.ChangedAt = t0 // the store's clock
	if d := cmp.Diff(first, got); d != "" {
		t.Errorf("first state (-want +got):\n%s", d)
	}

	// A second writer that also thinks nothing is stored loses.
	checkErr(t, "put over a state it did not read", f.s.PutDriftState(ctx, first, nil), ErrStale)

	// Same state, later: ChangedAt stays.
	f.clock.Advance(time.Minute)
	again := DriftState{Key: k, State: "IN_SYNC", ETag: etag('a'), ObservedAt: t0.Add(time.Minute)}
	must(t, "same state", f.s.PutDriftState(ctx, again, &got))
	got2, _ := f.s.GetDriftState(ctx, k)
	if !got2.ChangedAt.Equal(t0) || !got2.ObservedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("same state: changedAt %v, observedAt %v; want %v and a minute later", got2.ChangedAt, got2.ObservedAt, t0)
	}
	// Another state: ChangedAt moves, differences kept.
	f.clock.Advance(time.Minute)
	diffs := json.RawMessage(`[{"path":"description","expected":"a","actual":"b"}]`)
	mod := DriftState{Key: k, State: "MODIFIED", Differences: diffs, ETag: etag('b'), ObservedAt: t0.Add(2 * time.Minute)}
	must(t, "new state", f.s.PutDriftState(ctx, mod, &got2))
	got3, _ := f.s.GetDriftState(ctx, k)
	if got3.State != "MODIFIED" || !got3.ChangedAt.Equal(t0.Add(2*time.Minute)) || string(got3.Differences) != string(diffs) {
		t.Errorf("new state: %+v", got3)
	}
	// An assessment of an older observation never overwrites; one against an outdated
	// read is refused.
	checkErr(t, "older observation", f.s.PutDriftState(ctx, DriftState{Key: k, State: "IN_SYNC", ObservedAt: t0}, &got3), ErrStale)
	checkErr(t, "outdated read", f.s.PutDriftState(ctx, DriftState{Key: k, State: "IN_SYNC", ObservedAt: t0.Add(time.Hour)}, &got2), ErrStale)
	for name, bad := range map[string]DriftState{
		"no state":           {Key: k, ObservedAt: t0},
		"no observedAt":      {Key: k, State: "IN_SYNC"},
		"bad differences":    {Key: k, State: "MODIFIED", ObservedAt: t0, Differences: json.RawMessage(`[`)},
		"bad kind":           {Key: entity.Key{Environment: "dev", Kind: "workbin", Name: "x"}, State: "IN_SYNC", ObservedAt: t0},
		"environment with #": {Key: entity.Key{Environment: "d#v", Kind: entity.Queue, Name: "x"}, State: "IN_SYNC", ObservedAt: t0},
	} {
		checkErr(t, name, f.s.PutDriftState(ctx, bad, nil), nil)
	}

	// ListDriftStates: every state of the environment, by kind then name; other records
	// of the partition are not listed.
	sk := entity.Key{Environment: "dev", Kind: entity.Skill, Name: "French"}
	must(t, "skill state", f.s.PutDriftState(ctx, DriftState{Key: sk, State: "UNMANAGED", ObservedAt: t0}, nil))
	mustPut(t, f.s, observation(sk, 'c', 0, SourceScan))
	list, err := f.s.ListDriftStates(ctx, "dev")
	must(t, "ListDriftStates", err)
	var keys []string
	for _, d := range list {
		keys = append(keys, d.Key.String()+" "+d.State)
	}
	if d := cmp.Diff([]string{"dev/queue/Claims #1 MODIFIED", "dev/skill/French UNMANAGED"}, keys); d != "" {
		t.Errorf("ListDriftStates (-want +got):\n%s", d)
	}
}

func TestGetDesiredAndForgetEvent(t *testing.T) {
	f := newFixture(t)
	k := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims"}
	if _, err := f.s.GetDesired(ctx, k); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetDesired of an undeclared entity: %v, want ErrNotFound", err)
	}
	_, err := f.s.PublishDesired(ctx, "dev", "v1", []Desired{{Key: k, Config: json.RawMessage(`{"name":"Claims"}`), ETag: etag('a')}})
	must(t, "PublishDesired", err)
	d, err := f.s.GetDesired(ctx, k)
	if err != nil || string(d.Config) != `{"name":"Claims"}` || d.Version != "v1" {
		t.Errorf("GetDesired = %+v, %v", d, err)
	}

	first, err := f.s.MarkEventSeen(ctx, "ev-1", time.Hour)
	if err != nil || !first {
		t.Fatalf("MarkEventSeen: %v, %v", first, err)
	}
	must(t, "ForgetEvent", f.s.ForgetEvent(ctx, "ev-1"))
	if again, err := f.s.MarkEventSeen(ctx, "ev-1", time.Hour); err != nil || !again {
		t.Errorf("after ForgetEvent: first %v, %v; want the event new again", again, err)
	}
	must(t, "ForgetEvent of an unknown event", f.s.ForgetEvent(ctx, "never-seen"))
}
