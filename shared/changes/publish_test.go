package changes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// fakeSender answers SendMessageBatch from a per-entry decision function and
// records every call.
type fakeSender struct {
	mu     sync.Mutex
	calls  [][]types.SendMessageBatchRequestEntry
	decide func(call int, e types.SendMessageBatchRequestEntry) *types.BatchResultErrorEntry // nil = success
	err    func(call int) error
}

func (f *fakeSender) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := len(f.calls)
	f.calls = append(f.calls, in.Entries)
	if f.err != nil {
		if err := f.err(call); err != nil {
			return nil, err
		}
	}
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		var fail *types.BatchResultErrorEntry
		if f.decide != nil {
			fail = f.decide(call, e)
		}
		if fail != nil {
			fail.Id = e.Id
			out.Failed = append(out.Failed, *fail)
			continue
		}
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{
			Id: e.Id, MessageId: aws.String("m-" + *e.MessageDeduplicationId), SequenceNumber: aws.String(fmt.Sprint(call)),
		})
	}
	return out, nil
}

// planRequests returns n valid update requests, entity i named "Queue <i>" (a
// space, so group ids must be derived) unless sameEntity.
func planRequests(t testing.TB, n int, sameEntity bool) []*Request {
	t.Helper()
	reqs := make([]*Request, n)
	for i := range reqs {
		r := validRequest(t)
		r.ChangeID = fmt.Sprintf("chg-%03d", i)
		if !sameEntity {
			r.Entity = Entity{Type: entity.Queue, Name: fmt.Sprintf("Queue %d", i)}
		}
		r.Desired = map[string]any{"description": fmt.Sprintf("change %d", i)}
		reqs[i] = r
	}
	return reqs
}

// recordWaits is a PublisherOptions.Wait that returns at once and records the waits.
func recordWaits(waits *[]time.Duration) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return ctx.Err()
	}
}

func TestPublishBatches(t *testing.T) {
	f := &fakeSender{}
	p := NewPublisher(f, "https://sqs.example/q.fifo", PublisherOptions{})
	reqs := planRequests(t, 25, false)
	sent, err := p.Publish(context.Background(), reqs)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if got, want := len(f.calls), 3; got != want {
		t.Errorf("SendMessageBatch calls = %d, want %d for 25 requests", got, want)
	}
	if got, want := []int{len(f.calls[0]), len(f.calls[1]), len(f.calls[2])}, []int{10, 10, 5}; !cmp.Equal(got, want) {
		t.Errorf("batch sizes = %v, want %v", got, want)
	}
	if len(sent) != 25 {
		t.Fatalf("got %d Sent, want 25", len(sent))
	}
	for i, s := range sent {
		if s.ChangeID != reqs[i].ChangeID || s.MessageID != "m-"+reqs[i].ChangeID {
			t.Errorf("sent[%d] = %+v, want change %s in input order", i, s, reqs[i].ChangeID)
		}
	}
	e := f.calls[0][3]
	if got, want := *e.MessageGroupId, reqs[3].GroupID(); got != want {
		t.Errorf("MessageGroupId = %q, want %q", got, want)
	}
	if got, want := *e.MessageDeduplicationId, reqs[3].ChangeID; got != want {
		t.Errorf("MessageDeduplicationId = %q, want the changeId %q", got, want)
	}
	if got, err := Decode([]byte(*e.MessageBody)); err != nil || got.ChangeID != reqs[3].ChangeID {
		t.Errorf("message body decodes to %+v, %v; want change %s", got, err, reqs[3].ChangeID)
	}
}

func TestPublishByteLimit(t *testing.T) {
	f := &fakeSender{}
	reqs := planRequests(t, 4, false)
	for _, r := range reqs {
		r.Desired["description"] = strings.Repeat("x", 100*1024) // 3 fit in no batch: 2 per call
	}
	if _, err := NewPublisher(f, "q", PublisherOptions{}).Publish(context.Background(), reqs); err != nil {
		t.Fatal(err)
	}
	for i, c := range f.calls {
		size := 0
		for _, e := range c {
			size += len(*e.MessageBody)
		}
		if size > MaxBatchBytes {
			t.Errorf("call %d carries %d bytes, over the %d limit", i, size, MaxBatchBytes)
		}
	}
	if got, want := len(f.calls), 2; got != want {
		t.Errorf("calls = %d, want %d", got, want)
	}
}

