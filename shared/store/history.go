package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// History is the append-only timeline of each entity (package doc, key layout): the store
// methods that record a fact append its step themselves, so no caller can forget it.
//
//   - PutObservation and PutObservations: an observation that changed what is known of the
//     entity (its ETag, its Genesys id, or whether it exists), or the first one;
//   - Complete: a change request's outcome (and Claim's replay of a completed request,
//     should that step be missing);
//   - PutDriftState: a change of drift state (a first IN_SYNC is not one);
//   - PutOverflowState and SwapOverflowState: an overflow starting or ending, on its
//     worktype.
//
// A step holds what changed, never the configuration: that is the snapshot of its ETag,
// kept as long as the step, so a reader diffs consecutive snapshots for the managed fields
// a step changed (GetSnapshots). The step is written after the fact, with the previous
// state the write itself returned (ReturnValues, at no extra capacity), so an observation
// that changed nothing costs nothing more. When the step cannot be written after the fact
// was stored, the method returns an error wrapping ErrHistoryNotRecorded: the fact is
// stored, only its step is missing.

// ErrHistoryNotRecorded: the fact was stored, but its history step could not be written.
var ErrHistoryNotRecorded = errors.New("store: history step not recorded")

// HistoryType is what kind of step a HistoryEvent is.
type HistoryType string

const (
	HistoryObserved HistoryType = "observed" // an observation changed what is known
	HistoryChange   HistoryType = "change"   // a change request ended
	HistoryDrift    HistoryType = "drift"    // the drift state changed
	HistoryOverflow HistoryType = "overflow" // an overflow started or ended (worktypes)
)

// HistoryEvent is one step of an entity's timeline. Which fields are set depends on Type.
type HistoryEvent struct {
	Key  entity.Key
	Type HistoryType
	// At orders the timeline: observedAt (observed), the request's requestedAt (change),
	// the store's clock at the state change (drift), the switch (overflow).
	At time.Time

	// observed (ETag also drift: the ETag assessed)
	Source        Source
	ETag          string // "" when Deleted
	PrevETag      string // the ETag known before; "" when none was (First, or deleted)
	GenesysID     string
	PrevGenesysID string
	Deleted       bool
	// First: nothing was known of the entity before (its history starts here).
	First    bool
	Cause    *Cause    // observed, drift: the audit event behind it, when known
	Modified time.Time // observed: Genesys's dateModified

	// change (ChangeID also overflow: the switch's change request)
	ChangeID    string
	Operation   string
	Status      Status // as it was completed; the change record may have moved on (POSSIBLE_OVERWRITE)
	RequestedBy string
	CompletedAt time.Time

	// drift
	State, PrevState string
	// Differences is the drift state's differences JSON, nil when there were none or
	// when they were over MaxHistoryDifferences (DifferencesOmitted).
	Differences        json.RawMessage
	DifferencesOmitted bool

	// overflow
	Active                     bool // true: started; false: ended
	Rule, Queue, OverflowQueue string
	Backlog                    int
	Since                      time.Time // ended: when it had started
}

// MaxHistoryDifferences bounds the differences JSON a drift step keeps, so a step stays a
// write of one or two capacity units.
const MaxHistoryDifferences = 2048

