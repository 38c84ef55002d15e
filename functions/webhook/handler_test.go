package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }

const (
	testEnv   = "test"
	testToken = "webhook-test-token"
)

// sink receives the simulator's audit events (EventBridge envelopes).
type sink struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, b)
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// clock is the Genesys client's clock: it moves only when the test (or a client wait)
// moves it, so a Retry-After pause passes without waiting.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// world is one test's simulator, table on moto, bus tap and handler.
type world struct {
	clock  *clock
	sim    *sim.Server
	client *genesys.Client
	st     *store.Store
	tap    *awslocal.Tap
	h      *Handler
	audit  *sink
	logs   *bytes.Buffer
	org    *live.Org // as seeded
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{audit: &sink{}, logs: &bytes.Buffer{}, clock: &clock{t: time.Now()}}
	w.sim = sim.New(sim.Options{RequestsPerMinute: -1})
	if err := w.sim.Load(sim.Generate(sim.GenerateOptions{Queues: 4, Skills: 4, Worktypes: 2, Seed: 5})); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.sim)
	t.Cleanup(srv.Close)
	aud := httptest.NewServer(w.audit)
	t.Cleanup(aud.Close)
	w.sim.SetAuditTarget(aud.URL)
	var err error
	w.client, err = genesys.New(genesys.Config{APIURL: srv.URL, LoginURL: srv.URL, ClientID: sim.DefaultClientID,
		ClientSecret: sim.DefaultClientSecret, RequestsPerMinute: -1, Now: w.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error { w.clock.Advance(d); return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	cfg, res := awslocal.ForTest(t)
	w.st = store.New(dynamodb.NewFromConfig(cfg), res.TableName)
	w.tap, err = awslocal.NewTap(ctx, cfg, res.BusName, "wh"+strconv.FormatInt(time.Now().UnixNano(), 36), `{"source":["routekeeper"]}`)
	if err != nil {
		t.Fatal(err)
	}
	w.h = &Handler{Environment: testEnv, Store: w.st, Genesys: w.client, Names: live.NewCache(w.client, time.Minute, nil),
		Bus: bus.NewPublisher(eventbridge.NewFromConfig(cfg), res.BusName), Token: testToken, OwnClientID: sim.DefaultClientID,
		Logger: nil, Calls: w.client.Calls}
	if w.org, err = live.Read(ctx, w.client, nil); err != nil {
		t.Fatal(err)
	}
	// Git declares the org as it is: every entity starts in sync.
	if _, _, err := drift.Publish(ctx, w.st, testEnv, "v1", w.org.Docs()); err != nil {
		t.Fatal(err)
	}
	return w
}

// events returns the audit events the simulator sent since the last call.
func (w *world) events(t *testing.T) [][]byte {
	t.Helper()
	if err := w.sim.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.audit.mu.Lock()
	defer w.audit.mu.Unlock()
	out := w.audit.bodies
	w.audit.bodies = nil
	return out
}

// oneEvent edits and returns the single audit event the edit caused.
func (w *world) oneEvent(t *testing.T) []byte {
	t.Helper()
	evs := w.events(t)
	if len(evs) != 1 {
		t.Fatalf("the simulator sent %d audit events, want 1", len(evs))
	}
	return evs[0]
}

func post(body []byte, headers map[string]string) Event {
	if headers == nil {
		headers = map[string]string{headerToken: testToken}
	}
	return Event{HTTP: &events.LambdaFunctionURLRequest{RawPath: "/", Body: string(body), Headers: headers,
		RequestContext: events.LambdaFunctionURLRequestContext{RequestID: "r1",
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: http.MethodPost, Path: "/"}}}}
}

func (w *world) call(t *testing.T, ev Event) events.LambdaFunctionURLResponse {
	t.Helper()
	out, err := w.h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return out.(events.LambdaFunctionURLResponse)
}

func outcomeOf(t *testing.T, r events.LambdaFunctionURLResponse) outcome {
	t.Helper()
	var a answer
	if err := json.Unmarshal([]byte(r.Body), &a); err != nil {
		t.Fatalf("answer %q is not JSON: %v", r.Body, err)
	}
	return a.Outcome
}

// detail returns the notification an EventBridge envelope carries (what a Genesys
// workflow's data action sends).
func detail(t *testing.T, envelope []byte) []byte {
	t.Helper()
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(envelope, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.Detail
}

func (w *world) state(t *testing.T, k entity.Key) store.DriftState {
	t.Helper()
	d, err := w.st.GetDriftState(context.Background(), k)
	if err != nil {
		t.Fatalf("drift state of %s: %v", k, err)
	}
	return d
}

// busEvents reads the routekeeper events published so far (n of them).
func (w *world) busEvents(t *testing.T, n int) []drift.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	evs, err := w.tap.ReceiveN(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]drift.Event, len(evs))
	for i, ev := range evs {
		if err := json.Unmarshal(ev.Detail, &out[i]); err != nil {
			t.Fatal(err)
		}
		if ev.Source != bus.Source || ev.DetailType != map[bool]string{true: bus.DriftDetected, false: bus.DriftResolved}[out[i].State.Drifted()] {
			t.Errorf("bus event %s %q for state %s", ev.Source, ev.DetailType, out[i].State)
		}
	}
	return out
}

