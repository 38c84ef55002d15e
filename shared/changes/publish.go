package changes

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// BatchSender is the part of the SQS client a Publisher uses
// (*sqs.Client satisfies it).
type BatchSender interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// SQS SendMessageBatch limits.
const (
	MaxBatchEntries = 10
	MaxBatchBytes   = 256 * 1024 // sum of the message bodies in one call
)

// PublisherOptions tune a Publisher; the zero value is ready to use.
type PublisherOptions struct {
	// MaxAttempts bounds how often one request is sent, the first time
	// included. 0 means 5.
	MaxAttempts int
	// Backoff is the wait before the first retry; it doubles for each further
	// retry, up to 5 seconds. 0 means 200ms.
	Backoff time.Duration
	// Wait waits d or until ctx is done (returning ctx's error). nil means a
	// timer; tests inject a fake to run without waiting.
	Wait func(ctx context.Context, d time.Duration) error
}

// Publisher sends change requests to the SQS FIFO change queue.
//
// It never loses one silently: Publish returns every request that was not
// accepted by SQS in a *PublishError. Retries are safe because each message's
// MessageDeduplicationId is its changeId: should SQS have stored a message
// whose batch entry was reported failed, the resend is dropped as a duplicate.
//
// Per-entity order is kept: a batch holds at most one request per entity
// (message group), and an entity's next request is only sent after the
// previous one was accepted; if one fails for good, the entity's later
// requests are not sent (and are reported) rather than overtaking it.
type Publisher struct {
	client      BatchSender
	queueURL    string
	maxAttempts int
	backoff     time.Duration
	wait        func(ctx context.Context, d time.Duration) error
}

// NewPublisher returns a Publisher that sends to the FIFO queue at queueURL.
func NewPublisher(client BatchSender, queueURL string, opts PublisherOptions) *Publisher {
	p := &Publisher{client: client, queueURL: queueURL, maxAttempts: opts.MaxAttempts, backoff: opts.Backoff, wait: opts.Wait}
	if p.maxAttempts <= 0 {
		p.maxAttempts = 5
	}
	if p.backoff <= 0 {
		p.backoff = 200 * time.Millisecond
	}
	if p.wait == nil {
		p.wait = waitTimer
	}
	return p
}

const maxBackoff = 5 * time.Second

func waitTimer(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Sent describes one request SQS accepted.
type Sent struct {
	ChangeID       string
	MessageID      string
	SequenceNumber string
}

// ErrNotPublished is matched (errors.Is) by a *PublishError.
var ErrNotPublished = errors.New("changes: change requests not published")

// Failure is one request that was not published, and why.
type Failure struct {
	ChangeID string
	Key      entity.Key
	Err      error
}

// PublishError lists the requests Publish could not send. Those not listed
// were sent.
type PublishError struct {
	Failed []Failure // in the order given to Publish
	Sent   int
}

func (e *PublishError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "publish change requests: %d not sent (%d sent); resubmit them (same changeIds are deduplicated): ",
		len(e.Failed), e.Sent)
	for i, f := range e.Failed {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s): %v", f.ChangeID, f.Key, f.Err)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotPublished) true.
func (e *PublishError) Is(target error) bool { return target == ErrNotPublished }

// Publish validates and encodes every request, then sends them in
// SendMessageBatch calls of at most MaxBatchEntries entries and MaxBatchBytes
// bytes. Failed entries are retried (up to MaxAttempts sends, with backoff)
// unless SQS says the fault is the sender's. It returns what was sent, in the
// order given, and a *PublishError naming every request that was not.
//
// If any request is invalid (or two share a changeId) nothing is sent and the
// error matches ErrInvalid.
func (p *Publisher) Publish(ctx context.Context, reqs []*Request) ([]Sent, error) {
	items := make([]*pubItem, len(reqs))
	var invalid []error
	seen := map[string]int{}
	for i, r := range reqs {
		body, err := Encode(r)
		if err != nil {
			invalid = append(invalid, fmt.Errorf("request %d: %w", i, err))
			continue
		}
		if j, dup := seen[r.ChangeID]; dup {
			invalid = append(invalid, fmt.Errorf("request %d: %w", i, &InvalidError{ChangeID: r.ChangeID, Problems: []Problem{{
				Field: "changeId", Message: fmt.Sprintf("also used by request %d: every change needs its own id", j)}}}))
			continue
		}
		seen[r.ChangeID] = i
		items[i] = &pubItem{index: i, req: r, body: string(body), group: r.GroupID()}
	}
	if len(invalid) > 0 {
		return nil, fmt.Errorf("publish change requests: nothing sent: %w", errors.Join(invalid...))
	}

	// Queues of pending items per message group, groups in order of first appearance.
	var order []string
	pending := map[string][]*pubItem{}
	for _, it := range items {
		if _, ok := pending[it.group]; !ok {
			order = append(order, it.group)
		}
		pending[it.group] = append(pending[it.group], it)
	}

	sent := make([]*Sent, len(items))
	failed := make([]error, len(items))
	failGroup := func(g string, err error) {
		q := pending[g]
		failed[q[0].index] = err
		for _, it := range q[1:] {
			failed[it.index] = fmt.Errorf("not sent: earlier change %s of the same entity was not sent, and order matters", q[0].req.ChangeID)
		}
		delete(pending, g)
	}

	backoff := p.backoff
	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			for _, g := range order {
				if _, ok := pending[g]; ok {
					failGroup(g, fmt.Errorf("not sent: %w", err))
				}
			}
			break
		}
		// One round: the head of every pending group, in batches.
		var heads []*pubItem
		for _, g := range order {
			if q, ok := pending[g]; ok {
				heads = append(heads, q[0])
			}
		}
		retry := false
		for _, batch := range splitBatches(heads) {
			results := p.send(ctx, batch)
			for i, it := range batch {
				res := results[i]
				switch {
				case res.sent != nil:
					sent[it.index] = res.sent
					if q := pending[it.group][1:]; len(q) > 0 {
						pending[it.group] = q
					} else {
						delete(pending, it.group)
					}
				case res.permanent || it.attempts >= p.maxAttempts || ctx.Err() != nil:
					failGroup(it.group, fmt.Errorf("after %d attempts: %w", it.attempts, res.err))
				default:
					retry = true
				}
			}
		}
		if retry {
			if err := p.wait(ctx, backoff); err != nil {
				continue // the loop head reports the context error for what is left
			}
			backoff = min(2*backoff, maxBackoff)
		}
	}

	var out []Sent
	var pe PublishError
	for i, it := range items {
		if sent[i] != nil {
			out = append(out, *sent[i])
			continue
		}
		pe.Failed = append(pe.Failed, Failure{ChangeID: it.req.ChangeID, Key: it.req.Key(), Err: failed[i]})
	}
	if len(pe.Failed) > 0 {
		pe.Sent = len(out)
		return out, &pe
	}
	return out, nil
}

