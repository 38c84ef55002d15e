package drift_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/genesys"
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
	live, err := drift.ReadLive(ctx, c, func(done, total int) { calls = append(calls, done) })
	if err != nil {
		t.Fatalf("ReadLive: %v", err)
	}
	if got, want := len(live.Queues), 120; got != want {
		t.Errorf("len(live.Queues) = %d, want %d", got, want)
	}
	if got, want := len(live.Skills), 60; got != want {
		t.Errorf("len(live.Skills) = %d, want %d", got, want)
	}
	if got, want := len(live.Worktypes), 25; got != want {
		t.Errorf("len(live.Worktypes) = %d, want %d", got, want)
	}
	if len(live.Warnings) != 0 {
		t.Errorf("Warnings = %q, want none", live.Warnings)
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

	cfg, err := live.Config("dev")
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("exported config does not validate: %v", err)
	}
	out, err := routing.MarshalYAML(cfg)
	if err != nil {
		t.Fatalf("MarshalYAML: %v", err)
	}
	back, err := routing.Parse("export.yaml", out)
	if err != nil {
		t.Fatalf("Parse(export): %v", err)
	}
	d, err := routing.Compile(back)
	if err != nil {
		t.Fatalf("Compile(export): %v", err)
	}
	plan, err := drift.PlanLive(d, live, drift.PlanOptions{Prune: true})
	if err != nil {
		t.Fatalf("PlanLive: %v", err)
	}
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
	live2, err := drift.ReadLive(ctx, c, nil)
	if err != nil {
		t.Fatalf("ReadLive after edit: %v", err)
	}
	plan, err = drift.PlanLive(d, live2, drift.PlanOptions{})
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
	if ch.BaseETag != live2.Queues[ch.Name].ETag || ch.BaseETag == live.Queues[ch.Name].ETag {
		t.Errorf("BaseETag = %s, want the edited live ETag %s (old %s)", ch.BaseETag, live2.Queues[ch.Name].ETag, live.Queues[ch.Name].ETag)
	}
	if len(ch.Differences) != 1 {
		t.Fatalf("differences = %+v, want 1", ch.Differences)
	}
	diff := ch.Differences[0]
	if diff.Path != "mediaSettings.call.alertingTimeoutSeconds" || !drift.Equal(diff.Live, 47) || drift.Equal(diff.Desired, 47) || diff.Change != drift.ChangeChanged {
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
		live, err := drift.ReadLive(ctx, c, nil)
		if err != nil {
			t.Fatalf("ReadLive: %v", err)
		}
		cfg, err := live.Config("")
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
