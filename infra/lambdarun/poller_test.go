package lambdarun

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
)

// invokerFunc adapts a function to Invoker.
type invokerFunc func(ctx context.Context, event []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, event []byte) ([]byte, error) { return f(ctx, event) }

// testQueue returns the test's change queue with a 1-second visibility timeout
// and redrive to its DLQ after maxReceive receives, so redelivery and
// dead-lettering happen within a test.
func testQueue(t *testing.T, maxReceive int) (*sqs.Client, string, string) {
	t.Helper()
	cfg, res := awslocal.ForTest(t)
	client := sqs.NewFromConfig(cfg)
	policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, res.DLQARN, maxReceive)
	_, err := client.SetQueueAttributes(context.Background(), &sqs.SetQueueAttributesInput{
		QueueUrl:   aws.String(res.ChangeQueueURL),
		Attributes: map[string]string{"VisibilityTimeout": "1", "RedrivePolicy": policy},
	})
	if err != nil {
		t.Fatalf("SetQueueAttributes: %v", err)
	}
	return client, res.ChangeQueueURL, res.DLQURL
}

func send(t *testing.T, client *sqs.Client, queueURL, group, body string, attrs map[string]types.MessageAttributeValue) string {
	t.Helper()
	out, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(queueURL), MessageBody: aws.String(body), MessageGroupId: aws.String(group),
		MessageDeduplicationId: aws.String(group + "-" + body), MessageAttributes: attrs,
	})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	return aws.ToString(out.MessageId)
}

func TestBatchItemFailures(t *testing.T) {
	ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "a"}, {MessageId: "b"}}}
	tests := []struct {
		resp    string
		want    []string
		wantErr string
	}{
		{resp: ``},
		{resp: `null`},
		{resp: `{}`},
		{resp: `{"batchItemFailures":null}`},
		{resp: `{"batchItemFailures":[]}`},
		{resp: `{"batchItemFailures":[{"itemIdentifier":"b"}]}`, want: []string{"b"}},
		{resp: `{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"b"}]}`, want: []string{"a", "b"}},
		{resp: `{"batchItemFailures":[{"itemIdentifier":""}]}`, wantErr: "no itemIdentifier"},
		{resp: `{"batchItemFailures":[{"itemIdentifier":null}]}`, wantErr: "no itemIdentifier"},
		{resp: `{"batchItemFailures":[{"itemId":"a"}]}`, wantErr: "no itemIdentifier"},
		{resp: `{"batchItemFailures":[{"itemIdentifier":"zzz"}]}`, wantErr: `"zzz" is not a message of this batch`},
		{resp: `{"batchItemFailures":`, wantErr: "not a batch response"},
		{resp: `"done"`, wantErr: "not a batch response"},
	}
	for _, tc := range tests {
		got, err := batchItemFailures([]byte(tc.resp), ev)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("batchItemFailures(%s): got error %v, want one containing %q", tc.resp, err, tc.wantErr)
		case tc.wantErr == "" && err != nil:
			t.Errorf("batchItemFailures(%s): unexpected error %v", tc.resp, err)
		case !cmp.Equal(got, tc.want):
			t.Errorf("batchItemFailures(%s) = %v, want %v", tc.resp, got, tc.want)
		}
	}
}

