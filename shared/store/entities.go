package store

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// Source says how an observation of live state was made.
type Source string

const (
	SourceApply   Source = "apply"   // read back right after routekeeper wrote it
	SourceScan    Source = "scan"    // the scheduled drift scan
	SourceWebhook Source = "webhook" // a Genesys audit event
	SourcePlan    Source = "plan"    // read by `routekeeper plan`
)

// Observation is the last-known live state of one entity.
type Observation struct {
	Key        entity.Key
	ETag       string          // "sha256:<hex>" of the canonical config; "" when Deleted
	Config     json.RawMessage // canonical JSON the ETag was computed from; nil when Deleted
	GenesysID  string
	ObservedAt time.Time
	Source     Source
	// Deleted: the entity was seen gone (a webhook's read answered 404). A deletion has no
	// ETag, config or snapshot.
	Deleted bool
	// Cause is the change that made routekeeper look, when known (the webhook's audit
	// event: who changed the entity and when).
	Cause *Cause
	// Modified is the entity's dateModified as Genesys reported it (Genesys's clock, the
	// clock of its audit events); zero when unknown or Deleted.
	Modified time.Time
}

// Cause is the Genesys audit event behind an observation or a drift state: which event,
// when it happened, and who made the change (a user, an OAuth client, or both).
type Cause struct {
	EventID   string    `json:"eventId,omitempty"`
	EventTime time.Time `json:"eventTime,omitzero"`
	UserID    string    `json:"userId,omitempty"`
	ClientID  string    `json:"clientId,omitempty"`
}

var etagPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

type observationItem struct {
	PK          string      `dynamodbav:"pk"`
	SK          string      `dynamodbav:"sk"`
	Environment string      `dynamodbav:"environment"`
	Kind        entity.Kind `dynamodbav:"kind"`
	Name        string      `dynamodbav:"name"`
	ETag        string      `dynamodbav:"etag"`
	Config      storedJSON  `dynamodbav:"config,omitempty"`
	GenesysID   string      `dynamodbav:"genesysId,omitempty"`
	ObservedAt  string      `dynamodbav:"observedAt"`
	Source      Source      `dynamodbav:"source"`
	Deleted     bool        `dynamodbav:"deleted,omitempty"`
	Cause       string      `dynamodbav:"cause,omitempty"` // JSON of Cause
	Modified    string      `dynamodbav:"modified,omitempty"`
}

func (it observationItem) observation() Observation {
	o := Observation{
		Key:  entity.Key{Environment: it.Environment, Kind: it.Kind, Name: it.Name},
		ETag: it.ETag, GenesysID: it.GenesysID,
		ObservedAt: parseTime(it.ObservedAt), Source: it.Source, Deleted: it.Deleted,
		Cause: decodeCause(it.Cause), Modified: parseTime(it.Modified),
	}
	if len(it.Config) > 0 {
		o.Config = json.RawMessage(it.Config)
	}
	return o
}

// encodeCause and decodeCause store a Cause as a JSON string ("" for none). A cause the
// table holds in another shape reads as none: it only explains, it never decides.
func encodeCause(c *Cause) string {
	if c == nil {
		return ""
	}
	b, _ := json.Marshal(c) // strings and a time: always encodable
	return string(b)
}

func decodeCause(s string) *Cause {
	if s == "" {
		return nil
	}
	var c Cause
	if json.Unmarshal([]byte(s), &c) != nil {
		return nil
	}
	return &c
}

// PutObservation stores o as the entity's last-known state unless a newer observation is
// stored already (then it returns an error wrapping ErrStale and the last-known state is
// left as it was). An observation with the same observedAt replaces the stored one, so
// retrying a put succeeds.
//
// Either way it also stores o as the snapshot of its ETag (see [Store.GetSnapshot]), kept
// for [SnapshotRetention]: the document a change request was planned against stays
// findable after newer observations replace the last-known state.
func (s *Store) PutObservation(ctx context.Context, o Observation) error {
	item, err := o.item()
	if err != nil {
		return err
	}
	if s.err != nil {
		return s.err
	}
	// The snapshot first, unconditionally: even an observation older than the stored one
	// (a plan recorded after a webhook) must leave its document findable by ETag, because
	// it may be the base a change request was planned against. A deletion has none.
	if !o.Deleted {
		if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: s.snapshotItem(o, item)}); err != nil {
			return fmt.Errorf("store: put snapshot of %s at %s: %w", o.Key, o.ETag, err)
		}
	}
	return s.putLastKnown(ctx, o, item)
}

