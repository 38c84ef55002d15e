package drift_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

func TestAssess(t *testing.T) {
	n := live.NewNames(nil, nil, nil, nil)
	n.Add(entity.Division, "d-1", "Home")
	q, err := live.NewEntity(entity.Queue, map[string]any{"id": "q-1", "name": "Claims", "description": "live", "division": map[string]any{"id": "d-1"}}, n)
	if err != nil {
		t.Fatal(err)
	}
	doc := func(fields map[string]any) *entity.Doc {
		return &entity.Doc{Kind: entity.Queue, Name: "Claims", Fields: fields}
	}
	tests := []struct {
		name    string
		desired *entity.Doc
		live    *live.Entity
		gone    bool
		want    drift.Assessment
	}{
		{"nothing", nil, nil, false, drift.Assessment{}},
		{"unmanaged", nil, q, false, drift.Assessment{State: drift.Unmanaged}},
		{"missing", doc(map[string]any{"name": "Claims"}), nil, false, drift.Assessment{State: drift.Missing}},
		{"deleted", doc(map[string]any{"name": "Claims"}), nil, true, drift.Assessment{State: drift.Deleted}},
		{"in sync: undeclared fields do not count", doc(map[string]any{"name": "Claims"}), q, false, drift.Assessment{State: drift.InSync}},
		{"in sync: a reference spelt in another case", doc(map[string]any{"name": "Claims", "division": "home"}), q, false, drift.Assessment{State: drift.InSync}},
		{"modified", doc(map[string]any{"name": "Claims", "description": "git", "enableTranscription": true}), q, false, drift.Assessment{
			State: drift.Modified, Deviations: []drift.Deviation{
				{Path: "description", Expected: "git", Actual: "live"},
				{Path: "enableTranscription", Expected: true, Actual: false},
			}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, drift.Assess(tc.desired, tc.live, tc.gone, n)); d != "" {
				t.Errorf("Assess (-want +got):\n%s", d)
			}
		})
	}
}

func TestTransition(t *testing.T) {
	S := func(s string) drift.State { return drift.State(s) }
	tests := []struct {
		prev, next drift.State
		want       string
	}{
		{"", drift.InSync, ""}, {"", drift.Unmanaged, ""}, {"", drift.Modified, bus.DriftDetected}, {"", drift.Missing, bus.DriftDetected},
		{drift.InSync, drift.InSync, ""}, {drift.Modified, drift.Modified, ""},
		{drift.InSync, drift.Modified, bus.DriftDetected}, {drift.InSync, drift.Deleted, bus.DriftDetected},
		{drift.Modified, drift.Deleted, bus.DriftDetected}, {drift.Unmanaged, drift.Missing, bus.DriftDetected},
		{drift.Modified, drift.InSync, bus.DriftResolved}, {drift.Deleted, drift.InSync, bus.DriftResolved},
		{drift.Modified, drift.Unmanaged, bus.DriftResolved}, {drift.Missing, drift.Unmanaged, bus.DriftResolved},
		{drift.InSync, drift.Unmanaged, ""}, {drift.Unmanaged, drift.InSync, ""}, {S("IN_SYNC"), S("UNMANAGED"), ""},
	}
	for _, tc := range tests {
		if got := drift.Transition(tc.prev, tc.next); got != tc.want {
			t.Errorf("Transition(%q, %q) = %q, want %q", tc.prev, tc.next, got, tc.want)
		}
	}
}

// The event detail has the documented routekeeper.drift/v1 shape (docs/events.md).
func TestNewEventJSON(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	k := entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Claims"}
	a := drift.Assessment{State: drift.Modified, Deviations: []drift.Deviation{{Path: "description", Expected: "git", Actual: "live"}}}
	ev := drift.NewEvent(k, "q-1", a, drift.InSync, at, &store.Cause{EventID: "ev-1", EventTime: at.Add(-time.Second), UserID: "u-1", ClientID: "c-1"}, false)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	_ = json.Unmarshal(b, &got)
	_ = json.Unmarshal([]byte(`{"schema":"routekeeper.drift/v1","environment":"prod","entity":{"kind":"queue","name":"Claims","id":"q-1"},
		"state":"MODIFIED","previousState":"IN_SYNC","differences":[{"path":"description","expected":"git","actual":"live"}],
		"observedAt":"2026-12-01T10:00:00Z","cause":{"eventId":"ev-1","eventTime":"2026-12-01T09:59:59Z","userId":"u-1","clientId":"c-1"}}`), &want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("event JSON (-want +got):\n%s", d)
	}
	scan := drift.NewEvent(k, "", drift.Assessment{State: drift.InSync}, drift.Modified, at, nil, true)
	if scan.Cause == nil || !scan.Cause.Scan || scan.Differences == nil {
		t.Errorf("scan event: %+v, want cause {scan: true} and an empty differences list", scan)
	}
}
