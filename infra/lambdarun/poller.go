package lambdarun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Invoker invokes a function synchronously (*Function satisfies it). An error
// means the invocation failed as a whole.
type Invoker interface {
	Invoke(ctx context.Context, event []byte) ([]byte, error)
}

// SQSAPI is the part of the SQS client a Poller uses (*sqs.Client satisfies it).
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// PollerOptions tune a Poller; the zero value gives Lambda's defaults.
type PollerOptions struct {
	// BatchSize is the most messages per invocation, 1..10 (10 is the FIFO
	// maximum and Lambda's default). 0 means 10.
	BatchSize int
	// WaitTime is the long-poll wait of each ReceiveMessage in Run; 0 means
	// 20s, as Lambda's pollers. Drain uses 1s.
	WaitTime time.Duration
	// Logger receives one line per batch and every problem; nil discards.
	Logger *slog.Logger
}

// Stats count what a Poller did.
type Stats struct {
	Batches        int // invocations
	Received       int // messages received (a redelivery counts again)
	Deleted        int // messages processed successfully and deleted
	Failed         int // messages left on the queue to be redelivered
	FunctionErrors int // invocations that failed as a whole (function error, timeout, bad response)
	DeleteErrors   int // successful messages SQS failed to delete (they will be redelivered)
}

// BatchResult is the outcome of one receive-invoke-delete cycle.
type BatchResult struct {
	Received int
	Deleted  []string // message ids
	Failed   []string // message ids left for redelivery
	// BatchError is why the whole batch failed, if it did: the invocation's
	// error or an unusable response.
	BatchError error
}

// Poller is an SQS event source mapping: it receives batches from a queue,
// invokes a function with an events.SQSEvent built exactly as Lambda builds
// it, and deletes the messages the function did not report as failed
// (ReportBatchItemFailures). Failed messages stay on the queue and reappear
// after the visibility timeout; SQS moves them to the dead-letter queue after
// maxReceiveCount receives. One batch is in flight at a time.
type Poller struct {
	client    SQSAPI
	queueURL  string
	queueARN  string
	region    string
	fn        Invoker
	batchSize int
	waitTime  time.Duration
	log       *slog.Logger

	mu    sync.Mutex
	stats Stats
}

