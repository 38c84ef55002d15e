package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
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
	// retention is how long snapshots and history items are kept (SnapshotRetention, or
	// SNAPSHOT_RETENTION_DAYS); err, when set, is why that variable could not be used, and
	// every method that writes with the retention returns it instead of writing.
	retention time.Duration
	err       error
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock used for expiry checks, TTLs and updatedAt (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithSnapshotRetention sets how long snapshots and history items are kept, instead of
// SNAPSHOT_RETENTION_DAYS; less than MinSnapshotRetention is refused by every write.
func WithSnapshotRetention(d time.Duration) Option {
	return func(s *Store) { s.retention, s.err = d, checkRetention(d, "snapshot retention "+d.String()) }
}

// New returns a Store for table (TABLE_NAME in a function's environment). Snapshots and
// history are kept for SnapshotRetentionEnv days when the process has that variable (the
// template's SnapshotRetentionDays), else for SnapshotRetention; a value that is not a
// whole number of days of at least MinSnapshotRetention makes every write that keeps
// them (and Claim, so no change is applied unrecorded) fail with the reason.
func New(client *dynamodb.Client, table string, opts ...Option) *Store {
	s := &Store{db: client, table: table, now: time.Now, wait: backoff}
	s.retention, s.err = RetentionFromEnv(os.Getenv)
	for _, o := range opts {
		o(s)
	}
	return s
}

// SnapshotRetentionEnv is the variable holding the snapshot and history retention in
// whole days (template.yaml parameter SnapshotRetentionDays).
const SnapshotRetentionEnv = "SNAPSHOT_RETENTION_DAYS"

// MinSnapshotRetention is the shortest retention accepted: as long as a change id is
// remembered, so every change that can be replayed or reverted by id finds its snapshots.
const MinSnapshotRetention = SnapshotRetention

// RetentionFromEnv returns the retention SnapshotRetentionEnv sets through getenv
// (SnapshotRetention when unset), or an error saying what is wrong with it.
func RetentionFromEnv(getenv func(string) string) (time.Duration, error) {
	v := strings.TrimSpace(getenv(SnapshotRetentionEnv))
	if v == "" {
		return SnapshotRetention, nil
	}
	days, err := strconv.Atoi(v)
	if err != nil || days > 100*365 {
		return SnapshotRetention, fmt.Errorf("store: %s=%q: want a whole number of days, e.g. 90", SnapshotRetentionEnv, v)
	}
	d := time.Duration(days) * 24 * time.Hour
	return d, checkRetention(d, fmt.Sprintf("%s=%s", SnapshotRetentionEnv, v))
}

func checkRetention(d time.Duration, what string) error {
	if d < MinSnapshotRetention {
		return fmt.Errorf("store: %s: want at least %d days (as long as change ids are remembered, so a change can be replayed and reverted)", what, int(MinSnapshotRetention/(24*time.Hour)))
	}
	return nil
}

// Retention is how long this Store keeps snapshots and history items.
func (s *Store) Retention() time.Duration { return s.retention }

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

	prefixEntity    = "ENTITY#"
	prefixDesired   = "DESIRED#"
	prefixSnapshot  = "SNAP#"
	prefixDrift     = "DRIFT#"
	prefixDriftPart = "DRIFTPART#"
	prefixOverflow  = "OVERFLOW#"
	prefixState     = "STATE#"
	skChange        = "CHANGE"
	skRevertOf      = "REVERTOF"
	skEvent         = "EVENT"
)

func envPK(env string) string       { return "ENV#" + env }
func entitySK(k entity.Key) string  { return prefixEntity + string(k.Kind) + "#" + k.Name }
func desiredSK(k entity.Key) string { return prefixDesired + string(k.Kind) + "#" + k.Name }
func snapshotSK(k entity.Key, etag string) string {
	return prefixSnapshot + string(k.Kind) + "#" + k.Name + "#" + etag
}
func driftSK(at time.Time) string         { return prefixDrift + formatTime(at) }
func driftPartPrefix(at time.Time) string { return prefixDriftPart + formatTime(at) + "#" }
func driftPartSK(at time.Time, part int) string {
	return driftPartPrefix(at) + fmt.Sprintf("%05d", part)
}
func stateSK(k entity.Key) string                  { return prefixState + string(k.Kind) + "#" + k.Name }
func overflowSK(worktype string) string            { return prefixOverflow + worktype }
func changePK(id string) string                    { return "CHANGE#" + id }
func changesGSI1PK(env string) string              { return "CHANGES#" + env }
func changesGSI1SK(at time.Time, id string) string { return formatTime(at) + "#" + id }
func occupancyPK(env, queueID string) string       { return "OCC#" + env + "#" + queueID }
func occupancySK(at time.Time) string              { return formatTime(at) }
func eventPK(id string) string                     { return "EVENT#" + id }

// historyPK is one entity's timeline: its own partition, like a write window's, so a
// name continuing with '#' cannot fall inside another entity's range.
func historyPK(k entity.Key) string {
	return "HIST#" + k.Environment + "#" + string(k.Kind) + "#" + k.Name
}
func historySK(at time.Time, t HistoryType, id string) string {
	return formatTime(at) + "#" + string(t) + "#" + id
}
func historyGSI1PK(env string) string { return "HIST#" + env }
func historyGSI1SK(at time.Time, k entity.Key) string {
	return formatTime(at) + "#" + string(k.Kind) + "#" + k.Name
}

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

// queryPrefix builds a query for the items of partition pk whose sk starts with prefix:
// their attributes named in only, or all of them.
func queryPrefix(pk, prefix string, forward bool, only ...string) (*dynamodb.QueryInput, error) {
	kc := expression.Key(attrPK).Equal(expression.Value(pk)).And(expression.Key(attrSK).BeginsWith(prefix))
	b := expression.NewBuilder().WithKeyCondition(kc)
	if len(only) > 0 {
		names := make([]expression.NameBuilder, len(only))
		for i, n := range only {
			names[i] = expression.Name(n)
		}
		b = b.WithProjection(expression.NamesList(names[0], names[1:]...))
	}
	expr, err := b.Build()
	if err != nil {
		return nil, err
	}
	return &dynamodb.QueryInput{
		KeyConditionExpression:    expr.KeyCondition(),
		ProjectionExpression:      expr.Projection(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(forward),
		ConsistentRead:            aws.Bool(true),
	}, nil
}

// keyOfSK returns the entity key of env an item's sort key <prefix><kind>#<name> names.
func keyOfSK(env, prefix, sk string) (string, entity.Kind, string, error) {
	kind, name, ok := strings.Cut(strings.TrimPrefix(sk, prefix), "#")
	if !ok || !strings.HasPrefix(sk, prefix) || name == "" {
		return "", "", "", fmt.Errorf("item %q: sort key is not %s<kind>#<name>", sk, prefix)
	}
	return env, entity.Kind(kind), name, nil
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