func TestHTTPAnswers(t *testing.T) {
	w := newWorld(t)
	q := w.org.Sorted(entity.Queue)[0]
	if err := w.sim.EditQueue(q.ID, func(m map[string]any) { m["description"] = "hand edit" }); err != nil {
		t.Fatal(err)
	}
	notif := detail(t, w.oneEvent(t))
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	old := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	get := post(notif, nil)
	get.HTTP.RequestContext.HTTP.Method = http.MethodGet
	b64 := post([]byte("!!!"), nil)
	b64.HTTP.IsBase64Encoded = true
	tests := []struct {
		name       string
		ev         Event
		wantStatus int
		wantBody   string // a substring of the answer
	}{
		{"not POST", get, 405, "only POST"},
		{"too large", post(bytes.Repeat([]byte(" "), MaxBody+1), nil), 413, "at most 65536"},
		{"no token", post(notif, map[string]string{}), 401, `"unauthorized"`},
		{"wrong token", post(notif, map[string]string{headerToken: "guess"}), 401, `"unauthorized"`},
		{"bad signature", post(notif, map[string]string{headerTimestamp: ts, headerSignature: "sha256=00"}), 401, `"unauthorized"`},
		{"replayed signature", post(notif, map[string]string{headerTimestamp: old, headerSignature: Sign(testToken, now.Add(-6*time.Minute).Unix(), notif)}), 401, `"unauthorized"`},
		{"not base64", b64, 400, "base64"},
		{"not JSON", post([]byte(`{"entityType":`), nil), 400, "not a JSON object"},
		{"no form", post([]byte(`{"hello":"world"}`), nil), 400, "none of the accepted forms"},
		{"minimal form with a typo", post([]byte(`{"entityType":"Queue","entityID":"x","eventId":"e","eventTime":"2026-01-01T00:00:00Z"}`), nil), 400, `unknown member \"entityID\"`},
		{"minimal form without a time", post([]byte(`{"entityType":"Queue","entityId":"x","eventId":"e"}`), nil), 400, "eventTime is required"},
		{"recorded (signed)", post(notif, map[string]string{headerTimestamp: ts, headerSignature: Sign(testToken, now.Unix(), notif)}), 202, `"recorded"`},
		{"duplicate", post(notif, nil), 202, `"duplicate"`},
		{"unmanaged entity type", post([]byte(`{"entityType":"Workbin","entityId":"wb-1","eventId":"e-wb","eventTime":"2026-01-01T00:00:00Z"}`), nil), 202, `"ignored"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.call(t, tc.ev)
			if r.StatusCode != tc.wantStatus || !strings.Contains(r.Body, tc.wantBody) {
				t.Errorf("answer %d %s, want %d with %q", r.StatusCode, r.Body, tc.wantStatus, tc.wantBody)
			}
			if r.Headers["Content-Type"] != "application/json" {
				t.Errorf("Content-Type %q", r.Headers["Content-Type"])
			}
			if tc.wantStatus == 405 && r.Headers["Allow"] != "POST" {
				t.Errorf("405 without Allow: POST")
			}
		})
	}
	// The recorded edit: observation with its cause, drift state, one event.
	k := entity.Key{Environment: testEnv, Kind: entity.Queue, Name: q.Name}
	o, err := w.st.GetObservation(context.Background(), k)
	if err != nil || o.Source != store.SourceWebhook || o.Cause == nil || o.Cause.UserID == "" || o.ETag == q.ETag {
		t.Fatalf("observation %+v, %v: want the webhook's, with who made the edit", o, err)
	}
	if d := w.state(t, k); d.State != string(drift.Modified) || !strings.Contains(string(d.Differences), "hand edit") {
		t.Errorf("drift state %+v, want MODIFIED with the description", d)
	}
	evs := w.busEvents(t, 1)
	want := drift.Event{Schema: drift.EventSchema, Environment: testEnv, Entity: drift.EventEntity{Kind: entity.Queue, Name: q.Name, ID: q.ID},
		State: drift.Modified, Differences: []drift.Deviation{{Path: "description", Expected: q.Canonical["description"], Actual: "hand edit"}}}
	got := evs[0]
	got.ObservedAt, got.Cause = time.Time{}, nil
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Drift Detected (-want +got):\n%s", d)
	}
	if evs[0].Cause == nil || evs[0].Cause.EventID == "" || evs[0].Cause.UserID == "" {
		t.Errorf("event cause %+v, want the audit event's id and user", evs[0].Cause)
	}
}

// A 503 tells the sender to retry when Genesys cannot be read now; the retry is processed
// (the dedupe mark of the failed attempt was released).
func TestRetryAfterGenesysThrottles(t *testing.T) {
	w := newWorld(t)
	wt := w.org.Sorted(entity.Worktype)[0]
	body := []byte(fmt.Sprintf(`{"entityType":"Worktype","entityId":%q,"eventId":"ev-throttled","eventTime":%q}`, wt.ID, time.Now().UTC().Format(time.RFC3339Nano)))
	w.sim.SetFaults(sim.Faults{Force429: 1, RetryAfterSeconds: 42})
	r := w.call(t, post(body, nil))
	if r.StatusCode != 503 || r.Headers["Retry-After"] != "42" {
		t.Fatalf("while throttled: %d %s (Retry-After %q), want 503 with Retry-After 42", r.StatusCode, r.Body, r.Headers["Retry-After"])
	}
	w.clock.Advance(42 * time.Second) // the sender waits Retry-After
	if r := w.call(t, post(body, nil)); r.StatusCode != 202 || outcomeOf(t, r) != outRecorded {
		t.Errorf("the retry: %d %s, want 202 recorded", r.StatusCode, r.Body)
	}
}

// Two events of one entity delivered out of order leave the newer state: the older one is
// coalesced (not read again) and changes nothing.
func TestOutOfOrderEvents(t *testing.T) {
	w := newWorld(t)
	q := w.org.Sorted(entity.Queue)[1]
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.sim.EditQueue(q.ID, func(m map[string]any) { m["description"] = "first" }))
	first := w.oneEvent(t)
	must(w.sim.EditQueue(q.ID, func(m map[string]any) { m["description"] = "second" }))
	second := w.oneEvent(t)
	// The handler's clock runs well after both events, as a real delivery would.
	w.h.Now = func() time.Time { return time.Now().Add(time.Minute) }
	if r := w.call(t, post(detail(t, second), nil)); outcomeOf(t, r) != outRecorded {
		t.Fatalf("newer event: %s", r.Body)
	}
	calls := w.client.Calls().Requests
	if r := w.call(t, post(detail(t, first), nil)); outcomeOf(t, r) != outCoalesced {
		t.Fatalf("older event: %s, want coalesced", r.Body)
	}
	if got := w.client.Calls().Requests - calls; got != 0 {
		t.Errorf("the older event made %d Genesys calls, want 0", got)
	}
	k := entity.Key{Environment: testEnv, Kind: entity.Queue, Name: q.Name}
	o, _ := w.st.GetObservation(context.Background(), k)
	if !strings.Contains(string(o.Config), `"second"`) {
		t.Errorf("last-known state %s, want the newer description", o.Config)
	}
	if d := w.state(t, k); !strings.Contains(string(d.Differences), "second") {
		t.Errorf("drift state %+v, want the newer difference", d)
	}
}

// Coalescing compares Genesys's dateModified with the event's time (one clock): an older
// event is coalesced at once, and a routekeeper clock running ahead never makes a newer
// edit look seen (the edit would be lost).
func TestCoalesceOnGenesysClock(t *testing.T) {
	w := newWorld(t)
	q := w.org.Sorted(entity.Queue)[1]
	k := entity.Key{Environment: testEnv, Kind: entity.Queue, Name: q.Name}
	edit := func(desc string) []byte {
		t.Helper()
		if err := w.sim.EditQueue(q.ID, func(m map[string]any) { m["description"] = desc }); err != nil {
			t.Fatal(err)
		}
		return w.oneEvent(t)
	}
	first, second := edit("first"), edit("second")
	// routekeeper's clock a minute ahead of Genesys's.
	w.h.Now = func() time.Time { return time.Now().Add(time.Minute) }
	if r := w.call(t, post(detail(t, second), nil)); outcomeOf(t, r) != outRecorded {
		t.Fatalf("second event: %s", r.Body)
	}
	if r := w.call(t, post(detail(t, first), nil)); outcomeOf(t, r) != outCoalesced {
		t.Fatalf("first event after the second was recorded: %s, want coalesced", r.Body)
	}
	third := edit("third")
	if r := w.call(t, post(detail(t, third), nil)); outcomeOf(t, r) != outRecorded {
		t.Fatalf("third event: %s, want recorded (the stored observation predates it on Genesys's clock)", r.Body)
	}
	if o, _ := w.st.GetObservation(context.Background(), k); !strings.Contains(string(o.Config), `"third"`) || o.Modified.IsZero() {
		t.Errorf("last-known state %s (modified %v), want the third description and Genesys's dateModified", o.Config, o.Modified)
	}
}

// A deleted entity is recorded as deleted and its drift state becomes DELETED; an edit by
// routekeeper's own client raises no drift, and one back to the declared value resolves it.
func TestDeletedOwnEditAndResolved(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	queues := w.org.Sorted(entity.Queue)
	gone, edited := queues[2], queues[3]

	// Deleted through the API by another client than routekeeper's: drift.
	if err := w.client.DeleteQueue(ctx, gone.ID, false); err != nil {
		t.Fatal(err)
	}
	delEvent := w.oneEvent(t)
	w.h.OwnClientID = "someone-else" // the API call above was made with routekeeper's client
	if r := w.call(t, post(detail(t, delEvent), nil)); outcomeOf(t, r) != outDeleted {
		t.Fatalf("delete event: %s, want deleted", r.Body)
	}
	k := entity.Key{Environment: testEnv, Kind: entity.Queue, Name: gone.Name}
	if o, err := w.st.GetObservation(ctx, k); err != nil || !o.Deleted || o.ETag != "" {
		t.Errorf("observation after the delete: %+v, %v; want a deletion", o, err)
	}
	if d := w.state(t, k); d.State != string(drift.Deleted) {
		t.Errorf("state %s, want DELETED", d.State)
	}

	// routekeeper's own edit (its client id on the audit event): no drift.
	w.h.OwnClientID = sim.DefaultClientID
	raw, _ := w.sim.Queue(edited.ID)
	raw["description"] = "made by routekeeper"
	if _, err := w.client.UpdateQueueRaw(ctx, edited.ID, raw); err != nil {
		t.Fatal(err)
	}
	if r := w.call(t, post(detail(t, w.oneEvent(t)), nil)); outcomeOf(t, r) != outRecorded {
		t.Fatalf("own edit: %s", r.Body)
	}
	ek := entity.Key{Environment: testEnv, Kind: entity.Queue, Name: edited.Name}
	if _, err := w.st.GetDriftState(ctx, ek); err == nil {
		t.Errorf("routekeeper's own edit created a drift state")
	}

	// An admin edit, then an admin edit back: detected, then resolved.
	desc := edited.Canonical["description"]
	if err := w.sim.EditQueue(edited.ID, func(m map[string]any) { m["description"] = "admin" }); err != nil {
		t.Fatal(err)
	}
	w.call(t, post(detail(t, w.oneEvent(t)), nil))
	// routekeeper's own edit back to the declared value (an apply) resolves the drift.
	raw, _ = w.sim.Queue(edited.ID)
	if desc == nil {
		delete(raw, "description")
	} else {
		raw["description"] = desc
	}
	if _, err := w.client.UpdateQueueRaw(ctx, edited.ID, raw); err != nil {
		t.Fatal(err)
	}
	w.call(t, post(detail(t, w.oneEvent(t)), nil))
	if d := w.state(t, ek); d.State != string(drift.InSync) {
		t.Errorf("after routekeeper's edit back: %s, want IN_SYNC", d.State)
	}
	var states []drift.State
	for _, ev := range w.busEvents(t, 3) {
		states = append(states, ev.State)
	}
	if d := cmp.Diff([]drift.State{drift.Deleted, drift.Modified, drift.InSync}, states); d != "" {
		t.Errorf("bus events' states (-want +got):\n%s", d)
	}
}

// The EventBridge door: the envelope as the rule delivers it is recorded; a Genesys fault
// is an error, so Lambda retries the event (and then dead-letters it).
func TestEventBridgeDoor(t *testing.T) {
	w := newWorld(t)
	sk := w.org.Sorted(entity.Skill)[0]
	if err := w.sim.EditSkill(sk.ID, func(m map[string]any) { m["name"] = sk.Name }); err != nil {
		t.Fatal(err)
	}
	envelope := w.oneEvent(t)
	var ev Event
	if err := json.Unmarshal(envelope, &ev); err != nil || ev.Bridge == nil {
		t.Fatalf("envelope decodes as %+v, %v; want an EventBridge event", ev, err)
	}
	w.sim.SetFaults(sim.Faults{Force429: 1, RetryAfterSeconds: 3600})
	if _, err := w.h.Handle(context.Background(), ev); err == nil {
		t.Fatal("Genesys throttled: nil error, want one so Lambda retries")
	}
	w.clock.Advance(time.Hour) // Lambda redelivers later
	if out, err := w.h.Handle(context.Background(), ev); err != nil || out != nil {
		t.Fatalf("redelivery: %v, %v", out, err)
	}
	k := entity.Key{Environment: testEnv, Kind: entity.Skill, Name: sk.Name}
	if o, err := w.st.GetObservation(context.Background(), k); err != nil || o.Source != store.SourceWebhook {
		t.Errorf("observation %+v, %v", o, err)
	}
	if d := w.state(t, k); d.State != string(drift.InSync) {
		t.Errorf("state %s, want IN_SYNC", d.State)
	}
	// An event that is neither a URL request nor an EventBridge event does not decode.
	if err := json.Unmarshal([]byte(`{"Records":[]}`), &ev); err == nil {
		t.Error("an SQS event decoded as a webhook event")
	}
}
