package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// OccupancySample is one poll of a queue's observations (oWaiting, oInteracting, ...)
// and, for the queue of an assignment rule, its backlog.
type OccupancySample struct {
	Environment string
	QueueID     string
	SampledAt   time.Time
	Metrics     map[string]float64
	// Partial: some of the queue's values could not be read (the metric is then absent
	// from Metrics), so the sample must not drive a decision.
	Partial bool
}

type occupancyItem struct {
	PK          string             `dynamodbav:"pk"`
	SK          string             `dynamodbav:"sk"`
	Environment string             `dynamodbav:"environment"`
	QueueID     string             `dynamodbav:"queueId"`
	SampledAt   string             `dynamodbav:"sampledAt"`
	Metrics     map[string]float64 `dynamodbav:"metrics"`
	Partial     bool               `dynamodbav:"partial,omitempty"`
	TTL         int64              `dynamodbav:"ttl"`
}

// item validates o and returns it as stored, kept for retention after it was taken.
func (o OccupancySample) item(retention time.Duration) (occupancyItem, error) {
	if err := validEnv(o.Environment); err != nil {
		return occupancyItem{}, err
	}
	if o.QueueID == "" || o.SampledAt.IsZero() || retention <= 0 {
		return occupancyItem{}, fmt.Errorf("store: occupancy sample of %s queue %q: want a queue id, sampledAt and a positive retention", o.Environment, o.QueueID)
	}
	return occupancyItem{
		PK: occupancyPK(o.Environment, o.QueueID), SK: occupancySK(o.SampledAt),
		Environment: o.Environment, QueueID: o.QueueID, SampledAt: formatTime(o.SampledAt),
		Metrics: o.Metrics, Partial: o.Partial, TTL: ttlAt(o.SampledAt.Add(retention)),
	}, nil
}

// PutOccupancySample stores a sample, kept for retention after it was taken.
func (s *Store) PutOccupancySample(ctx context.Context, o OccupancySample, retention time.Duration) error {
	it, err := o.item(retention)
	if err != nil {
		return err
	}
	return s.put(ctx, "occupancy sample of "+o.QueueID, it)
}

