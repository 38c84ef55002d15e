package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// What the drift scan keeps: its reports, and the observations of a whole org read at
// once (the stored ETags with one query, the changed ones written in bulk).

// DriftReport is one drift scan's report of an environment: a summary, and the entities
// the scan has something to say about (one JSON value each; shared/drift owns both
// shapes, the store never looks inside).
//
// It is stored as one summary item (DRIFT#<generatedAt>) and the entities in part items
// (DRIFTPART#<generatedAt>#<n>) of at most MaxReportPartBytes each, under DynamoDB's
// 400 KB item limit, all with the same TTL. The parts are written first, so a summary
// that can be read has its parts.
type DriftReport struct {
	Environment string
	GeneratedAt time.Time
	// Report is the summary (a JSON object).
	Report json.RawMessage
	// Entities are the entities the report lists; nil when it lists none.
	Entities []json.RawMessage
	// ExpiresAt is the TTL: GeneratedAt + the retention it was stored with.
	ExpiresAt time.Time
	// Parts is how many part items hold Entities (set when stored or read).
	Parts int
	// EntityCount is len(Entities), also set when only the summary was read
	// (ListDriftReports).
	EntityCount int
}

// MaxReportPartBytes bounds the entities' JSON in one part item: DynamoDB items are at
// most 400 KB with their attribute names, keys and the TTL.
const MaxReportPartBytes = 350 * 1024

type driftItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Environment string `dynamodbav:"environment"`
	GeneratedAt string `dynamodbav:"generatedAt"`
	Report      string `dynamodbav:"report"`
	Parts       int    `dynamodbav:"parts,omitempty"`
	Entities    int    `dynamodbav:"entities,omitempty"`
	TTL         int64  `dynamodbav:"ttl"`
}

type driftPartItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	Part     int    `dynamodbav:"part"`
	Entities string `dynamodbav:"entities"` // a JSON array
	TTL      int64  `dynamodbav:"ttl"`
}

// split groups the entities into the JSON arrays of the part items.
func (r DriftReport) split() ([][]byte, error) {
	var parts [][]byte
	cur := []byte{'['}
	for i, e := range r.Entities {
		if !json.Valid(e) {
			return nil, fmt.Errorf("store: drift report of %s: entity %d is not JSON", r.Environment, i)
		}
		if len(e)+2 > MaxReportPartBytes {
			return nil, fmt.Errorf("store: drift report of %s: entity %d is %d bytes, more than a part holds (%d)", r.Environment, i, len(e), MaxReportPartBytes)
		}
		if len(cur)+len(e)+2 > MaxReportPartBytes {
			parts = append(parts, append(cur[:len(cur)-1], ']'))
			cur = []byte{'['}
		}
		cur = append(append(cur, e...), ',')
	}
	if len(cur) > 1 {
		parts = append(parts, append(cur[:len(cur)-1], ']'))
	}
	return parts, nil
}

// Items returns how many items PutDriftReport writes for r: its summary and its parts.
func (r DriftReport) Items() (int, error) {
	parts, err := r.split()
	return 1 + len(parts), err
}

// PutDriftReport stores a drift report, kept for retention after it was generated: its
// parts (batch writes), then its summary.
func (s *Store) PutDriftReport(ctx context.Context, r DriftReport, retention time.Duration) error {
	if err := validEnv(r.Environment); err != nil {
		return err
	}
	if r.GeneratedAt.IsZero() || retention <= 0 || !json.Valid(r.Report) {
		return fmt.Errorf("store: drift report of %s: want generatedAt, a positive retention and a JSON report", r.Environment)
	}
	parts, err := r.split()
	if err != nil {
		return err
	}
	ttl := ttlAt(r.GeneratedAt.Add(retention))
	reqs := make([]types.WriteRequest, 0, len(parts))
	for i, p := range parts {
		item, err := attributevalue.MarshalMap(driftPartItem{PK: envPK(r.Environment), SK: driftPartSK(r.GeneratedAt, i), Part: i, Entities: string(p), TTL: ttl})
		if err != nil {
			return fmt.Errorf("store: drift report of %s: %w", r.Environment, err)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return fmt.Errorf("store: drift report of %s: %d parts: %w", r.Environment, len(parts), err)
	}
	return s.put(ctx, "drift report of "+r.Environment, driftItem{
		PK: envPK(r.Environment), SK: driftSK(r.GeneratedAt), Environment: r.Environment,
		GeneratedAt: formatTime(r.GeneratedAt), Report: string(r.Report), Parts: len(parts), Entities: len(r.Entities), TTL: ttl,
	})
}

// LatestDriftReport returns the newest unexpired drift report of env with its entities,
// or ErrNotFound.
func (s *Store) LatestDriftReport(ctx context.Context, env string) (DriftReport, error) {
	reports, err := s.ListDriftReports(ctx, env, 1)
	if err != nil {
		return DriftReport{}, fmt.Errorf("store: latest drift report of %s: %w", env, err)
	}
	if len(reports) == 0 {
		return DriftReport{}, fmt.Errorf("store: latest drift report of %s: %w", env, ErrNotFound)
	}
	r := reports[0]
	if r.Entities, err = s.reportEntities(ctx, r); err != nil {
		return DriftReport{}, err
	}
	return r, nil
}

// ListDriftReports returns the summaries of the newest unexpired drift reports of env,
// newest first, at most limit (<= 0: all): the scans' history. Entities are not read
// (EntityCount says how many there are).
func (s *Store) ListDriftReports(ctx context.Context, env string, limit int) ([]DriftReport, error) {
	if err := validEnv(env); err != nil {
		return nil, err
	}
	// Newest first, skipping expired reports DynamoDB has not deleted yet.
	kc := expression.Key(attrPK).Equal(expression.Value(envPK(env))).And(expression.Key(attrSK).BeginsWith(prefixDrift))
	filter := expression.Name(attrTTL).GreaterThan(expression.Value(s.now().Unix()))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).WithFilter(filter).Build()
	if err != nil {
		return nil, err
	}
	page := int32(100)
	if limit > 0 && limit < 100 {
		page = int32(max(limit, 10)) // a few more than asked, for the expired ones filtered out
	}
	items, err := query[driftItem](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(page),
	}, limit)
	if err != nil {
		return nil, fmt.Errorf("store: drift reports of %s: %w", env, err)
	}
	out := make([]DriftReport, len(items))
	for i, it := range items {
		out[i] = DriftReport{
			Environment: it.Environment, GeneratedAt: parseTime(it.GeneratedAt),
			Report: json.RawMessage(it.Report), ExpiresAt: time.Unix(it.TTL, 0).UTC(),
			Parts: it.Parts, EntityCount: it.Entities,
		}
	}
	return out, nil
}

