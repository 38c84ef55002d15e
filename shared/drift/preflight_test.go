package drift_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/routing"
)

// TestPreflight: every reference apply could not resolve is reported, each once, with
// the field it sits in; references to skills and queues the plan creates, to objects the
// org holds (in any letter case), and member groups the live queue already routes to
// resolve; a worktype to create without defaultWorkbin is refused as apply would.
func TestPreflight(t *testing.T) {
	n := live.NewNames(nil, nil, nil, nil)
	n.Add(entity.Division, "d-1", "Home")
	n.Add(entity.Skill, "s-1", "Claims")
	n.Add(entity.Workbin, "wb-1", "Claims Bin")
	n.Add(entity.Language, "l-1", "English")
	n.Add(entity.Queue, "q-1", "Existing")
	org := orgOf(t, n,
		raw{entity.Skill, map[string]any{"id": "s-1", "name": "Claims"}},
		raw{entity.Queue, map[string]any{"id": "q-1", "name": "Existing", "division": map[string]any{"id": "d-1"},
			"conditionalGroupRouting": map[string]any{"rules": []any{map[string]any{"metric": "EstimatedWaitTime",
				"operator": "GreaterThan", "conditionValue": 30, "waitSeconds": 2,
				"groups": []any{map[string]any{"id": "g-1", "name": "Day Team", "type": "TEAM"}}}}}}},
	)
	const config = `apiVersion: routekeeper/v1
environment: dev
skills:
  - name: Claims
  - name: Motor
queues:
  - name: Existing
    division: Claims Division
    conditionalGroupRouting:
      rules:
        - metric: EstimatedWaitTime
          operator: GreaterThan
          conditionValue: 60
          waitSeconds: 2
          groups: [{name: Day Team, type: TEAM}, {name: Night Team, type: TEAM}]
  - name: New Queue
    division: home
    bullseye:
      rings:
        - expansionCriteria: [{type: TIMEOUT_SECONDS, threshold: 10}]
          actions: {skillsToRemove: [Motor]}
worktypes:
  - name: Claim
    defaultWorkbin: Missing Bin
    defaultQueue: New Queue
    defaultLanguage: Klingon
    defaultSkills: [Claims, Motor]
  - name: Binless
    defaultQueue: Existing
`
	cfg, err := routing.Parse("dev.yaml", []byte(config))
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
	got := drift.Preflight(plan, org)
	for i := range got {
		got[i].Message = "" // checked below
	}
	want := []drift.Problem{
		{Kind: entity.Queue, Name: "Existing", Path: "conditionalGroupRouting.rules[0].groups[1]", RefKind: entity.Group, Ref: "Night Team"},
		{Kind: entity.Queue, Name: "Existing", Path: "division", RefKind: entity.Division, Ref: "Claims Division"},
		{Kind: entity.Worktype, Name: "Binless"},
		{Kind: entity.Worktype, Name: "Claim", Path: "defaultLanguage", RefKind: entity.Language, Ref: "Klingon"},
		{Kind: entity.Worktype, Name: "Claim", Path: "defaultWorkbin", RefKind: entity.Workbin, Ref: "Missing Bin"},
	}
	// New Queue and Motor are created by the plan: Claim's defaultQueue and defaultSkills,
	// and New Queue's skillsToRemove, resolve; the division "home" is the org's "Home".
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Preflight (-want +got):\n%s", diff)
	}

	msgs := map[entity.Kind]string{}
	for _, p := range drift.Preflight(plan, org) {
		if p.RefKind != "" {
			msgs[p.RefKind] = p.Message
		} else if p.Message == "" || p.Name != "Binless" {
			t.Errorf("problem %+v: want Binless's missing defaultWorkbin with a message", p)
		}
	}
	for kind, want := range map[entity.Kind]string{
		entity.Division: `division "Claims Division" does not exist in the org: routekeeper never creates a division, so add it in Genesys or fix the name`,
		entity.Group:    `member group "Night Team" (TEAM) is not one of the groups this queue routes to in Genesys`,
	} {
		if got := msgs[kind]; len(got) < len(want) || got[:len(want)] != want {
			t.Errorf("%s problem message %q, want it to start %q", kind, got, want)
		}
	}
}
