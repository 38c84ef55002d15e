package lambdarun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/routekeeper/routekeeper/infra/awslocal"
)

// SQSSender is the part of the SQS client a Rule uses for its dead-letter
// queue (*sqs.Client satisfies it).
type SQSSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// EventBridge's retry defaults and limits (RetryPolicy in the EventBridge API
// reference).
const (
	defaultRetryAttempts = 185
	defaultMaxEventAge   = 24 * time.Hour
)

// DeadLetterQueue is where a Rule sends the events it could not deliver: a
// standard SQS queue (EventBridge does not take FIFO queues).
type DeadLetterQueue struct {
	Client   SQSSender
	QueueURL string
}

// RuleOptions configure a Rule; the zero value is a rule without a dead-letter
// queue, with EventBridge's default retry policy.
type RuleOptions struct {
	// RuleARN and TargetARN go into the dead-letter messages (RULE_ARN,
	// TARGET_ARN); both are required with a DeadLetterQueue. A rule's ARN is
	// arn:aws:events:REGION:ACCOUNT:rule/NAME on the default bus and
	// arn:aws:events:REGION:ACCOUNT:rule/BUS/NAME on another one.
	RuleARN, TargetARN string
	// Input is the target's Input: JSON that the target receives instead of
	// the event.
	Input string
	// RetryPolicy limits the retries of a delivery that failed; nil is
	// EventBridge's default (185 retries over at most 24 hours).
	RetryPolicy *awslocal.RetryPolicy
	// DeadLetterQueue receives the events that could not be delivered; nil
	// drops them, as EventBridge does.
	DeadLetterQueue *DeadLetterQueue
	// Backoff is the wait before retry n (1, 2, ...). EventBridge documents
	// only "exponential back off and jitter"; the default is full jitter over
	// 1 s doubling up to 5 minutes.
	Backoff func(retry int) time.Duration
	// Clock times the retries and the event's age; default SystemClock.
	Clock Clock
	// Logger receives a line per failed attempt; nil discards.
	Logger *slog.Logger
}

// Rule is an EventBridge rule with one Lambda target: Deliver matches an
// event against the rule's event pattern and, when it matches, delivers it to
// the target with EventBridge's retry policy and dead-letter queue.
//
// EventBridge invokes Lambda asynchronously: for EventBridge a delivery has
// succeeded once Lambda accepted the event, and a function error is Lambda's
// to retry (its asynchronous invocation retries and the function's own
// dead-letter queue or destinations), never EventBridge's. So a function
// error (a *FunctionError from the Invoker) ends the delivery as delivered,
// reported in Delivery.FunctionError, and is not retried here; retries and the
// dead-letter queue are for the invocations that did not happen (the
// function is gone, the emulator unreachable).
type Rule struct {
	pattern   *Pattern
	target    Invoker
	input     []byte
	retries   int
	maxAge    time.Duration
	dlq       *DeadLetterQueue
	ruleARN   string
	targetARN string
	backoff   func(int) time.Duration
	clock     Clock
	log       *slog.Logger
}

// Delivery is what a Rule did with one event.
type Delivery struct {
	// Matched reports whether the event matched the pattern; nothing else
	// happened when it did not.
	Matched bool
	// Attempts counts the invocations of the target.
	Attempts int
	// Response is the target's response payload when an attempt succeeded.
	Response []byte
	// FunctionError is the function's error (a *FunctionError) when the
	// function ran and failed; the event counts as delivered.
	FunctionError error
	// Err is the last delivery failure when the event was not delivered;
	// ErrorCode is its dead-letter ERROR_CODE.
	Err       error
	ErrorCode string
	// ExhaustedRetryCondition is MaximumRetryAttempts or
	// MaximumEventAgeInSeconds when the retry policy ended the delivery, ""
	// when the error was not retryable.
	ExhaustedRetryCondition string
	// DeadLettered reports that the event went to the dead-letter queue; an
	// undelivered event that did not was dropped.
	DeadLettered bool
}

// Delivered reports whether the target accepted the event.
func (d Delivery) Delivered() bool { return d.Matched && d.Err == nil }