func TestPollerEvent(t *testing.T) {
	client, queueURL, _ := testQueue(t, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body := `{"hello":"world"}`
	id := send(t, client, queueURL, "prod.queue.abc", body, map[string]types.MessageAttributeValue{
		"schema": {DataType: aws.String("String"), StringValue: aws.String("routekeeper.change/v1")},
	})

	var got events.SQSEvent
	p, err := NewPoller(ctx, client, queueURL, invokerFunc(func(_ context.Context, event []byte) ([]byte, error) {
		if err := json.Unmarshal(event, &got); err != nil {
			return nil, err
		}
		return []byte(`{"batchItemFailures":[]}`), nil
	}), PollerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.PollOnce(ctx, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Received != 1 || !cmp.Equal(res.Deleted, []string{id}) || res.BatchError != nil {
		t.Fatalf("PollOnce = %+v, want message %s received and deleted", res, id)
	}
	if len(got.Records) != 1 {
		t.Fatalf("event has %d records, want 1", len(got.Records))
	}
	r := got.Records[0]
	sum := md5.Sum([]byte(body))
	for _, c := range []struct{ field, got, want string }{
		{"messageId", r.MessageId, id},
		{"body", r.Body, body},
		{"md5OfBody", r.Md5OfBody, hex.EncodeToString(sum[:])},
		{"eventSource", r.EventSource, "aws:sqs"},
		{"eventSourceARN", r.EventSourceARN, p.queueARN},
		{"awsRegion", r.AWSRegion, awslocal.Region},
		{"attributes.MessageGroupId", r.Attributes["MessageGroupId"], "prod.queue.abc"},
		{"attributes.MessageDeduplicationId", r.Attributes["MessageDeduplicationId"], "prod.queue.abc-" + body},
		{"attributes.ApproximateReceiveCount", r.Attributes["ApproximateReceiveCount"], "1"},
		{"messageAttributes.schema.stringValue", aws.ToString(r.MessageAttributes["schema"].StringValue), "routekeeper.change/v1"},
		{"messageAttributes.schema.dataType", r.MessageAttributes["schema"].DataType, "String"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	for _, a := range []string{"SentTimestamp", "SequenceNumber", "ApproximateFirstReceiveTimestamp", "SenderId"} {
		if r.Attributes[a] == "" {
			t.Errorf("attributes.%s missing (Lambda delivers it for FIFO queues); got %v", a, r.Attributes)
		}
	}
	if r.ReceiptHandle == "" || !strings.HasPrefix(r.EventSourceARN, "arn:aws:sqs:us-east-1:") {
		t.Errorf("receiptHandle %q / eventSourceARN %q not set as Lambda sets them", r.ReceiptHandle, r.EventSourceARN)
	}
	if r.MessageAttributes["schema"].StringListValues == nil {
		t.Errorf("stringListValues is null, want [] as Lambda sends")
	}
}

func TestPollerWholeBatchFailure(t *testing.T) {
	client, queueURL, _ := testQueue(t, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 3 {
		send(t, client, queueURL, fmt.Sprintf("g%d", i), "ok", nil)
	}
	calls := 0
	p, err := NewPoller(ctx, client, queueURL, invokerFunc(func(_ context.Context, event []byte) ([]byte, error) {
		calls++
		if calls == 1 {
			return nil, &FunctionError{Type: timeoutErrorType, Message: "Task timed out after 1.00 seconds"}
		}
		return nil, nil // null response: complete success
	}), PollerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.PollOnce(ctx, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res.BatchError, ErrTimeout) || len(res.Failed) != 3 || len(res.Deleted) != 0 {
		t.Fatalf("PollOnce with a timed-out function = %+v, want all 3 failed and none deleted", res)
	}
	stats, err := p.Drain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Deleted != 3 {
		t.Errorf("after redelivery Drain deleted %d, want 3 (stats %+v)", stats.Deleted, stats)
	}
	if got := p.Stats(); got.FunctionErrors != 1 || got.Received != 6 {
		t.Errorf("Stats = %+v, want 1 function error and 6 receives (3 + 3 redelivered)", got)
	}
}

// TestPollerWithFunction runs echofn's real bootstrap under the RIE behind the
// poller on a moto FIFO queue with a DLQ.
func TestPollerWithFunction(t *testing.T) {
	client, queueURL, dlqURL := testQueue(t, 2)
	f, logs := startEcho(t, Options{FunctionName: "echofn-poller"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	send(t, client, queueURL, "g-ok", "ok-1", nil)
	send(t, client, queueURL, "g-ok", "ok-2", nil)
	flaky := send(t, client, queueURL, "g-flaky", "flaky", nil)
	poison := send(t, client, queueURL, "g-poison", "fail", nil)
	send(t, client, queueURL, "g-other", "ok-3", nil)

	p, err := NewPoller(ctx, client, queueURL, f, PollerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := p.Drain(ctx)
	if err != nil {
		t.Fatalf("Drain: %v\nlogs:\n%s", err, logs)
	}
	if stats.Deleted != 4 {
		t.Errorf("Drain deleted %d messages, want 4 (ok-1, ok-2, ok-3, flaky on its second receive); stats %+v", stats.Deleted, stats)
	}
	if stats.Failed != 3 {
		t.Errorf("Drain left %d failures for redelivery, want 3 (flaky once, poison twice); stats %+v", stats.Failed, stats)
	}

	// What the function saw: flaky twice (receive counts 1, 2), poison twice, in-group order kept.
	var seen []string
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec struct{ Body, MessageID, ReceiveCount string }
		if strings.HasPrefix(line, `{"body"`) && json.Unmarshal([]byte(line), &rec) == nil {
			seen = append(seen, rec.Body+"#"+rec.ReceiveCount)
		}
	}
	for _, want := range []string{"flaky#1", "flaky#2", "fail#1", "fail#2"} {
		if !slices.Contains(seen, want) {
			t.Errorf("function never saw %s; saw %v", want, seen)
		}
	}
	if i, j := slices.Index(seen, "ok-1#1"), slices.Index(seen, "ok-2#1"); i < 0 || j < i {
		t.Errorf("ok-1 and ok-2 (one message group) seen in order %v, want ok-1 first", seen)
	}

	// SQS moved the poison message to the DLQ after maxReceiveCount receives.
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	var dead []string
	for _, m := range out.Messages {
		dead = append(dead, aws.ToString(m.MessageId)+"="+aws.ToString(m.Body))
	}
	if diff := cmp.Diff([]string{poison + "=fail"}, dead); diff != "" {
		t.Errorf("DLQ contents (-want +got):\n%s\n(flaky message was %s)", diff, flaky)
	}
}

// Lambda sends "md5OfMessageAttributes": null for a message without message attributes,
// and the digest otherwise.
func TestEncodeEvent(t *testing.T) {
	tests := []struct {
		name    string
		md5     string
		attrs   map[string]events.SQSMessageAttribute
		wantMD5 any
	}{
		{name: "no message attributes", wantMD5: nil},
		{name: "message attributes", md5: "d25a6aea97eb8f585bfa92d314504a92",
			attrs: map[string]events.SQSMessageAttribute{"schema": {StringValue: aws.String("v1"), DataType: "String"}}, wantMD5: "d25a6aea97eb8f585bfa92d314504a92"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: "b", Md5OfMessageAttributes: tc.md5,
				Attributes: map[string]string{"MessageGroupId": "g"}, MessageAttributes: tc.attrs, EventSource: "aws:sqs"}}}
			if in.Records[0].MessageAttributes == nil {
				in.Records[0].MessageAttributes = map[string]events.SQSMessageAttribute{}
			}
			b, err := EncodeEvent(in)
			if err != nil {
				t.Fatal(err)
			}
			var raw struct{ Records []map[string]any }
			if err := json.Unmarshal(b, &raw); err != nil {
				t.Fatal(err)
			}
			got, present := raw.Records[0]["md5OfMessageAttributes"]
			if !present || got != tc.wantMD5 {
				t.Errorf("EncodeEvent: md5OfMessageAttributes = %#v (present %v), want %#v in %s", got, present, tc.wantMD5, b)
			}
			var back events.SQSEvent
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(in, back); diff != "" {
				t.Errorf("EncodeEvent then json.Unmarshal (-in +out):\n%s", diff)
			}
		})
	}
}