// PutOccupancySamples stores samples (one poll of many queues), each kept for retention
// after it was taken, 25 to a batch write. Every sample is checked before any is written.
func (s *Store) PutOccupancySamples(ctx context.Context, samples []OccupancySample, retention time.Duration) error {
	reqs := make([]types.WriteRequest, 0, len(samples))
	for _, o := range samples {
		it, err := o.item(retention)
		if err != nil {
			return err
		}
		item, err := attributevalue.MarshalMap(it)
		if err != nil {
			return fmt.Errorf("store: occupancy sample of %s: %w", o.QueueID, err)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return fmt.Errorf("store: put %d occupancy samples: %w", len(samples), err)
	}
	return nil
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
		out[i] = OccupancySample{Environment: it.Environment, QueueID: it.QueueID, SampledAt: parseTime(it.SampledAt), Metrics: it.Metrics, Partial: it.Partial}
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

// OverflowState says whether new tasks of a worktype currently go to its overflow queue,
// and where the occupancy function's hysteresis stands (functions/occupancy). It has no
// TTL: it is durable state, and expiring it would silently point tasks back at a queue
// whose backlog is still above capacity.
type OverflowState struct {
	Environment   string
	Worktype      string // worktype name (the assignment rule's key)
	Rule          string // the assignment rule's name
	Active        bool   // true: defaultQueueId points at OverflowQueue
	Queue         string // the rule's queue name
	OverflowQueue string
	Backlog       int // waiting tasks at the last complete sample the state was written for
	// ChangedAt is since when Active has its value (the last switch); zero: never switched.
	ChangedAt time.Time
	// Above counts the consecutive complete samples with the backlog at or above
	// maxCapacity while inactive; Below those at or below resumeBelow while active.
	Above, Below int
	// LastSampleAt is the newest sample the state was written for: an older or repeated
	// one (a redelivered schedule) changes nothing. (A sample that changes nothing but
	// this time, while no run of samples is under way, is not written.)
	LastSampleAt time.Time
	// EnterChangeID and LeaveChangeID are the change requests of the last enter and the
	// last leave (routekeeper.change/v1 changeId), and SwitchStatus the outcome of the
	// latest of them once the apply engine recorded one ("" while it is pending).
	EnterChangeID, LeaveChangeID string
	SwitchStatus                 Status
	// Version counts the writes of the state; SwapOverflowState writes only over the
	// version it was given.
	Version int64
}

type overflowItem struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	Environment   string `dynamodbav:"environment"`
	Worktype      string `dynamodbav:"worktype"`
	Rule          string `dynamodbav:"rule,omitempty"`
	Active        bool   `dynamodbav:"active"`
	Queue         string `dynamodbav:"queue"`
	OverflowQueue string `dynamodbav:"overflowQueue"`
	Backlog       int    `dynamodbav:"backlog"`
	ChangedAt     string `dynamodbav:"changedAt"`
	Above         int    `dynamodbav:"above,omitempty"`
	Below         int    `dynamodbav:"below,omitempty"`
	LastSampleAt  string `dynamodbav:"lastSampleAt,omitempty"`
	EnterChangeID string `dynamodbav:"enterChangeId,omitempty"`
	LeaveChangeID string `dynamodbav:"leaveChangeId,omitempty"`
	SwitchStatus  Status `dynamodbav:"switchStatus,omitempty"`
	Version       int64  `dynamodbav:"version"`
}

// ErrOverflowChanged: the overflow state was written by someone else (an overlapping run)
// since it was read; nothing was written. Read it again.
var ErrOverflowChanged = errors.New("store: overflow state changed since it was read")

func (o OverflowState) item() (overflowItem, error) {
	if err := validEnv(o.Environment); err != nil {
		return overflowItem{}, err
	}
	if o.Worktype == "" {
		return overflowItem{}, fmt.Errorf("store: overflow state of %s: empty worktype", o.Environment)
	}
	return overflowItem{
		PK: envPK(o.Environment), SK: overflowSK(o.Worktype), Environment: o.Environment,
		Worktype: o.Worktype, Rule: o.Rule, Active: o.Active, Queue: o.Queue, OverflowQueue: o.OverflowQueue,
		Backlog: o.Backlog, ChangedAt: formatOptTime(o.ChangedAt), Above: o.Above, Below: o.Below,
		LastSampleAt: formatOptTime(o.LastSampleAt), EnterChangeID: o.EnterChangeID, LeaveChangeID: o.LeaveChangeID,
		SwitchStatus: o.SwitchStatus, Version: o.Version,
	}, nil
}

func (it overflowItem) state() OverflowState {
	return OverflowState{
		Environment: it.Environment, Worktype: it.Worktype, Rule: it.Rule, Active: it.Active, Queue: it.Queue,
		OverflowQueue: it.OverflowQueue, Backlog: it.Backlog, ChangedAt: parseTime(it.ChangedAt),
		Above: it.Above, Below: it.Below, LastSampleAt: parseTime(it.LastSampleAt),
		EnterChangeID: it.EnterChangeID, LeaveChangeID: it.LeaveChangeID, SwitchStatus: it.SwitchStatus,
		Version: it.Version,
	}
}

// formatOptTime is formatTime, or "" for the zero time.
func formatOptTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

// PutOverflowState stores the overflow state of a worktype as it is, whatever is stored.
// Starting or ending an overflow is a step of the worktype's history.
func (s *Store) PutOverflowState(ctx context.Context, o OverflowState) error {
	it, err := o.item()
	if err != nil {
		return err
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("store: overflow state of %s: %w", o.Worktype, err)
	}
	return s.putOverflow(ctx, o, &dynamodb.PutItemInput{Item: item})
}

// putOverflow writes the overflow state o (in) and appends its history step, with the
// state it replaced (ReturnValues ALL_OLD).
func (s *Store) putOverflow(ctx context.Context, o OverflowState, in *dynamodb.PutItemInput) error {
	if s.err != nil {
		return s.err
	}
	in.TableName, in.ReturnValues = aws.String(s.table), types.ReturnValueAllOld
	out, err := s.db.PutItem(ctx, in)
	if _, failed := conditionFailed(err); failed {
		return fmt.Errorf("store: overflow state of %s worktype %s at version %d: %w", o.Environment, o.Worktype, o.Version-1, ErrOverflowChanged)
	}
	if err != nil {
		return fmt.Errorf("store: put overflow state of %s: %w", o.Worktype, err)
	}
	return s.overflowHistory(ctx, o, out.Attributes)
}

// SwapOverflowState stores o as the overflow state of its worktype if the stored state is
// still the one o was made from: version o.Version (0: none stored yet). It stores o with
// Version o.Version+1 and returns it so. When another write came first it writes nothing
// and returns an error wrapping ErrOverflowChanged. Starting or ending an overflow is a
// step of the worktype's history; when only that step could not be written it returns
// the stored state and an error wrapping ErrHistoryNotRecorded.
func (s *Store) SwapOverflowState(ctx context.Context, o OverflowState) (OverflowState, error) {
	next := o
	next.Version = o.Version + 1
	it, err := next.item()
	if err != nil {
		return OverflowState{}, err
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return OverflowState{}, fmt.Errorf("store: overflow state of %s: %w", o.Worktype, err)
	}
	cond := expression.Name("version").Equal(expression.Value(o.Version))
	if o.Version == 0 {
		cond = expression.AttributeNotExists(expression.Name(attrPK))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return OverflowState{}, err
	}
	err = s.putOverflow(ctx, next, &dynamodb.PutItemInput{
		Item: item, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if err != nil && !errors.Is(err, ErrHistoryNotRecorded) {
		return OverflowState{}, err
	}
	return next, err // stored; err, if any, says its history step is not
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
	return it.state(), nil
}

// ListOverflowStates returns the overflow state of every worktype of env that has one,
// ordered by worktype name.
func (s *Store) ListOverflowStates(ctx context.Context, env string) ([]OverflowState, error) {
	if err := validEnv(env); err != nil {
		return nil, err
	}
	in, err := queryPrefix(envPK(env), prefixOverflow, true)
	if err != nil {
		return nil, err
	}
	items, err := query[overflowItem](ctx, s, in, 0)
	if err != nil {
		return nil, fmt.Errorf("store: list overflow states of %s: %w", env, err)
	}
	out := make([]OverflowState, len(items))
	for i, it := range items {
		out[i] = it.state()
	}
	return out, nil
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
