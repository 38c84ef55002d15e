package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/emf"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }

// world is a generated org with its whole config published but for one queue (unmanaged)
// and with one declared queue edited by an admin (drift), and a Handler of it.
type world struct {
	*applytest.Env
	h       *Handler
	metrics *bytes.Buffer
	edited  string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	f := sim.Generate(sim.GenerateOptions{Queues: 6, Skills: 3, Worktypes: 2, Seed: 12})
	env := applytest.New(t, applytest.Options{Fixture: &f})
	ctx := context.Background()
	org, err := live.Read(ctx, env.Client, nil)
	if err != nil {
		t.Fatal(err)
	}
	qs := org.Sorted(entity.Queue)
	var docs []entity.Doc
	for _, d := range org.Docs() {
		if d.Kind != entity.Queue || d.Name != qs[5].Name {
			docs = append(docs, d)
		}
	}
	if _, _, err := drift.Publish(ctx, env.Table, env.Env, "v1", docs); err != nil {
		t.Fatal(err)
	}
	if err := env.Sim.EditQueue(qs[0].ID, func(q map[string]any) { q["description"] = "edited in the admin UI" }); err != nil {
		t.Fatal(err)
	}
	w := &world{Env: env, metrics: &bytes.Buffer{}, edited: qs[0].Name}
	w.h = &Handler{Metrics: w.metrics, Logger: slog.New(slog.DiscardHandler),
		Scanner: &drift.Scanner{Environment: env.Env, Genesys: env.Client, Store: env.Table,
			Bus: bus.NewPublisher(eventbridge.NewFromConfig(env.AWS), env.Resources.BusName)}}
	return w
}

func scheduled(at time.Time) events.EventBridgeEvent {
	return events.EventBridgeEvent{Version: "0", ID: "ev-1", DetailType: "Scheduled Event", Source: "aws.scheduler",
		AccountID: awslocal.AccountID, Time: at, Region: awslocal.Region, Detail: []byte(`"{}"`),
		Resources: []string{"arn:aws:scheduler:us-east-1:000000000000:schedule/default/driftscan"}}
}

// record parses the one EMF record of a run.
func record(t *testing.T, out *bytes.Buffer) emf.Record {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("EMF output: %d lines, want 1:\n%s", len(lines), out)
	}
	rec, err := emf.Parse([]byte(lines[0]))
	if err != nil {
		t.Fatalf("EMF line %s: %v", lines[0], err)
	}
	return rec
}

// TestHandle: the handler returns the scan's summary (routekeeper.driftscan/v1) and writes
// its EMF record.
func TestHandle(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sum, err := w.h.Handle(ctx, scheduled(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(sum)
	var doc map[string]any
	_ = json.Unmarshal(raw, &doc)
	for _, member := range []string{"schema", "environment", "complete", "entities", "coverage", "genesysCalls", "dynamodbWrites", "durationMs", "reverts"} {
		if _, ok := doc[member]; !ok {
			t.Errorf("result %s lacks %q", raw, member)
		}
	}
	want := drift.ScanCounts{Read: 11, InSync: 9, Modified: 1, Unmanaged: 1}
	if sum.Schema != drift.ScanSchema || !sum.Complete || sum.Entities != want || sum.GenesysCalls == 0 {
		t.Errorf("summary %+v; want %s, complete, counts %+v", sum, drift.ScanSchema, want)
	}
	rec := record(t, w.metrics)
	if diff := cmp.Diff(map[string]string{"Environment": w.Env.Env, "Function": "driftscan"}, rec.Dimensions); diff != "" {
		t.Errorf("dimensions (-want +got):\n%s", diff)
	}
	wantValues := map[string]float64{"ScanIncomplete": 0, "DriftedEntities": 1, "UnmanagedEntities": 1, "Coverage": 10.0 / 11,
		"GenesysCalls": float64(sum.GenesysCalls), "GenesysRateLimited": 0, "DriftDetected": 1, "DynamoDBWrites": float64(sum.DynamoDBWrites)}
	for name, v := range wantValues {
		if got := rec.Values[name]; len(got) != 1 || got[0] != v {
			t.Errorf("EMF %s = %v, want %v", name, got, v)
		}
	}
	if _, ok := rec.Values["ScanDurationMs"]; !ok {
		t.Errorf("EMF record lacks ScanDurationMs: %v", rec.Values)
	}
}

// TestHandleNoTable: without its table the scan cannot store a report: the invocation
// fails (Lambda's Errors) and the record counts it incomplete.
func TestHandleNoTable(t *testing.T) {
	w := newWorld(t)
	w.h.Scanner.Store = store.New(dynamodb.NewFromConfig(w.AWS), "no-such-table")
	_, err := w.h.Handle(context.Background(), scheduled(time.Now()))
	if err == nil || !strings.Contains(err.Error(), "read the table") {
		t.Fatalf("Handle without a table: %v; want an error saying the table cannot be read", err)
	}
	if got := record(t, w.metrics).Values["ScanIncomplete"]; len(got) != 1 || got[0] != 1 {
		t.Errorf("ScanIncomplete %v, want 1", got)
	}
}
