package drift_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/routing"
	"github.com/routekeeper/routekeeper/shared/store"
)

const overflowConfig = `apiVersion: routekeeper/v1
environment: prod
queues: [{name: Claims Tasks}, {name: Claims Overflow}]
worktypes:
  - name: Claim
    description: claims
assignmentRules:
  - {name: vip, worktype: Claim, queue: Claims Tasks, maxCapacity: 50, overflowQueue: Claims Overflow}
`

// overflowOrg is the org of overflowConfig with the worktype's defaultQueue at queue and
// its description desc.
func overflowOrg(t *testing.T, queue, desc string) *live.Org {
	t.Helper()
	n := live.NewNames(nil, nil, nil, nil)
	n.Add(entity.Queue, "q-tasks", "Claims Tasks")
	n.Add(entity.Queue, "q-over", "Claims Overflow")
	ids := map[string]string{"Claims Tasks": "q-tasks", "Claims Overflow": "q-over"}
	return orgOf(t, n,
		raw{entity.Queue, map[string]any{"id": "q-tasks", "name": "Claims Tasks"}},
		raw{entity.Queue, map[string]any{"id": "q-over", "name": "Claims Overflow"}},
		raw{entity.Worktype, map[string]any{"id": "wt-1", "name": "Claim", "description": desc, "defaultQueue": map[string]any{"id": ids[queue]}}},
	)
}