type historyItem struct {
	PK                 string      `dynamodbav:"pk"`
	SK                 string      `dynamodbav:"sk"`
	GSI1PK             string      `dynamodbav:"gsi1pk"`
	GSI1SK             string      `dynamodbav:"gsi1sk"`
	Environment        string      `dynamodbav:"environment"`
	Kind               entity.Kind `dynamodbav:"kind"`
	Name               string      `dynamodbav:"name"`
	Event              HistoryType `dynamodbav:"event"`
	At                 string      `dynamodbav:"at"`
	Source             Source      `dynamodbav:"source,omitempty"`
	ETag               string      `dynamodbav:"etag,omitempty"`
	PrevETag           string      `dynamodbav:"prevEtag,omitempty"`
	GenesysID          string      `dynamodbav:"genesysId,omitempty"`
	PrevGenesysID      string      `dynamodbav:"prevGenesysId,omitempty"`
	Deleted            bool        `dynamodbav:"deleted,omitempty"`
	First              bool        `dynamodbav:"first,omitempty"`
	Cause              string      `dynamodbav:"cause,omitempty"`
	Modified           string      `dynamodbav:"modified,omitempty"`
	ChangeID           string      `dynamodbav:"changeId,omitempty"`
	Operation          string      `dynamodbav:"operation,omitempty"`
	Status             Status      `dynamodbav:"status,omitempty"`
	RequestedBy        string      `dynamodbav:"requestedBy,omitempty"`
	CompletedAt        string      `dynamodbav:"completedAt,omitempty"`
	State              string      `dynamodbav:"state,omitempty"`
	PrevState          string      `dynamodbav:"prevState,omitempty"`
	Differences        string      `dynamodbav:"differences,omitempty"`
	DifferencesOmitted bool        `dynamodbav:"differencesOmitted,omitempty"`
	Active             bool        `dynamodbav:"active,omitempty"`
	Rule               string      `dynamodbav:"rule,omitempty"`
	Queue              string      `dynamodbav:"queue,omitempty"`
	OverflowQueue      string      `dynamodbav:"overflowQueue,omitempty"`
	Backlog            int         `dynamodbav:"backlog,omitempty"`
	Since              string      `dynamodbav:"since,omitempty"`
	TTL                int64       `dynamodbav:"ttl"`
}

func (it historyItem) event() HistoryEvent {
	e := HistoryEvent{
		Key:  entity.Key{Environment: it.Environment, Kind: it.Kind, Name: it.Name},
		Type: it.Event, At: parseTime(it.At),
		Source: it.Source, ETag: it.ETag, PrevETag: it.PrevETag, GenesysID: it.GenesysID, PrevGenesysID: it.PrevGenesysID,
		Deleted: it.Deleted, First: it.First, Cause: decodeCause(it.Cause), Modified: parseTime(it.Modified),
		ChangeID: it.ChangeID, Operation: it.Operation, Status: it.Status, RequestedBy: it.RequestedBy,
		CompletedAt: parseTime(it.CompletedAt), State: it.State, PrevState: it.PrevState,
		DifferencesOmitted: it.DifferencesOmitted, Active: it.Active, Rule: it.Rule, Queue: it.Queue,
		OverflowQueue: it.OverflowQueue, Backlog: it.Backlog, Since: parseTime(it.Since),
	}
	if it.Differences != "" {
		e.Differences = json.RawMessage(it.Differences)
	}
	return e
}

// discriminator makes a step's sort key unique among the steps of one instant, and the
// same when the same fact is written again (a retried put, a replayed change).
func (e HistoryEvent) discriminator() string {
	switch e.Type {
	case HistoryObserved:
		if e.Deleted {
			return "deleted"
		}
		return e.ETag
	case HistoryChange:
		return e.ChangeID
	case HistoryDrift:
		return e.State
	}
	return strconv.FormatBool(e.Active)
}

// appendHistory writes e, kept for the retention from now (the snapshots written with it
// last at least as long).
func (s *Store) appendHistory(ctx context.Context, e HistoryEvent) error {
	it := historyItem{
		PK: historyPK(e.Key), SK: historySK(e.At, e.Type, e.discriminator()),
		GSI1PK: historyGSI1PK(e.Key.Environment), GSI1SK: historyGSI1SK(e.At, e.Key),
		Environment: e.Key.Environment, Kind: e.Key.Kind, Name: e.Key.Name, Event: e.Type, At: formatTime(e.At),
		Source: e.Source, ETag: e.ETag, PrevETag: e.PrevETag, GenesysID: e.GenesysID, PrevGenesysID: e.PrevGenesysID,
		Deleted: e.Deleted, First: e.First, Cause: encodeCause(e.Cause), Modified: formatOptionalTime(e.Modified),
		ChangeID: e.ChangeID, Operation: e.Operation, Status: e.Status, RequestedBy: e.RequestedBy,
		CompletedAt: formatOptionalTime(e.CompletedAt), State: e.State, PrevState: e.PrevState,
		Differences: string(e.Differences), DifferencesOmitted: e.DifferencesOmitted, Active: e.Active, Rule: e.Rule,
		Queue: e.Queue, OverflowQueue: e.OverflowQueue, Backlog: e.Backlog, Since: formatOptionalTime(e.Since),
		TTL: ttlAt(s.now().Add(s.retention)),
	}
	if err := s.put(ctx, fmt.Sprintf("history step (%s) of %s", e.Type, e.Key), it); err != nil {
		return fmt.Errorf("%w (the %s is stored): %w", ErrHistoryNotRecorded, e.Type, err)
	}
	return nil
}