// item validates o and returns its last-known item.
func (o Observation) item() (map[string]types.AttributeValue, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	item, err := attributevalue.MarshalMap(observationItem{
		PK: envPK(o.Key.Environment), SK: entitySK(o.Key),
		Environment: o.Key.Environment, Kind: o.Key.Kind, Name: o.Key.Name,
		ETag: o.ETag, Config: storedJSON(o.Config), GenesysID: o.GenesysID,
		ObservedAt: formatTime(o.ObservedAt), Source: o.Source, Deleted: o.Deleted, Cause: encodeCause(o.Cause),
		Modified: formatOptionalTime(o.Modified),
	})
	if err != nil {
		return nil, fmt.Errorf("store: observation of %s: %w", o.Key, err)
	}
	return item, nil
}

// putLastKnown writes item (o's last-known item) unless a newer observation is stored,
// and appends o to the entity's history when it changed what was known (history.go).
func (s *Store) putLastKnown(ctx context.Context, o Observation, item map[string]types.AttributeValue) error {
	cond := expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name("observedAt").LessThanEqual(expression.Value(formatTime(o.ObservedAt))))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return err
	}
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		// The item replaced, for the history step (free: a put's capacity is that of
		// the larger item either way).
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok {
		var stored observationItem
		_ = attributevalue.UnmarshalMap(old, &stored)
		return staleObservation(o, stored.ObservedAt, stored.Source)
	}
	if err != nil {
		return fmt.Errorf("store: put observation of %s: %w", o.Key, err)
	}
	return s.observedHistory(ctx, o, out.Attributes)
}

// validate checks an observation before PutObservation stores it; Store and Memory share it.
func (o Observation) validate() error {
	if err := validKey(o.Key); err != nil {
		return err
	}
	switch {
	case o.Deleted && (o.ETag != "" || len(o.Config) > 0):
		return fmt.Errorf("store: observation of %s: a deletion has no ETag or config", o.Key)
	case !o.Deleted && !etagPattern.MatchString(o.ETag):
		return fmt.Errorf("store: observation of %s: ETag %q: want sha256:<64 hex digits>", o.Key, o.ETag)
	case !o.Deleted && !json.Valid(o.Config):
		return fmt.Errorf("store: observation of %s: config is not valid JSON", o.Key)
	}
	if o.ObservedAt.IsZero() {
		return fmt.Errorf("store: observation of %s: observedAt not set", o.Key)
	}
	switch o.Source {
	case SourceApply, SourceScan, SourceWebhook, SourcePlan:
	default:
		return fmt.Errorf("store: observation of %s: source %q: want apply, scan, webhook or plan", o.Key, o.Source)
	}
	return nil
}

// staleObservation is PutObservation's error when stored is newer than o.
func staleObservation(o Observation, storedAt string, storedSource Source) error {
	return fmt.Errorf("store: observation of %s at %s (%s): stored one is from %s (%s): %w",
		o.Key, formatTime(o.ObservedAt), o.Source, storedAt, storedSource, ErrStale)
}

// SnapshotRetention is how long a snapshot (and a history step) is kept after the last
// observation with its ETag, unless SnapshotRetentionEnv or WithSnapshotRetention says
// longer: as long as a change id is remembered (30 days), which is longer than a change
// request can wait in the queue (4 days) plus the dead-letter queue (14 days), so a
// redriven request still finds the state it was planned against, and a change can be
// reverted (`routekeeper revert`) as long as its record is kept.
const SnapshotRetention = 30 * 24 * time.Hour

type snapshotItem struct {
	observationItem
	TTL int64 `dynamodbav:"ttl"`
}

// snapshotItem is the snapshot of o (item is its last-known item): the same attributes
// under its ETag, kept the store's retention from now.
func (s *Store) snapshotItem(o Observation, item map[string]types.AttributeValue) map[string]types.AttributeValue {
	snap := make(map[string]types.AttributeValue, len(item)+1)
	for k, v := range item {
		snap[k] = v
	}
	snap[attrSK] = &types.AttributeValueMemberS{Value: snapshotSK(o.Key, o.ETag)}
	snap[attrTTL] = &types.AttributeValueMemberN{Value: strconv.FormatInt(ttlAt(s.now().Add(s.retention)), 10)}
	return snap
}

