package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/bootstrap"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/store"
)

func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }

const putQueue = "PUT /api/v2/routing/queues/{queueId}"

type world struct {
	env     *applytest.Env
	h       *Handler
	logs    *bytes.Buffer
	metrics *bytes.Buffer
	queues  []string // queue names in the org
}

func newWorld(t *testing.T) *world { return newWorldWith(t, applytest.Options{}) }

// newWorldWith builds the world with o (Fixture and Engine are the world's).
func newWorldWith(t *testing.T, o applytest.Options) *world {
	t.Helper()
	f := sim.Generate(sim.GenerateOptions{Queues: 4, Skills: 4, Worktypes: 2, Seed: 1})
	logs, metrics := &bytes.Buffer{}, &bytes.Buffer{}
	logger := bootstrap.Logger(logs, func(string) string { return "" })
	o.Fixture, o.Engine = &f, apply.Options{Environment: applytest.Environment, Logger: logger}
	env := applytest.New(t, o)
	w := &world{env: env, logs: logs, metrics: metrics,
		h: &Handler{Engine: env.Engine, Environment: applytest.Environment, Logger: logger, Metrics: metrics, Calls: env.Client.Calls}}
	for _, q := range f.Queues {
		w.queues = append(w.queues, q["name"].(string))
	}
	return w
}

// update plans a description change of queue i.
func (w *world) update(t *testing.T, i int, description string) *changes.Request {
	t.Helper()
	return w.env.Plan(t, changes.OpUpdate, entity.Queue, w.queues[i], applytest.Obj(t,
		`{"name":"`+w.queues[i]+`","description":"`+description+`"}`))
}

