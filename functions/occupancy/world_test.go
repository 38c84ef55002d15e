package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/emf"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }

// world is one test's stack: the table, change queue and bus on moto, a Genesys simulator
// with a generated org, the real client and store, the apply engine, and a Handler of the
// environment applytest.Environment with one overflow rule on the org's first worktype:
// queue Q (first queue), overflow queue O (second), maxCapacity 5, resumeBelow 2, two
// samples in and out, three minutes' dwell.
type world struct {
	*applytest.Env
	h       *Handler
	client  *genesys.Client // the handler's, through the middleware when there is one
	sqs     *sqs.Client
	metrics *bytes.Buffer
	logs    *bytes.Buffer
	rule    store.OverflowRule
	// ids of the rule's queue, overflow queue and worktype.
	q, o, wt string
}

// worldOptions shape a world.
type worldOptions struct {
	// observe records the org's queues and worktypes in the table as a drift scan would,
	// so ids come from the table and the poll makes no queue list call.
	observe bool
	// middleware wraps the simulator for the handler's client (faults the simulator
	// cannot inject).
	middleware func(http.Handler) http.Handler
	// rule edits the rule before it is published.
	rule func(*store.OverflowRule)
	// fixture is the org; zero: 4 queues, 2 worktypes.
	fixture *sim.Fixture
}

