package drift_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// submitOrg is a live org of one queue and one skill, and a plan that updates the queue and
// creates a skill.
func submitOrg(t *testing.T) (*live.Org, *drift.Plan) {
	t.Helper()
	n := live.NewNames(nil, nil, nil, nil)
	org := orgOf(t, n, raw{entity.Queue, map[string]any{"id": "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "name": "Claims", "description": "old"}})
	desired := []entity.Doc{
		{Kind: entity.Queue, Name: "Claims", Fields: map[string]any{"name": "Claims", "description": "new"}},
		{Kind: entity.Skill, Name: "French", Fields: map[string]any{"name": "French"}},
	}
	plan, err := drift.NewPlan("prod", desired, org, drift.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return org, plan
}

type failingRecorder struct{}

func (failingRecorder) PutObservation(context.Context, store.Observation) error {
	return errors.New("table unreachable")
}

func TestSubmit(t *testing.T) {
	ctx := context.Background()
	org, plan := submitOrg(t)
	at := time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)
	n := 0
	p := drift.Planner{Reason: "test", RequestedBy: "ci", Now: func() time.Time { return at },
		NewID: func() (string, error) { n++; return fmt.Sprintf("chg-%d", n), nil }}

	mem := store.NewMemory(nil)
	var sent []string
	reqs, err := drift.Submit(ctx, plan, org, p, mem, func(_ context.Context, reqs []*changes.Request) error {
		for _, r := range reqs {
			sent = append(sent, r.ChangeID+" "+string(r.Operation)+" "+r.Key().String())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"chg-1 create prod/skill/French", "chg-2 update prod/queue/Claims"}
	if diff := cmp.Diff(want, sent); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	if len(reqs) != 2 {
		t.Fatalf("returned %d requests, want 2", len(reqs))
	}
	// The update's base is recorded: the snapshot of its ETag, source plan, at createdAt.
	q := org.Queues["Claims"]
	snap, err := mem.GetSnapshot(ctx, entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Claims"}, q.ETag)
	if err != nil || snap.Source != store.SourcePlan || !snap.ObservedAt.Equal(at) || snap.GenesysID != q.ID {
		t.Errorf("recorded base = %+v, %v; want the planned queue, source plan, observed at %s", snap, err, at)
	}

	// Nothing to change: nothing sent.
	empty := *plan
	empty.Changes = nil
	called := false
	if reqs, err := drift.Submit(ctx, &empty, org, p, mem, func(context.Context, []*changes.Request) error { called = true; return nil }); err != nil || len(reqs) != 0 || called {
		t.Errorf("empty plan: %d requests, %v, send called %v; want none, nil, not called", len(reqs), err, called)
	}

	// The bases cannot be recorded: nothing is sent, and the error says so.
	called = false
	_, err = drift.Submit(ctx, plan, org, p, failingRecorder{}, func(context.Context, []*changes.Request) error { called = true; return nil })
	if re, ok := errors.AsType[*drift.RecordError](err); !ok || called {
		t.Errorf("failing recorder: err %v (RecordError %v), send called %v; want a *RecordError and nothing sent", err, re, called)
	}

	// A send failure is returned with the requests.
	boom := errors.New("queue unreachable")
	reqs, err = drift.Submit(ctx, plan, org, p, nil, func(context.Context, []*changes.Request) error { return boom })
	if !errors.Is(err, boom) || len(reqs) != 2 {
		t.Errorf("failing send: %d requests, %v; want 2 and the send error", len(reqs), err)
	}

	// An invalid plan fails before anything is recorded or sent.
	bad := *plan
	bad.Environment = ""
	if _, err := drift.Submit(ctx, &bad, org, drift.Planner{RequestedBy: "ci", Reason: "r"}, failingRecorder{}, nil); !errors.Is(err, drift.ErrNoEnvironment) {
		t.Errorf("plan without environment: %v, want ErrNoEnvironment", err)
	}
}

type capturePublisher struct {
	env, version string
	got          []store.Desired
}

func (c *capturePublisher) PublishDesired(_ context.Context, env, version string, ds []store.Desired) ([]entity.Key, error) {
	c.env, c.version, c.got = env, version, ds
	return []entity.Key{{Environment: env, Kind: entity.Skill, Name: "Gone"}}, nil
}

// Publish stores every document with its canonical JSON and ETag, and DocsOf reads them
// back as the same documents: a desired state read from the table plans as the config did.
func TestPublishDocsOfRoundTrip(t *testing.T) {
	docs := []entity.Doc{
		{Kind: entity.Queue, Name: "Claims", Fields: map[string]any{"name": "Claims", "description": "x", "mediaSettings": map[string]any{"call": map[string]any{"alertingTimeoutSeconds": json.Number("8")}}}},
		{Kind: entity.Skill, Name: "French", Fields: map[string]any{"name": "French"}},
	}
	var c capturePublisher
	published, removed, err := drift.Publish(context.Background(), &c, "prod", "abc123", docs)
	if err != nil {
		t.Fatal(err)
	}
	if c.env != "prod" || c.version != "abc123" || len(published) != 2 || len(removed) != 1 {
		t.Fatalf("published %d to %s at %s, removed %v", len(published), c.env, c.version, removed)
	}
	for _, d := range published {
		if d.ETag == "" || d.Key.Environment != "prod" {
			t.Errorf("published %+v without an ETag or environment", d)
		}
	}
	back, err := drift.DocsOf(c.got)
	if err != nil {
		t.Fatal(err)
	}
	org := live.NewOrg(live.NewNames(nil, nil, nil, nil))
	a, _ := drift.NewPlan("prod", docs, org, drift.PlanOptions{})
	b, _ := drift.NewPlan("prod", back, org, drift.PlanOptions{})
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("plan of the table's documents differs from the config's (-config +table):\n%s", diff)
	}
	if _, err := drift.DocsOf([]store.Desired{{Key: entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Q"}, Config: []byte("{")}}); err == nil {
		t.Error("DocsOf accepted a config that is not JSON")
	}
}