// observedHistory appends the step of observation o, which replaced old (the last-known
// item before it, empty when there was none), when o changed what is known.
func (s *Store) observedHistory(ctx context.Context, o Observation, old map[string]types.AttributeValue) error {
	e := HistoryEvent{Key: o.Key, Type: HistoryObserved, At: o.ObservedAt, Source: o.Source, ETag: o.ETag,
		GenesysID: o.GenesysID, Deleted: o.Deleted, Cause: o.Cause, Modified: o.Modified, First: len(old) == 0}
	if !e.First {
		var prev observationItem
		if err := attributevalue.UnmarshalMap(old, &prev); err != nil {
			return fmt.Errorf("store: history of %s: decode the previous observation: %w: %w", o.Key, ErrHistoryNotRecorded, err)
		}
		sameID := prev.GenesysID == o.GenesysID || o.GenesysID == "" || prev.GenesysID == ""
		if prev.ETag == o.ETag && prev.Deleted == o.Deleted && sameID {
			return nil
		}
		e.PrevETag, e.PrevGenesysID = prev.ETag, prev.GenesysID
	}
	return s.appendHistory(ctx, e)
}

// driftHistory appends the step of drift state d (stored over prev) when its state changed.
func (s *Store) driftHistory(ctx context.Context, d DriftState, prev *DriftState, changed time.Time) error {
	// A first assessment finding the entity as declared changes nothing worth a step (a
	// first scan would otherwise write one per entity).
	if (prev == nil && d.State == "IN_SYNC") || (prev != nil && prev.State == d.State) {
		return nil
	}
	e := HistoryEvent{Key: d.Key, Type: HistoryDrift, At: changed, State: d.State, ETag: d.ETag, Cause: d.Cause}
	if prev != nil {
		e.PrevState = prev.State
	}
	if len(d.Differences) > MaxHistoryDifferences {
		e.DifferencesOmitted = true
	} else if len(d.Differences) > 0 {
		e.Differences = d.Differences
	}
	return s.appendHistory(ctx, e)
}

// overflowHistory appends the step of overflow state o (stored over old, empty when there
// was none) when it started or ended an overflow.
func (s *Store) overflowHistory(ctx context.Context, o OverflowState, old map[string]types.AttributeValue) error {
	var prev overflowItem
	if len(old) > 0 {
		if err := attributevalue.UnmarshalMap(old, &prev); err != nil {
			return fmt.Errorf("store: history of overflow %s: decode the previous state: %w: %w", o.Worktype, ErrHistoryNotRecorded, err)
		}
	}
	if prev.Active == o.Active {
		return nil
	}
	at := o.ChangedAt
	if at.IsZero() {
		at = s.now()
	}
	e := HistoryEvent{Key: entity.Key{Environment: o.Environment, Kind: entity.Worktype, Name: o.Worktype},
		Type: HistoryOverflow, At: at, Active: o.Active, Rule: o.Rule, Queue: o.Queue, OverflowQueue: o.OverflowQueue,
		Backlog: o.Backlog, ChangeID: o.EnterChangeID}
	if !o.Active {
		e.ChangeID, e.Since = o.LeaveChangeID, parseTime(prev.ChangedAt)
	}
	return s.appendHistory(ctx, e)
}