// reportEntities reads the entities of report r from its parts.
func (s *Store) reportEntities(ctx context.Context, r DriftReport) ([]json.RawMessage, error) {
	if r.Parts == 0 {
		return nil, nil
	}
	in, err := queryPrefix(envPK(r.Environment), driftPartPrefix(r.GeneratedAt), true)
	if err != nil {
		return nil, err
	}
	parts, err := query[driftPartItem](ctx, s, in, 0)
	if err != nil {
		return nil, fmt.Errorf("store: drift report of %s at %s: %w", r.Environment, formatTime(r.GeneratedAt), err)
	}
	if len(parts) != r.Parts {
		return nil, fmt.Errorf("store: drift report of %s at %s has %d of its %d parts (expired meanwhile?)", r.Environment, formatTime(r.GeneratedAt), len(parts), r.Parts)
	}
	out := make([]json.RawMessage, 0, r.EntityCount)
	for _, p := range parts {
		var es []json.RawMessage
		if err := json.Unmarshal([]byte(p.Entities), &es); err != nil {
			return nil, fmt.Errorf("store: drift report of %s at %s, part %d: %w", r.Environment, formatTime(r.GeneratedAt), p.Part, err)
		}
		out = append(out, es...)
	}
	return out, nil
}

// ListObservedETags returns the last-known state of every entity of env as
// ListObservations does, without the stored configuration (Config is nil): what a scan
// compares a whole org's ETags with, in one query that reads a fraction of the bytes.
func (s *Store) ListObservedETags(ctx context.Context, env string) ([]Observation, error) {
	return listEntities(ctx, s, env, prefixEntity, "observed ETags", observationItem.observation,
		attrSK, "etag", "genesysId", "observedAt", "source", "deleted", "cause", "modified")
}

// PutObservations stores many observations as PutObservation stores each: their
// snapshots with batch writes (they are unconditional), then each last-known state with
// the same condition (never over a newer observation), workers at a time. It returns one
// error per observation, nil when it was stored: an error wrapping ErrStale when a newer
// one was stored, ctx's error for those not written before ctx ended. The observations
// are all checked before anything is written.
func (s *Store) PutObservations(ctx context.Context, obs []Observation, workers int) []error {
	errs := make([]error, len(obs))
	if s.err != nil {
		for i := range errs {
			errs[i] = s.err
		}
		return errs
	}
	items := make([]map[string]types.AttributeValue, len(obs))
	var snaps []types.WriteRequest
	for i, o := range obs {
		item, err := o.item()
		if err != nil {
			for j := range errs {
				errs[j] = fmt.Errorf("store: observation %d of %d not written: %w", j+1, len(obs), err)
			}
			errs[i] = err
			return errs
		}
		items[i] = item
		if !o.Deleted {
			snaps = append(snaps, types.WriteRequest{PutRequest: &types.PutRequest{Item: s.snapshotItem(o, item)}})
		}
	}
	if err := s.batchWrite(ctx, snaps); err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("store: snapshots of %d observations: %w", len(snaps), err)
		}
		return errs
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for i := range work {
				errs[i] = s.putLastKnown(ctx, obs[i], items[i])
			}
		})
	}
	for i := range obs {
		if ctx.Err() != nil {
			errs[i] = fmt.Errorf("store: observation of %s not written: %w", obs[i].Key, ctx.Err())
			continue
		}
		work <- i
	}
	close(work)
	wg.Wait()
	return errs
}