func TestPublishRetriesPartialFailures(t *testing.T) {
	// chg-001 fails twice then succeeds; chg-002 fails with a sender fault (never
	// retried); chg-003 always fails (retried to MaxAttempts).
	f := &fakeSender{decide: func(call int, e types.SendMessageBatchRequestEntry) *types.BatchResultErrorEntry {
		switch id := *e.MessageDeduplicationId; {
		case id == "chg-001" && call < 2, id == "chg-003":
			return &types.BatchResultErrorEntry{Code: aws.String("InternalError"), Message: aws.String("try again")}
		case id == "chg-002":
			return &types.BatchResultErrorEntry{Code: aws.String("InvalidParameterValue"), Message: aws.String("bad"), SenderFault: true}
		}
		return nil
	}}
	var waits []time.Duration
	p := NewPublisher(f, "q", PublisherOptions{MaxAttempts: 4, Backoff: 100 * time.Millisecond, Wait: recordWaits(&waits)})
	reqs := planRequests(t, 5, false)
	sent, err := p.Publish(context.Background(), reqs)

	var pe *PublishError
	if !errors.As(err, &pe) || !errors.Is(err, ErrNotPublished) {
		t.Fatalf("Publish: got %v, want a *PublishError", err)
	}
	var gotFailed []string
	for _, fl := range pe.Failed {
		gotFailed = append(gotFailed, fl.ChangeID)
	}
	if diff := cmp.Diff([]string{"chg-002", "chg-003"}, gotFailed); diff != "" {
		t.Errorf("failed changes (-want +got):\n%s", diff)
	}
	var gotSent []string
	for _, s := range sent {
		gotSent = append(gotSent, s.ChangeID)
	}
	if diff := cmp.Diff([]string{"chg-000", "chg-001", "chg-004"}, gotSent); diff != "" {
		t.Errorf("sent changes (-want +got):\n%s", diff)
	}
	for _, want := range []string{"2 not sent (3 sent)", "chg-002 (prod/queue/Queue 2): after 1 attempts: SQS rejected the entry: InvalidParameterValue: bad",
		"chg-003 (prod/queue/Queue 3): after 4 attempts: SQS rejected the entry: InternalError"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if got, want := len(f.calls), 4; got != want {
		t.Errorf("calls = %d, want %d (first send and 3 retry rounds)", got, want)
	}
	if diff := cmp.Diff([]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}, waits); diff != "" {
		t.Errorf("backoff waits (-want +got):\n%s", diff)
	}
}

func TestPublishKeepsEntityOrder(t *testing.T) {
	// Three changes to one entity: the second fails for good, so the third
	// must not be sent (it would overtake it).
	f := &fakeSender{decide: func(_ int, e types.SendMessageBatchRequestEntry) *types.BatchResultErrorEntry {
		if *e.MessageDeduplicationId == "chg-001" {
			return &types.BatchResultErrorEntry{Code: aws.String("InvalidParameterValue"), Message: aws.String("bad"), SenderFault: true}
		}
		return nil
	}}
	reqs := planRequests(t, 3, true)
	sent, err := NewPublisher(f, "q", PublisherOptions{Wait: recordWaits(new([]time.Duration))}).Publish(context.Background(), reqs)
	var pe *PublishError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *PublishError", err)
	}
	if len(sent) != 1 || sent[0].ChangeID != "chg-000" {
		t.Errorf("sent = %+v, want only chg-000", sent)
	}
	if len(pe.Failed) != 2 || !strings.Contains(pe.Failed[1].Err.Error(), "earlier change chg-001 of the same entity was not sent") {
		t.Errorf("failed = %+v, want chg-001 and chg-003 blocked behind it", pe.Failed)
	}
	for i, c := range f.calls {
		if len(c) != 1 {
			t.Errorf("call %d has %d entries of one entity, want 1 (one message per group per batch)", i, len(c))
		}
	}
}

func TestPublishCallErrors(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantCalls int
	}{
		{"client fault is not retried", &smithy.GenericAPIError{Code: "AWS.SimpleQueueService.NonExistentQueue", Fault: smithy.FaultClient}, 1},
		{"network error is retried", errors.New("connection reset"), 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeSender{err: func(int) error { return tc.err }}
			p := NewPublisher(f, "q", PublisherOptions{MaxAttempts: 3, Wait: recordWaits(new([]time.Duration))})
			_, err := p.Publish(context.Background(), planRequests(t, 2, false))
			var pe *PublishError
			if !errors.As(err, &pe) || len(pe.Failed) != 2 {
				t.Fatalf("got %v, want both changes reported", err)
			}
			if len(f.calls) != tc.wantCalls {
				t.Errorf("calls = %d, want %d", len(f.calls), tc.wantCalls)
			}
		})
	}
}

func TestPublishContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeSender{decide: func(int, types.SendMessageBatchRequestEntry) *types.BatchResultErrorEntry {
		cancel() // the caller gives up while SQS is failing
		return &types.BatchResultErrorEntry{Code: aws.String("InternalError")}
	}}
	_, err := NewPublisher(f, "q", PublisherOptions{}).Publish(ctx, planRequests(t, 3, false))
	var pe *PublishError
	if !errors.As(err, &pe) || len(pe.Failed) != 3 {
		t.Fatalf("got %v, want all 3 changes reported", err)
	}
	if len(f.calls) != 1 {
		t.Errorf("calls = %d, want 1 (no retry after cancellation)", len(f.calls))
	}
}

func TestPublishRejectsInvalidBeforeSending(t *testing.T) {
	reqs := planRequests(t, 3, false)
	reqs[1].BaseEtag = ""
	reqs[2].ChangeID = reqs[0].ChangeID
	f := &fakeSender{}
	_, err := NewPublisher(f, "q", PublisherOptions{}).Publish(context.Background(), reqs)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v, want ErrInvalid", err)
	}
	for _, want := range []string{"request 1:", "baseEtag: required for update", "request 2:", "changeId: also used by request 0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if len(f.calls) != 0 {
		t.Errorf("calls = %d, want none when a request is invalid", len(f.calls))
	}
}