type pubItem struct {
	index    int
	req      *Request
	body     string
	group    string
	attempts int
}

type sendResult struct {
	sent      *Sent
	err       error
	permanent bool
}

// splitBatches cuts items into SendMessageBatch calls within the entry and
// byte limits, keeping their order.
func splitBatches(items []*pubItem) [][]*pubItem {
	var batches [][]*pubItem
	var cur []*pubItem
	size := 0
	for _, it := range items {
		if len(cur) == MaxBatchEntries || (len(cur) > 0 && size+len(it.body) > MaxBatchBytes) {
			batches = append(batches, cur)
			cur, size = nil, 0
		}
		cur = append(cur, it)
		size += len(it.body)
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	return batches
}

// send makes one SendMessageBatch call and returns a result per item.
func (p *Publisher) send(ctx context.Context, batch []*pubItem) []sendResult {
	entries := make([]types.SendMessageBatchRequestEntry, len(batch))
	for i, it := range batch {
		it.attempts++
		entries[i] = types.SendMessageBatchRequestEntry{
			Id:                     aws.String(strconv.Itoa(i)),
			MessageBody:            aws.String(it.body),
			MessageGroupId:         aws.String(it.group),
			MessageDeduplicationId: aws.String(it.req.ChangeID),
		}
	}
	results := make([]sendResult, len(batch))
	out, err := p.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(p.queueURL), Entries: entries})
	if err != nil {
		// The SDK has already retried what it considers retryable; a client
		// fault (no such queue, access denied, bad request) will not heal.
		var ae smithy.APIError
		permanent := errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultClient
		for i := range results {
			results[i] = sendResult{err: fmt.Errorf("SendMessageBatch to %s: %w", p.queueURL, err), permanent: permanent}
		}
		return results
	}
	answered := make([]bool, len(batch))
	for _, s := range out.Successful {
		i, ok := entryIndex(s.Id, len(batch))
		if !ok {
			continue
		}
		answered[i] = true
		results[i] = sendResult{sent: &Sent{
			ChangeID:       batch[i].req.ChangeID,
			MessageID:      aws.ToString(s.MessageId),
			SequenceNumber: aws.ToString(s.SequenceNumber),
		}}
	}
	for _, f := range out.Failed {
		i, ok := entryIndex(f.Id, len(batch))
		if !ok {
			continue
		}
		answered[i] = true
		results[i] = sendResult{
			err:       fmt.Errorf("SQS rejected the entry: %s: %s", aws.ToString(f.Code), aws.ToString(f.Message)),
			permanent: f.SenderFault,
		}
	}
	for i, ok := range answered {
		if !ok {
			results[i] = sendResult{err: errors.New("SQS answered neither success nor failure for the entry")}
		}
	}
	return results
}

func entryIndex(id *string, n int) (int, bool) {
	i, err := strconv.Atoi(aws.ToString(id))
	return i, err == nil && i >= 0 && i < n
}