// changeHistory appends the step of the completed change record it (no step for the
// record of a message that named no entity).
func (s *Store) changeHistory(ctx context.Context, it changeItem) error {
	if it.Kind == "" || !it.Status.Terminal() {
		return nil
	}
	c := it.change()
	return s.appendHistory(ctx, HistoryEvent{Key: c.Info.Entity, Type: HistoryChange, At: c.Info.RequestedAt,
		ChangeID: c.ID, Operation: c.Info.Operation, Status: c.Status, RequestedBy: c.Info.RequestedBy, CompletedAt: c.UpdatedAt})
}

// ListHistory returns the timeline of entity k from since (zero: all that is kept), oldest
// first: one query of its partition (consistent). Steps past their retention that DynamoDB
// has not deleted yet are left out.
func (s *Store) ListHistory(ctx context.Context, k entity.Key, since time.Time) ([]HistoryEvent, error) {
	if err := validKey(k); err != nil {
		return nil, err
	}
	kc := expression.Key(attrPK).Equal(expression.Value(historyPK(k))).
		And(expression.Key(attrSK).GreaterThanEqual(expression.Value(formatTime(since))))
	items, err := s.queryHistory(ctx, kc, "", true, 0)
	if err != nil {
		return nil, fmt.Errorf("store: history of %s: %w", k, err)
	}
	return items, nil
}

// RecentHistory returns up to limit steps of every entity of env from since (zero: all
// that is kept), newest first: one query of the index gsi1, which is eventually
// consistent (a step written a moment ago may be missing).
func (s *Store) RecentHistory(ctx context.Context, env string, since time.Time, limit int) ([]HistoryEvent, error) {
	if err := validEnv(env); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("store: recent history of %s: limit %d: want a positive number", env, limit)
	}
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(historyGSI1PK(env))).
		And(expression.Key(attrGSI1SK).GreaterThanEqual(expression.Value(formatTime(since))))
	items, err := s.queryHistory(ctx, kc, indexGSI1, false, limit)
	if err != nil {
		return nil, fmt.Errorf("store: recent history of %s: %w", env, err)
	}
	return items, nil
}

func (s *Store) queryHistory(ctx context.Context, kc expression.KeyConditionBuilder, index string, forward bool, limit int) ([]HistoryEvent, error) {
	filter := expression.Name(attrTTL).GreaterThan(expression.Value(s.now().Unix()))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).WithFilter(filter).Build()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{
		KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(forward),
	}
	if index != "" {
		in.IndexName = aws.String(index)
		in.Limit = aws.Int32(int32(min(limit, 1000)))
	} else {
		in.ConsistentRead = aws.Bool(true)
	}
	items, err := query[historyItem](ctx, s, in, limit)
	if err != nil {
		return nil, err
	}
	out := make([]HistoryEvent, len(items))
	for i, it := range items {
		out[i] = it.event()
	}
	return out, nil
}

// SnapshotRef names the snapshot of one entity at one ETag.
type SnapshotRef struct {
	Key  entity.Key
	ETag string
}

// GetSnapshots returns the snapshots of refs that are stored (an expired or never
// stored one is absent from the map): what a timeline reads to say which managed fields
// each step changed, one batch read per 100 snapshots.
func (s *Store) GetSnapshots(ctx context.Context, refs []SnapshotRef) (map[SnapshotRef]Observation, error) {
	var keys []map[string]types.AttributeValue
	seen := map[SnapshotRef]bool{}
	for _, r := range refs {
		if seen[r] {
			continue
		}
		if err := validSnapshotRef(r.Key, r.ETag); err != nil {
			return nil, err
		}
		seen[r] = true
		keys = append(keys, key(envPK(r.Key.Environment), snapshotSK(r.Key, r.ETag)))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("store: get %d snapshots: %w", len(keys), err)
	}
	out := make(map[SnapshotRef]Observation, len(items))
	for _, item := range items {
		var it snapshotItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("store: decode snapshot: %w", err)
		}
		o := it.observation()
		out[SnapshotRef{Key: o.Key, ETag: o.ETag}] = o
	}
	return out, nil
}