func message(t *testing.T, id string, req *changes.Request) events.SQSMessage {
	t.Helper()
	body, err := changes.Encode(req)
	if err != nil {
		t.Fatal(err)
	}
	return events.SQSMessage{MessageId: id, Body: string(body), Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

func lambdaCtx(ctx context.Context) context.Context {
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
}

func failures(resp events.SQSEventResponse) []string {
	out := []string{}
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

func (w *world) record(t *testing.T, id string) *store.Change {
	t.Helper()
	c, err := w.env.Table.GetChange(context.Background(), id)
	if err != nil {
		t.Fatalf("GetChange(%s): %v", id, err)
	}
	return c
}

// metric returns the value of name in the single EMF line written so far.
func (w *world) metric(t *testing.T, name string) float64 {
	t.Helper()
	var rec map[string]any
	if err := json.Unmarshal(w.metrics.Bytes(), &rec); err != nil {
		t.Fatalf("metrics %q: %v", w.metrics.String(), err)
	}
	v, _ := rec[name].(float64)
	return v
}

func TestHandleBatch(t *testing.T) {
	w := newWorld(t)
	r1, r2 := w.update(t, 0, "first"), w.update(t, 1, "second")
	ev := events.SQSEvent{Records: []events.SQSMessage{
		message(t, "m1", r1), message(t, "m2", r2),
		message(t, "m3", r1), // the same request delivered again
		{MessageId: "m4", Body: `{"schema":"routekeeper.change/v1"`},                                                            // not JSON
		{MessageId: "m5", Body: `{"schema":"routekeeper.change/v1","changeId":"chg-bad","entity":{"type":"queue","name":"Q"}}`}, // invalid
	}}
	w.env.Sim.ResetCalls()
	resp, err := w.h.Handle(lambdaCtx(context.Background()), ev)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{}, failures(resp)); d != "" {
		t.Errorf("batch item failures (-want +got):\n%s", d)
	}
	if got := w.env.Sim.Calls()[putQueue]; got != 2 {
		t.Errorf("got %d queue PUTs, want 2 (the duplicate is not applied again)", got)
	}
	for _, id := range []string{r1.ChangeID, r2.ChangeID} {
		if c := w.record(t, id); c.Status != store.StatusApplied {
			t.Errorf("%s: %s, want APPLIED", id, c.Status)
		}
	}
	bad := w.record(t, "sqs-m4")
	if bad.Status != store.StatusRejected || !strings.Contains(string(bad.Result), "invalid") {
		t.Errorf("malformed message: %s %s, want REJECTED with the reason", bad.Status, bad.Result)
	}
	if want := (entity.Key{Environment: applytest.Environment}); bad.Info.Entity != want {
		t.Errorf("malformed message: entity %+v, want %+v (no entity, listed under the environment)", bad.Info.Entity, want)
	}
	listed, err := w.env.Table.ListChanges(context.Background(), applytest.Environment, 20)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(listed, func(c *store.Change) bool { return c.ID == "sqs-m4" }) {
		t.Errorf("ListChanges(%s) does not list the malformed message sqs-m4", applytest.Environment)
	}
	if c := w.record(t, "chg-bad"); c.Status != store.StatusRejected || c.Info.Entity.Name != "Q" {
		t.Errorf("invalid message: %s entity %v, want REJECTED under its entity", c.Status, c.Info.Entity)
	}
	for name, want := range map[string]float64{"Applied": 2, "Replayed": 1, "Rejected": 2} {
		if got := w.metric(t, name); got != want {
			t.Errorf("metric %s = %v, want %v", name, got, want)
		}
	}
	if w.metric(t, "WriteWindowMaxMs") <= 0 || w.metric(t, "WritesAfterReread") != 0 {
		t.Errorf("WriteWindowMaxMs %v, WritesAfterReread %v; want the slowest read-to-write window and no rewrite", w.metric(t, "WriteWindowMaxMs"), w.metric(t, "WritesAfterReread"))
	}
	if w.metric(t, "GenesysCalls") < 4 {
		t.Errorf("metric GenesysCalls = %v, want at least 4 (2 GETs, 2 PUTs)", w.metric(t, "GenesysCalls"))
	}
	// Logs are JSON with the request id and the change id.
	found := false
	for line := range strings.SplitSeq(strings.TrimSpace(w.logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["changeId"] == r1.ChangeID && rec["requestId"] == "req-1" && rec["status"] == "APPLIED" {
			found = true
		}
	}
	if !found {
		t.Errorf("no log record with requestId req-1, changeId %s and status APPLIED:\n%s", r1.ChangeID, w.logs)
	}

	// Redelivery of the malformed message: acknowledged again, record unchanged.
	resp, _ = w.h.Handle(context.Background(), events.SQSEvent{Records: ev.Records[3:4]})
	if len(resp.BatchItemFailures) != 0 || w.record(t, "sqs-m4").Status != store.StatusRejected {
		t.Errorf("redelivered malformed message: failures %v, want it acknowledged and still REJECTED", failures(resp))
	}
}

// TestHandleRetryable: a retryable failure returns the record and every later one, in
// order, with the attempt recorded; the earlier records stay applied.
func TestHandleRetryable(t *testing.T) {
	tests := []struct {
		name   string
		faults sim.Faults
		ctx    func() (context.Context, context.CancelFunc)
		errHas string
		// pause: the client holds a 429's Retry-After for later calls too; the redelivery
		// comes after it (the fake clock moves past it).
		pause time.Duration
	}{
		{name: "5xx storm", faults: sim.Faults{ServerErrorRate: 1}, errHas: "503",
			ctx: func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }},
		{name: "429 beyond the remaining time", faults: sim.Faults{Force429: 100, RetryAfterSeconds: 300}, errHas: "429",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 60*time.Second)
			}, pause: 300 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorldWith(t, applytest.Options{FakeClock: true})
			r1, r2, r3 := w.update(t, 0, "a"), w.update(t, 1, "b"), w.update(t, 2, "c")
			// Warm the names cache so the fault hits the record's own calls.
			names := &countingApplier{Applier: w.h.Engine}
			w.h.Engine = names
			ctx, cancel := tc.ctx()
			defer cancel()
			if _, err := w.h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{message(t, "m1", r1)}}); err != nil {
				t.Fatal(err)
			}
			w.env.Sim.SetFaults(tc.faults)
			w.metrics.Reset()
			resp, _ := w.h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{message(t, "m2", r2), message(t, "m3", r3)}})
			if d := cmp.Diff([]string{"m2", "m3"}, failures(resp)); d != "" {
				t.Errorf("batch item failures (-want +got):\n%s", d)
			}
			if c := w.record(t, r2.ChangeID); c.Status != store.StatusFailed || c.Attempts != 1 || !strings.Contains(c.LastError, tc.errHas) {
				t.Errorf("failed record: %s, %d attempts, %q; want FAILED, 1, %s", c.Status, c.Attempts, c.LastError, tc.errHas)
			}
			if _, err := w.env.Table.GetChange(context.Background(), r3.ChangeID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("record after the failure was touched (%v), want it left for the redelivery", err)
			}
			if names.applied != 2 {
				t.Errorf("engine saw %d requests, want 2 (none after the failure)", names.applied)
			}
			if got := w.metric(t, "Retried"); got != 2 {
				t.Errorf("metric Retried = %v, want 2", got)
			}
			// SQS redelivers both once the fault is gone: nothing was lost.
			w.env.Sim.SetFaults(sim.Faults{})
			w.env.Clock.Advance(tc.pause)
			resp, _ = w.h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{message(t, "m2", r2), message(t, "m3", r3)}})
			if len(resp.BatchItemFailures) != 0 {
				t.Fatalf("redelivery failures %v, want none", failures(resp))
			}
			for _, r := range []*changes.Request{r1, r2, r3} {
				if c := w.record(t, r.ChangeID); c.Status != store.StatusApplied {
					t.Errorf("%s: %s, want APPLIED", r.ChangeID, c.Status)
				}
			}
		})
	}
}

