package drift_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/routing"
)

// simOrg starts a simulator seeded with a generated org and returns it with a
// real client pointed at it. Rate limits are off so tests are fast.
func simOrg(t testing.TB, g sim.GenerateOptions) (*sim.Server, *genesys.Client) {
	t.Helper()
	s := sim.New(sim.Options{RequestsPerMinute: -1})
	if err := s.Load(sim.Generate(g)); err != nil {
		t.Fatalf("Load(Generate(%+v)): %v", g, err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	c, err := genesys.New(genesys.Config{APIURL: ts.URL, LoginURL: ts.URL,
		ClientID: sim.DefaultClientID, ClientSecret: sim.DefaultClientSecret, RequestsPerMinute: -1})
	if err != nil {
		t.Fatalf("genesys.New: %v", err)
	}
	return s, c
}

func TestReadLiveExportPlanRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, c := simOrg(t, sim.GenerateOptions{Queues: 120, Skills: 60, Worktypes: 25, Seed: 11})
	var calls []int
	org, err := live.Read(ctx, c, func(done, total int) { calls = append(calls, done) })
	if err != nil {
		t.Fatalf("ReadLive: %v", err)
	}
	if got, want := len(org.Queues), 120; got != want {
		t.Errorf("len(live.Queues) = %d, want %d", got, want)
	}
	if got, want := len(org.Skills), 60; got != want {
		t.Errorf("len(live.Skills) = %d, want %d", got, want)
	}
	if got, want := len(org.Worktypes), 25; got != want {
		t.Errorf("len(live.Worktypes) = %d, want %d", got, want)
	}
	if len(org.Warnings) != 0 {
		t.Errorf("Warnings = %q, want none", org.Warnings)
	}
	if len(calls) == 0 {
		t.Errorf("progress never called")
	}
	// List endpoints only: no GET per entity.
	for route, n := range s.Calls() {
		if strings.Contains(route, "{") {
			t.Errorf("ReadLive called %s %d times; want list endpoints only", route, n)
		}
	}

	cfg, err := exportOf(org, "dev")
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("exported config does not validate: %v", err)
	}
	back, d, plan := planExport(t, cfg, org)
	if plan.HasChanges() {
		t.Fatalf("plan of an export against the same org has %d changes, want none; first: %+v", len(plan.Changes), plan.Changes[0])
	}
	if got, want := plan.Summary.Unchanged, 120+60+25; got != want {
		t.Errorf("Summary.Unchanged = %d, want %d", got, want)
	}

	// An out-of-band edit shows up with its path and both values.
	qid, _ := s.IDByName("queue", back.Queues[3].Name)
	if err := s.EditQueue(qid, func(q map[string]any) {
		q["mediaSettings"].(map[string]any)["call"].(map[string]any)["alertingTimeoutSeconds"] = 47.0
	}); err != nil {
		t.Fatalf("EditQueue: %v", err)
	}
	live2, err := live.Read(ctx, c, nil)
	if err != nil {
		t.Fatalf("ReadLive after edit: %v", err)
	}
	plan, err = planOf(t, d, live2, drift.PlanOptions{})
	if err != nil {
		t.Fatalf("PlanLive after edit: %v", err)
	}
	if len(plan.Changes) != 1 {
		t.Fatalf("after one edit: %d changes, want 1: %+v", len(plan.Changes), plan.Changes)
	}
	ch := plan.Changes[0]
	if ch.Kind != "queue" || ch.Name != back.Queues[3].Name || ch.ID != qid || ch.Action != drift.ActionUpdate {
		t.Errorf("change = %s %q id %s %s, want queue %q id %s update", ch.Kind, ch.Name, ch.ID, ch.Action, back.Queues[3].Name, qid)
	}
	if ch.BaseETag != live2.Queues[ch.Name].ETag || ch.BaseETag == org.Queues[ch.Name].ETag {
		t.Errorf("BaseETag = %s, want the edited live ETag %s (old %s)", ch.BaseETag, live2.Queues[ch.Name].ETag, org.Queues[ch.Name].ETag)
	}
	if len(ch.Differences) != 1 {
		t.Fatalf("differences = %+v, want 1", ch.Differences)
	}
	diff := ch.Differences[0]
	if diff.Path != "mediaSettings.call.alertingTimeoutSeconds" || !document.Equal(diff.Live, 47) || document.Equal(diff.Desired, 47) || diff.Delta != document.Changed {
		t.Errorf("difference = %+v, want mediaSettings.call.alertingTimeoutSeconds changed, live 47", diff)
	}
	if diff.Desired == nil {
		t.Errorf("difference has no desired value")
	}
}

