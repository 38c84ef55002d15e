package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// DriftReport is one drift scan's report of an environment.
type DriftReport struct {
	Environment string
	GeneratedAt time.Time
	Report      json.RawMessage
	ExpiresAt   time.Time // TTL: GeneratedAt + retention
}

type driftItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Environment string `dynamodbav:"environment"`
	GeneratedAt string `dynamodbav:"generatedAt"`
	Report      string `dynamodbav:"report"`
	TTL         int64  `dynamodbav:"ttl"`
}

// PutDriftReport stores a drift report, kept for retention after it was generated.
func (s *Store) PutDriftReport(ctx context.Context, r DriftReport, retention time.Duration) error {
	if err := validEnv(r.Environment); err != nil {
		return err
	}
	if r.GeneratedAt.IsZero() || retention <= 0 || !json.Valid(r.Report) {
		return fmt.Errorf("store: drift report of %s: want generatedAt, a positive retention and a JSON report", r.Environment)
	}
	return s.put(ctx, "drift report of "+r.Environment, driftItem{
		PK: envPK(r.Environment), SK: driftSK(r.GeneratedAt), Environment: r.Environment,
		GeneratedAt: formatTime(r.GeneratedAt), Report: string(r.Report), TTL: ttlAt(r.GeneratedAt.Add(retention)),
	})
}

// LatestDriftReport returns the newest unexpired drift report of env, or ErrNotFound.
func (s *Store) LatestDriftReport(ctx context.Context, env string) (DriftReport, error) {
	if err := validEnv(env); err != nil {
		return DriftReport{}, err
	}
	// Newest first, skipping expired reports DynamoDB has not deleted yet; stop at the first.
	kc := expression.Key(attrPK).Equal(expression.Value(envPK(env))).And(expression.Key(attrSK).BeginsWith(prefixDrift))
	filter := expression.Name(attrTTL).GreaterThan(expression.Value(s.now().Unix()))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).WithFilter(filter).Build()
	if err != nil {
		return DriftReport{}, err
	}
	items, err := query[driftItem](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(10),
	}, 1)
	if err != nil {
		return DriftReport{}, fmt.Errorf("store: latest drift report of %s: %w", env, err)
	}
	if len(items) == 1 {
		it := items[0]
		return DriftReport{
			Environment: it.Environment, GeneratedAt: parseTime(it.GeneratedAt),
			Report: json.RawMessage(it.Report), ExpiresAt: time.Unix(it.TTL, 0).UTC(),
		}, nil
	}
	return DriftReport{}, fmt.Errorf("store: latest drift report of %s: %w", env, ErrNotFound)
}

// OccupancySample is one poll of a queue's observations (oWaiting, oInteracting, ...).
type OccupancySample struct {
	Environment string
	QueueID     string
	SampledAt   time.Time
	Metrics     map[string]float64
}

type occupancyItem struct {
	PK          string             `dynamodbav:"pk"`
	SK          string             `dynamodbav:"sk"`
	Environment string             `dynamodbav:"environment"`
	QueueID     string             `dynamodbav:"queueId"`
	SampledAt   string             `dynamodbav:"sampledAt"`
	Metrics     map[string]float64 `dynamodbav:"metrics"`
	TTL         int64              `dynamodbav:"ttl"`
}

// PutOccupancySample stores a sample, kept for retention after it was taken.
func (s *Store) PutOccupancySample(ctx context.Context, o OccupancySample, retention time.Duration) error {
	if err := validEnv(o.Environment); err != nil {
		return err
	}
	if o.QueueID == "" || o.SampledAt.IsZero() || retention <= 0 {
		return fmt.Errorf("store: occupancy sample of %s queue %q: want a queue id, sampledAt and a positive retention", o.Environment, o.QueueID)
	}
	return s.put(ctx, "occupancy sample of "+o.QueueID, occupancyItem{
		PK: occupancyPK(o.Environment, o.QueueID), SK: occupancySK(o.SampledAt),
		Environment: o.Environment, QueueID: o.QueueID, SampledAt: formatTime(o.SampledAt),
		Metrics: o.Metrics, TTL: ttlAt(o.SampledAt.Add(retention)),
	})
}