type countingApplier struct {
	Applier
	applied int
	after   func() // called after each Apply
}

func (c *countingApplier) Apply(ctx context.Context, req *changes.Request) (apply.Result, error) {
	c.applied++
	res, err := c.Applier.Apply(ctx, req)
	if c.after != nil {
		c.after()
	}
	return res, err
}

// TestHandleCancelled: the invocation's context ends mid-batch (after the first record,
// and inside a Genesys call): the rest go back as failures and nothing is lost.
func TestHandleCancelled(t *testing.T) {
	w := newWorld(t)
	r1, r2, r3 := w.update(t, 0, "a"), w.update(t, 1, "b"), w.update(t, 2, "c")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.h.Engine = &countingApplier{Applier: w.h.Engine, after: cancel}
	resp, _ := w.h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{message(t, "m1", r1), message(t, "m2", r2), message(t, "m3", r3)}})
	if d := cmp.Diff([]string{"m2", "m3"}, failures(resp)); d != "" {
		t.Errorf("after a cancel between records, failures (-want +got):\n%s", d)
	}
	if got := w.metric(t, "Deferred"); got != 2 {
		t.Errorf("metric Deferred = %v, want 2", got)
	}

	// Cancelled inside the Genesys call of r2: its attempt is still recorded.
	w.h.Engine = w.env.Engine
	w.env.Sim.SetFaults(sim.Faults{Latency: time.Minute})
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go func() {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) { // wait until the record is claimed, then cancel
			if c, err := w.env.Table.GetChange(context.Background(), r2.ChangeID); err == nil && c.Status == store.StatusInProgress {
				cancel2()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel2()
	}()
	resp, _ = w.h.Handle(ctx2, events.SQSEvent{Records: []events.SQSMessage{message(t, "m2", r2), message(t, "m3", r3)}})
	if d := cmp.Diff([]string{"m2", "m3"}, failures(resp)); d != "" {
		t.Errorf("after a cancel inside a record, failures (-want +got):\n%s", d)
	}
	if c := w.record(t, r2.ChangeID); c.Status != store.StatusFailed || c.Attempts != 1 {
		t.Errorf("record cancelled mid-call: %s, %d attempts; want FAILED with 1 attempt", c.Status, c.Attempts)
	}
	w.env.Sim.SetFaults(sim.Faults{})
	resp, _ = w.h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{message(t, "m2", r2), message(t, "m3", r3)}})
	if len(resp.BatchItemFailures) != 0 || w.record(t, r3.ChangeID).Status != store.StatusApplied {
		t.Errorf("redelivery: failures %v, want all applied", failures(resp))
	}
}

