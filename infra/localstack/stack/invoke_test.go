package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/routekeeper/routekeeper/infra/lambdarun"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// buildRoot is shared by the tests of this binary, so each function is built once.
var buildRoot = filepath.Join(os.TempDir(), "routekeeper-localstack-test")

// invokeCheck checks the outcome of invoking one events/<fn>/<scenario>.json on a fresh
// stack; ev is the event decoded into the function's registered event type.
type invokeCheck func(t *testing.T, s *Stack, ev any, resp []byte, metrics map[string]float64)

// checkOf adapts a check of events of type E: the event must have decoded into E.
func checkOf[E any](check func(t *testing.T, s *Stack, ev E, resp []byte, metrics map[string]float64)) invokeCheck {
	return func(t *testing.T, s *Stack, ev any, resp []byte, metrics map[string]float64) {
		t.Helper()
		e, ok := ev.(*E)
		if !ok {
			t.Fatalf("event decoded as %T; this check takes %T", ev, e)
		}
		check(t, s, *e, resp, metrics)
	}
}

var invokeChecks = map[string]invokeCheck{
	"apply/" + ApplyBatch:     checkOf(checkApplyBatch),
	"apply/" + ApplyDuplicate: checkOf(checkApplyDuplicate),
	"apply/" + ApplyMalformed: checkOf(checkApplyMalformed),
	// occupancy: invokeSetups prepares its stack.
	"occupancy/" + OccupancyScheduled: checkOf(checkOccupancyScheduled),
	"driftscan/" + DriftScanScheduled: checkOf(checkDriftScanScheduled),
	"webhook/" + WebhookQueueEdit:     checkOf(checkWebhookQueueEdit),
	"webhook/" + WebhookSkillDelete:   checkOf(checkWebhookSkillDelete),
	"webhook/" + WebhookWorktypeURL:   checkOf(checkWebhookWorktypeURL),
	"webhook/" + WebhookQueueURL:      checkOf(checkWebhookQueueURL),
	"webhook/" + WebhookBadToken:      checkOf(checkWebhookBadToken),
	"webhook/" + WebhookMalformed:     checkOf(checkWebhookMalformed),
	"webhook/" + WebhookGet:           checkOf(checkWebhookGet),
	"webhook/" + WebhookDuplicate:     checkOf(checkWebhookDuplicate),
}

// invokeSetups prepare the fresh stack of an event before it is invoked, for a function
// whose run depends on more than the seeded org.
var invokeSetups = map[string]func(t *testing.T, s *Stack){
	"occupancy/" + OccupancyScheduled: setupOccupancyScheduled,
	"driftscan/" + DriftScanScheduled: publishExample,
	// webhook: drift is assessed against the published example config.
	"webhook/" + WebhookQueueEdit:   publishExample,
	"webhook/" + WebhookSkillDelete: publishExample,
	"webhook/" + WebhookWorktypeURL: publishExample,
	"webhook/" + WebhookQueueURL:    publishExample,
	"webhook/" + WebhookDuplicate:   setupWebhookDuplicate,
}

// eventFiles returns events/<fn>/*.json by function folder.
func eventFiles(t *testing.T) map[string][]string {
	t.Helper()
	dir, err := EventsDir()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no events in %s", dir)
	}
	out := map[string][]string{}
	for _, p := range files {
		fn := filepath.Base(filepath.Dir(p))
		out[fn] = append(out[fn], p)
	}
	return out
}

// Every events/<fn>/*.json is an event of that function: it decodes strictly (no unknown
// member, one JSON value) into the event type the function registers in Functions, and a
// function with events has a registration.
func TestEventsDecodeIntoTheFunctionsEventType(t *testing.T) {
	for fn, files := range eventFiles(t) {
		t.Run(fn, func(t *testing.T) {
			r, ok := Registered(fn)
			if !ok {
				t.Fatalf("events/%s/ has events, but Functions (functions.go) registers no function %q: add its line (Dir, Events, Generate)", fn, fn)
			}
			for _, p := range files {
				raw, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := r.Decode(raw); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			}
		})
	}
}

