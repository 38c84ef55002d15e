package lambdarun

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/routekeeper/routekeeper/infra/awslocal"
)

const (
	testRuleARN   = "arn:aws:events:us-east-1:123456789012:rule/routekeeper/drift"
	testTargetARN = "arn:aws:lambda:us-east-1:123456789012:function:drift"
	ruleEvent     = `{"version":"0","id":"e1","detail-type":"DriftDetected","source":"routekeeper","account":"123456789012",` +
		`"time":"2026-03-07T10:00:00Z","region":"us-east-1","resources":[],"detail":{"env":"prod","count":3}}`
	rulePattern = `{"source": ["routekeeper"], "detail": {"count": [{"numeric": [">", 0]}]}}`
)

// scriptedInvoker answers each invocation with the next of its results and
// records the payloads it got.
type scriptedInvoker struct {
	mu       sync.Mutex
	results  []error // nil: success
	payloads []string
}

func (s *scriptedInvoker) Invoke(_ context.Context, event []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payloads = append(s.payloads, string(event))
	var err error
	if n := len(s.payloads) - 1; n < len(s.results) {
		err = s.results[n]
	}
	if err != nil {
		return nil, err
	}
	return []byte(`"ok"`), nil
}

// fakeSender records the messages sent to a dead-letter queue.
type fakeSender struct {
	sent []*sqs.SendMessageInput
	err  error
}

func (f *fakeSender) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.sent = append(f.sent, in)
	if f.err != nil {
		return nil, f.err
	}
	return &sqs.SendMessageOutput{MessageId: aws.String("m1")}, nil
}

func intp(n int) *int { return &n }

// The types the docs say convert from awslocal's template view.
var ()

var (
	errConnRefused = fmt.Errorf("lambdarun: invoke drift (request r1): %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")})
	errFunction    = &FunctionError{RequestID: "r1", Type: "errorString", Message: "boom"}
)

// stringAttrs flattens SQS message attributes for comparison.
func stringAttrs(attrs map[string]types.MessageAttributeValue) map[string]string {
	out := map[string]string{}
	for k, v := range attrs {
		out[k] = aws.ToString(v.DataType) + ":" + aws.ToString(v.StringValue)
	}
	return out
}