// GetSnapshot returns the observation of entity k whose ETag is etag (the latest such
// observation stored by PutObservation within SnapshotRetention), or ErrNotFound. Unlike
// GetObservation it finds a document after newer observations have replaced the
// last-known state: it is how the apply engine finds the base of a three-way merge from
// a request's baseEtag. A snapshot past its TTL that DynamoDB has not deleted yet is still
// returned: its content is addressed by its ETag, so it cannot be out of date.
func (s *Store) GetSnapshot(ctx context.Context, k entity.Key, etag string) (Observation, error) {
	if err := validSnapshotRef(k, etag); err != nil {
		return Observation{}, err
	}
	var it snapshotItem
	if err := s.getItem(ctx, envPK(k.Environment), snapshotSK(k, etag), &it); err != nil {
		return Observation{}, fmt.Errorf("store: get snapshot of %s at %s: %w", k, etag, err)
	}
	return it.observation(), nil
}

// validSnapshotRef checks GetSnapshot's arguments; Store and Memory share it.
func validSnapshotRef(k entity.Key, etag string) error {
	if err := validKey(k); err != nil {
		return err
	}
	if !etagPattern.MatchString(etag) {
		return fmt.Errorf("store: snapshot of %s: ETag %q: want sha256:<64 hex digits>", k, etag)
	}
	return nil
}

// GetObservation returns the last-known state of an entity, or ErrNotFound.
func (s *Store) GetObservation(ctx context.Context, k entity.Key) (Observation, error) {
	if err := validKey(k); err != nil {
		return Observation{}, err
	}
	var it observationItem
	if err := s.getItem(ctx, envPK(k.Environment), entitySK(k), &it); err != nil {
		return Observation{}, fmt.Errorf("store: get observation of %s: %w", k, err)
	}
	return it.observation(), nil
}

// ListObservations returns the last-known state of every entity of env, ordered by kind
// then name.
func (s *Store) ListObservations(ctx context.Context, env string) ([]Observation, error) {
	if err := validEnv(env); err != nil {
		return nil, err
	}
	in, err := queryPrefix(envPK(env), prefixEntity, true)
	if err != nil {
		return nil, err
	}
	items, err := query[observationItem](ctx, s, in, 0)
	if err != nil {
		return nil, fmt.Errorf("store: list observations of %s: %w", env, err)
	}
	out := make([]Observation, len(items))
	for i, it := range items {
		out[i] = it.observation()
	}
	return out, nil
}

// Desired is the configuration git declares for one entity, as CI published it.
type Desired struct {
	Key         entity.Key
	Config      json.RawMessage // the managed fields the YAML declares
	ETag        string          // optional: ETag of Config, if the publisher computed it
	Version     string          // config version or commit it came from (set by PublishDesired)
	PublishedAt time.Time       // set by PublishDesired
}

type desiredItem struct {
	PK          string      `dynamodbav:"pk"`
	SK          string      `dynamodbav:"sk"`
	Environment string      `dynamodbav:"environment"`
	Kind        entity.Kind `dynamodbav:"kind"`
	Name        string      `dynamodbav:"name"`
	Config      storedJSON  `dynamodbav:"config"`
	ETag        string      `dynamodbav:"etag,omitempty"`
	Version     string      `dynamodbav:"version"`
	PublishedAt string      `dynamodbav:"publishedAt"`
}

func (it desiredItem) desired() Desired {
	return Desired{
		Key:    entity.Key{Environment: it.Environment, Kind: it.Kind, Name: it.Name},
		Config: json.RawMessage(it.Config), ETag: it.ETag, Version: it.Version,
		PublishedAt: parseTime(it.PublishedAt),
	}
}

