package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/lambdarun"
)

// recorder is the function the sources feed in these tests: it records every payload
// and answers with respond (nil: an empty JSON object).
type recorder struct {
	mu       sync.Mutex
	payloads []string
	respond  func(n int, payload []byte) ([]byte, error) // n counts from 1
}

func (r *recorder) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	r.mu.Lock()
	r.payloads = append(r.payloads, string(payload))
	n := len(r.payloads)
	r.mu.Unlock()
	if r.respond == nil {
		return []byte(`{}`), nil
	}
	return r.respond(n, payload)
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.payloads...)
}

var sourcesSeq atomic.Int64

// startSourcesStack starts a stack of testdata/sources.yaml (its resources created on the
// shared moto under a prefix of their own) without the simulator: the sources' tests feed
// a recorder, never a bootstrap.
func startSourcesStack(t *testing.T) *Stack {
	t.Helper()
	cfg, _ := awslocal.ForTest(t)
	path, err := filepath.Abs(filepath.Join("testdata", "sources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	res, err := awslocal.CreateResources(ctx, cfg, path, fmt.Sprintf("sources-%d-%d", os.Getpid(), sourcesSeq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return startWith(t, Options{TemplatePath: path, AWS: &cfg, Resources: res, WithoutSimulator: true})
}

// The Function URL is served with the template's FunctionUrlConfig: AuthType AWS_IAM
// refuses unsigned requests, a signed one reaches the function as payload format 2.0,
// the function's answer becomes the HTTP response, and the template's CORS is applied.
func TestFunctionURLFromTemplate(t *testing.T) {
	s := startSourcesStack(t)
	fn := &recorder{respond: func(int, []byte) ([]byte, error) {
		return []byte(`{"statusCode": 202, "headers": {"content-type": "text/plain"}, "body": "queued"}`), nil
	}}
	u, err := s.FunctionURL(t.Context(), "hook", fn, SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := u.Close(); err != nil {
			t.Errorf("close URL: %v", err)
		}
	})
	for _, tc := range []struct {
		name       string
		header     map[string]string
		wantStatus int
		wantBody   string
		wantCORS   string
		wantCalls  int
	}{
		{"unsigned", nil, http.StatusForbidden, `{"Message":"Forbidden"}`, "", 0},
		{"signed", map[string]string{
			"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250602/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00",
			"Origin":        "https://app.example.com",
			"Content-Type":  "application/json",
		}, http.StatusAccepted, "queued", "https://app.example.com", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(fn.got())
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u.URL()+"/hook?org=1", strings.NewReader(`{"a":1}`))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus || strings.TrimSpace(string(body)) != tc.wantBody {
				t.Errorf("POST /hook: %d %s, want %d %s", resp.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.wantCORS {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tc.wantCORS)
			}
			calls := fn.got()[before:]
			if len(calls) != tc.wantCalls {
				t.Fatalf("function invoked %d times, want %d", len(calls), tc.wantCalls)
			}
			if tc.wantCalls == 0 {
				return
			}
			var ev lambdarun.URLRequest
			if err := DecodeStrict([]byte(calls[0]), &ev); err != nil {
				t.Fatalf("event is no payload 2.0 Function URL request: %v\n%s", err, calls[0])
			}
			type view struct{ Version, RouteKey, Method, Path, Query, Body, AccessKey string }
			got := view{ev.Version, ev.RouteKey, ev.RequestContext.HTTP.Method, ev.RawPath, ev.RawQueryString, ev.Body, ""}
			if a := ev.RequestContext.Authorizer; a != nil && a.IAM != nil {
				got.AccessKey = a.IAM.AccessKey
			}
			want := view{"2.0", "$default", "POST", "/hook", "org=1", `{"a":1}`, "AKIDEXAMPLE"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Function URL event (-want +got):\n%s", diff)
			}
		})
	}
}