// NewRule compiles pattern (the rule's event pattern JSON) for a rule whose
// target is fn.
func NewRule(pattern []byte, fn Invoker, opts RuleOptions) (*Rule, error) {
	p, err := ParsePattern(pattern)
	if err != nil {
		return nil, err
	}
	r := &Rule{pattern: p, target: fn, retries: defaultRetryAttempts, maxAge: defaultMaxEventAge,
		dlq: opts.DeadLetterQueue, ruleARN: opts.RuleARN, targetARN: opts.TargetARN,
		backoff: opts.Backoff, clock: opts.Clock, log: opts.Logger}
	if opts.Input != "" {
		if !json.Valid([]byte(opts.Input)) {
			return nil, fmt.Errorf("lambdarun: rule %s: Input is not valid JSON: %s", opts.RuleARN, truncate(opts.Input, 100))
		}
		r.input = []byte(opts.Input)
	}
	if rp := opts.RetryPolicy; rp != nil {
		if n := rp.MaximumRetryAttempts; n != nil {
			if *n < 0 || *n > 185 {
				return nil, fmt.Errorf("lambdarun: rule %s: RetryPolicy.MaximumRetryAttempts %d: want 0..185", opts.RuleARN, *n)
			}
			r.retries = *n
		}
		if n := rp.MaximumEventAgeInSeconds; n != nil {
			if *n < 60 || *n > 86400 {
				return nil, fmt.Errorf("lambdarun: rule %s: RetryPolicy.MaximumEventAgeInSeconds %d: want 60..86400", opts.RuleARN, *n)
			}
			r.maxAge = time.Duration(*n) * time.Second
		}
	}
	if q := opts.DeadLetterQueue; q != nil {
		switch {
		case q.Client == nil || q.QueueURL == "":
			return nil, errors.New("lambdarun: DeadLetterQueue needs a Client and a QueueURL")
		case strings.HasSuffix(q.QueueURL, ".fifo"):
			return nil, fmt.Errorf("lambdarun: dead-letter queue %s is a FIFO queue; EventBridge takes only standard queues", q.QueueURL)
		case opts.RuleARN == "" || opts.TargetARN == "":
			return nil, errors.New("lambdarun: a rule with a DeadLetterQueue needs RuleARN and TargetARN (the dead-letter messages carry them)")
		}
	}
	if r.backoff == nil {
		r.backoff = fullJitter
	}
	if r.clock == nil {
		r.clock = SystemClock
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// fullJitter is the "full jitter" of exponential backoff: a random wait up to
// 1 s × 2^(retry-1), capped at 5 minutes.
func fullJitter(retry int) time.Duration {
	ceiling := 5 * time.Minute
	if retry < 10 {
		ceiling = min(ceiling, time.Second<<(retry-1))
	}
	return rand.N(ceiling) + time.Millisecond
}

// Pattern is the rule's compiled event pattern.
func (r *Rule) Pattern() *Pattern { return r.pattern }

// Deliver matches event (an EventBridge event: version, id, detail-type,
// source, account, time, region, resources, detail) against the pattern
// and, when it matches, invokes the target with it (or with the Input),
// retrying failed invocations per the retry policy and sending the event to
// the dead-letter queue when they are exhausted or not retryable. It returns
// when the event is delivered, dead-lettered or dropped. The error is about
// the event not being JSON, ctx ending, or the dead-letter queue refusing
// the message (EventBridge's InvocationsFailedToBeSentToDlq).
func (r *Rule) Deliver(ctx context.Context, event []byte) (Delivery, error) {
	var d Delivery
	matched, err := r.pattern.Match(event)
	if err != nil || !matched {
		return d, err
	}
	d.Matched = true
	received := r.clock.Now()
	payload := event
	if r.input != nil {
		payload = r.input
	}
	for {
		d.Attempts++
		resp, err := r.target.Invoke(ctx, payload)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return d, ctxErr
		}
		var fe *FunctionError
		switch {
		case err == nil:
			d.Response, d.Err, d.ErrorCode = resp, nil, ""
			return d, nil
		case errors.As(err, &fe):
			d.FunctionError, d.Err, d.ErrorCode = err, nil, ""
			return d, nil
		}
		code, retryable := deliveryErrorCode(err)
		d.Err, d.ErrorCode = err, code
		r.log.Warn("rule target invocation failed", "rule", r.ruleARN, "attempt", d.Attempts, "code", code, "error", err)
		if !retryable {
			break
		}
		if d.Attempts > r.retries {
			d.ExhaustedRetryCondition = "MaximumRetryAttempts"
			break
		}
		delay := r.backoff(d.Attempts)
		if r.clock.Now().Add(delay).Sub(received) > r.maxAge {
			d.ExhaustedRetryCondition = "MaximumEventAgeInSeconds"
			break
		}
		if err := sleep(ctx, r.clock, delay); err != nil {
			return d, err
		}
	}
	if r.dlq == nil {
		return d, nil
	}
	if err := r.deadLetter(ctx, event, d); err != nil {
		return d, err
	}
	d.DeadLettered = true
	return d, nil
}

// deliveryErrorCode maps an invocation that did not happen to one of the
// ERROR_CODE values the EventBridge guide lists, and says whether EventBridge
// retries it: a function that no longer exists is not retried.
func deliveryErrorCode(err error) (code string, retryable bool) {
	var netErr net.Error
	switch {
	case errors.Is(err, ErrStopped):
		return "NO_RESOURCE", false
	case errors.As(err, &netErr) && netErr.Timeout():
		return "TIMEOUT", true
	case errors.As(err, &netErr):
		return "CONNECTION_FAILURE", true
	}
	return "INTERNAL_ERROR", true
}

// deadLetter sends the original event (never the Input) with the attributes
// EventBridge sets on its dead-letter messages.
func (r *Rule) deadLetter(ctx context.Context, event []byte, d Delivery) error {
	attr := func(v string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	attrs := map[string]types.MessageAttributeValue{
		"RULE_ARN":       attr(r.ruleARN),
		"TARGET_ARN":     attr(r.targetARN),
		"ERROR_CODE":     attr(d.ErrorCode),
		"ERROR_MESSAGE":  attr(truncate(d.Err.Error(), 1000)),
		"RETRY_ATTEMPTS": attr(strconv.Itoa(d.Attempts - 1)),
	}
	if d.ExhaustedRetryCondition != "" {
		attrs["EXHAUSTED_RETRY_CONDITION"] = attr(d.ExhaustedRetryCondition)
	}
	_, err := r.dlq.Client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(r.dlq.QueueURL), MessageBody: aws.String(string(event)), MessageAttributes: attrs,
	})
	if err != nil {
		return fmt.Errorf("lambdarun: rule %s: send undelivered event to dead-letter queue %s: %w", r.ruleARN, r.dlq.QueueURL, err)
	}
	return nil
}