// TestHandleDeadlineMargin: with less time left than the margin no record starts.
func TestHandleDeadlineMargin(t *testing.T) {
	w := newWorld(t)
	r1 := w.update(t, 0, "a")
	w.h.Margin = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w.env.Sim.ResetCalls()
	resp, _ := w.h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{message(t, "m1", r1)}})
	if d := cmp.Diff([]string{"m1"}, failures(resp)); d != "" || w.env.Sim.TotalCalls() != 0 {
		t.Errorf("failures (-want +got):\n%s\nGenesys calls %d, want 0", d, w.env.Sim.TotalCalls())
	}
}

// TestEndToEndFIFO sends change requests through the real FIFO queue on moto with the
// changes Publisher, receives them as the event source mapping would, handles them and
// deletes the successes.
func TestEndToEndFIFO(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	client := sqs.NewFromConfig(w.env.AWS)
	qurl := w.env.Resources.ChangeQueueURL
	reqs := []*changes.Request{w.update(t, 0, "e2e-1"), w.update(t, 1, "e2e-2"), w.update(t, 0, "e2e-1")}
	reqs[2] = reqs[0] // the same request published twice: SQS deduplicates on changeId
	if _, err := changes.NewPublisher(client, qurl, changes.PublisherOptions{}).Publish(ctx, reqs[:2]); err != nil {
		t.Fatal(err)
	}
	if _, err := changes.NewPublisher(client, qurl, changes.PublisherOptions{}).Publish(ctx, reqs[2:]); err != nil {
		t.Fatal(err)
	}
	handled := 0
	for attempt := 0; attempt < 10 && handled < 2; attempt++ {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(qurl), MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		var ev events.SQSEvent
		for _, m := range out.Messages {
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
				Body: aws.ToString(m.Body), Attributes: m.Attributes})
		}
		if len(ev.Records) == 0 {
			continue
		}
		resp, _ := w.h.Handle(lambdaCtx(ctx), ev)
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		for _, r := range ev.Records {
			if failed[r.MessageId] {
				continue
			}
			if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(qurl), ReceiptHandle: aws.String(r.ReceiptHandle)}); err != nil {
				t.Fatal(err)
			}
			handled++
		}
	}
	if handled != 2 {
		t.Fatalf("handled %d messages, want 2 (the duplicate publish is deduplicated)", handled)
	}
	for _, r := range reqs[:2] {
		if c := w.record(t, r.ChangeID); c.Status != store.StatusApplied {
			t.Errorf("%s: %s, want APPLIED", r.ChangeID, c.Status)
		}
	}
	if got := w.env.Sim.Calls()[putQueue]; got != 2 {
		t.Errorf("got %d PUTs, want 2", got)
	}
}

// receive receives up to 10 messages of the queue as the event source mapping would.
func receive(t *testing.T, client *sqs.Client, qurl string, wait int32) events.SQSEvent {
	t.Helper()
	out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(qurl), MaxNumberOfMessages: 10,
		WaitTimeSeconds: wait, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	for _, m := range out.Messages {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), Attributes: m.Attributes})
	}
	return ev
}

