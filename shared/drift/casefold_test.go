package drift_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/routing"
)

// caseLive is a live org whose names differ from caseConfig's only in case.
func caseLive(t *testing.T) *live.Org {
	t.Helper()
	n := live.NewNames(nil, nil, nil, nil)
	n.Add(entity.Skill, "sk-1", "English")
	n.Add(entity.Queue, "q-1", "Claims")
	n.Add(entity.Workbin, "wb-1", "Claims Work")
	return orgOf(t, n,
		raw{entity.Skill, map[string]any{"id": "sk-1", "name": "English"}},
		raw{entity.Queue, map[string]any{"id": "q-1", "name": "Claims", "description": "d"}},
		raw{entity.Worktype, map[string]any{"id": "wt-1", "name": "Claim Tasks", "defaultWorkbin": map[string]any{"id": "wb-1"}}},
	)
}

const caseConfig = `apiVersion: routekeeper/v1
environment: dev
skills:
  - name: english
queues:
  - name: claims
    description: d
worktypes:
  - name: claim tasks
    defaultWorkbin: Claims Work
`

func TestPlanLiveMatchesNamesIgnoringCase(t *testing.T) {
	cfg, err := routing.Parse("dev.yaml", []byte(caseConfig))
	if err != nil {
		t.Fatal(err)
	}
	d, err := routing.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	org := caseLive(t)
	for _, prune := range []bool{false, true} {
		plan, err := planOf(t, d, org, drift.PlanOptions{Prune: prune})
		if err != nil {
			t.Fatal(err)
		}
		want := drift.PlanSummary{Update: 2, Conflict: 1}
		if diff := cmp.Diff(want, plan.Summary); diff != "" {
			t.Errorf("prune=%v: summary (-want +got):\n%s", prune, diff)
		}
		// Queue and worktype: renamed by an update found by the live name.
		var got []string
		for _, c := range plan.Changes {
			got = append(got, string(c.Action)+" "+string(c.Kind)+" "+c.Name+" id="+c.ID+" desired.name="+c.Desired["name"].(string))
			if len(c.Differences) != 1 || c.Differences[0].Path != "name" {
				t.Errorf("%s %q: differences %+v, want one at name", c.Kind, c.Name, c.Differences)
			}
		}
		wantChanges := []string{
			"update queue Claims id=q-1 desired.name=claims",
			"update worktype Claim Tasks id=wt-1 desired.name=claim tasks",
		}
		if diff := cmp.Diff(wantChanges, got); diff != "" {
			t.Errorf("prune=%v: changes (-want +got):\n%s", prune, diff)
		}
		// The request bodies apply builds from the change send the new name.
		for _, c := range plan.Changes {
			var body map[string]any
			var err error
			switch c.Kind {
			case entity.Queue:
				body, err = live.QueueBody(org.Queues[c.Name].Raw, c.Desired, org.Names)
			case entity.Worktype:
				body, err = live.WorktypePatch(c.Desired, org.Names)
			}
			if err != nil || body["name"] != c.Desired["name"] {
				t.Errorf("%s %q: body name %v (err %v), want %q", c.Kind, c.Name, body["name"], err, c.Desired["name"])
			}
		}
		// Skill: Genesys cannot rename it, so a conflict, never create + delete.
		if len(plan.Conflicts) != 1 {
			t.Fatalf("prune=%v: conflicts = %+v, want one for skill english", prune, plan.Conflicts)
		}
		c := plan.Conflicts[0]
		if c.Kind != "skill" || c.Name != "english" || c.LiveName != "English" || c.ID != "sk-1" || c.Reason == "" {
			t.Errorf("conflict = %+v, want skill english (live English, sk-1) with a reason", c)
		}
		if !plan.HasChanges() {
			t.Errorf("HasChanges() = false with a conflict, want true")
		}
	}
}

func TestPlanLiveExactMatchWinsOverCase(t *testing.T) {
	// Live holds both "Claims" and (against Genesys's rule) "claims": the config's
	// "claims" is the exact one, and "Claims" stays unmanaged.
	org := caseLive(t)
	extra, err := live.NewEntity(entity.Queue, map[string]any{"id": "q-2", "name": "claims", "description": "d"}, org.Names)
	if err != nil {
		t.Fatal(err)
	}
	org.Queues["claims"] = extra
	cfg, err := routing.Parse("dev.yaml", []byte("apiVersion: routekeeper/v1\nqueues:\n  - name: claims\n    description: d\n"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := routing.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := planOf(t, d, org, drift.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := plan.Summary, (drift.PlanSummary{Unchanged: 1, Unmanaged: 3}); got != want {
		t.Errorf("summary = %+v, want %+v", got, want)
	}
}

func TestCompareSnapshotsMatchesNamesIgnoringCase(t *testing.T) {
	cfg, err := routing.Parse("dev.yaml", []byte(caseConfig))
	if err != nil {
		t.Fatal(err)
	}
	left, err := configSide(t, "dev.yaml", cfg)
	if err != nil {
		t.Fatal(err)
	}
	right := drift.LiveSide("env:prod", caseLive(t))
	r := drift.Compare(left, right, drift.CompareOptions{OnlyDeclared: true})
	if got, want := r.Summary, (drift.ReportSummary{Different: 3}); got != want {
		t.Errorf("summary = %+v, want %+v; entities %+v", got, want, r.Entities)
	}
	for _, e := range r.Entities {
		if e.Status != drift.Different || len(e.Differences) != 1 || e.Differences[0].Path != "name" || e.Differences[0].Change != "changed" {
			t.Errorf("%s %q: %s %+v, want different at name only", e.Kind, e.Name, e.Status, e.Differences)
		}
	}
}
