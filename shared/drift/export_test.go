package drift_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/routing"
)

// fixtureReader serves a sim.Fixture as the list endpoints would, without a
// server: each list is the fixture's JSON decoded into the client's models.
type fixtureReader struct{ f sim.Fixture }

func decodeList[T any](in []map[string]any) ([]T, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var out []T
	return out, json.Unmarshal(b, &out)
}

func (r fixtureReader) ListDivisions(context.Context) ([]genesys.Division, error) {
	return decodeList[genesys.Division](r.f.Divisions)
}
func (r fixtureReader) ListLanguages(context.Context) ([]genesys.Language, error) {
	return decodeList[genesys.Language](r.f.Languages)
}
func (r fixtureReader) ListSkills(context.Context) ([]genesys.Skill, error) {
	return decodeList[genesys.Skill](r.f.Skills)
}
func (r fixtureReader) ListQueues(context.Context) ([]genesys.Queue, error) {
	return decodeList[genesys.Queue](r.f.Queues)
}
func (r fixtureReader) ListWorkbins(context.Context) ([]genesys.Workbin, error) {
	return decodeList[genesys.Workbin](r.f.Workbins)
}
func (r fixtureReader) ListWorktypes(context.Context) ([]genesys.Worktype, error) {
	return decodeList[genesys.Worktype](r.f.Worktypes)
}

// realOrgQuirks are values real orgs hold that sim.Generate does not produce:
// Genesys stores them, so export must write a config that validates and plans
// clean against the same org.
var realOrgQuirks = []struct {
	name  string
	apply func(r *rand.Rand, f *sim.Fixture)
}{
	{"bullseye with one ring", func(r *rand.Rand, f *sim.Fixture) {
		q := f.Queues[r.IntN(len(f.Queues))]
		q["bullseye"] = map[string]any{"rings": []any{map[string]any{
			"expansionCriteria": []any{map[string]any{"type": "TIMEOUT_SECONDS", "threshold": 20.0}}}}}
	}},
	{"conditional group routing, groups with and without a type", func(r *rand.Rand, f *sim.Fixture) {
		q := f.Queues[r.IntN(len(f.Queues))]
		other := f.Queues[r.IntN(len(f.Queues))]
		q["conditionalGroupRouting"] = map[string]any{"rules": []any{
			map[string]any{"metric": "EstimatedWaitTime", "operator": "GreaterThan", "conditionValue": 30.0, "waitSeconds": 2.0,
				"groups": []any{
					map[string]any{"id": "0b6e0a0e-0000-4000-8000-000000000001", "name": "Claims Team", "type": "TEAM"},
					map[string]any{"id": "0b6e0a0e-0000-4000-8000-000000000002", "name": "Overflow Agents"},
				}},
			map[string]any{"queue": map[string]any{"id": other["id"]}, "metric": "ServiceLevel", "operator": "LessThan", "conditionValue": 0.8,
				"groups": []any{map[string]any{"id": "0b6e0a0e-0000-4000-8000-000000000003"}}},
		}}
	}},
	{"names with leading or trailing spaces", func(r *rand.Rand, f *sim.Fixture) {
		for _, list := range [][]map[string]any{f.Skills, f.Queues, f.Worktypes, f.Divisions, f.Workbins} {
			if len(list) > 1 {
				e := list[1+r.IntN(len(list)-1)] // not Home
				e["name"] = []string{" ", "", "  "}[r.IntN(3)] + e["name"].(string) + []string{" ", "  "}[r.IntN(2)]
			}
		}
	}},
	{"acw timeout with a prompt that takes none", func(r *rand.Rand, f *sim.Fixture) {
		q := f.Queues[r.IntN(len(f.Queues))]
		q["acwSettings"] = map[string]any{"wrapupPrompt": []string{"MANDATORY", "OPTIONAL"}[r.IntN(2)], "timeoutMs": 60000.0}
	}},
	{"acw timeout without a prompt", func(r *rand.Rand, f *sim.Fixture) {
		q := f.Queues[r.IntN(len(f.Queues))]
		q["acwSettings"] = map[string]any{"timeoutMs": 30000.0}
	}},
}