// PublishDesired makes entities the complete desired configuration of env at version (a
// commit or config version): it writes every entity (stamped with version and the
// publication time) and then deletes the desired entities of env that are no longer in
// the set, returning their keys. Writes are batched; a reader during a publish can see
// the union of old and new, told apart by Version.
func (s *Store) PublishDesired(ctx context.Context, env, version string, entities []Desired) (removed []entity.Key, err error) {
	if err := validPublish(env, version, entities); err != nil {
		return nil, err
	}
	now := formatTime(s.now())
	keep := map[entity.Key]bool{}
	reqs := make([]types.WriteRequest, 0, len(entities))
	for _, d := range entities {
		keep[d.Key] = true
		item, err := attributevalue.MarshalMap(desiredItem{
			PK: envPK(env), SK: desiredSK(d.Key),
			Environment: env, Kind: d.Key.Kind, Name: d.Key.Name,
			Config: storedJSON(d.Config), ETag: d.ETag, Version: version, PublishedAt: now,
		})
		if err != nil {
			return nil, fmt.Errorf("store: desired %s: %w", d.Key, err)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	current, err := s.ListDesired(ctx, env)
	if err != nil {
		return nil, err
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return nil, fmt.Errorf("store: publish desired config of %s at %s: %w", env, version, err)
	}
	var dels []types.WriteRequest
	for _, d := range current {
		if !keep[d.Key] {
			removed = append(removed, d.Key)
			dels = append(dels, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(envPK(env), desiredSK(d.Key))}})
		}
	}
	if err := s.batchWrite(ctx, dels); err != nil {
		return nil, fmt.Errorf("store: prune desired config of %s at %s: %w", env, version, err)
	}
	return removed, nil
}

// validPublish checks a whole set before PublishDesired writes any of it, so a rejected
// set changes nothing; Store and Memory share it.
func validPublish(env, version string, entities []Desired) error {
	if err := validEnv(env); err != nil {
		return err
	}
	if version == "" {
		return fmt.Errorf("store: publish desired config of %s: empty version", env)
	}
	seen := make(map[entity.Key]bool, len(entities))
	for _, d := range entities {
		if err := validKey(d.Key); err != nil {
			return err
		}
		if d.Key.Environment != env {
			return fmt.Errorf("store: publish desired config of %s: entity %s belongs to another environment", env, d.Key)
		}
		if seen[d.Key] {
			return fmt.Errorf("store: publish desired config of %s: entity %s listed twice", env, d.Key)
		}
		if !json.Valid(d.Config) {
			return fmt.Errorf("store: publish desired config of %s: entity %s: config is not valid JSON", env, d.Key)
		}
		seen[d.Key] = true
	}
	return nil
}

// ListDesiredConfigs returns what ListDesired does with only each entity's Key and
// Config: what a drift scan compares the org with, read with the fewest attributes.
func (s *Store) ListDesiredConfigs(ctx context.Context, env string) ([]Desired, error) {
	return listEntities(ctx, s, env, prefixDesired, "desired config", desiredItem.desired, attrSK, "config")
}

// ListDesired returns the desired configuration of every entity of env, ordered by kind
// then name.
func (s *Store) ListDesired(ctx context.Context, env string) ([]Desired, error) {
	return listEntities(ctx, s, env, prefixDesired, "desired config", desiredItem.desired,
		attrSK, "config", "etag", "version", "publishedAt")
}

// keyedItem is an item of one entity that listEntities reads: a pointer to T.
type keyedItem[T any] interface {
	*T
	sortKey() string
	setKey(env string, kind entity.Kind, name string)
}

func (it *observationItem) sortKey() string { return it.SK }
func (it *observationItem) setKey(env string, kind entity.Kind, name string) {
	it.Environment, it.Kind, it.Name = env, kind, name
}
func (it *desiredItem) sortKey() string { return it.SK }
func (it *desiredItem) setKey(env string, kind entity.Kind, name string) {
	it.Environment, it.Kind, it.Name = env, kind, name
}

// listEntities lists the items of env whose sk starts with prefix, with only the
// attributes named, converted by conv; what names them in errors. The key's parts come
// from sk, not their own attributes: a query's cost on moto (the local stack) is per
// attribute returned, and a scan lists every entity.
func listEntities[T any, P keyedItem[T], R any](ctx context.Context, s *Store, env, prefix, what string, conv func(T) R, attrs ...string) ([]R, error) {
	if err := validEnv(env); err != nil {
		return nil, err
	}
	in, err := queryPrefix(envPK(env), prefix, true, attrs...)
	if err != nil {
		return nil, err
	}
	items, err := query[T](ctx, s, in, 0)
	if err != nil {
		return nil, fmt.Errorf("store: list %s of %s: %w", what, env, err)
	}
	out := make([]R, len(items))
	for i := range items {
		it := P(&items[i])
		kenv, kind, name, err := keyOfSK(env, prefix, it.sortKey())
		if err != nil {
			return nil, fmt.Errorf("store: list %s of %s: %w", what, env, err)
		}
		it.setKey(kenv, kind, name)
		out[i] = conv(items[i])
	}
	return out, nil
}