// Every registration names a function of template.yaml, once, with an event type and a
// generator.
func TestRegistrationsMatchTheTemplate(t *testing.T) {
	tpl, _ := readRepoTemplate(t)
	seen := map[string]bool{}
	for _, r := range Functions {
		if _, ok := tpl.Function(r.Dir); !ok {
			t.Errorf("Functions registers %q, but template.yaml declares no function for functions/%s (declared: %v)", r.Dir, r.Dir, tpl.Dirs())
		}
		if seen[r.Dir] {
			t.Errorf("Functions registers %q twice", r.Dir)
		}
		seen[r.Dir] = true
		if len(r.Events) == 0 || r.Generate == nil {
			t.Errorf("Functions[%q]: Events %v, Generate set %v: want the handler's event type and the event generator", r.Dir, r.Events, r.Generate != nil)
		}
	}
}

func TestDecodeIsStrict(t *testing.T) {
	r := Registration{Dir: "fn", Events: []reflect.Type{reflect.TypeFor[events.SQSEvent](), reflect.TypeFor[events.EventBridgeEvent]()}}
	for _, tc := range []struct {
		name, raw string
		want      any // the decoded type; nil: an error
	}{
		{"sqs", `{"Records": [{"messageId": "m1", "body": "{}"}]}`, &events.SQSEvent{}},
		{"eventbridge", `{"version": "0", "id": "e1", "detail-type": "x", "source": "s", "detail": {}}`, &events.EventBridgeEvent{}},
		{"unknown member", `{"Records": [], "extra": 1}`, nil},
		// encoding/json (as aws-lambda-go decodes the handler's event) matches names
		// ignoring case, so only a name no field has is unknown.
		{"unknown nested member", `{"Records": [{"messageIdentifier": "m1"}]}`, nil},
		{"two values", `{"Records": []} {"Records": []}`, nil},
		{"not JSON", `{"Records": [`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Decode([]byte(tc.raw))
			if tc.want == nil {
				if err == nil {
					t.Errorf("Decode(%s) = %T, want an error", tc.raw, got)
				}
				return
			}
			if err != nil || reflect.TypeOf(got) != reflect.TypeOf(tc.want) {
				t.Errorf("Decode(%s) = %T, %v; want %T", tc.raw, got, err, tc.want)
			}
		})
	}
}

// Every file in events/ is invoked the way `make invoke` does it (the function's bootstrap
// under aws-lambda-rie with the template's environment, on a freshly seeded stack) and its
// response is checked. A new event file needs a check here.
func TestInvokeEveryEvent(t *testing.T) {
	for fn, files := range eventFiles(t) {
		for _, path := range files {
			scenario := strings.TrimSuffix(filepath.Base(path), ".json")
			t.Run(fn+"/"+scenario, func(t *testing.T) {
				check, ok := invokeChecks[fn+"/"+scenario]
				if !ok {
					t.Fatalf("%s has no check in invokeChecks; say what invoking it must do", path)
				}
				r, ok := Registered(fn)
				if !ok {
					t.Fatalf("%s: function %q is not registered in Functions", path, fn)
				}
				raw, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				ev, err := r.Decode(raw)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				s := startStack(t)
				if setup, ok := invokeSetups[fn+"/"+scenario]; ok {
					setup(t, s)
				}
				resp, logs := invoke(t, s, fn, raw)
				check(t, s, ev, resp, emfSums(logs))
			})
		}
	}
}

// invoke starts functions/<fn> on s, invokes it once with event and returns the response
// and the logs.
func invoke(t *testing.T, s *Stack, fn string, event []byte) (resp, logs []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var buf bytes.Buffer
	f, err := s.StartFunction(ctx, fn, FunctionOptions{BuildRoot: buildRoot, Logs: &buf})
	if err != nil {
		t.Fatalf("start %s: %v", fn, err)
	}
	s.Sim.ResetCalls() // count only what the function does, not the seeding
	inv, err := f.InvokeDetailed(ctx, event)
	if stopErr := f.Stop(); stopErr != nil {
		t.Errorf("stop %s: %v", fn, stopErr)
	}
	if err != nil {
		t.Fatalf("invoke %s: %v\nlogs:\n%s", fn, err, buf.String())
	}
	if inv.Init == nil || inv.Init.Status != "success" {
		t.Errorf("invoke %s: init = %+v, want a successful cold start", fn, inv.Init)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s logs:\n%s", fn, buf.String())
		}
	})
	return inv.Payload, buf.Bytes()
}

