package stack

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// recordingSQS passes calls to the stack's queue and records the receives; the first
// receive ends the poll (cancel).
type recordingSQS struct {
	*sqs.Client
	cancel context.CancelFunc

	mu       sync.Mutex
	attrs    int
	receives []*sqs.ReceiveMessageInput
}

func (r *recordingSQS) GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	r.mu.Lock()
	r.attrs++
	r.mu.Unlock()
	return r.Client.GetQueueAttributes(ctx, in, opts...)
}

func (r *recordingSQS) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	r.mu.Lock()
	r.receives = append(r.receives, in)
	r.mu.Unlock()
	r.cancel()
	return &sqs.ReceiveMessageOutput{}, nil
}

// PollersWith builds the template's pollers on the client and long-poll wait given.
func TestPollersWith(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	client := &recordingSQS{Client: sqs.NewFromConfig(s.AWS), cancel: cancel}
	ps, err := s.PollersWith(ctx, "apply", noInvoke{}, PollOptions{Client: client, WaitTime: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 {
		t.Fatalf("got %d pollers for apply, want 1 (its one SQS event)", len(ps))
	}
	if err := ps[0].Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	client.mu.Lock()
	defer client.mu.Unlock()
	if client.attrs == 0 {
		t.Errorf("NewPoller read the queue's ARN with another client than the one given")
	}
	if len(client.receives) != 1 {
		t.Fatalf("got %d receives through the client given, want 1", len(client.receives))
	}
	in := client.receives[0]
	if aws.ToString(in.QueueUrl) != s.Resources.ChangeQueueURL || in.WaitTimeSeconds != 3 || in.MaxNumberOfMessages != 10 {
		t.Errorf("receive: got queue %s, wait %d s, batch %d; want %s, 3 s, the template's 10", aws.ToString(in.QueueUrl), in.WaitTimeSeconds, in.MaxNumberOfMessages, s.Resources.ChangeQueueURL)
	}
}
