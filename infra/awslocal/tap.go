package awslocal

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Tap reads back what is put on an EventBridge bus of moto: a rule matching pattern on
// the bus forwards every matching event to an SQS queue of its own, which Receive reads.
// Tests and the demo use it to see the events routekeeper publishes, as a subscriber in
// AWS would.
type Tap struct {
	sqs      *sqs.Client
	queueURL string
}

// NewTap creates the rule and the queue on bus (names derived from name, which must be
// unique on the bus) for events matching pattern (an EventBridge event pattern, JSON).
func NewTap(ctx context.Context, cfg aws.Config, bus, name, pattern string) (*Tap, error) {
	sq := sqs.NewFromConfig(cfg)
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-tap")})
	if err != nil {
		return nil, fmt.Errorf("awslocal: tap %s: create queue: %w", name, err)
	}
	attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return nil, fmt.Errorf("awslocal: tap %s: queue ARN: %w", name, err)
	}
	eb := eventbridge.NewFromConfig(cfg)
	rule := name + "-tap"
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), EventBusName: aws.String(bus),
		EventPattern: aws.String(pattern), State: ebtypes.RuleStateEnabled}); err != nil {
		return nil, fmt.Errorf("awslocal: tap %s: put rule on %s: %w", name, bus, err)
	}
	arn := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	out, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String("tap"), Arn: aws.String(arn)}}})
	if err != nil {
		return nil, fmt.Errorf("awslocal: tap %s: put target: %w", name, err)
	}
	if out.FailedEntryCount > 0 {
		return nil, fmt.Errorf("awslocal: tap %s: put target: %s", name, aws.ToString(out.FailedEntries[0].ErrorMessage))
	}
	return &Tap{sqs: sq, queueURL: aws.ToString(q.QueueUrl)}, nil
}

// Receive returns the events forwarded so far, waiting up to wait for at least one. Each
// event is returned once.
func (t *Tap) Receive(ctx context.Context, wait time.Duration) ([]events.EventBridgeEvent, error) {
	secs := int32((wait + time.Second - 1) / time.Second)
	out, err := t.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(t.queueURL),
		MaxNumberOfMessages: 10, WaitTimeSeconds: min(secs, 20)})
	if err != nil {
		return nil, fmt.Errorf("awslocal: tap: receive: %w", err)
	}
	var evs []events.EventBridgeEvent
	for _, m := range out.Messages {
		var ev events.EventBridgeEvent
		dec := json.NewDecoder(strings.NewReader(aws.ToString(m.Body)))
		if err := dec.Decode(&ev); err != nil {
			return nil, fmt.Errorf("awslocal: tap: message is not an EventBridge event: %w", err)
		}
		evs = append(evs, ev)
		if _, err := t.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(t.queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			return nil, fmt.Errorf("awslocal: tap: delete: %w", err)
		}
	}
	return evs, nil
}

// ReceiveN returns events until it has n (or ctx ends).
func (t *Tap) ReceiveN(ctx context.Context, n int) ([]events.EventBridgeEvent, error) {
	var all []events.EventBridgeEvent
	for len(all) < n {
		if err := ctx.Err(); err != nil {
			return all, fmt.Errorf("awslocal: tap: %d of %d events received: %w", len(all), n, err)
		}
		evs, err := t.Receive(ctx, time.Second)
		if err != nil {
			return all, err
		}
		all = append(all, evs...)
	}
	return all, nil
}