func TestReadLiveDeterministic(t *testing.T) {
	ctx := context.Background()
	_, c := simOrg(t, sim.GenerateOptions{Queues: 40, Skills: 30, Worktypes: 10, Seed: 3})
	export := func() string {
		org, err := live.Read(ctx, c, nil)
		if err != nil {
			t.Fatalf("ReadLive: %v", err)
		}
		cfg, err := exportOf(org, "")
		if err != nil {
			t.Fatalf("Config: %v", err)
		}
		b, err := routing.MarshalYAML(cfg)
		if err != nil {
			t.Fatalf("MarshalYAML: %v", err)
		}
		return string(b)
	}
	a, b := export(), export()
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two exports of an unchanged org differ (-first +second):\n%s", diff)
	}
}

// A worktype's defaultLanguage comes back from Genesys as {id, selfUri}; ReadLive lists
// the routing languages so the canonical form names it, a config naming a language plans
// and applies, and the org then plans clean.
func TestReadLiveNamesLanguages(t *testing.T) {
	ctx := context.Background()
	gen := sim.GenerateOptions{Queues: 10, Skills: 8, Worktypes: 12, Languages: 7, Seed: 4}
	s, c := simOrg(t, gen)
	f := sim.Generate(gen)
	language := map[string]string{} // id -> name
	for _, l := range f.Languages {
		language[l["id"].(string)] = l["name"].(string)
	}
	org, err := live.Read(ctx, c, nil)
	if err != nil {
		t.Fatalf("ReadLive: %v", err)
	}
	if got := s.Calls()["GET /api/v2/routing/languages"]; got != 1 {
		t.Errorf("ReadLive listed languages %d times, want 1", got)
	}
	if len(org.Warnings) != 0 {
		t.Errorf("Warnings = %q, want none", org.Warnings)
	}
	var target string // a worktype whose language is not English
	withLanguage := 0
	for _, wt := range f.Worktypes {
		name := wt["name"].(string)
		e := org.Worktypes[name]
		if e == nil {
			t.Fatalf("worktype %q not read", name)
		}
		ref, _ := wt["defaultLanguage"].(map[string]any)
		if ref == nil {
			if _, ok := e.Canonical["defaultLanguage"]; ok {
				t.Errorf("worktype %q: got defaultLanguage %v, want none", name, e.Canonical["defaultLanguage"])
			}
			if target == "" {
				target = name
			}
			continue
		}
		withLanguage++
		if got, want := e.Canonical["defaultLanguage"], language[ref["id"].(string)]; got != want {
			t.Errorf("worktype %q: got defaultLanguage %v, want %q (the listed name of %s)", name, got, want, ref["id"])
		}
		if target == "" && e.Canonical["defaultLanguage"] != "English" {
			target = name
		}
	}
	if withLanguage == 0 || target == "" {
		t.Fatalf("generated org has %d worktypes with a language and target %q; want some with and one without English", withLanguage, target)
	}

	// The exported config names languages, and plans clean against the org.
	cfg, err := exportOf(org, "dev")
	if err != nil {
		t.Fatal(err)
	}
	english := "English"
	for i := range cfg.Worktypes {
		if l := cfg.Worktypes[i].DefaultLanguage; l != nil && strings.HasPrefix(*l, entity.IDPrefix) {
			t.Errorf("exported worktype %q has defaultLanguage %q, want a name", cfg.Worktypes[i].Name, *l)
		}
		if cfg.Worktypes[i].Name == target {
			cfg.Worktypes[i].DefaultLanguage = &english
		}
	}
	d, err := routing.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := planOf(t, d, org, drift.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) != 1 || plan.Changes[0].Name != target || len(plan.Changes[0].Differences) != 1 ||
		plan.Changes[0].Differences[0].Path != "defaultLanguage" || plan.Changes[0].Differences[0].Desired != "English" {
		t.Fatalf("plan with %q's defaultLanguage set to English: got %+v, want one update of defaultLanguage to English", target, plan.Changes)
	}

	// The change's body carries the language's id; Genesys accepts it; the org then plans clean.
	ch := plan.Changes[0]
	patch, err := live.WorktypePatch(ch.Desired, org.Names)
	if err != nil {
		t.Fatalf("WorktypePatch: %v", err)
	}
	englishID, _ := s.IDByName("language", "English")
	if patch["defaultLanguageId"] != englishID {
		t.Errorf("patch defaultLanguageId = %v, want English's id %s", patch["defaultLanguageId"], englishID)
	}
	if _, err := c.PatchWorktype(ctx, ch.ID, patch); err != nil {
		t.Fatalf("PatchWorktype: %v", err)
	}
	live2, err := live.Read(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan, err = planOf(t, d, live2, drift.PlanOptions{}); err != nil || plan.HasChanges() {
		t.Errorf("plan after applying: got %+v (%v), want no changes", plan.Changes, err)
	}
}

// failingLanguages is a LiveReader whose languages list fails.
type failingLanguages struct {
	*genesys.Client
	err error
}

func (f failingLanguages) ListLanguages(context.Context) ([]genesys.Language, error) {
	return nil, f.err
}

func TestReadLiveLanguagesError(t *testing.T) {
	_, c := simOrg(t, sim.GenerateOptions{Queues: 2, Worktypes: 2, Seed: 1})
	boom := errors.New("languages unavailable")
	_, err := live.Read(context.Background(), failingLanguages{c, boom}, nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "languages") {
		t.Errorf("ReadLive with a failing languages list: got %v, want an error wrapping it that names languages", err)
	}
}

// TestExportWithDeletedReferencesPlansClean: a live worktype and queue that still
// reference a deleted skill and queue export as "id:<id>" references, and that export
// validates and plans with no changes against the org it came from.
func TestExportWithDeletedReferencesPlansClean(t *testing.T) {
	// Skill sk-old is deleted; q-gone was never listed.
	n := live.NewNames(nil, []genesys.Skill{{ID: "sk-en", Name: "English"}, {ID: "sk-old", Name: "Old", State: "deleted"}}, nil,
		[]genesys.Workbin{{ID: "wb-claims", Name: "Claims Work"}})
	wt := map[string]any{"id": "wt-1", "name": "Claim", "defaultWorkbin": map[string]any{"id": "wb-claims"},
		"defaultQueue": map[string]any{"id": "q-gone"}, "defaultSkills": []any{map[string]any{"id": "sk-old"}, map[string]any{"id": "sk-en"}}}
	q := map[string]any{"id": "q-1", "name": "Claims", "bullseye": map[string]any{"rings": []any{
		map[string]any{"actions": map[string]any{"skillsToRemove": []any{map[string]any{"id": "sk-old"}}}},
		map[string]any{"expansionCriteria": []any{map[string]any{"type": "TIMEOUT_SECONDS", "threshold": 5}}},
	}}}
	org := orgOf(t, n, raw{entity.Worktype, wt}, raw{entity.Queue, q}, raw{entity.Skill, map[string]any{"id": "sk-en", "name": "English"}})
	org.Workbins = []string{"Claims Work"}
	cfg, err := exportOf(org, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *cfg.Worktypes[0].DefaultQueue, entity.IDPrefix+"q-gone"; got != want {
		t.Errorf("defaultQueue = %q, want %q", got, want)
	}
	out, err := routing.MarshalYAML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := routing.Parse("export.yaml", out)
	if err != nil {
		t.Fatalf("export does not validate: %v\n%s", err, out)
	}
	d, err := routing.Compile(back)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := planOf(t, d, org, drift.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.HasChanges() {
		t.Errorf("plan of the export has changes: %+v", plan.Changes)
	}
}

// planExport writes cfg (an export of live) as YAML, parses and compiles it back as a user's
// config would be, and plans it against live (with prune). It returns the parsed config and
// what it compiles to.
func planExport(t *testing.T, cfg *routing.Config, org *live.Org) (*routing.Config, *routing.Desired, *drift.Plan) {
	t.Helper()
	out, err := routing.MarshalYAML(cfg)
	if err != nil {
		t.Fatalf("MarshalYAML: %v", err)
	}
	back, err := routing.Parse("export.yaml", out)
	if err != nil {
		t.Fatalf("export does not validate: %v", err)
	}
	d, err := routing.Compile(back)
	if err != nil {
		t.Fatalf("Compile(export): %v", err)
	}
	plan, err := planOf(t, d, org, drift.PlanOptions{Prune: true})
	if err != nil {
		t.Fatalf("PlanLive: %v", err)
	}
	return back, d, plan
}