func newWorld(t testing.TB, o worldOptions) *world {
	t.Helper()
	ctx := context.Background()
	env := applytest.New(t, applytest.Options{Fixture: o.fixture})
	w := &world{Env: env, sqs: sqs.NewFromConfig(env.AWS), metrics: &bytes.Buffer{}, logs: &bytes.Buffer{}}
	url := env.URL
	if o.middleware != nil {
		srv := httptest.NewServer(o.middleware(env.Sim))
		t.Cleanup(srv.Close)
		url = srv.URL
	}
	c, err := genesys.New(genesys.Config{APIURL: url, LoginURL: url, ClientID: sim.DefaultClientID, ClientSecret: sim.DefaultClientSecret,
		RequestsPerMinute: -1, Jitter: func(time.Duration) time.Duration { return 0 },
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	w.client = c
	org, err := live.Read(ctx, env.Client, nil)
	if err != nil {
		t.Fatal(err)
	}
	queues, worktypes := org.Sorted(entity.Queue), org.Sorted(entity.Worktype)
	w.q, w.o, w.wt = queues[0].ID, queues[1].ID, worktypes[0].ID
	if _, err := env.Client.PatchWorktype(ctx, w.wt, map[string]any{"defaultQueueId": w.q}); err != nil {
		t.Fatal(err)
	}
	if o.observe {
		org, err = live.Read(ctx, env.Client, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []entity.Kind{entity.Queue, entity.Worktype} {
			for _, e := range org.Sorted(k) {
				obs, err := e.Observation(applytest.Environment, store.SourceScan, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if err := env.Table.PutObservation(ctx, obs); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	w.rule = store.OverflowRule{Rule: "vip", Worktype: worktypes[0].Name, Queue: queues[0].Name, OverflowQueue: queues[1].Name,
		MaxCapacity: 5, OverflowAfter: 2, ResumeBelow: 2, ResumeAfter: 2, MinDwell: 3 * time.Minute}
	if o.rule != nil {
		o.rule(&w.rule)
	}
	if _, err := env.Table.PublishOverflowRules(ctx, applytest.Environment, "v1", []store.OverflowRule{w.rule}); err != nil {
		t.Fatal(err)
	}
	w.h = &Handler{Environment: applytest.Environment, Store: env.Table, Genesys: c,
		Changes: changes.NewPublisher(w.sqs, env.Resources.ChangeQueueURL, changes.PublisherOptions{}),
		Bus:     bus.NewPublisher(eventbridge.NewFromConfig(env.AWS), env.Resources.BusName),
		Metrics: w.metrics, Logger: slog.New(slog.NewJSONHandler(w.logs, nil))}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("handler logs:\n%s", w.logs)
		}
	})
	return w
}

// load sets what the simulator reports for a queue: its backlog (open workitems) and
// observations.
func (w *world) load(queueID string, backlog int, waiting, interacting, onQueue float64) {
	w.Sim.SetWorkitemCount(queueID, backlog)
	w.Sim.SetObservation(queueID, genesys.MetricWaiting, waiting)
	w.Sim.SetObservation(queueID, genesys.MetricInteracting, interacting)
	w.Sim.SetObservation(queueID, genesys.MetricOnQueueUsers, onQueue)
	w.Sim.SetObservation(queueID, genesys.MetricActiveUsers, onQueue+1)
	w.Sim.SetObservation(queueID, genesys.MetricMemberUsers, onQueue+3)
}

// scheduled is the Scheduler's default event for the fire at at.
func scheduled(at time.Time) events.EventBridgeEvent {
	return events.EventBridgeEvent{Version: "0", ID: "ev-" + at.Format("150405"), DetailType: "Scheduled Event", Source: "aws.scheduler",
		AccountID: awslocal.AccountID, Time: at, Region: awslocal.Region, Detail: []byte(`"{}"`),
		Resources: []string{"arn:aws:scheduler:us-east-1:000000000000:schedule/default/occupancy"}}
}

// run invokes the handler for the fire at at, with a deadline as Lambda gives one.
func (w *world) run(t testing.TB, at time.Time) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w.metrics.Reset()
	res, err := w.h.Handle(ctx, scheduled(at))
	if err != nil {
		t.Fatalf("Handle at %s: %v", at.Format(time.TimeOnly), err)
	}
	return res
}

// drain delivers everything on the change queue to the apply engine, as the apply
// function's event source mapping does, and returns the requests.
func (w *world) drain(t testing.TB) []*changes.Request {
	t.Helper()
	ctx := context.Background()
	var reqs []*changes.Request
	for {
		out, err := w.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.Resources.ChangeQueueURL), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return reqs
		}
		for _, m := range out.Messages {
			req, err := changes.Decode([]byte(aws.ToString(m.Body)))
			if err != nil {
				t.Fatalf("change queue message: %v", err)
			}
			if _, err := w.Engine.Apply(ctx, req); err != nil {
				t.Fatalf("apply %s: %v", req.ChangeID, err)
			}
			if _, err := w.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(w.Resources.ChangeQueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, req)
		}
	}
}

// defaultQueue is the id of the queue the worktype's defaultQueue points at in Genesys.
func (w *world) defaultQueue(t testing.TB) string {
	t.Helper()
	wt, ok := w.Sim.Worktype(w.wt)
	if !ok {
		t.Fatalf("worktype %s is gone", w.wt)
	}
	dq, _ := wt["defaultQueue"].(map[string]any)
	id, _ := dq["id"].(string)
	return id
}

// state is the stored overflow state of the rule's worktype (zero when none).
func (w *world) state(t testing.TB) store.OverflowState {
	t.Helper()
	st, err := w.Table.GetOverflowState(context.Background(), applytest.Environment, w.rule.Worktype)
	if err != nil && !strings.Contains(err.Error(), store.ErrNotFound.Error()) {
		t.Fatal(err)
	}
	return st
}

// records parses the EMF lines of the last run (every one must be valid) and returns
// them by their distinguishing dimension: "queue:<name>", "rule:<name>" or "run".
func (w *world) records(t testing.TB) map[string]emf.Record {
	t.Helper()
	out := map[string]emf.Record{}
	for line := range strings.SplitSeq(strings.TrimSpace(w.metrics.String()), "\n") {
		if line == "" {
			continue
		}
		rec, err := emf.Parse([]byte(line))
		if err != nil {
			t.Fatalf("EMF line %s: %v", line, err)
		}
		switch {
		case rec.Dimensions["Queue"] != "":
			out["queue:"+rec.Dimensions["Queue"]] = rec
		case rec.Dimensions["Rule"] != "":
			out["rule:"+rec.Dimensions["Rule"]] = rec
		default:
			out["run"] = rec
		}
	}
	return out
}

type (
	awsEvent  = events.EventBridgeEvent
	emfRecord = emf.Record
)
