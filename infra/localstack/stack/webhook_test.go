package stack

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// publishExample publishes the example config to the stack's table, as `make invoke
// CONFIG=examples/routing/prod.yaml` does: the webhook assesses drift against it.
func publishExample(t *testing.T, s *Stack) { publishExampleTB(t, s) }

func publishExampleTB(t testing.TB, s *Stack) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	desired, err := LoadConfig(filepath.Join(root, ExampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Publish(t.Context(), desired); err != nil {
		t.Fatal(err)
	}
}

// auditEvent is the part of a Genesys audit notification the checks read.
type auditEvent struct {
	ID, UserID, EventTime, Action, EntityType string
	Entity                                    struct{ ID, Name string }
}

func auditOf(t *testing.T, notification []byte) auditEvent {
	t.Helper()
	var n struct {
		EventBody auditEvent `json:"eventBody"`
	}
	if err := json.Unmarshal(notification, &n); err != nil || n.EventBody.ID == "" {
		t.Fatalf("not a Genesys audit notification (%v): %s", err, notification)
	}
	return n.EventBody
}

// wantRecorded checks that the webhook recorded the entity of a (from the webhook, with
// the event as its cause) and keeps its drift state.
func wantRecorded(t *testing.T, s *Stack, k entity.Key, a auditEvent, deleted bool, state drift.State) {
	t.Helper()
	st := storeOf(s)
	o, err := st.GetObservation(t.Context(), k)
	if err != nil {
		t.Fatalf("observation of %s: %v", k, err)
	}
	if o.Source != store.SourceWebhook || o.GenesysID != a.Entity.ID || o.Deleted != deleted || o.Cause == nil ||
		o.Cause.EventID != a.ID || o.Cause.UserID != a.UserID {
		t.Errorf("observation of %s: source %s, id %s, deleted %v, cause %+v; want webhook, %s, %v, event %s by %s",
			k, o.Source, o.GenesysID, o.Deleted, o.Cause, a.Entity.ID, deleted, a.ID, a.UserID)
	}
	if !deleted && (o.ETag == "" || len(o.Config) == 0) {
		t.Errorf("observation of %s has no ETag or config", k)
	}
	ds, err := st.GetDriftState(t.Context(), k)
	if err != nil {
		t.Fatalf("drift state of %s: %v", k, err)
	}
	if ds.State != string(state) || ds.Cause == nil || ds.Cause.EventID != a.ID {
		t.Errorf("drift state of %s: %s, cause %+v; want %s, event %s", k, ds.State, ds.Cause, state, a.ID)
	}
}

// wantCalls checks the function's Genesys calls: each route of routes as often as said,
// any other only a list (the org's names, loaded when a reference needs naming) and once,
// and the GenesysCalls it reported.
func wantCalls(t *testing.T, s *Stack, metrics map[string]float64, routes map[string]int) {
	t.Helper()
	got := s.Sim.Calls()
	for route, n := range routes {
		if got[route] != n {
			t.Errorf("%s: %d calls, want %d (all: %v)", route, got[route], n, got)
		}
	}
	for route, n := range got {
		list := strings.HasPrefix(route, "GET ") || strings.HasSuffix(route, "/query") // workbins are listed by a query
		if _, ok := routes[route]; !ok && (!list || strings.Contains(route, "{") || n != 1) {
			t.Errorf("%s: %d calls; want only lists besides %v, each once", route, n, routes)
		}
	}
	if total := s.Sim.TotalCalls(); float64(total) != metrics["GenesysCalls"] {
		t.Errorf("GenesysCalls = %v, the simulator counted %d (%v)", metrics["GenesysCalls"], total, got)
	}
}

func urlAnswer(t *testing.T, resp []byte) (events.LambdaFunctionURLResponse, map[string]string) {
	t.Helper()
	var r events.LambdaFunctionURLResponse
	if err := json.Unmarshal(resp, &r); err != nil || r.StatusCode == 0 {
		t.Fatalf("response %s: want a Function URL response (%v)", resp, err)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("answer body %q is not a JSON object of strings: %v", r.Body, err)
	}
	return r, body
}

// wantNothingRecorded: a refused delivery touches neither Genesys nor the table.
func wantNothingRecorded(t *testing.T, s *Stack) {
	t.Helper()
	if n := s.Sim.TotalCalls(); n != 0 {
		t.Errorf("a refused delivery made %d Genesys calls: %v", n, s.Sim.Calls())
	}
	obs, err := storeOf(s).ListObservations(t.Context(), s.Environment)
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 0 {
		t.Errorf("a refused delivery recorded %d observations", len(obs))
	}
}

// bridge-queue-edit: the queue is read once (a queue embeds every name it refers to),
// recorded with the admin's event as its cause, and its drift flagged: the seeded queue
// differs from the config. The event is acknowledged (no function error).
func checkWebhookQueueEdit(t *testing.T, s *Stack, ev events.EventBridgeEvent, resp []byte, metrics map[string]float64) {
	a := auditOf(t, ev.Detail)
	if string(resp) != "null" {
		t.Errorf("response %s, want null (an EventBridge event is acknowledged by a nil error)", resp)
	}
	wantRecorded(t, s, entity.Key{Environment: s.Environment, Kind: entity.Queue, Name: ChangedQueue}, a, false, drift.Modified)
	wantMetrics(t, metrics, map[string]float64{"EventsReceived": 1, "DriftDetected": 1, "EventsRetry": 0, "EventsRejected": 0})
	wantCalls(t, s, metrics, map[string]int{"GET /api/v2/routing/queues/{queueId}": 1})
}

// bridge-skill-delete: the read answers 404, so the deletion is recorded under the
// event's name and the declared skill is DELETED.
func checkWebhookSkillDelete(t *testing.T, s *Stack, ev events.EventBridgeEvent, resp []byte, metrics map[string]float64) {
	a := auditOf(t, ev.Detail)
	if a.Action != "Delete" || a.Entity.Name != MissingSkill {
		t.Fatalf("event: %+v, want the delete of %s", a, MissingSkill)
	}
	wantRecorded(t, s, entity.Key{Environment: s.Environment, Kind: entity.Skill, Name: MissingSkill}, a, true, drift.Deleted)
	wantMetrics(t, metrics, map[string]float64{"EventsReceived": 1, "DriftDetected": 1})
	wantCalls(t, s, metrics, map[string]int{"GET /api/v2/routing/skills/{skillId}": 1})
}

// url-worktype-minimal: 202 recorded; the worktype refers to skills and queues by id, so
// the org's names are listed once to name them.
func checkWebhookWorktypeURL(t *testing.T, s *Stack, ev events.LambdaFunctionURLRequest, resp []byte, metrics map[string]float64) {
	r, body := urlAnswer(t, resp)
	var m struct{ EventID, EntityID, EntityName, UserID string }
	if err := json.Unmarshal([]byte(ev.Body), &m); err != nil {
		t.Fatal(err)
	}
	if r.StatusCode != 202 || body["outcome"] != "recorded" || body["eventId"] != m.EventID {
		t.Errorf("answer %d %v, want 202 recorded for event %s", r.StatusCode, body, m.EventID)
	}
	a := auditEvent{ID: m.EventID, UserID: m.UserID}
	a.Entity.ID, a.Entity.Name = m.EntityID, m.EntityName
	wantRecorded(t, s, entity.Key{Environment: s.Environment, Kind: entity.Worktype, Name: ChangedWorktype}, a, false, drift.Modified)
	wantMetrics(t, metrics, map[string]float64{"EventsReceived": 1, "DriftDetected": 1})
	wantCalls(t, s, metrics, map[string]int{"GET /api/v2/taskmanagement/worktypes/{worktypeId}": 1})
}

// url-queue-notification: the Genesys notification itself, POSTed: as the queue edit.
func checkWebhookQueueURL(t *testing.T, s *Stack, ev events.LambdaFunctionURLRequest, resp []byte, metrics map[string]float64) {
	r, body := urlAnswer(t, resp)
	a := auditOf(t, []byte(ev.Body))
	if r.StatusCode != 202 || body["outcome"] != "recorded" || body["eventId"] != a.ID {
		t.Errorf("answer %d %v, want 202 recorded for event %s", r.StatusCode, body, a.ID)
	}
	wantRecorded(t, s, entity.Key{Environment: s.Environment, Kind: entity.Queue, Name: ChangedQueue}, a, false, drift.Modified)
	wantCalls(t, s, metrics, map[string]int{"GET /api/v2/routing/queues/{queueId}": 1})
}

// setupWebhookDuplicate publishes the example config and has the webhook take the queue
// edit through the EventBridge rule first (events/webhook/bridge-queue-edit.json).
func setupWebhookDuplicate(t *testing.T, s *Stack) {
	publishExample(t, s)
	dir, err := EventsDir()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "webhook", WebhookQueueEdit+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := invoke(t, s, "webhook", raw); string(resp) != "null" {
		t.Fatalf("the first delivery answered %s", resp)
	}
}

// url-duplicate: the event was processed already (through the rule): 202 duplicate, no
// Genesys call, the recorded state left as it was.
func checkWebhookDuplicate(t *testing.T, s *Stack, ev events.LambdaFunctionURLRequest, resp []byte, metrics map[string]float64) {
	r, body := urlAnswer(t, resp)
	var envelope events.EventBridgeEvent
	if err := json.Unmarshal([]byte(ev.Body), &envelope); err != nil {
		t.Fatal(err)
	}
	a := auditOf(t, envelope.Detail)
	if r.StatusCode != 202 || body["outcome"] != "duplicate" || body["eventId"] != a.ID {
		t.Errorf("answer %d %v, want 202 duplicate for event %s", r.StatusCode, body, a.ID)
	}
	if n := s.Sim.TotalCalls(); n != 0 {
		t.Errorf("a duplicate made %d Genesys calls", n)
	}
	wantMetrics(t, metrics, map[string]float64{"EventsReceived": 1, "EventsDuplicate": 1, "DriftDetected": 0})
	wantRecorded(t, s, entity.Key{Environment: s.Environment, Kind: entity.Queue, Name: ChangedQueue}, a, false, drift.Modified)
}

// url-bad-token: 401 saying nothing more, nothing read or recorded.
func checkWebhookBadToken(t *testing.T, s *Stack, _ events.LambdaFunctionURLRequest, resp []byte, metrics map[string]float64) {
	r, body := urlAnswer(t, resp)
	if r.StatusCode != 401 || body["message"] != "unauthorized" {
		t.Errorf("answer %d %v, want 401 unauthorized", r.StatusCode, body)
	}
	wantNothingRecorded(t, s)
	wantMetrics(t, metrics, map[string]float64{"EventsRejected": 1, "RejectedUnauthorized": 1})
}

// url-malformed: 400 with what is wrong, nothing read or recorded.
func checkWebhookMalformed(t *testing.T, s *Stack, _ events.LambdaFunctionURLRequest, resp []byte, metrics map[string]float64) {
	r, body := urlAnswer(t, resp)
	if r.StatusCode != 400 || !strings.Contains(body["message"], "not a JSON object") {
		t.Errorf("answer %d %v, want 400 saying the body is not a JSON object", r.StatusCode, body)
	}
	wantNothingRecorded(t, s)
	wantMetrics(t, metrics, map[string]float64{"EventsRejected": 1, "RejectedMalformed": 1})
}

// url-get: 405 with Allow: POST.
func checkWebhookGet(t *testing.T, s *Stack, _ events.LambdaFunctionURLRequest, resp []byte, metrics map[string]float64) {
	r, _ := urlAnswer(t, resp)
	if r.StatusCode != 405 || r.Headers["Allow"] != "POST" {
		t.Errorf("answer %d, headers %v; want 405 with Allow: POST", r.StatusCode, r.Headers)
	}
	wantNothingRecorded(t, s)
	wantMetrics(t, metrics, map[string]float64{"EventsRejected": 1, "RejectedMethod": 1})
}

// The webhook on the local stack, fed as in AWS: the simulator's audit events reach it
// through the Genesys partner bus and the template's rule, deliveries from a data action
// through its Function URL; its drift events are read back from routekeeper's bus.
func TestWebhookOnTheLocalStack(t *testing.T) {
	s := startStack(t)
	publishExample(t, s)
	ctx := t.Context()
	var logs bytes.Buffer
	fn, err := s.StartFunction(ctx, "webhook", FunctionOptions{BuildRoot: buildRoot, Logs: &syncBuffer{b: &logs}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = fn.Stop()
		if t.Failed() {
			t.Logf("webhook logs:\n%s", logs.String())
		}
	})
	src, err := s.StartSources(ctx, "webhook", fn, SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	if src.URL == nil || src.Buses[GenesysBus] == nil {
		t.Fatalf("sources: URL %v, buses %v; want the Function URL and the Genesys bus", src.URL, src.Buses)
	}
	s.Sim.SetAuditTarget(src.Buses[GenesysBus].URL())
	t.Cleanup(func() { s.Sim.SetAuditTarget("") })
	tap, err := awslocal.NewTap(ctx, s.AWS, s.Resources.BusName, s.prefix+"-webhook-e2e", `{"source": ["routekeeper"]}`)
	if err != nil {
		t.Fatal(err)
	}
	flush := func() {
		t.Helper()
		if err := s.Sim.FlushAudit(ctx); err != nil {
			t.Fatalf("audit delivery: %v", err)
		}
	}
	// driftEvents returns the drift events published so far: FlushAudit returned after
	// the webhook answered, and it publishes before it answers.
	driftEvents := func() []drift.Event {
		t.Helper()
		evs, err := tap.Receive(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]drift.Event, len(evs))
		for i, ev := range evs {
			if err := json.Unmarshal(ev.Detail, &out[i]); err != nil {
				t.Fatalf("%s detail: %v", ev.DetailType, err)
			}
		}
		return out
	}

	// An admin edits a queue that matched the config: Drift Detected, naming the admin;
	// the admin edits it back: Drift Resolved.
	const name = "Fraud Review"
	id, _ := s.Sim.IDByName("queue", name)
	before, _ := s.Sim.Queue(id)
	if err := s.Sim.EditQueue(id, func(q map[string]any) { q["description"] = "changed in the UI" }); err != nil {
		t.Fatal(err)
	}
	flush()
	evs := driftEvents()
	if len(evs) != 1 || evs[0].Entity.Name != name || evs[0].State != drift.Modified || evs[0].Cause == nil || evs[0].Cause.UserID == "" {
		t.Fatalf("after the admin edit: %+v; want one MODIFIED event for %s with its cause", evs, name)
	}
	if err := s.Sim.EditQueue(id, func(q map[string]any) {
		if d, ok := before["description"]; ok {
			q["description"] = d
		} else {
			delete(q, "description")
		}
	}); err != nil {
		t.Fatal(err)
	}
	flush()
	if evs := driftEvents(); len(evs) != 1 || evs[0].State != drift.InSync || evs[0].PreviousState != drift.Modified {
		t.Fatalf("after the edit back: %+v; want one IN_SYNC event from MODIFIED", evs)
	}

	// routekeeper's own edit (its OAuth client on the audit event) raises no drift.
	raw, _ := s.Sim.Queue(id)
	raw["description"] = "written by routekeeper"
	if _, err := s.Genesys.UpdateQueueRaw(ctx, id, raw); err != nil {
		t.Fatal(err)
	}
	flush()
	if evs := driftEvents(); len(evs) != 0 {
		t.Errorf("routekeeper's own edit published %+v", evs)
	}
	if c := src.Buses[GenesysBus].Counts(); c.Events != 3 || c.Delivered != 3 || c.DeadLettered+c.Dropped+c.Rejected != 0 {
		t.Errorf("partner bus counts %+v; want 3 events delivered", c)
	}

	// A data action's delivery through the Function URL: recorded once; the same event
	// again is a duplicate and reads nothing.
	body := fmt.Sprintf(`{"entityType": "Queue", "entityId": %q, "eventId": "e2e-1", "eventTime": %q}`, id, time.Now().UTC().Format(time.RFC3339))
	post := func(headers map[string]string, body string) (int, map[string]string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, src.URL.URL()+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Fatalf("answer %d is not a JSON object: %v", resp.StatusCode, err)
		}
		return resp.StatusCode, a
	}
	token := map[string]string{"X-Routekeeper-Token": awslocal.LocalWebhookToken}
	if code, a := post(token, body); code != 202 || a["outcome"] != "recorded" {
		t.Errorf("first delivery: %d %v, want 202 recorded", code, a)
	}
	s.Sim.ResetCalls()
	if code, a := post(token, body); code != 202 || a["outcome"] != "duplicate" || s.Sim.TotalCalls() != 0 {
		t.Errorf("second delivery: %d %v, %d Genesys calls; want 202 duplicate, none", code, a, s.Sim.TotalCalls())
	}

	// A signing sender: HMAC-SHA256 of "<timestamp>.<body>" keyed with the token; the same
	// signature replayed with a stale timestamp is refused.
	signed := strings.Replace(body, "e2e-1", "e2e-2", 1)
	sign := func(ts int64) map[string]string {
		mac := hmac.New(sha256.New, []byte(awslocal.LocalWebhookToken))
		fmt.Fprintf(mac, "%d.%s", ts, signed)
		return map[string]string{"X-Routekeeper-Timestamp": strconv.FormatInt(ts, 10), "X-Routekeeper-Signature": "sha256=" + hex.EncodeToString(mac.Sum(nil))}
	}
	if code, a := post(sign(time.Now().Unix()), signed); code != 202 {
		t.Errorf("signed delivery: %d %v, want 202", code, a)
	}
	if code, _ := post(sign(time.Now().Add(-time.Hour).Unix()), signed); code != 401 {
		t.Errorf("replayed signature: %d, want 401", code)
	}
	if code, _ := post(map[string]string{"X-Routekeeper-Token": "guess"}, body); code != 401 {
		t.Errorf("wrong token: %d, want 401", code)
	}
	if code, a := post(token, `{"entityType": "Queue", "pad": "`+strings.Repeat("x", 64*1024)+`"}`); code != 413 {
		t.Errorf("a 64 KiB body: %d %v, want 413", code, a)
	}

	// Genesys throttles with a Retry-After longer than an HTTP delivery may wait: 503 with
	// that Retry-After, so the sender comes back then. (Last: the pause holds for the
	// container's every call.)
	s.Sim.SetFaults(sim.Faults{Force429: 1, RetryAfterSeconds: 60})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, src.URL.URL()+"/",
		strings.NewReader(strings.Replace(body, "e2e-1", "e2e-3", 1)))
	req.Header.Set("X-Routekeeper-Token", awslocal.LocalWebhookToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "60" {
		t.Errorf("throttled: %d, Retry-After %q; want 503, 60", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// syncBuffer is a bytes.Buffer safe for the function's log writer and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