func TestRuleDeliver(t *testing.T) {
	constantBackoff := func(int) time.Duration { return 10 * time.Second }
	tests := []struct {
		name      string
		event     string
		opts      RuleOptions
		results   []error
		noDLQ     bool
		want      Delivery
		wantCalls int
		wantWaits []time.Duration
		wantDLQ   map[string]string // attributes of the dead-letter message; nil: none sent
	}{
		{
			name: "no match: nothing invoked", event: strings.Replace(ruleEvent, `"count":3`, `"count":0`, 1),
			want: Delivery{},
		},
		{
			name: "delivered", want: Delivery{Matched: true, Attempts: 1, Response: []byte(`"ok"`)}, wantCalls: 1,
		},
		{
			name: "a function error is delivered, not retried, not dead-lettered", results: []error{errFunction},
			want: Delivery{Matched: true, Attempts: 1, FunctionError: errFunction}, wantCalls: 1,
		},
		{
			name: "retried until delivered", results: []error{errConnRefused, errConnRefused},
			want:      Delivery{Matched: true, Attempts: 3, Response: []byte(`"ok"`)},
			wantCalls: 3, wantWaits: []time.Duration{10 * time.Second, 10 * time.Second},
		},
		{
			name: "retries exhausted: dead-lettered", opts: RuleOptions{RetryPolicy: &awslocal.RetryPolicy{MaximumRetryAttempts: intp(2)}},
			results: []error{errConnRefused, errConnRefused, errConnRefused},
			want: Delivery{Matched: true, Attempts: 3, Err: errConnRefused, ErrorCode: "CONNECTION_FAILURE",
				ExhaustedRetryCondition: "MaximumRetryAttempts", DeadLettered: true},
			wantCalls: 3, wantWaits: []time.Duration{10 * time.Second, 10 * time.Second},
			wantDLQ: map[string]string{
				"RULE_ARN": "String:" + testRuleARN, "TARGET_ARN": "String:" + testTargetARN,
				"ERROR_CODE": "String:CONNECTION_FAILURE", "ERROR_MESSAGE": "String:" + errConnRefused.Error(),
				"EXHAUSTED_RETRY_CONDITION": "String:MaximumRetryAttempts", "RETRY_ATTEMPTS": "String:2",
			},
		},
		{
			name: "no retries at all", opts: RuleOptions{RetryPolicy: &awslocal.RetryPolicy{MaximumRetryAttempts: intp(0)}},
			results: []error{errConnRefused},
			want: Delivery{Matched: true, Attempts: 1, Err: errConnRefused, ErrorCode: "CONNECTION_FAILURE",
				ExhaustedRetryCondition: "MaximumRetryAttempts", DeadLettered: true},
			wantCalls: 1,
			wantDLQ: map[string]string{
				"RULE_ARN": "String:" + testRuleARN, "TARGET_ARN": "String:" + testTargetARN,
				"ERROR_CODE": "String:CONNECTION_FAILURE", "ERROR_MESSAGE": "String:" + errConnRefused.Error(),
				"EXHAUSTED_RETRY_CONDITION": "String:MaximumRetryAttempts", "RETRY_ATTEMPTS": "String:0",
			},
		},
		{
			// 0 s, 25 s, 50 s; a fourth attempt at 75 s would be past the 60 s age.
			name:    "event too old: dead-lettered",
			opts:    RuleOptions{RetryPolicy: &awslocal.RetryPolicy{MaximumEventAgeInSeconds: intp(60)}, Backoff: func(int) time.Duration { return 25 * time.Second }},
			results: []error{errConnRefused, errConnRefused, errConnRefused, errConnRefused},
			want: Delivery{Matched: true, Attempts: 3, Err: errConnRefused, ErrorCode: "CONNECTION_FAILURE",
				ExhaustedRetryCondition: "MaximumEventAgeInSeconds", DeadLettered: true},
			wantCalls: 3, wantWaits: []time.Duration{25 * time.Second, 25 * time.Second},
			wantDLQ: map[string]string{
				"RULE_ARN": "String:" + testRuleARN, "TARGET_ARN": "String:" + testTargetARN,
				"ERROR_CODE": "String:CONNECTION_FAILURE", "ERROR_MESSAGE": "String:" + errConnRefused.Error(),
				"EXHAUSTED_RETRY_CONDITION": "String:MaximumEventAgeInSeconds", "RETRY_ATTEMPTS": "String:2",
			},
		},
		{
			name: "a function that is gone is not retried", results: []error{ErrStopped},
			want:      Delivery{Matched: true, Attempts: 1, Err: ErrStopped, ErrorCode: "NO_RESOURCE", DeadLettered: true},
			wantCalls: 1,
			wantDLQ: map[string]string{
				"RULE_ARN": "String:" + testRuleARN, "TARGET_ARN": "String:" + testTargetARN,
				"ERROR_CODE": "String:NO_RESOURCE", "ERROR_MESSAGE": "String:" + ErrStopped.Error(), "RETRY_ATTEMPTS": "String:0",
			},
		},
		{
			name: "without a dead-letter queue the event is dropped", noDLQ: true, results: []error{ErrStopped},
			want:      Delivery{Matched: true, Attempts: 1, Err: ErrStopped, ErrorCode: "NO_RESOURCE"},
			wantCalls: 1,
		},
		{
			name: "an unknown failure is retried as an internal error",
			opts: RuleOptions{RetryPolicy: &awslocal.RetryPolicy{MaximumRetryAttempts: intp(1)}}, noDLQ: true,
			results: []error{errors.New("emulator answered 500"), errors.New("emulator answered 500")},
			want: Delivery{Matched: true, Attempts: 2, Err: errors.New("emulator answered 500"), ErrorCode: "INTERNAL_ERROR",
				ExhaustedRetryCondition: "MaximumRetryAttempts"},
			wantCalls: 2, wantWaits: []time.Duration{10 * time.Second},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewStepClock(time.Date(2026, 3, 7, 10, 0, 0, 0, time.UTC))
			fn := &scriptedInvoker{results: tc.results}
			sender := &fakeSender{}
			opts := tc.opts
			opts.RuleARN, opts.TargetARN, opts.Clock = testRuleARN, testTargetARN, clock
			if opts.Backoff == nil {
				opts.Backoff = constantBackoff
			}
			if !tc.noDLQ {
				opts.DeadLetterQueue = &DeadLetterQueue{Client: sender, QueueURL: "http://moto/123456789012/dlq"}
			}
			r, err := NewRule([]byte(rulePattern), fn, opts)
			if err != nil {
				t.Fatal(err)
			}
			event := tc.event
			if event == "" {
				event = ruleEvent
			}
			got, err := r.Deliver(context.Background(), []byte(event))
			if err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b error) bool {
				return a == nil && b == nil || a != nil && b != nil && a.Error() == b.Error()
			})); diff != "" {
				t.Errorf("Delivery (-want +got):\n%s", diff)
			}
			if got.Delivered() != (tc.want.Matched && tc.want.Err == nil) {
				t.Errorf("Delivered() = %v for %+v", got.Delivered(), got)
			}
			if len(fn.payloads) != tc.wantCalls {
				t.Fatalf("target invoked %d times, want %d", len(fn.payloads), tc.wantCalls)
			}
			for i, p := range fn.payloads {
				if p != event {
					t.Errorf("invocation %d got %s, want the event itself", i, p)
				}
			}
			if diff := cmp.Diff(tc.wantWaits, clock.Waits(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("waits between attempts (-want +got):\n%s", diff)
			}
			if tc.wantDLQ == nil {
				if len(sender.sent) != 0 {
					t.Errorf("sent %d dead-letter messages, want none", len(sender.sent))
				}
				return
			}
			if len(sender.sent) != 1 {
				t.Fatalf("sent %d dead-letter messages, want 1", len(sender.sent))
			}
			m := sender.sent[0]
			if aws.ToString(m.QueueUrl) != "http://moto/123456789012/dlq" || aws.ToString(m.MessageBody) != event {
				t.Errorf("dead-letter message to %s with body %s, want the original event to the DLQ", aws.ToString(m.QueueUrl), aws.ToString(m.MessageBody))
			}
			if diff := cmp.Diff(tc.wantDLQ, stringAttrs(m.MessageAttributes)); diff != "" {
				t.Errorf("dead-letter attributes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRuleInputReplacesTheEvent(t *testing.T) {
	fn := &scriptedInvoker{results: []error{ErrStopped}}
	sender := &fakeSender{}
	r, err := NewRule([]byte(rulePattern), fn, RuleOptions{Input: `{"mode":"full"}`, RuleARN: testRuleARN, TargetARN: testTargetARN,
		DeadLetterQueue: &DeadLetterQueue{Client: sender, QueueURL: "http://moto/1/dlq"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Deliver(context.Background(), []byte(ruleEvent)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{`{"mode":"full"}`}, fn.payloads); diff != "" {
		t.Errorf("target payloads (-want +got):\n%s", diff)
	}
	if len(sender.sent) != 1 || aws.ToString(sender.sent[0].MessageBody) != ruleEvent {
		t.Errorf("dead-letter body: got %v, want the original event, not the Input", sender.sent)
	}
}

func TestRuleDeliverErrors(t *testing.T) {
	t.Run("event not JSON", func(t *testing.T) {
		r, err := NewRule([]byte(rulePattern), &scriptedInvoker{}, RuleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if d, err := r.Deliver(context.Background(), []byte(`{"source":`)); err == nil || d.Matched {
			t.Errorf("Deliver(bad JSON) = %+v, %v; want an error", d, err)
		}
	})
	t.Run("dead-letter queue refuses", func(t *testing.T) {
		sender := &fakeSender{err: errors.New("AccessDenied")}
		r, err := NewRule([]byte(rulePattern), &scriptedInvoker{results: []error{ErrStopped}}, RuleOptions{RuleARN: testRuleARN, TargetARN: testTargetARN,
			DeadLetterQueue: &DeadLetterQueue{Client: sender, QueueURL: "http://moto/1/dlq"}})
		if err != nil {
			t.Fatal(err)
		}
		d, err := r.Deliver(context.Background(), []byte(ruleEvent))
		if err == nil || !strings.Contains(err.Error(), "AccessDenied") || d.DeadLettered {
			t.Errorf("Deliver = %+v, %v; want the queue's error and DeadLettered false", d, err)
		}
	})
	t.Run("context ends while retrying", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		fn := invokerFunc(func(context.Context, []byte) ([]byte, error) {
			calls++
			cancel() // the caller gives up during the first attempt
			return nil, errConnRefused
		})
		r, err := NewRule([]byte(rulePattern), fn, RuleOptions{Clock: NewStepClock(time.Now())})
		if err != nil {
			t.Fatal(err)
		}
		d, err := r.Deliver(ctx, []byte(ruleEvent))
		if !errors.Is(err, context.Canceled) || calls != 1 || d.Attempts != 1 {
			t.Errorf("Deliver = %+v, %v after %d calls; want context.Canceled after 1", d, err, calls)
		}
	})
}

func TestNewRuleRejects(t *testing.T) {
	dlq := &DeadLetterQueue{Client: &fakeSender{}, QueueURL: "http://moto/1/dlq"}
	tests := []struct {
		name, pattern string
		opts          RuleOptions
		wantErr       string
	}{
		{"bad pattern", `{"source": "x"}`, RuleOptions{}, "event pattern: source"},
		{"retries over 185", rulePattern, RuleOptions{RetryPolicy: &awslocal.RetryPolicy{MaximumRetryAttempts: intp(186)}}, "MaximumRetryAttempts 186: want 0..185"},
		{"negative retries", rulePattern, RuleOptions{RetryPolicy: &awslocal.RetryPolicy{MaximumRetryAttempts: intp(-1)}}, "want 0..185"},
		{"age under 60", rulePattern, RuleOptions{RetryPolicy: &awslocal.RetryPolicy{MaximumEventAgeInSeconds: intp(59)}}, "MaximumEventAgeInSeconds 59: want 60..86400"},
		{"age over a day", rulePattern, RuleOptions{RetryPolicy: &awslocal.RetryPolicy{MaximumEventAgeInSeconds: intp(86401)}}, "want 60..86400"},
		{"FIFO dead-letter queue", rulePattern, RuleOptions{RuleARN: testRuleARN, TargetARN: testTargetARN,
			DeadLetterQueue: &DeadLetterQueue{Client: &fakeSender{}, QueueURL: "http://moto/1/dlq.fifo"}}, "FIFO"},
		{"dead-letter queue without ARNs", rulePattern, RuleOptions{DeadLetterQueue: dlq}, "needs RuleARN and TargetARN"},
		{"dead-letter queue without a client", rulePattern, RuleOptions{DeadLetterQueue: &DeadLetterQueue{QueueURL: "u"}}, "needs a Client"},
		{"Input not JSON", rulePattern, RuleOptions{Input: "{mode"}, "Input is not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRule([]byte(tc.pattern), &scriptedInvoker{}, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("NewRule: got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestFullJitter(t *testing.T) {
	for retry, ceiling := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 9: 256 * time.Second, 10: 5 * time.Minute, 100: 5 * time.Minute} {
		for range 50 {
			if d := fullJitter(retry); d <= 0 || d > ceiling+time.Millisecond {
				t.Fatalf("fullJitter(%d) = %s, want within (0, %s]", retry, d, ceiling)
			}
		}
	}
}

// TestRuleWithFunctionAndQueue delivers to echofn's real bootstrap under the
// RIE, then, once the function is stopped, dead-letters to a standard queue
// on moto, read back with the attributes SQS stores.
func TestRuleWithFunctionAndQueue(t *testing.T) {
	cfg, _ := awslocal.ForTest(t)
	client := sqs.NewFromConfig(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(strings.ReplaceAll(t.Name(), "/", "-") + "-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := startEcho(t, Options{FunctionName: "echofn-rule"})
	r, err := NewRule([]byte(rulePattern), f, RuleOptions{RuleARN: testRuleARN, TargetARN: testTargetARN,
		DeadLetterQueue: &DeadLetterQueue{Client: client, QueueURL: aws.ToString(q.QueueUrl)}})
	if err != nil {
		t.Fatal(err)
	}

	d, err := r.Deliver(ctx, []byte(ruleEvent))
	if err != nil || !d.Delivered() || d.Attempts != 1 || d.FunctionError != nil {
		t.Fatalf("Deliver to a running function = %+v, %v; want delivered in 1 attempt", d, err)
	}

	if err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	d, err = r.Deliver(ctx, []byte(ruleEvent))
	if err != nil || !d.DeadLettered || d.ErrorCode != "NO_RESOURCE" {
		t.Fatalf("Deliver to a stopped function = %+v, %v; want NO_RESOURCE, dead-lettered", d, err)
	}
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("dead-letter queue holds %d messages, want 1", len(out.Messages))
	}
	m := out.Messages[0]
	want := map[string]string{
		"RULE_ARN": "String:" + testRuleARN, "TARGET_ARN": "String:" + testTargetARN, "ERROR_CODE": "String:NO_RESOURCE",
		"ERROR_MESSAGE": "String:" + ErrStopped.Error(), "RETRY_ATTEMPTS": "String:0",
	}
	if diff := cmp.Diff(want, stringAttrs(m.MessageAttributes)); diff != "" || aws.ToString(m.Body) != ruleEvent {
		t.Errorf("dead-letter message body %s, attributes (-want +got):\n%s", aws.ToString(m.Body), diff)
	}
}