// TestReturnedRecordVisibility: a record returned after a 429 whose Retry-After does not
// fit before the deadline, or cut off by the deadline, is delivered again after the wait
// Genesys asked for (or at once), not after the queue's 360 s visibility timeout; the
// redelivery applies it.
func TestReturnedRecordVisibility(t *testing.T) {
	tests := []struct {
		name   string
		faults sim.Faults
		margin time.Duration
		status store.Status // of the record after the first invocation ("": never claimed)
	}{
		{name: "429 with Retry-After 2s beyond the deadline", faults: sim.Faults{Force429: 1000, RetryAfterSeconds: 2},
			margin: 500 * time.Millisecond, status: store.StatusFailed},
		{name: "deferred by the deadline margin", margin: time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			client := sqs.NewFromConfig(w.env.AWS)
			qurl := w.env.Resources.ChangeQueueURL
			w.h.Queue, w.h.QueueURL, w.h.Margin = client, qurl, tc.margin
			r := w.update(t, 1, "visibility")
			if _, err := changes.NewPublisher(client, qurl, changes.PublisherOptions{}).Publish(context.Background(), []*changes.Request{r}); err != nil {
				t.Fatal(err)
			}
			ev := receive(t, client, qurl, 1)
			if len(ev.Records) != 1 {
				t.Fatalf("received %d messages, want 1", len(ev.Records))
			}
			w.env.Sim.SetFaults(tc.faults)
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			resp, _ := w.h.Handle(ctx, ev)
			cancel()
			if d := cmp.Diff([]string{ev.Records[0].MessageId}, failures(resp)); d != "" {
				t.Fatalf("batch item failures (-want +got):\n%s", d)
			}
			if c, err := w.env.Table.GetChange(context.Background(), r.ChangeID); tc.status == "" && !errors.Is(err, store.ErrNotFound) ||
				tc.status != "" && (err != nil || c.Status != tc.status) {
				t.Fatalf("record after the first invocation: %v, %v; want status %q", c, err, tc.status)
			}
			w.env.Sim.SetFaults(sim.Faults{})

			// Poll (long polls of 1 s) until it is delivered again; the queue's own
			// visibility timeout is 360 s, far beyond this deadline.
			deadline := time.Now().Add(30 * time.Second)
			var again events.SQSEvent
			for len(again.Records) == 0 && time.Now().Before(deadline) {
				again = receive(t, client, qurl, 1)
			}
			if len(again.Records) != 1 || again.Records[0].MessageId != ev.Records[0].MessageId {
				t.Fatalf("message not delivered again within 30 s (got %d records): its visibility was not set", len(again.Records))
			}
			if got := again.Records[0].Attributes["ApproximateReceiveCount"]; got != "2" {
				t.Errorf("ApproximateReceiveCount = %s, want 2", got)
			}
			w.h.Margin = 0
			resp, _ = w.h.Handle(context.Background(), again)
			if len(resp.BatchItemFailures) != 0 {
				t.Fatalf("redelivery failures %v, want none", failures(resp))
			}
			if c := w.record(t, r.ChangeID); c.Status != store.StatusApplied {
				t.Errorf("after redelivery: %s, want APPLIED", c.Status)
			}
		})
	}
}

// failingQueue fails every visibility change.
type failingQueue struct{ calls int }

func (q *failingQueue) ChangeMessageVisibilityBatch(context.Context, *sqs.ChangeMessageVisibilityBatchInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	q.calls++
	return nil, errors.New("sqs unreachable")
}

// TestVisibilityFailureLosesNothing: when the visibility cannot be set, the records are
// still returned as failures (they come back after the queue's visibility timeout).
func TestVisibilityFailureLosesNothing(t *testing.T) {
	w := newWorld(t)
	q := &failingQueue{}
	w.h.Queue, w.h.QueueURL, w.h.Margin = q, "https://sqs.example/000000000000/changes.fifo", time.Hour
	r1, r2 := w.update(t, 0, "a"), w.update(t, 1, "b")
	ev := events.SQSEvent{Records: []events.SQSMessage{message(t, "m1", r1), message(t, "m2", r2)}}
	ev.Records[0].ReceiptHandle, ev.Records[1].ReceiptHandle = "rh-1", "rh-2"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := w.h.Handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"m1", "m2"}, failures(resp)); d != "" {
		t.Errorf("batch item failures (-want +got):\n%s", d)
	}
	if q.calls != 1 || !strings.Contains(w.logs.String(), "could not set the visibility") {
		t.Errorf("got %d visibility calls, logs:\n%s\nwant 1 call and the failure logged", q.calls, w.logs)
	}
}