// Each enabled EventBridge rule of the template becomes a rule source: named and ARN'd as
// in AWS, its dead-letter queue resolved to a local queue (the template's, or the one SAM
// would create for Type: SQS); a DISABLED rule is left out.
func TestRulesFromTemplate(t *testing.T) {
	s := startSourcesStack(t)
	rules, err := s.Rules(t.Context(), "hook", &recorder{}, SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type view struct{ Event, Name, ARN, DLQ string }
	var got []view
	for _, r := range rules {
		got = append(got, view{r.Event.Name, r.Name, r.ARN, r.DeadLetterQueueURL[strings.LastIndex(r.DeadLetterQueueURL, "/")+1:]})
	}
	prefix := strings.TrimSuffix(s.Resources.TableName, "-Table")
	arn := "arn:aws:events:us-east-1:123456789012:rule/"
	want := []view{
		{"Audit", prefix + "-HookFunctionAudit", arn + "aws.partner/genesys.com/cloud/org-1/routekeeper/" + prefix + "-HookFunctionAudit", prefix + "-HookFunctionAuditQueue"},
		{"Changes", "hook-changes", arn + s.Resources.BusName + "/hook-changes", prefix + "-AuditDeadLetterQueue"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rules of HookFunction (-want +got):\n%s", diff)
	}
}

// A rule source delivers what matches its pattern, sends the Input instead of the event
// when the template sets one, retries per its RetryPolicy on the injected clock, and puts
// what it could not deliver on its local dead-letter queue with EventBridge's attributes.
func TestRuleDelivery(t *testing.T) {
	s := startSourcesStack(t)
	audit := `{"version":"0","id":"e1","detail-type":"v2.audits.entitytype.queue.entityid.{id}","source":"aws.partner/genesys.com/cloud/org-1/routekeeper","account":"123456789012","time":"2025-06-02T09:00:00Z","region":"us-east-1","resources":[],"detail":{"action":"UPDATE","entityId":"q1"}}`
	deleted := strings.Replace(audit, `"UPDATE"`, `"DELETE"`, 1)
	change := `{"version":"0","id":"e2","detail-type":"ChangeApplied","source":"routekeeper","account":"123456789012","time":"2025-06-02T09:00:00Z","region":"us-east-1","resources":[],"detail":{}}`
	transient := errors.New("connection reset by peer")
	// The Input of Changes, !Sub'd with the stack's Environment parameter.
	input := fmt.Sprintf(`{"environment": %q}`, ExampleEnvironment)
	for _, tc := range []struct {
		name, rule, event string
		fail              error // what every invocation returns; nil: success
		wantPayloads      []string
		wantDelivered     bool
		wantDLQ           map[string]string // dead-letter message attributes; nil: none sent
	}{
		{name: "match", rule: "Audit", event: audit, wantPayloads: []string{audit}, wantDelivered: true},
		{name: "no match", rule: "Audit", event: deleted},
		{name: "input instead of the event", rule: "Changes", event: change, wantPayloads: []string{input}, wantDelivered: true},
		{name: "retries then dead letter", rule: "Audit", event: audit, fail: transient,
			wantPayloads: []string{audit, audit, audit},
			wantDLQ: map[string]string{"ERROR_CODE": "INTERNAL_ERROR", "RETRY_ATTEMPTS": "2", "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
				"TARGET_ARN": "arn:aws:lambda:us-east-1:123456789012:function:HookFunction"}},
		{name: "function gone", rule: "Changes", event: change, fail: lambdarun.ErrStopped,
			wantPayloads: []string{input},
			wantDLQ: map[string]string{"ERROR_CODE": "NO_RESOURCE", "RETRY_ATTEMPTS": "0",
				"TARGET_ARN": "arn:aws:lambda:us-east-1:123456789012:function:HookFunction"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := &recorder{respond: func(int, []byte) ([]byte, error) {
				if tc.fail != nil {
					return nil, tc.fail
				}
				return []byte(`{}`), nil
			}}
			rules, err := s.Rules(t.Context(), "hook", fn, SourceOptions{Clock: lambdarun.NewStepClock(time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC))})
			if err != nil {
				t.Fatal(err)
			}
			var rule *Rule
			for _, r := range rules {
				if r.Event.Name == tc.rule {
					rule = r
				}
			}
			if rule == nil {
				t.Fatalf("no rule %s among %d", tc.rule, len(rules))
			}
			d, err := rule.Deliver(t.Context(), []byte(tc.event))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantPayloads, fn.got()); diff != "" {
				t.Errorf("payloads the function received (-want +got):\n%s", diff)
			}
			if d.Delivered() != tc.wantDelivered || d.DeadLettered != (tc.wantDLQ != nil) {
				t.Errorf("delivery %+v: delivered %v, dead-lettered %v; want %v, %v", d, d.Delivered(), d.DeadLettered, tc.wantDelivered, tc.wantDLQ != nil)
			}
			if tc.wantDLQ == nil {
				return
			}
			body, attrs := receiveOne(t, s, rule.DeadLetterQueueURL)
			if body != tc.event {
				t.Errorf("dead-letter body %s, want the original event %s", body, tc.event)
			}
			tc.wantDLQ["RULE_ARN"] = rule.ARN
			delete(attrs, "ERROR_MESSAGE")
			if diff := cmp.Diff(tc.wantDLQ, attrs); diff != "" {
				t.Errorf("dead-letter attributes (-want +got):\n%s", diff)
			}
		})
	}
}

