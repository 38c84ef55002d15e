package drift_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/drift"
)

const (
	etagA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	etagB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	qid   = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
)

func testPlanner() drift.Planner {
	n := 0
	return drift.Planner{
		Reason: "routekeeper apply of routing/prod.yaml", RequestedBy: "ci",
		Now:   func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600)) },
		NewID: func() (string, error) { n++; return fmt.Sprintf("chg-%d", n), nil },
	}
}

func TestPlannerRequests(t *testing.T) {
	plan := &drift.Plan{Schema: drift.PlanSchema, Environment: "prod", Changes: []drift.Change{
		{Kind: "skill", Name: "Claims", Action: drift.ActionCreate, Desired: map[string]any{"name": "Claims"}},
		{Kind: "queue", Name: "Claims Tasks", ID: qid, Action: drift.ActionUpdate, BaseETag: etagA,
			Desired: map[string]any{"name": "Claims Tasks", "description": "x"}},
		{Kind: "worktype", Name: "Old Type", ID: qid, Action: drift.ActionDelete, BaseETag: etagB},
	}}
	got, err := testPlanner().Requests(plan)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 2, 2, 4, 5, 0, time.UTC)
	want := []*changes.Request{
		{Schema: changes.SchemaV1, ChangeID: "chg-1", Environment: "prod", Entity: changes.Entity{Type: "skill", Name: "Claims"},
			Operation: changes.OpCreate, Desired: map[string]any{"name": "Claims"}, Reason: "routekeeper apply of routing/prod.yaml", RequestedBy: "ci", CreatedAt: at},
		{Schema: changes.SchemaV1, ChangeID: "chg-2", Environment: "prod", Entity: changes.Entity{Type: "queue", Name: "Claims Tasks", ID: qid},
			Operation: changes.OpUpdate, Desired: map[string]any{"name": "Claims Tasks", "description": "x"}, BaseEtag: etagA,
			Reason: "routekeeper apply of routing/prod.yaml", RequestedBy: "ci", CreatedAt: at},
		{Schema: changes.SchemaV1, ChangeID: "chg-3", Environment: "prod", Entity: changes.Entity{Type: "worktype", Name: "Old Type", ID: qid},
			Operation: changes.OpDelete, BaseEtag: etagB, Reason: "routekeeper apply of routing/prod.yaml", RequestedBy: "ci", CreatedAt: at},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	for _, r := range got {
		if _, err := changes.Encode(r); err != nil {
			t.Errorf("Encode(%s): %v", r.ChangeID, err)
		}
	}
}

func TestPlannerErrors(t *testing.T) {
	tests := []struct {
		name    string
		planner drift.Planner
		plan    *drift.Plan
		want    error
		wantMsg string
	}{
		{name: "no environment", planner: testPlanner(), plan: &drift.Plan{Changes: []drift.Change{{Kind: "skill", Name: "A", Action: drift.ActionCreate, Desired: map[string]any{"name": "A"}}}},
			want: drift.ErrNoEnvironment},
		{name: "update without baseEtag", planner: testPlanner(), plan: &drift.Plan{Environment: "prod", Changes: []drift.Change{
			{Kind: "queue", Name: "Q", Action: drift.ActionUpdate, Desired: map[string]any{"name": "Q"}}}},
			want: changes.ErrInvalid, wantMsg: "baseEtag"},
		{name: "no reason", planner: drift.Planner{RequestedBy: "ci"}, plan: &drift.Plan{Environment: "prod", Changes: []drift.Change{
			{Kind: "skill", Name: "A", Action: drift.ActionCreate, Desired: map[string]any{"name": "A"}}}},
			want: changes.ErrInvalid, wantMsg: "reason"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.planner.Requests(tc.plan)
			if !errors.Is(err, tc.want) || !strings.Contains(fmt.Sprint(err), tc.wantMsg) || got != nil {
				t.Errorf("got %v, %v; want no requests and an error matching %v mentioning %q", got, err, tc.want, tc.wantMsg)
			}
		})
	}
}

func TestPlannerEnvironmentOverride(t *testing.T) {
	p := testPlanner()
	p.Environment = "staging"
	got, err := p.Requests(&drift.Plan{Environment: "prod", Changes: []drift.Change{{Kind: "skill", Name: "A", Action: drift.ActionCreate, Desired: map[string]any{"name": "A"}}}})
	if err != nil || len(got) != 1 || got[0].Environment != "staging" || got[0].GroupID() != got[0].Entity.GroupID("staging") {
		t.Errorf("got %v, %v; want one request for staging", got, err)
	}
}

func ExamplePlanner() {
	plan := &drift.Plan{Environment: "prod", Changes: []drift.Change{
		{Kind: "queue", Name: "Claims Tasks", ID: qid, Action: drift.ActionUpdate, BaseETag: etagA,
			Desired: map[string]any{"name": "Claims Tasks", "description": "Claims"}},
	}}
	reqs, err := drift.Planner{Reason: "routekeeper apply of routing/prod.yaml at 3f2c1a9", RequestedBy: "ci"}.Requests(plan)
	if err != nil {
		panic(err)
	}
	fmt.Println(reqs[0].Operation, reqs[0].Key(), reqs[0].BaseEtag == etagA)
	// Output: update prod/queue/Claims Tasks true
}