// emfSums adds up the metrics of the CloudWatch EMF lines in logs, by metric name.
func emfSums(logs []byte) map[string]float64 {
	sums := map[string]float64{}
	for _, line := range bytes.Split(logs, []byte("\n")) {
		var rec struct {
			AWS struct {
				CloudWatchMetrics []struct {
					Metrics []struct{ Name string }
				}
			} `json:"_aws"`
		}
		if json.Unmarshal(line, &rec) != nil || len(rec.AWS.CloudWatchMetrics) == 0 {
			continue
		}
		var values map[string]any
		_ = json.Unmarshal(line, &values)
		for _, d := range rec.AWS.CloudWatchMetrics {
			for _, m := range d.Metrics {
				if v, ok := values[m.Name].(float64); ok {
					sums[m.Name] += v
				}
			}
		}
	}
	return sums
}

// wantMetrics checks the EMF counters the function emitted.
func wantMetrics(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for name, w := range want {
		if got[name] != w {
			t.Errorf("EMF metric %s = %v, want %v (all: %v)", name, got[name], w, got)
		}
	}
}

func batchFailures(t *testing.T, resp []byte) []string {
	t.Helper()
	var r events.SQSEventResponse
	if err := json.Unmarshal(resp, &r); err != nil {
		t.Fatalf("response %s: want events.SQSEventResponse: %v", resp, err)
	}
	var ids []string
	for _, f := range r.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func decodeBodies(t *testing.T, ev events.SQSEvent) []*changes.Request {
	t.Helper()
	var out []*changes.Request
	for _, rec := range ev.Records {
		r, err := changes.Decode([]byte(rec.Body))
		if err != nil {
			t.Fatalf("record %s: body is not a valid change request: %v", rec.MessageId, err)
		}
		if got, want := rec.Attributes["MessageGroupId"], r.GroupID(); got != want {
			t.Errorf("record %s: MessageGroupId = %q, want %q (changes.Entity.GroupID)", rec.MessageId, got, want)
		}
		if got, want := rec.Attributes["MessageDeduplicationId"], r.ChangeID; got != want {
			t.Errorf("record %s: MessageDeduplicationId = %q, want the changeId %q", rec.MessageId, got, want)
		}
		out = append(out, r)
	}
	return out
}

func storeOf(s *Stack) *store.Store {
	return store.New(dynamodb.NewFromConfig(s.AWS), s.Resources.TableName)
}

// batch: every change applies (no batch item failures), and the simulated org then
// matches the example config for the three entities.
func checkApplyBatch(t *testing.T, s *Stack, ev events.SQSEvent, resp []byte, metrics map[string]float64) {
	reqs := decodeBodies(t, ev)
	wantMetrics(t, metrics, map[string]float64{"Applied": float64(len(reqs)), "Conflicts": 0, "Rejected": 0})
	if f := batchFailures(t, resp); len(f) != 0 {
		t.Errorf("batchItemFailures = %v, want none", f)
	}
	for _, r := range reqs {
		c, err := storeOf(s).GetChange(t.Context(), r.ChangeID)
		if err != nil {
			t.Errorf("change record %s (%s): %v", r.ChangeID, r.Key(), err)
			continue
		}
		if c.Status != store.Status("APPLIED") {
			t.Errorf("change %s (%s): status %s, want APPLIED; result %s", r.ChangeID, r.Key(), c.Status, c.Result)
		}
	}
	plan := planExample(t, s)
	for _, c := range plan.Changes {
		switch c.Name {
		case MissingSkill, ChangedQueue, ChangedWorktype:
			t.Errorf("after the batch, plan still has %s %s %q: %+v", c.Action, c.Kind, c.Name, c.Differences)
		}
	}
}

// duplicate: the second delivery of the same change request (same changeId) is a replay:
// no batch item failure and exactly one write to Genesys.
func checkApplyDuplicate(t *testing.T, s *Stack, ev events.SQSEvent, resp []byte, metrics map[string]float64) {
	// Replayed, not Noop: the second copy is answered from the idempotency record, not
	// by re-reading Genesys and finding nothing to do.
	wantMetrics(t, metrics, map[string]float64{"Applied": 1, "Replayed": 1, "Noop": 0})
	reqs := decodeBodies(t, ev)
	if len(reqs) != 2 || reqs[0].ChangeID != reqs[1].ChangeID || ev.Records[0].MessageId == ev.Records[1].MessageId {
		t.Fatalf("duplicate.json: want two messages (different messageId) carrying one changeId")
	}
	if f := batchFailures(t, resp); len(f) != 0 {
		t.Errorf("batchItemFailures = %v, want none", f)
	}
	if got := s.Sim.Calls()["PUT /api/v2/routing/queues/{queueId}"]; got != 1 {
		t.Errorf("queue PUTs = %d, want 1 (the duplicate must not write again); calls: %v", got, s.Sim.Calls())
	}
	c, err := storeOf(s).GetChange(t.Context(), reqs[0].ChangeID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != store.Status("APPLIED") {
		t.Errorf("change %s: status %s, want APPLIED", reqs[0].ChangeID, c.Status)
	}
}

// malformed: bodies that can never succeed are acknowledged (not retried, never reach the
// DLQ); the one with a readable changeId is recorded REJECTED; Genesys is not written.
func checkApplyMalformed(t *testing.T, s *Stack, ev events.SQSEvent, resp []byte, metrics map[string]float64) {
	wantMetrics(t, metrics, map[string]float64{"Rejected": float64(len(ev.Records)), "Applied": 0})
	for _, rec := range ev.Records {
		if _, err := changes.Decode([]byte(rec.Body)); !errors.Is(err, changes.ErrInvalid) {
			t.Errorf("record %s: Decode error = %v, want ErrInvalid (the event must stay malformed)", rec.MessageId, err)
		}
	}
	if f := batchFailures(t, resp); len(f) != 0 {
		t.Errorf("batchItemFailures = %v, want none: an invalid request must not be retried", f)
	}
	c, err := storeOf(s).GetChange(t.Context(), MalformedChangeID)
	if err != nil {
		t.Fatalf("change record %s: %v", MalformedChangeID, err)
	}
	if c.Status != store.Status("REJECTED") {
		t.Errorf("change %s: status %s, want REJECTED", MalformedChangeID, c.Status)
	}
	for route, n := range s.Sim.Calls() {
		if !strings.HasPrefix(route, "GET ") && !strings.Contains(route, "/query") && n > 0 {
			t.Errorf("Genesys was written (%s x%d) for malformed requests", route, n)
		}
	}
}

// The committed events are meaningful against a freshly seeded org: their baseEtag is
// the ETag of the entity as seeded, so updates apply rather than conflict.
func TestApplyEventsMatchSeededOrg(t *testing.T) {
	s := startStack(t)
	live, err := live.Read(t.Context(), s.Genesys, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := EventsDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, scenario := range []string{ApplyBatch, ApplyDuplicate} {
		raw, err := os.ReadFile(filepath.Join(dir, "apply", scenario+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		for _, r := range decodeBodies(t, ev) {
			if r.Operation == changes.OpCreate {
				if _, ok := live.Entity(r.Entity.Type, r.Entity.Name); ok {
					t.Errorf("%s: creates %s, which the seeded org already has", scenario, r.Key())
				}
				continue
			}
			e, ok := live.Entity(r.Entity.Type, r.Entity.Name)
			if !ok {
				t.Errorf("%s: %s is not in the seeded org", scenario, r.Key())
				continue
			}
			if r.BaseEtag != e.ETag {
				t.Errorf("%s: %s baseEtag %s, seeded ETag %s: regenerate with `go run ./infra/localstack events`", scenario, r.Key(), r.BaseEtag, e.ETag)
			}
		}
	}
}

func planExample(t *testing.T, s *Stack) *drift.Plan {
	t.Helper()
	_, _, plan, err := s.PlanExample(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// Cold start and invocation figures of each function under the RIE: `make bench`.
func BenchmarkColdStart(b *testing.B) {
	s := startStack(b)
	dir, err := EventsDir()
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "apply", ApplyMalformed+".json"))
	if err != nil {
		b.Fatal(err)
	}
	bootstrap, err := BuildFunction(b.Context(), "apply", buildRoot)
	if err != nil {
		b.Fatal(err)
	}
	f, _ := s.Template.Function("apply")
	var inits []time.Duration
	for b.Loop() {
		fn, err := lambdarun.Start(b.Context(), lambdarun.Options{Bootstrap: bootstrap, Env: s.FunctionEnv(f), Timeout: f.Timeout, MemoryMB: f.MemoryMB})
		if err != nil {
			b.Fatal(err)
		}
		inv, err := fn.InvokeDetailed(b.Context(), raw)
		_ = fn.Stop()
		if err != nil {
			b.Fatal(err)
		}
		if inv.Init != nil {
			inits = append(inits, inv.Init.Duration)
		}
	}
	if len(inits) > 0 {
		slices.Sort(inits)
		b.ReportMetric(float64(inits[len(inits)/2].Microseconds())/1000, "init-ms-p50")
	}
}
