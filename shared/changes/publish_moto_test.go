package changes

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/routekeeper/routekeeper/infra/awslocal"
)

// countingSender counts SendMessageBatch calls to a real client.
type countingSender struct {
	*sqs.Client
	calls atomic.Int32
}

func (c *countingSender) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	c.calls.Add(1)
	return c.Client.SendMessageBatch(ctx, in, optFns...)
}

// receiveAll receives (and deletes) messages until want arrived or a receive
// comes back empty after the deadline.
func receiveAll(ctx context.Context, t *testing.T, client *sqs.Client, queueURL string, want int) []types.Message {
	t.Helper()
	var got []types.Message
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < want || time.Now().Before(deadline) {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(queueURL),
			MaxNumberOfMessages:         10,
			WaitTimeSeconds:             1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		for _, m := range out.Messages {
			got = append(got, m)
			if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("DeleteMessage: %v", err)
			}
		}
		if len(out.Messages) == 0 && (len(got) >= want || time.Now().After(deadline)) {
			break
		}
	}
	return got
}

func TestPublishToSQSFIFO(t *testing.T) {
	cfg, res := awslocal.ForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := sqs.NewFromConfig(cfg)
	sender := &countingSender{Client: client}
	p := NewPublisher(sender, res.ChangeQueueURL, PublisherOptions{})

	reqs := planRequests(t, 25, false)
	reqs[7].Entity.Name = "Überprüfung – Kfz 🚑" // unicode and spaces in a group id
	sent, err := p.Publish(ctx, reqs)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if got := sender.calls.Load(); got != 3 {
		t.Errorf("SendMessageBatch calls = %d, want 3 for 25 requests", got)
	}
	if len(sent) != 25 || sent[0].MessageID == "" || sent[0].SequenceNumber == "" {
		t.Errorf("Sent = %d entries, first %+v; want 25 with message ids and sequence numbers", len(sent), sent[0])
	}

	// Resubmitting changes within SQS's 5-minute deduplication window must not
	// enqueue them again. (Real SQS also drops a resubmission whose first copy
	// was already consumed and deleted; moto 5.2 only compares with messages
	// still in the queue, so this resubmits before anything is received.)
	fresh := planRequests(t, 26, false)[25]
	if _, err := p.Publish(ctx, []*Request{reqs[3], fresh, reqs[10]}); err != nil {
		t.Fatalf("second Publish: %v", err)
	}

	msgs := receiveAll(ctx, t, client, res.ChangeQueueURL, 26)
	if len(msgs) != 26 {
		t.Errorf("received %d messages, want 26 (25, then 1 new of 3 resubmitted)", len(msgs))
	}
	byID := map[string]*Request{fresh.ChangeID: fresh}
	for _, r := range reqs {
		byID[r.ChangeID] = r
	}
	for _, m := range msgs {
		got, err := Decode([]byte(aws.ToString(m.Body)))
		if err != nil {
			t.Fatalf("received body does not decode: %v", err)
		}
		want := byID[got.ChangeID]
		if want == nil {
			t.Fatalf("received change %s twice or never sent it", got.ChangeID)
		}
		if g := m.Attributes["MessageGroupId"]; g != want.GroupID() {
			t.Errorf("%s: MessageGroupId = %q, want %q", got.ChangeID, g, want.GroupID())
		}
		if d := m.Attributes["MessageDeduplicationId"]; d != want.ChangeID {
			t.Errorf("%s: MessageDeduplicationId = %q, want the changeId", got.ChangeID, d)
		}
		if got.Entity.Name != want.Entity.Name {
			t.Errorf("%s: entity name = %q, want %q", got.ChangeID, got.Entity.Name, want.Entity.Name)
		}
		delete(byID, got.ChangeID)
	}
	if len(byID) != 0 {
		t.Errorf("%d changes never arrived", len(byID))
	}
}