// receiveOne receives and deletes one message from the queue at url, polling until one
// arrives or the deadline passes.
func receiveOne(t *testing.T, s *Stack, url string) (string, map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	client := sqs.NewFromConfig(s.AWS)
	for {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 1, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatalf("receive from %s: %v", url, err)
		}
		if len(out.Messages) == 0 {
			continue
		}
		m := out.Messages[0]
		if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
		attrs := map[string]string{}
		for k, v := range m.MessageAttributes {
			attrs[k] = aws.ToString(v.StringValue)
		}
		return aws.ToString(m.Body), attrs
	}
}

// Each enabled schedule of the template becomes a schedule source with its expression,
// time zone, group, input and name; a DISABLED one is left out.
func TestSchedulesFromTemplate(t *testing.T) {
	s := startSourcesStack(t)
	scheds, err := s.Schedules("hook", &recorder{}, SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type view struct{ Event, ARN, Expression, Location string }
	var got []view
	for _, sc := range scheds {
		got = append(got, view{sc.Event.Name, sc.ARN(), sc.Expression().String(), sc.Expression().Location().String()})
	}
	prefix := strings.TrimSuffix(s.Resources.TableName, "-Table")
	want := []view{
		{"Every15Minutes", "arn:aws:scheduler:us-east-1:123456789012:schedule/default/HookFunctionEvery15Minutes", "rate(15 minutes)", "UTC"},
		{"Legacy", "arn:aws:events:us-east-1:123456789012:rule/" + prefix + "-HookFunctionLegacy", "rate(5 minutes)", "UTC"},
		{"Nightly", "arn:aws:scheduler:us-east-1:123456789012:schedule/routekeeper/HookFunctionNightly", "cron(0 3 * * ? *)", "Europe/Paris"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("schedules of HookFunction (-want +got):\n%s", diff)
	}
}

// A schedule source runs on the injected clock: a rate fires at once and then every
// interval, with the template's Input and its context attributes filled in; a schedule
// without Input sends Scheduler's default notification.
func TestScheduleFires(t *testing.T) {
	s := startSourcesStack(t)
	start := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	fn := &recorder{respond: func(n int, _ []byte) ([]byte, error) {
		if n == 3 {
			cancel()
		}
		return []byte(`{}`), nil
	}}
	scheds, err := s.Schedules("hook", fn, SourceOptions{Clock: lambdarun.NewStepClock(start)})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Schedule{}
	for _, sc := range scheds {
		byName[sc.Event.Name] = sc
	}
	if err := byName["Every15Minutes"].Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []string{
		`{"scheduledAt": "2025-06-02T09:00:00Z"}`,
		`{"scheduledAt": "2025-06-02T09:15:00Z"}`,
		`{"scheduledAt": "2025-06-02T09:30:00Z"}`,
	}
	if diff := cmp.Diff(want, fn.got()); diff != "" {
		t.Errorf("Every15Minutes payloads (-want +got):\n%s", diff)
	}

	nightly := byName["Nightly"]
	next, ok := nightly.Expression().Next(start)
	if want := time.Date(2025, 6, 3, 1, 0, 0, 0, time.UTC); !ok || !next.Equal(want) {
		t.Errorf("Nightly next after %s = %s, %v; want %s (03:00 in Paris, summer time)", start, next, ok, want)
	}
	if _, err := nightly.Fire(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	payloads := fn.got()
	var ev events.EventBridgeEvent
	if err := DecodeStrict([]byte(payloads[len(payloads)-1]), &ev); err != nil {
		t.Fatalf("Nightly payload is no events.EventBridgeEvent: %v", err)
	}
	type view struct {
		Source, DetailType, Time string
		Resources                []string
		Detail                   string
	}
	gotView := view{ev.Source, ev.DetailType, ev.Time.UTC().Format(time.RFC3339), ev.Resources, string(ev.Detail)}
	wantView := view{"aws.scheduler", "Scheduled Event", "2025-06-03T01:00:00Z", []string{nightly.ARN()}, `"{}"`}
	if diff := cmp.Diff(wantView, gotView); diff != "" {
		t.Errorf("Nightly notification (-want +got):\n%s", diff)
	}
}

// The repository's functions declare no URL, rule or schedule yet: asking for a Function
// URL is an error that says what to add, and the rules and schedules are none.
func TestSourcesOfAnSQSFunction(t *testing.T) {
	cfg, res := awslocal.ForTest(t)
	s, err := Start(t.Context(), Options{AWS: &cfg, Resources: res, WithoutSimulator: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	if _, err := s.FunctionURL(t.Context(), "apply", &recorder{}, SourceOptions{}); err == nil || !strings.Contains(err.Error(), "no FunctionUrlConfig") {
		t.Errorf("FunctionURL(apply) = %v, want an error saying it has no FunctionUrlConfig", err)
	}
	if rules, err := s.Rules(t.Context(), "apply", &recorder{}, SourceOptions{}); err != nil || len(rules) != 0 {
		t.Errorf("Rules(apply) = %d rules, %v; want none", len(rules), err)
	}
	if scheds, err := s.Schedules("apply", &recorder{}, SourceOptions{}); err != nil || len(scheds) != 0 {
		t.Errorf("Schedules(apply) = %d schedules, %v; want none", len(scheds), err)
	}
	for name, call := range map[string]func() error{
		"FunctionURL": func() error { _, err := s.FunctionURL(t.Context(), "nosuch", &recorder{}, SourceOptions{}); return err },
		"Rules":       func() error { _, err := s.Rules(t.Context(), "nosuch", &recorder{}, SourceOptions{}); return err },
		"Schedules":   func() error { _, err := s.Schedules("nosuch", &recorder{}, SourceOptions{}); return err },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "declares no function for functions/nosuch") {
			t.Errorf("%s(nosuch) = %v, want an error naming the missing function", name, err)
		}
	}
}

// What the local sources cannot do as AWS does is an error naming the event, never a
// source that behaves differently.
func TestSourceErrors(t *testing.T) {
	const head = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Fifo: {Type: AWS::SQS::Queue, Properties: {FifoQueue: true}}
  HookFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Events:
        E:
`
	for _, tc := range []struct {
		name, event string
		sources     func(s *Stack) error
		want        string
	}{
		{"input path", "          Type: EventBridgeRule\n          Properties: {Pattern: {source: [x]}, InputPath: $.detail}",
			rulesOf, "HookFunction.Events.E: InputPath and InputTransformer are not emulated"},
		{"input transformer", "          Type: EventBridgeRule\n          Properties: {Pattern: {source: [x]}, InputTransformer: {InputTemplate: '{}'}}",
			rulesOf, "HookFunction.Events.E: InputPath and InputTransformer are not emulated"},
		{"fifo dead-letter queue", "          Type: EventBridgeRule\n          Properties: {Pattern: {source: [x]}, DeadLetterConfig: {Arn: !GetAtt Fifo.Arn}}",
			rulesOf, "Fifo is a FIFO queue"},
		{"dead-letter queue elsewhere", "          Type: EventBridgeRule\n          Properties: {Pattern: {source: [x]}, DeadLetterConfig: {Arn: 'arn:aws:sqs:us-east-1:123456789012:elsewhere'}}",
			rulesOf, "is no AWS::SQS::Queue of"},
		{"bad pattern", "          Type: EventBridgeRule\n          Properties: {Pattern: {source: [{wildcard: 1}]}}",
			rulesOf, "HookFunction.Events.E: lambdarun: event pattern: source[0].wildcard"},
		{"bad schedule", "          Type: ScheduleV2\n          Properties: {ScheduleExpression: 'rate(0 minutes)'}",
			func(s *Stack) error { _, err := s.Schedules("hook", &recorder{}, SourceOptions{}); return err }, "HookFunction.Events.E: lambdarun: schedule expression"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "template.yaml")
			if err := os.WriteFile(path, []byte(head+tc.event+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			tpl, err := awslocal.ReadTemplate(path, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.sources(&Stack{Template: tpl})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func rulesOf(s *Stack) error {
	_, err := s.Rules(context.Background(), "hook", &recorder{}, SourceOptions{})
	return err
}
