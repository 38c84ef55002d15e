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

	"github.com/routekeeper/routekeeper/shared/entity"
)

// DriftState is one entity's drift state as the webhook or the drift scan last assessed
// it (shared/drift owns the states and the differences' shape; the store keeps them).
type DriftState struct {
	Key   entity.Key
	State string // IN_SYNC, MODIFIED, DELETED, MISSING, UNMANAGED
	// Differences is the JSON of the differences found (MODIFIED), as shared/drift writes
	// them; nil when there are none.
	Differences json.RawMessage
	ETag        string    // of the live state assessed; "" when the entity was not live
	ObservedAt  time.Time // when that live state was read
	Cause       *Cause
	// ChangedAt is when State last changed (set by PutDriftState).
	ChangedAt time.Time
}

type stateItem struct {
	PK          string      `dynamodbav:"pk"`
	SK          string      `dynamodbav:"sk"`
	Environment string      `dynamodbav:"environment"`
	Kind        entity.Kind `dynamodbav:"kind"`
	Name        string      `dynamodbav:"name"`
	State       string      `dynamodbav:"state"`
	Differences string      `dynamodbav:"differences,omitempty"`
	ETag        string      `dynamodbav:"etag,omitempty"`
	ObservedAt  string      `dynamodbav:"observedAt"`
	Cause       string      `dynamodbav:"cause,omitempty"`
	ChangedAt   string      `dynamodbav:"changedAt"`
}

func (it stateItem) state() DriftState {
	d := DriftState{
		Key:   entity.Key{Environment: it.Environment, Kind: it.Kind, Name: it.Name},
		State: it.State, ETag: it.ETag, ObservedAt: parseTime(it.ObservedAt),
		Cause: decodeCause(it.Cause), ChangedAt: parseTime(it.ChangedAt),
	}
	if it.Differences != "" {
		d.Differences = json.RawMessage(it.Differences)
	}
	return d
}

// GetDriftState returns the drift state of k, or ErrNotFound.
func (s *Store) GetDriftState(ctx context.Context, k entity.Key) (DriftState, error) {
	if err := validKey(k); err != nil {
		return DriftState{}, err
	}
	var it stateItem
	if err := s.getItem(ctx, envPK(k.Environment), stateSK(k), &it); err != nil {
		return DriftState{}, fmt.Errorf("store: get drift state of %s: %w", k, err)
	}
	return it.state(), nil
}

// ListDriftStates returns the drift state of every entity of env, ordered by kind then
// name: one query, for a scan that compares a whole org at once.
func (s *Store) ListDriftStates(ctx context.Context, env string) ([]DriftState, error) {
	if err := validEnv(env); err != nil {
		return nil, err
	}
	in, err := queryPrefix(envPK(env), prefixState, true)
	if err != nil {
		return nil, err
	}
	items, err := query[stateItem](ctx, s, in, 0)
	if err != nil {
		return nil, fmt.Errorf("store: list drift states of %s: %w", env, err)
	}
	out := make([]DriftState, len(items))
	for i, it := range items {
		out[i] = it.state()
	}
	return out, nil
}

// PutDriftState stores d as its entity's drift state, on condition that the stored state
// is still prev, the one the caller read and assessed against (nil: none was stored).
// Another writer in between (a webhook and a scan assessing the same entity) makes it fail
// with ErrStale: read again and assess again. d is refused with ErrStale, unwritten, when
// prev was assessed from a newer observation. ChangedAt is kept from prev when the state
// is the same, and is the store's clock otherwise; a change of state is also a step of the
// entity's history.
func (s *Store) PutDriftState(ctx context.Context, d DriftState, prev *DriftState) error {
	if err := validKey(d.Key); err != nil {
		return err
	}
	if d.State == "" || d.ObservedAt.IsZero() {
		return fmt.Errorf("store: drift state of %s: want a state and observedAt", d.Key)
	}
	if len(d.Differences) > 0 && !json.Valid(d.Differences) {
		return fmt.Errorf("store: drift state of %s: differences are not valid JSON", d.Key)
	}
	if s.err != nil {
		return s.err
	}
	if prev != nil && d.ObservedAt.Before(prev.ObservedAt) {
		return fmt.Errorf("store: drift state of %s assessed at %s: the stored one is from %s: %w",
			d.Key, formatTime(d.ObservedAt), formatTime(prev.ObservedAt), ErrStale)
	}
	changed := s.now()
	if prev != nil && prev.State == d.State {
		changed = prev.ChangedAt
	}
	item, err := attributevalue.MarshalMap(stateItem{
		PK: envPK(d.Key.Environment), SK: stateSK(d.Key),
		Environment: d.Key.Environment, Kind: d.Key.Kind, Name: d.Key.Name,
		State: d.State, Differences: string(d.Differences), ETag: d.ETag,
		ObservedAt: formatTime(d.ObservedAt), Cause: encodeCause(d.Cause), ChangedAt: formatTime(changed),
	})
	if err != nil {
		return fmt.Errorf("store: drift state of %s: %w", d.Key, err)
	}
	cond := expression.AttributeNotExists(expression.Name(attrPK))
	if prev != nil {
		cond = expression.Name("observedAt").Equal(expression.Value(formatTime(prev.ObservedAt))).
			And(expression.Name("state").Equal(expression.Value(prev.State)))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if _, ok := conditionFailed(err); ok {
		return fmt.Errorf("store: drift state of %s changed since it was read: %w", d.Key, ErrStale)
	}
	if err != nil {
		return fmt.Errorf("store: put drift state of %s: %w", d.Key, err)
	}
	return s.driftHistory(ctx, d, prev, changed)
}

// GetDesired returns the desired configuration of one entity, or ErrNotFound (the entity
// is not declared).
func (s *Store) GetDesired(ctx context.Context, k entity.Key) (Desired, error) {
	if err := validKey(k); err != nil {
		return Desired{}, err
	}
	var it desiredItem
	if err := s.getItem(ctx, envPK(k.Environment), desiredSK(k), &it); err != nil {
		return Desired{}, fmt.Errorf("store: get desired config of %s: %w", k, err)
	}
	return it.desired(), nil
}

// ForgetEvent removes the mark MarkEventSeen left for eventID, so a redelivery of an event
// whose processing failed is processed instead of skipped as a duplicate.
func (s *Store) ForgetEvent(ctx context.Context, eventID string) error {
	if eventID == "" {
		return fmt.Errorf("store: forget event: empty event id")
	}
	if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(eventPK(eventID), skEvent)}); err != nil {
		return fmt.Errorf("store: forget event %s: %w", eventID, err)
	}
	return nil
}