// GetChanges returns the records of the change requests ids that are stored (a missing
// one is absent from the map), with their revert links, one batch read per 50 ids.
func (s *Store) GetChanges(ctx context.Context, ids []string) (map[string]*Change, error) {
	var keys []map[string]types.AttributeValue
	for _, id := range slices.Compact(slices.Sorted(slices.Values(ids))) {
		if id == "" {
			continue
		}
		keys = append(keys, key(changePK(id), skChange), key(changePK(id), skRevertOf))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("store: get %d change records: %w", len(keys)/2, err)
	}
	out, links := map[string]*Change{}, map[string]string{}
	for _, item := range items {
		c, link, err := decodeChangeItem(item)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out[c.ID] = c
		} else {
			links[link.id] = link.of
		}
	}
	for id, of := range links {
		if c, ok := out[id]; ok {
			c.RevertOf = of
		}
	}
	return out, nil
}

// revertLink is the item saying which change a revert undoes.
type revertLink struct {
	id, of string
}

type revertItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ChangeID string `dynamodbav:"changeId"`
	RevertOf string `dynamodbav:"revertOf"`
	TTL      int64  `dynamodbav:"ttl"`
}

// decodeChangeItem decodes an item of a change's partition: its record, or its revert link.
func decodeChangeItem(item map[string]types.AttributeValue) (*Change, revertLink, error) {
	var probe struct {
		SK string `dynamodbav:"sk"`
	}
	if err := attributevalue.UnmarshalMap(item, &probe); err != nil {
		return nil, revertLink{}, fmt.Errorf("store: decode change item: %w", err)
	}
	if probe.SK == skRevertOf {
		var it revertItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, revertLink{}, fmt.Errorf("store: decode revert link: %w", err)
		}
		return nil, revertLink{id: it.ChangeID, of: it.RevertOf}, nil
	}
	var it changeItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return nil, revertLink{}, fmt.Errorf("store: decode change record: %w", err)
	}
	return it.change(), revertLink{}, nil
}

// LinkRevert records that change request revertID reverts change originalID, both ways:
// the revert's link (Change.RevertOf, kept beside its record, which the apply function
// may not have claimed yet) and the original's RevertedBy. The original must be stored
// (else ErrNotFound, after the revert's link was written).
func (s *Store) LinkRevert(ctx context.Context, revertID, originalID string) error {
	if revertID == "" || originalID == "" || revertID == originalID {
		return fmt.Errorf("store: link revert %q of %q: want two different change ids", revertID, originalID)
	}
	if s.err != nil {
		return s.err
	}
	if err := s.put(ctx, "revert link of "+revertID, revertItem{PK: changePK(revertID), SK: skRevertOf,
		ChangeID: revertID, RevertOf: originalID, TTL: ttlAt(s.now().Add(s.retention))}); err != nil {
		return err
	}
	upd := expression.Add(expression.Name("revertedBy"), expression.Value(&types.AttributeValueMemberSS{Value: []string{revertID}}))
	// Only a missing record fails the condition: updateChange says ErrNotFound.
	_, err := s.updateChange(ctx, "link revert "+revertID+" to", originalID, expression.AttributeExists(expression.Name(attrPK)), upd, types.ReturnValueNone)
	return err
}

const batchGetSize = 100 // BatchGetItem limit

// batchGet reads keys 100 at a time, asking again for unprocessed keys with exponential
// backoff, as batchWrite does.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	for start := 0; start < len(keys); start += batchGetSize {
		pending := keys[start:min(start+batchGetSize, len(keys))]
		for attempt := 1; len(pending) > 0; attempt++ {
			if attempt > maxBatchAttempts {
				return nil, fmt.Errorf("batch get: %d keys still unprocessed after %d attempts (table %s throttled?)", len(pending), maxBatchAttempts, s.table)
			}
			if attempt > 1 {
				t := time.NewTimer(s.wait(attempt - 1))
				select {
				case <-ctx.Done():
					t.Stop()
					return nil, fmt.Errorf("batch get: %d keys unprocessed: %w", len(pending), ctx.Err())
				case <-t.C:
				}
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: pending}},
			})
			if err != nil {
				return nil, fmt.Errorf("batch get: %w", err)
			}
			out = append(out, res.Responses[s.table]...)
			pending = res.UnprocessedKeys[s.table].Keys
		}
	}
	return out, nil
}