// ListOccupancySamples returns the samples of a queue taken at or after since, oldest first.
func (s *Store) ListOccupancySamples(ctx context.Context, env, queueID string, since time.Time) ([]OccupancySample, error) {
	if err := validEnv(env); err != nil {
		return nil, err
	}
	kc := expression.Key(attrPK).Equal(expression.Value(occupancyPK(env, queueID))).
		And(expression.Key(attrSK).GreaterThanEqual(expression.Value(occupancySK(since))))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, err
	}
	items, err := query[occupancyItem](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}, 0)
	if err != nil {
		return nil, fmt.Errorf("store: occupancy samples of %s queue %s: %w", env, queueID, err)
	}
	out := make([]OccupancySample, len(items))
	for i, it := range items {
		out[i] = OccupancySample{Environment: it.Environment, QueueID: it.QueueID, SampledAt: parseTime(it.SampledAt), Metrics: it.Metrics}
	}
	return out, nil
}

type eventItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	SeenAt string `dynamodbav:"seenAt"`
	TTL    int64  `dynamodbav:"ttl"`
}

// MarkEventSeen records a webhook event id for window and reports whether this is the
// first time it is seen in that window (false: a duplicate delivery, skip it). An id whose
// window has passed counts as new even if DynamoDB has not deleted it yet.
func (s *Store) MarkEventSeen(ctx context.Context, eventID string, window time.Duration) (first bool, err error) {
	if eventID == "" || window <= 0 {
		return false, fmt.Errorf("store: mark event %q seen: want an event id and a positive window", eventID)
	}
	now := s.now()
	item, err := attributevalue.MarshalMap(eventItem{PK: eventPK(eventID), SK: skEvent, SeenAt: formatTime(now), TTL: ttlAt(now.Add(window))})
	if err != nil {
		return false, err
	}
	cond := expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name(attrTTL).LessThan(expression.Value(now.Unix())))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if _, dup := conditionFailed(err); dup {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: mark event %s seen: %w", eventID, err)
	}
	return true, nil
}

// OverflowState says whether new tasks of a worktype currently go to its overflow queue.
// It has no TTL: it is durable state, and expiring it would silently point tasks back at a
// queue whose backlog is still above capacity.
type OverflowState struct {
	Environment   string
	Worktype      string // worktype name (the assignment rule's key)
	Active        bool   // true: defaultQueueId points at OverflowQueue
	Queue         string // the rule's queue name
	OverflowQueue string
	Backlog       int // waiting tasks when the state last changed
	ChangedAt     time.Time
}

type overflowItem struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	Environment   string `dynamodbav:"environment"`
	Worktype      string `dynamodbav:"worktype"`
	Active        bool   `dynamodbav:"active"`
	Queue         string `dynamodbav:"queue"`
	OverflowQueue string `dynamodbav:"overflowQueue"`
	Backlog       int    `dynamodbav:"backlog"`
	ChangedAt     string `dynamodbav:"changedAt"`
}

// PutOverflowState stores the overflow state of a worktype.
func (s *Store) PutOverflowState(ctx context.Context, o OverflowState) error {
	if err := validEnv(o.Environment); err != nil {
		return err
	}
	if o.Worktype == "" {
		return fmt.Errorf("store: overflow state of %s: empty worktype", o.Environment)
	}
	return s.put(ctx, "overflow state of "+o.Worktype, overflowItem{
		PK: envPK(o.Environment), SK: overflowSK(o.Worktype), Environment: o.Environment,
		Worktype: o.Worktype, Active: o.Active, Queue: o.Queue, OverflowQueue: o.OverflowQueue,
		Backlog: o.Backlog, ChangedAt: formatTime(o.ChangedAt),
	})
}

// GetOverflowState returns the overflow state of a worktype, or ErrNotFound.
func (s *Store) GetOverflowState(ctx context.Context, env, worktype string) (OverflowState, error) {
	if err := validEnv(env); err != nil {
		return OverflowState{}, err
	}
	var it overflowItem
	if err := s.getItem(ctx, envPK(env), overflowSK(worktype), &it); err != nil {
		return OverflowState{}, fmt.Errorf("store: overflow state of %s worktype %s: %w", env, worktype, err)
	}
	return OverflowState{
		Environment: it.Environment, Worktype: it.Worktype, Active: it.Active, Queue: it.Queue,
		OverflowQueue: it.OverflowQueue, Backlog: it.Backlog, ChangedAt: parseTime(it.ChangedAt),
	}, nil
}

func (s *Store) put(ctx context.Context, what string, v any) error {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("store: put %s: %w", what, err)
	}
	return nil
}