// TestPlanWithOverflow: while an overflow is active the plan expects the overflow queue
// (no revert, "overflow active"); without the states it says it cannot know; other
// differences of the worktype are still planned, keeping the overflow queue.
func TestPlanWithOverflow(t *testing.T) {
	cfg, err := routing.Parse("prod.yaml", []byte(overflowConfig))
	if err != nil {
		t.Fatal(err)
	}
	d, err := routing.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	active := map[string]string{"Claim": "Claims Overflow"}
	tests := []struct {
		name        string
		liveQueue   string
		liveDesc    string
		opts        drift.PlanOptions
		wantChanges map[string]any // worktype path -> desired value; nil: no change
		wantState   string         // Plan.Overflow[0].State; "" none
	}{
		{name: "active, live at the overflow queue: unchanged", liveQueue: "Claims Overflow", liveDesc: "claims",
			opts: drift.PlanOptions{Overflow: active}, wantState: drift.OverflowActive},
		{name: "active, another field differs: planned with the overflow queue kept", liveQueue: "Claims Overflow", liveDesc: "edited",
			opts: drift.PlanOptions{Overflow: active}, wantChanges: map[string]any{"description": "claims"}, wantState: drift.OverflowActive},
		{name: "active, live still at the queue: the overflow is expected", liveQueue: "Claims Tasks", liveDesc: "claims",
			opts: drift.PlanOptions{Overflow: active}, wantChanges: map[string]any{"defaultQueue": "Claims Overflow"}, wantState: drift.OverflowActive},
		{name: "inactive, live at the overflow queue: reverted", liveQueue: "Claims Overflow", liveDesc: "claims",
			opts: drift.PlanOptions{Overflow: map[string]string{}}, wantChanges: map[string]any{"defaultQueue": "Claims Tasks"}},
		{name: "unknown: planned as declared, with the note", liveQueue: "Claims Overflow", liveDesc: "claims",
			opts: drift.PlanOptions{OverflowUnknown: map[string]string{"Claim": "Claims Overflow"}}, wantChanges: map[string]any{"defaultQueue": "Claims Tasks"}, wantState: drift.OverflowUnknown},
		{name: "overflow of an undeclared worktype changes nothing", liveQueue: "Claims Tasks", liveDesc: "claims",
			opts: drift.PlanOptions{Overflow: map[string]string{"Other": "Claims Overflow"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := planOf(t, d, overflowOrg(t, tc.liveQueue, tc.liveDesc), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for _, c := range plan.Changes {
				if c.Kind != entity.Worktype {
					t.Errorf("unexpected change %s %q", c.Kind, c.Name)
					continue
				}
				for _, diff := range c.Differences {
					got[diff.Path] = diff.Desired
				}
				if tc.wantState == drift.OverflowActive && c.Desired["defaultQueue"] != "Claims Overflow" {
					t.Errorf("desired defaultQueue %v while the overflow is active; applying it would end the overflow", c.Desired["defaultQueue"])
				}
			}
			want := tc.wantChanges
			if want == nil {
				want = map[string]any{}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("worktype differences, path -> desired (-want +got):\n%s", diff)
			}
			var state string
			if len(plan.Overflow) > 0 {
				state = plan.Overflow[0].State
				if plan.Overflow[0].Worktype != "Claim" || plan.Overflow[0].Queue != "Claims Tasks" || plan.Overflow[0].Note == "" {
					t.Errorf("Plan.Overflow = %+v; want worktype Claim, queue Claims Tasks and a note", plan.Overflow)
				}
			}
			if state != tc.wantState {
				t.Errorf("Plan.Overflow state %q, want %q (%+v)", state, tc.wantState, plan.Overflow)
			}
		})
	}
}

func TestExpectOverflowLeavesItsInputAlone(t *testing.T) {
	docs := []entity.Doc{
		{Kind: entity.Worktype, Name: "Claim", Fields: map[string]any{"name": "Claim", "defaultQueue": "Claims Tasks"}},
		{Kind: entity.Worktype, Name: "Bare", Fields: map[string]any{"name": "Bare"}},
		{Kind: entity.Queue, Name: "Claim", Fields: map[string]any{"name": "Claim"}},
	}
	got := drift.ExpectOverflow(docs, map[string]string{"Claim": "Claims Overflow", "Bare": "Claims Overflow"})
	want := []entity.Doc{
		{Kind: entity.Worktype, Name: "Claim", Fields: map[string]any{"name": "Claim", "defaultQueue": "Claims Overflow"}},
		{Kind: entity.Worktype, Name: "Bare", Fields: map[string]any{"name": "Bare"}},
		{Kind: entity.Queue, Name: "Claim", Fields: map[string]any{"name": "Claim"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ExpectOverflow (-want +got):\n%s", diff)
	}
	if docs[0].Fields["defaultQueue"] != "Claims Tasks" {
		t.Errorf("ExpectOverflow changed its input: %v", docs[0].Fields)
	}
}

type fakeStates struct {
	states []store.OverflowState
	err    error
}

func (f fakeStates) ListOverflowStates(context.Context, string) ([]store.OverflowState, error) {
	return f.states, f.err
}

func TestActiveOverflow(t *testing.T) {
	got, err := drift.ActiveOverflow(context.Background(), fakeStates{states: []store.OverflowState{
		{Worktype: "Claim", Active: true, OverflowQueue: "Claims Overflow"},
		{Worktype: "Motor Claim", Active: false, OverflowQueue: "Claims Tasks"},
	}}, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"Claim": "Claims Overflow"}, got); diff != "" {
		t.Errorf("ActiveOverflow (-want +got):\n%s", diff)
	}
	boom := errors.New("boom")
	if _, err := drift.ActiveOverflow(context.Background(), fakeStates{err: boom}, "prod"); !errors.Is(err, boom) {
		t.Errorf("ActiveOverflow with a failing store: %v, want it wrapped", err)
	}
}

// ExampleExpectOverflow: while the overflow of worktype Claim is active, the org is
// expected to route its tasks to the overflow queue.
func ExampleExpectOverflow() {
	docs := []entity.Doc{{Kind: entity.Worktype, Name: "Claim", Fields: map[string]any{"name": "Claim", "defaultQueue": "Claims Tasks"}}}
	expected := drift.ExpectOverflow(docs, map[string]string{"Claim": "Claims Overflow"})
	fmt.Println(expected[0].Fields["defaultQueue"])
	// Output: Claims Overflow
}
