package drift_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/routing"
)

// TestPlanLiveReferenceCase: references written in another case than the org's
// (a language, skills in defaultSkills and skillsToRemove, a queue, a division,
// a workbin) are the org's objects: no change, and no difference.
func TestPlanLiveReferenceCase(t *testing.T) {
	n := live.NewNames(nil, nil, nil, nil)
	n.Add(entity.Division, "d-1", "Home")
	n.Add(entity.Skill, "s-1", "Claims")
	n.Add(entity.Skill, "s-2", "Auto")
	n.Add(entity.Queue, "q-1", "Claims Queue")
	n.Add(entity.Queue, "q-2", "Overflow")
	n.Add(entity.Workbin, "wb-1", "Claims Work")
	n.Add(entity.Language, "l-1", "English")
	org := orgOf(t, n,
		raw{entity.Skill, map[string]any{"id": "s-1", "name": "Claims"}},
		raw{entity.Skill, map[string]any{"id": "s-2", "name": "Auto"}},
		raw{entity.Queue, map[string]any{"id": "q-2", "name": "Overflow", "division": map[string]any{"id": "d-1"}}},
		raw{entity.Queue, map[string]any{"id": "q-1", "name": "Claims Queue", "division": map[string]any{"id": "d-1"},
			"bullseye": map[string]any{"rings": []any{
				map[string]any{"expansionCriteria": []any{map[string]any{"type": "TIMEOUT_SECONDS", "threshold": 10}},
					"actions": map[string]any{"skillsToRemove": []any{map[string]any{"id": "s-1"}, map[string]any{"id": "s-2"}}}},
				map[string]any{},
			}},
			"conditionalGroupRouting": map[string]any{"rules": []any{map[string]any{"queue": map[string]any{"id": "q-2"},
				"metric": "EstimatedWaitTime", "operator": "GreaterThan", "conditionValue": 30, "waitSeconds": 2}}},
		}},
		raw{entity.Worktype, map[string]any{"id": "wt-1", "name": "Claim Tasks", "division": map[string]any{"id": "d-1"},
			"defaultWorkbin": map[string]any{"id": "wb-1"}, "defaultQueue": map[string]any{"id": "q-1"},
			"defaultLanguage": map[string]any{"id": "l-1"}, "defaultSkills": []any{map[string]any{"id": "s-1"}, map[string]any{"id": "s-2"}}}},
	)
	// Skills are declared in lower case (each a PlanConflict: Genesys cannot
	// rename a skill), and the config references them as declared; the queue
	// "overflow" is renamed; divisions, the workbin and the language are not
	// listed, so the config may spell them as it likes.
	const config = `apiVersion: routekeeper/v1
environment: dev
skills:
  - name: claims
  - name: auto
queues:
  - name: overflow
    division: home
  - name: Claims Queue
    division: HOME
    bullseye:
      rings:
        - expansionCriteria: [{type: TIMEOUT_SECONDS, threshold: 10}]
          actions: {skillsToRemove: [claims, auto]}
        - {}
    conditionalGroupRouting:
      rules:
        - {queue: overflow, metric: EstimatedWaitTime, operator: GreaterThan, conditionValue: 30, waitSeconds: 2}
worktypes:
  - name: Claim Tasks
    division: home
    defaultWorkbin: claims work
    defaultQueue: Claims Queue
    defaultLanguage: english
    defaultSkills: [claims, auto]
`
	cfg, err := routing.Parse("dev.yaml", []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	d, err := routing.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := planOf(t, d, org, drift.PlanOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	// Only the renamed queue's own name differs; no reference does.
	var got []string
	for _, c := range plan.Changes {
		for _, d := range c.Differences {
			got = append(got, string(c.Action)+" "+string(c.Kind)+" "+c.Name+" "+d.Path)
		}
	}
	if diff := cmp.Diff([]string{"update queue Overflow name"}, got); diff != "" {
		t.Errorf("plan of references differing only in case: differences (-want +got):\n%s", diff)
	}
	if got, want := plan.Summary, (drift.PlanSummary{Update: 1, Unchanged: 2, Conflict: 2}); got != want {
		t.Errorf("summary: got %+v, want %+v", got, want)
	}
}