// TestNoQueueURL: without CHANGE_QUEUE_URL the returned records still go back, no
// visibility is set, and a warning says they wait for the queue's visibility timeout.
func TestNoQueueURL(t *testing.T) {
	w := newWorld(t)
	q := &failingQueue{}
	w.h.Queue, w.h.QueueURL, w.h.Margin = q, "", time.Hour
	r1 := w.update(t, 0, "a")
	ev := events.SQSEvent{Records: []events.SQSMessage{message(t, "m1", r1)}}
	ev.Records[0].ReceiptHandle = "rh-1"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, _ := w.h.Handle(ctx, ev)
	if d := cmp.Diff([]string{"m1"}, failures(resp)); d != "" {
		t.Errorf("batch item failures (-want +got):\n%s", d)
	}
	if q.calls != 0 || !strings.Contains(w.logs.String(), "CHANGE_QUEUE_URL is not set") {
		t.Errorf("got %d visibility calls, logs:\n%s\nwant none and a warning naming CHANGE_QUEUE_URL", q.calls, w.logs)
	}
}

func TestRetryVisibility(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	retry := func(d time.Duration) error {
		return &apply.RetryError{ChangeID: "c", Err: errors.New("429"), RetryAfter: d}
	}
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want time.Duration
	}{
		{"Retry-After", context.Background(), retry(7 * time.Second), 7 * time.Second},
		{"Retry-After below a second", context.Background(), retry(200 * time.Millisecond), time.Second},
		{"Retry-After beyond 12 h", context.Background(), retry(48 * time.Hour), 12 * time.Hour},
		{"client budget wait", context.Background(), fmt.Errorf("x: %w", &genesys.BudgetError{Wait: 90 * time.Second}), 90 * time.Second},
		{"invocation out of time", done, retry(0), DeferredVisibility},
		{"5xx keeps the queue's timeout", context.Background(), retry(0), -1},
	}
	for _, tc := range tests {
		if got := retryVisibility(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: retryVisibility(%v) got %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// TestHandleRejectionsNameWhatTheyCan: a valid JSON body with an unknown member is
// recorded under its changeId (status finds it); a rejected entity name too long to list
// is cut at a character boundary; a body that is not JSON says so, and where.
func TestHandleRejectionsNameWhatTheyCan(t *testing.T) {
	w := newWorld(t)
	long := strings.Repeat("é", 200) // 400 bytes, 2 per character
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: `{"schema":"routekeeper.change/v1","changeId":"chg-unknown-member","priority":1,"entity":{"type":"queue","name":"Q"}}`},
		{MessageId: "m2", Body: `{"schema":"routekeeper.change/v1","changeId":"chg-long-name","entity":{"type":"queue","name":"` + long + `"}}`},
		{MessageId: "m3", Body: `{"schema":"routekeeper.change/v1","entity":{"type":"queue","na`},
	}}
	if resp, err := w.h.Handle(lambdaCtx(context.Background()), ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle: %v, failures %v; want every message acknowledged", err, failures(resp))
	}
	if c := w.record(t, "chg-unknown-member"); c.Status != store.StatusRejected || !strings.Contains(string(c.Result), "priority: unknown field") {
		t.Errorf("unknown member: %s %s, want REJECTED under its changeId", c.Status, c.Result)
	}
	c := w.record(t, "chg-long-name")
	if !utf8.ValidString(c.Info.Entity.Name) || len(c.Info.Entity.Name) > 256 || !strings.HasPrefix(long, c.Info.Entity.Name) || len(c.Info.Entity.Name) < 255 {
		t.Errorf("long name listed as %q (%d bytes), want valid UTF-8 cut at a character boundary within 256 bytes", c.Info.Entity.Name, len(c.Info.Entity.Name))
	}
	if c := w.record(t, "sqs-m3"); !strings.Contains(string(c.Result), "the message body is not valid JSON: it ends before the JSON is complete (truncated?) (at byte 59, inside entity)") {
		t.Errorf("truncated body: %s, want it said the body is not JSON and where", c.Result)
	}
}