// TestExportOfGeneratedOrgsValidates exports generated orgs (seeds 1..50, each
// with some real-org quirks) and requires the YAML to parse, validate and plan
// with no changes against the org it came from.
func TestExportOfGeneratedOrgsValidates(t *testing.T) {
	ctx := context.Background()
	for seed := int64(1); seed <= 50; seed++ {
		f := sim.Generate(sim.GenerateOptions{Queues: 12, Skills: 10, Worktypes: 6, Seed: seed})
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		var applied []string
		for _, q := range realOrgQuirks {
			if seed <= int64(len(realOrgQuirks)) && q.name != realOrgQuirks[seed-1].name {
				continue // the first seeds each carry one quirk alone
			}
			if seed > int64(len(realOrgQuirks)) && r.IntN(2) == 0 {
				continue
			}
			q.apply(r, &f)
			applied = append(applied, q.name)
		}
		t.Run(fmt.Sprintf("seed %d %q", seed, applied), func(t *testing.T) {
			org, err := live.Read(ctx, fixtureReader{f}, nil)
			if err != nil {
				t.Fatalf("ReadLive: %v", err)
			}
			cfg, err := exportOf(org, "dev")
			if err != nil {
				t.Fatalf("export: %v", err)
			}
			back, _, plan := planExport(t, cfg, org)
			if plan.HasChanges() {
				t.Fatalf("plan of the export against its org: %d changes, %d conflicts, want none; first change %+v", len(plan.Changes), len(plan.Conflicts), plan.Changes)
			}
			snap, err := configSide(t, "export.yaml", back)
			if err != nil {
				t.Fatal(err)
			}
			if rep := drift.Compare(snap, drift.LiveSide("org", org), drift.CompareOptions{}); rep.HasDrift() {
				t.Errorf("diff of the export with its org: %+v", rep.Entities)
			}
		})
	}
}

// TestExportSaysWhatItCannotRepresent: a live value outside the model fails
// the export with the entity, its id and the field.
func TestExportSaysWhatItCannotRepresent(t *testing.T) {
	f := sim.Generate(sim.GenerateOptions{Queues: 3, Seed: 1})
	f.Queues[1]["mediaSettings"].(map[string]any)["call"].(map[string]any)["alertingTimeoutSeconds"] = 7.5
	org, err := live.Read(context.Background(), fixtureReader{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = exportOf(org, "dev")
	var ee *routing.ExportError
	if !errors.As(err, &ee) {
		t.Fatalf("export of a fractional alertingTimeoutSeconds: err %v, want *routing.ExportError", err)
	}
	if ee.Kind != "queue" || ee.Name != f.Queues[1]["name"] || ee.ID != f.Queues[1]["id"] || ee.Path != "mediaSettings.call.alertingTimeoutSeconds" {
		t.Errorf("ExportError = %+v, want queue %q id %s at mediaSettings.call.alertingTimeoutSeconds", ee, f.Queues[1]["name"], f.Queues[1]["id"])
	}
}

// TestQueueBodyKeepsUntypedGroup: a member group Genesys returned without a
// type round-trips through the canonical form and the PUT body: its id is
// found among the live queue's groups and no empty type is sent.
func TestQueueBodyKeepsUntypedGroup(t *testing.T) {
	raw := map[string]any{"id": "q-1", "name": "Claims", "acwSettings": map[string]any{"wrapupPrompt": "MANDATORY", "timeoutMs": 30000},
		"conditionalGroupRouting": map[string]any{"rules": []any{map[string]any{"metric": "EstimatedWaitTime",
			"groups": []any{map[string]any{"id": "g-1", "name": "Overflow Agents"}}}}}}
	doc, err := live.CanonicalQueue(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := doc["acwSettings"].(map[string]any)["timeoutMs"]; ok {
		t.Errorf("canonical acwSettings = %v, want the inert timeoutMs (prompt MANDATORY) left out", doc["acwSettings"])
	}
	body, err := live.QueueBody(raw, doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := body["conditionalGroupRouting"].(map[string]any)["rules"].([]any)[0].(map[string]any)["groups"].([]any)[0]
	if want := map[string]any{"id": "g-1", "name": "Overflow Agents"}; !document.Equal(g, want) {
		t.Errorf("body group = %v, want %v", g, want)
	}
	if got := body["acwSettings"].(map[string]any)["timeoutMs"]; got != 30000 {
		t.Errorf("body acwSettings.timeoutMs = %v, want the live 30000 kept", got)
	}
}