// NewPoller returns a Poller for the queue at queueURL; it reads the queue's
// ARN (for eventSourceARN and awsRegion) from SQS.
func NewPoller(ctx context.Context, client SQSAPI, queueURL string, fn Invoker, opts PollerOptions) (*Poller, error) {
	if opts.BatchSize == 0 {
		opts.BatchSize = 10
	}
	if opts.BatchSize < 1 || opts.BatchSize > 10 {
		return nil, fmt.Errorf("lambdarun: batch size %d: want 1..10 (the FIFO limit)", opts.BatchSize)
	}
	if opts.WaitTime <= 0 {
		opts.WaitTime = 20 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(queueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return nil, fmt.Errorf("lambdarun: queue %s: %w", queueURL, err)
	}
	arn := out.Attributes[string(types.QueueAttributeNameQueueArn)]
	parts := strings.Split(arn, ":") // arn:aws:sqs:REGION:ACCOUNT:NAME
	if len(parts) != 6 {
		return nil, fmt.Errorf("lambdarun: queue %s has ARN %q, want arn:aws:sqs:region:account:name", queueURL, arn)
	}
	return &Poller{
		client: client, queueURL: queueURL, queueARN: arn, region: parts[3], fn: fn,
		batchSize: opts.BatchSize, waitTime: opts.WaitTime, log: opts.Logger,
	}, nil
}

// Stats returns the counts so far.
func (p *Poller) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Run polls until ctx is done, then returns nil. Receive errors are logged
// and retried with backoff (as Lambda's pollers do); only a queue that does
// not exist ends Run early, with an error.
func (p *Poller) Run(ctx context.Context) error {
	backoff := time.Second
	for ctx.Err() == nil {
		_, err := p.PollOnce(ctx, p.waitTime)
		if err == nil {
			backoff = time.Second
			continue
		}
		if ctx.Err() != nil {
			break
		}
		var missing *types.QueueDoesNotExist
		if errors.As(err, &missing) {
			return err
		}
		p.log.Warn("sqs poll failed; retrying", "queue", p.queueURL, "retryIn", backoff.String(), "error", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		backoff = min(2*backoff, 30*time.Second)
	}
	return nil
}

// Drain polls until the queue holds no message at all, visible, in flight or
// delayed, and returns the counts of this drain. Failed messages come back
// after the queue's visibility timeout, so a long timeout makes a long
// drain: bound ctx. It is meant for demos and tests.
func (p *Poller) Drain(ctx context.Context) (Stats, error) {
	before := p.Stats()
	for {
		res, err := p.PollOnce(ctx, time.Second)
		if err != nil {
			return p.Stats().sub(before), err
		}
		if res.Received > 0 {
			continue
		}
		n, err := p.approximateCount(ctx)
		if err != nil {
			return p.Stats().sub(before), err
		}
		if n == 0 {
			return p.Stats().sub(before), nil
		}
	}
}

func (s Stats) sub(o Stats) Stats {
	return Stats{
		Batches: s.Batches - o.Batches, Received: s.Received - o.Received, Deleted: s.Deleted - o.Deleted,
		Failed: s.Failed - o.Failed, FunctionErrors: s.FunctionErrors - o.FunctionErrors, DeleteErrors: s.DeleteErrors - o.DeleteErrors,
	}
}

func (p *Poller) approximateCount(ctx context.Context) (int, error) {
	names := []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
	}
	out, err := p.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(p.queueURL), AttributeNames: names})
	if err != nil {
		return 0, fmt.Errorf("lambdarun: queue %s attributes: %w", p.queueURL, err)
	}
	total := 0
	for _, n := range names {
		v, _ := strconv.Atoi(out.Attributes[string(n)])
		total += v
	}
	return total, nil
}

// PollOnce receives one batch (waiting up to wait for messages), invokes the
// function with it and deletes what succeeded. The error is about SQS; the
// function's failures are in the BatchResult.
func (p *Poller) PollOnce(ctx context.Context, wait time.Duration) (BatchResult, error) {
	out, err := p.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(p.queueURL),
		MaxNumberOfMessages:         int32(p.batchSize),
		WaitTimeSeconds:             int32(wait / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return BatchResult{}, fmt.Errorf("lambdarun: receive from %s: %w", p.queueURL, err)
	}
	if len(out.Messages) == 0 {
		return BatchResult{}, nil
	}
	ev := p.Event(out.Messages)
	res := BatchResult{Received: len(out.Messages)}
	payload, err := EncodeEvent(ev)
	if err != nil {
		return res, fmt.Errorf("lambdarun: encode SQS event: %w", err)
	}

	failed := map[string]bool{}
	resp, err := p.fn.Invoke(ctx, payload)
	if err != nil {
		res.BatchError = err
	} else {
		failedIDs, err := batchItemFailures(resp, ev)
		if err != nil {
			res.BatchError = err
		}
		for _, id := range failedIDs {
			failed[id] = true
		}
	}

	var del []types.DeleteMessageBatchRequestEntry
	for i, m := range ev.Records {
		if res.BatchError != nil || failed[m.MessageId] {
			res.Failed = append(res.Failed, m.MessageId)
			continue
		}
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(m.ReceiptHandle)})
	}
	deleteErrors := 0
	if len(del) > 0 {
		dout, err := p.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.queueURL), Entries: del})
		switch {
		case err != nil:
			deleteErrors = len(del)
			p.log.Error("delete processed messages failed; they will be redelivered", "queue", p.queueURL, "error", err)
		default:
			for _, s := range dout.Successful {
				if i, err := strconv.Atoi(aws.ToString(s.Id)); err == nil && i < len(ev.Records) {
					res.Deleted = append(res.Deleted, ev.Records[i].MessageId)
				}
			}
			for _, f := range dout.Failed {
				deleteErrors++
				p.log.Error("delete of a processed message failed; it will be redelivered", "queue", p.queueURL,
					"entry", aws.ToString(f.Id), "code", aws.ToString(f.Code), "message", aws.ToString(f.Message))
			}
		}
	}

	p.mu.Lock()
	p.stats.Batches++
	p.stats.Received += res.Received
	p.stats.Deleted += len(res.Deleted)
	p.stats.Failed += len(res.Failed)
	p.stats.DeleteErrors += deleteErrors
	if res.BatchError != nil {
		p.stats.FunctionErrors++
	}
	p.mu.Unlock()

	attrs := []any{"queue", p.queueURL, "received", res.Received, "deleted", len(res.Deleted), "failed", len(res.Failed)}
	if res.BatchError != nil {
		p.log.Warn("batch failed as a whole; messages will be redelivered", append(attrs, "error", res.BatchError)...)
	} else {
		p.log.Info("batch processed", attrs...)
	}
	return res, nil
}

