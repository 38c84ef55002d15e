package drift_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/routing"
)

func TestNamesIDIgnoresCase(t *testing.T) {
	n := drift.NewNames(nil, nil, nil, nil)
	n.Add(drift.KindLanguage, "l-1", "English")
	n.Add(drift.KindSkill, "s-1", "Claims")
	n.Add(drift.KindSkill, "s-2", "claims") // against Genesys's rule: both exist
	n.Add(drift.KindSkill, "s-3", "Billing")
	n.Add(drift.KindSkill, "s-4", "BILLING")
	tests := []struct {
		kind, name string
		wantID     string
		wantOK     bool
		wantAmbig  []string
	}{
		{kind: drift.KindLanguage, name: "English", wantID: "l-1", wantOK: true},
		{kind: drift.KindLanguage, name: "english", wantID: "l-1", wantOK: true},
		{kind: drift.KindLanguage, name: "ENGLISH", wantID: "l-1", wantOK: true},
		{kind: drift.KindLanguage, name: "Englis", wantOK: false},
		{kind: drift.KindSkill, name: "english", wantOK: false}, // other kind
		{kind: drift.KindSkill, name: "claims", wantID: "s-2", wantOK: true},
		{kind: drift.KindSkill, name: "Claims", wantID: "s-1", wantOK: true},
		{kind: drift.KindSkill, name: "CLAIMS", wantOK: false, wantAmbig: []string{"Claims", "claims"}},
		{kind: drift.KindSkill, name: "billing", wantOK: false, wantAmbig: []string{"Billing", "BILLING"}},
	}
	for _, tc := range tests {
		id, ok := n.ID(tc.kind, tc.name)
		if id != tc.wantID || ok != tc.wantOK {
			t.Errorf("ID(%s, %q): got %q, %v; want %q, %v", tc.kind, tc.name, id, ok, tc.wantID, tc.wantOK)
		}
		if diff := cmp.Diff(tc.wantAmbig, n.Ambiguous(tc.kind, tc.name)); diff != "" {
			t.Errorf("Ambiguous(%s, %q) (-want +got):\n%s", tc.kind, tc.name, diff)
		}
	}

	// An ambiguous reference fails the request body with an error naming the candidates.
	_, err := drift.WorktypePatch(map[string]any{"defaultSkills": []any{"billing"}}, n)
	var re *drift.ReferenceError
	if !errors.As(err, &re) || !errors.Is(err, drift.ErrUnresolved) {
		t.Fatalf("WorktypePatch with ambiguous skill billing: got %v, want a *ReferenceError", err)
	}
	for _, want := range []string{`skill "billing" matches 2 names`, `"Billing", "BILLING"`, "write the name exactly"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// One case-insensitive match resolves to its id.
	body, err := drift.WorktypePatch(map[string]any{"defaultLanguage": "english"}, n)
	if err != nil || !cmp.Equal(body["defaultLanguageId"], "l-1") && !cmp.Equal(body["defaultLanguage"], map[string]any{"id": "l-1"}) {
		t.Errorf("WorktypePatch defaultLanguage english: got %v (%v), want the id l-1", body, err)
	}
}

// TestPlanLiveReferenceCase: references written in another case than the org's
// (a language, skills in defaultSkills and skillsToRemove, a queue, a division,
// a workbin) are the org's objects: no change, and no difference.
func TestPlanLiveReferenceCase(t *testing.T) {
	n := drift.NewNames(nil, nil, nil, nil)
	n.Add(drift.KindDivision, "d-1", "Home")
	n.Add(drift.KindSkill, "s-1", "Claims")
	n.Add(drift.KindSkill, "s-2", "Auto")
	n.Add(drift.KindQueue, "q-1", "Claims Queue")
	n.Add(drift.KindQueue, "q-2", "Overflow")
	n.Add(drift.KindWorkbin, "wb-1", "Claims Work")
	n.Add(drift.KindLanguage, "l-1", "English")
	live := &drift.Live{Names: n, Skills: map[string]*drift.Entity{}, Queues: map[string]*drift.Entity{}, Worktypes: map[string]*drift.Entity{}}
	for _, e := range []struct {
		kind string
		raw  map[string]any
	}{
		{drift.KindSkill, map[string]any{"id": "s-1", "name": "Claims"}},
		{drift.KindSkill, map[string]any{"id": "s-2", "name": "Auto"}},
		{drift.KindQueue, map[string]any{"id": "q-2", "name": "Overflow", "division": map[string]any{"id": "d-1"}}},
		{drift.KindQueue, map[string]any{"id": "q-1", "name": "Claims Queue", "division": map[string]any{"id": "d-1"},
			"bullseye": map[string]any{"rings": []any{
				map[string]any{"expansionCriteria": []any{map[string]any{"type": "TIMEOUT_SECONDS", "threshold": 10}},
					"actions": map[string]any{"skillsToRemove": []any{map[string]any{"id": "s-1"}, map[string]any{"id": "s-2"}}}},
				map[string]any{},
			}},
			"conditionalGroupRouting": map[string]any{"rules": []any{map[string]any{"queue": map[string]any{"id": "q-2"},
				"metric": "EstimatedWaitTime", "operator": "GreaterThan", "conditionValue": 30, "waitSeconds": 2}}},
		}},
		{drift.KindWorktype, map[string]any{"id": "wt-1", "name": "Claim Tasks", "division": map[string]any{"id": "d-1"},
			"defaultWorkbin": map[string]any{"id": "wb-1"}, "defaultQueue": map[string]any{"id": "q-1"},
			"defaultLanguage": map[string]any{"id": "l-1"}, "defaultSkills": []any{map[string]any{"id": "s-1"}, map[string]any{"id": "s-2"}}}},
	} {
		ent, err := drift.NewEntity(e.kind, e.raw, n)
		if err != nil {
			t.Fatal(err)
		}
		live.Kind(e.kind)[ent.Name] = ent
	}
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
	plan, err := drift.PlanLive(d, live, drift.PlanOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	// Only the renamed queue's own name differs; no reference does.
	var got []string
	for _, c := range plan.Changes {
		for _, d := range c.Differences {
			got = append(got, string(c.Action)+" "+c.Kind+" "+c.Name+" "+d.Path)
		}
	}
	if diff := cmp.Diff([]string{"update queue Overflow name"}, got); diff != "" {
		t.Errorf("plan of references differing only in case: differences (-want +got):\n%s", diff)
	}
	if got, want := plan.Summary, (drift.PlanSummary{Update: 1, Unchanged: 2, Conflict: 2}); got != want {
		t.Errorf("summary: got %+v, want %+v", got, want)
	}
}
