package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// Errors callers branch on.
var (
	ErrNotFound = errors.New("store: not found")
	// ErrStale: a newer observation of the entity is already stored; nothing was written.
	ErrStale = errors.New("store: a newer observation is stored")
	// ErrInProgress: another invocation holds the change request; retry later.
	ErrInProgress = errors.New("store: change request in progress")
	// ErrAlreadyCompleted: the change request reached a terminal status; the returned
	// record holds the stored result, to be returned without calling Genesys again.
	ErrAlreadyCompleted = errors.New("store: change request already completed")
	// ErrPayloadMismatch: a change request with this id but a different payload was seen.
	ErrPayloadMismatch = errors.New("store: change request id reused with a different payload")
	// ErrTooLarge: a change result over MaxResultBytes; nothing was written. Shrink it
	// and complete again.
	ErrTooLarge = errors.New("store: change result too large for the record")
)

// Store reads and writes routekeeper's table. It is safe for concurrent use.
type Store struct {
	db    *dynamodb.Client
	table string
	now   func() time.Time
	// wait is how long to wait before resubmitting unprocessed batch items (attempt >= 1).
	wait func(attempt int) time.Duration
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock used for expiry checks, TTLs and updatedAt (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns a Store for table (TABLE_NAME in a function's environment).
func New(client *dynamodb.Client, table string, opts ...Option) *Store {
	s := &Store{db: client, table: table, now: time.Now, wait: backoff}
	for _, o := range opts {
		o(s)
	}
	return s
}

// validKey checks an entity key before it becomes part of a table key.
func validKey(k entity.Key) error {
	if err := validEnv(k.Environment); err != nil {
		return err
	}
	if !k.Kind.Managed() {
		return fmt.Errorf("store: entity %s: kind %q: want queue, skill or worktype", k, k.Kind)
	}
	if k.Name == "" {
		return fmt.Errorf("store: entity %s: empty name", k)
	}
	return nil
}

func validEnv(env string) error {
	if env == "" || strings.Contains(env, "#") {
		return fmt.Errorf("store: environment %q: want a non-empty name without '#'", env)
	}
	return nil
}

// Key shapes. See the package doc; nothing outside these functions builds a key.
const (
	attrPK     = "pk"
	attrSK     = "sk"
	attrGSI1PK = "gsi1pk"
	attrGSI1SK = "gsi1sk"
	attrTTL    = "ttl"
	indexGSI1  = "gsi1"

	prefixEntity   = "ENTITY#"
	prefixDesired  = "DESIRED#"
	prefixSnapshot = "SNAP#"
	prefixDrift    = "DRIFT#"
	prefixOverflow = "OVERFLOW#"
	prefixState    = "STATE#"
	skChange       = "CHANGE"
	skEvent        = "EVENT"
)

func envPK(env string) string       { return "ENV#" + env }
func entitySK(k entity.Key) string  { return prefixEntity + string(k.Kind) + "#" + k.Name }
func desiredSK(k entity.Key) string { return prefixDesired + string(k.Kind) + "#" + k.Name }
func snapshotSK(k entity.Key, etag string) string {
	return prefixSnapshot + string(k.Kind) + "#" + k.Name + "#" + etag
}
func driftSK(at time.Time) string                  { return prefixDrift + formatTime(at) }
func stateSK(k entity.Key) string                  { return prefixState + string(k.Kind) + "#" + k.Name }
func overflowSK(worktype string) string            { return prefixOverflow + worktype }
func changePK(id string) string                    { return "CHANGE#" + id }
func changesGSI1PK(env string) string              { return "CHANGES#" + env }
func changesGSI1SK(at time.Time, id string) string { return formatTime(at) + "#" + id }
func occupancyPK(env, queueID string) string       { return "OCC#" + env + "#" + queueID }
func occupancySK(at time.Time) string              { return formatTime(at) }
func eventPK(id string) string                     { return "EVENT#" + id }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// timeLayout is fixed width so that string order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// formatOptionalTime is formatTime, or "" for the zero time (an attribute left out).
func formatOptionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func ttlAt(t time.Time) int64 { return t.Unix() }

// query runs a paginated query and unmarshals every item into T, stopping at limit items
// (limit <= 0: all).
func query[T any](ctx context.Context, s *Store, in *dynamodb.QueryInput, limit int) ([]T, error) {
	in.TableName = aws.String(s.table)
	var out []T
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		var items []T
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, fmt.Errorf("decode items: %w", err)
		}
		out = append(out, items...)
		if limit > 0 && len(out) >= limit {
			return out[:limit], nil
		}
	}
	return out, nil
}

// queryPrefix builds a query for the items of partition pk whose sk starts with prefix.
func queryPrefix(pk, prefix string, forward bool) (*dynamodb.QueryInput, error) {
	kc := expression.Key(attrPK).Equal(expression.Value(pk)).And(expression.Key(attrSK).BeginsWith(prefix))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, err
	}
	return &dynamodb.QueryInput{
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(forward),
		ConsistentRead:            aws.Bool(true),
	}, nil
}

func (s *Store) getItem(ctx context.Context, pk, sk string, v any) error {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(pk, sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return err
	}
	if len(out.Item) == 0 {
		return ErrNotFound
	}
	return attributevalue.UnmarshalMap(out.Item, v)
}

// conditionFailed reports whether err is a failed condition, returning the item as it was
// (ReturnValuesOnConditionCheckFailure ALL_OLD) when DynamoDB sent it.
func conditionFailed(err error) (map[string]types.AttributeValue, bool) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, true
	}
	return nil, false
}

const (
	batchSize        = 25 // BatchWriteItem limit
	maxBatchAttempts = 8
	backoffBase      = 50 * time.Millisecond
	backoffMax       = 2 * time.Second
)

func backoff(attempt int) time.Duration {
	d := backoffBase << (attempt - 1)
	if d > backoffMax || d <= 0 {
		d = backoffMax
	}
	return d
}

// batchWrite writes requests 25 at a time, resubmitting unprocessed items (throttling,
// partition limits) with exponential backoff until done, out of attempts, or ctx ends.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for start := 0; start < len(reqs); start += batchSize {
		pending := reqs[start:min(start+batchSize, len(reqs))]
		for attempt := 1; len(pending) > 0; attempt++ {
			if attempt > maxBatchAttempts {
				return fmt.Errorf("batch write: %d items still unprocessed after %d attempts (table %s throttled?)", len(pending), maxBatchAttempts, s.table)
			}
			if attempt > 1 {
				t := time.NewTimer(s.wait(attempt - 1))
				select {
				case <-ctx.Done():
					t.Stop()
					return fmt.Errorf("batch write: %d items unprocessed: %w", len(pending), ctx.Err())
				case <-t.C:
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{s.table: pending},
			})
			if err != nil {
				return fmt.Errorf("batch write: %w", err)
			}
			pending = out.UnprocessedItems[s.table]
		}
	}
	return nil
}