// Event builds the events.SQSEvent Lambda would deliver for msgs.
func (p *Poller) Event(msgs []types.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	for i, m := range msgs {
		attrs := make(map[string]string, len(m.Attributes))
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		mattrs := make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes))
		for k, v := range m.MessageAttributes {
			a := events.SQSMessageAttribute{
				StringValue:      v.StringValue,
				BinaryValue:      v.BinaryValue,
				StringListValues: v.StringListValues,
				BinaryListValues: v.BinaryListValues,
				DataType:         aws.ToString(v.DataType),
			}
			if a.StringListValues == nil { // Lambda sends [] rather than null
				a.StringListValues = []string{}
			}
			if a.BinaryListValues == nil {
				a.BinaryListValues = [][]byte{}
			}
			mattrs[k] = a
		}
		ev.Records[i] = events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             attrs,
			MessageAttributes:      mattrs,
			EventSourceARN:         p.queueARN,
			EventSource:            "aws:sqs",
			AWSRegion:              p.region,
		}
	}
	return ev
}

// EncodeEvent encodes ev as Lambda delivers it: events.SQSMessage as is, except that a
// record without message attributes has "md5OfMessageAttributes": null, where encoding
// events.SQSMessage (a string field) would give "". Decoding either into events.SQSEvent
// gives "".
func EncodeEvent(ev events.SQSEvent) ([]byte, error) {
	type record struct {
		events.SQSMessage
		// Shadows the embedded field of the same JSON name.
		Md5OfMessageAttributes *string `json:"md5OfMessageAttributes"`
	}
	wire := struct {
		Records []record `json:"Records"`
	}{Records: make([]record, len(ev.Records))}
	for i, m := range ev.Records {
		wire.Records[i].SQSMessage = m
		if m.Md5OfMessageAttributes != "" {
			wire.Records[i].Md5OfMessageAttributes = &ev.Records[i].Md5OfMessageAttributes
		}
	}
	return json.Marshal(wire)
}

// batchItemFailures reads a function response with Lambda's rules for
// ReportBatchItemFailures: an empty or null response, or a null or empty
// batchItemFailures, is complete success; invalid JSON or an item whose
// itemIdentifier is missing, null, empty, misspelt or not a message of the
// batch fails the whole batch.
func batchItemFailures(resp []byte, ev events.SQSEvent) ([]string, error) {
	resp = bytes.TrimSpace(resp)
	if len(resp) == 0 || string(resp) == "null" {
		return nil, nil
	}
	var r struct {
		BatchItemFailures []map[string]any `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		return nil, fmt.Errorf("function response is not a batch response (%v): %s", err, truncate(string(resp), 200))
	}
	inBatch := map[string]bool{}
	for _, m := range ev.Records {
		inBatch[m.MessageId] = true
	}
	var ids []string
	for i, item := range r.BatchItemFailures {
		id, ok := item["itemIdentifier"].(string)
		switch {
		case !ok || id == "":
			return nil, fmt.Errorf("batchItemFailures[%d] has no itemIdentifier string: the whole batch counts as failed", i)
		case !inBatch[id]:
			return nil, fmt.Errorf("batchItemFailures[%d].itemIdentifier %q is not a message of this batch: the whole batch counts as failed", i, id)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
