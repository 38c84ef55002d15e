package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/shared/entity"
)

func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }

// fakeClock is the store's injected clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.UTC)

type fixture struct {
	s     *Store
	db    *dynamodb.Client
	table string
	clock *fakeClock
}

// newFixture gives the test its own table, created from template.yaml on the shared moto.
func newFixture(t *testing.T, dbOpts ...func(*dynamodb.Options)) fixture {
	t.Helper()
	cfg, res := awslocal.ForTest(t)
	db := dynamodb.NewFromConfig(cfg, dbOpts...)
	clock := &fakeClock{t: t0}
	return fixture{s: New(db, res.TableName, WithClock(clock.Now)), db: db, table: res.TableName, clock: clock}
}

// rawItem reads an item as stored, to check attributes the API does not expose (ttl).
func (f fixture) rawItem(t *testing.T, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &f.table, Key: key(pk, sk)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func numAttr(item map[string]types.AttributeValue, name string) string {
	if n, ok := item[name].(*types.AttributeValueMemberN); ok {
		return n.Value
	}
	return "<none>"
}

func etag(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

var ctx = context.Background()

func TestObservationOrdering(t *testing.T) {
	f := newFixture(t)
	support := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Support #1"}
	obs := func(tag byte, at time.Duration, src Source) Observation {
		return Observation{Key: support, ETag: etag(tag), Config: json.RawMessage(`{"name":"Support #1","n":1.0}`),
			GenesysID: "q-1", ObservedAt: t0.Add(at), Source: src}
	}
	steps := []struct {
		name     string
		put      Observation
		wantErr  error
		wantETag string // stored afterwards
	}{
		{"first observation", obs('a', 2*time.Second, SourceScan), nil, etag('a')},
		{"older does not overwrite newer", obs('b', time.Second, SourceScan), ErrStale, etag('a')},
		{"same instant replaces (retry)", obs('c', 2*time.Second, SourceWebhook), nil, etag('c')},
		{"newer overwrites", obs('d', 3*time.Second, SourceApply), nil, etag('d')},
		{"much older scan is refused", obs('e', -time.Hour, SourceScan), ErrStale, etag('d')},
	}
	for _, st := range steps {
		err := f.s.PutObservation(ctx, st.put)
		if !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
			t.Fatalf("%s: PutObservation(observedAt %s): got error %v, want %v", st.name, st.put.ObservedAt, err, st.wantErr)
		}
		got, err := f.s.GetObservation(ctx, support)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got.ETag != st.wantETag {
			t.Errorf("%s: stored ETag got %s, want %s", st.name, got.ETag, st.wantETag)
		}
	}
	want := obs('d', 3*time.Second, SourceApply)
	got, _ := f.s.GetObservation(ctx, support)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored observation (-want +got):\n%s", diff)
	}

	// Listing is per environment.
	other := Observation{Key: entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Support #1"}, ETag: etag('f'), Config: json.RawMessage(`{}`), ObservedAt: t0, Source: SourceScan}
	skill := Observation{Key: entity.Key{Environment: "dev", Kind: entity.Skill, Name: "Spanish"}, ETag: etag('0'), Config: json.RawMessage(`{}`), ObservedAt: t0, Source: SourceScan}
	for _, o := range []Observation{other, skill} {
		if err := f.s.PutObservation(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	list, err := f.s.ListObservations(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Observation{want, skill}, list); diff != "" {
		t.Errorf("ListObservations(dev) (-want +got):\n%s", diff)
	}
	if _, err := f.s.GetObservation(ctx, entity.Key{Environment: "dev", Kind: entity.Worktype, Name: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetObservation(missing): got %v, want ErrNotFound", err)
	}
}

// TestSnapshots: every observation stays findable by its ETag after newer ones replace the
// last-known state, a stale observation included (a plan recorded after a webhook).
func TestSnapshots(t *testing.T) {
	f := newFixture(t)
	k := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims #2"}
	obs := func(tag byte, at time.Duration, src Source) Observation {
		return Observation{Key: k, ETag: etag(tag), Config: json.RawMessage(`{"name":"Claims #2","v":"` + string(tag) + `"}`),
			GenesysID: "q-2", ObservedAt: t0.Add(at), Source: src}
	}
	planned, webhook, latePlan := obs('a', time.Second, SourcePlan), obs('b', 2*time.Second, SourceWebhook), obs('c', 0, SourcePlan)
	for _, o := range []Observation{planned, webhook} {
		if err := f.s.PutObservation(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.s.PutObservation(ctx, latePlan); !errors.Is(err, ErrStale) {
		t.Fatalf("PutObservation(older plan): got %v, want ErrStale", err)
	}
	for _, want := range []Observation{planned, webhook, latePlan} {
		got, err := f.s.GetSnapshot(ctx, k, want.ETag)
		if err != nil {
			t.Fatalf("GetSnapshot(%s): %v", want.ETag, err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("GetSnapshot(%s) (-want +got):\n%s", want.ETag, d)
		}
	}
	if last, _ := f.s.GetObservation(ctx, k); last.ETag != webhook.ETag {
		t.Errorf("last-known ETag got %s, want %s (snapshots must not change it)", last.ETag, webhook.ETag)
	}
	if got := numAttr(f.rawItem(t, envPK("dev"), snapshotSK(k, planned.ETag)), attrTTL); got != strconv.FormatInt(t0.Add(SnapshotRetention).Unix(), 10) {
		t.Errorf("snapshot ttl got %s, want now + SnapshotRetention (%d)", got, t0.Add(SnapshotRetention).Unix())
	}
	// Snapshots are not last-known state: listing still gives one observation per entity.
	if list, err := f.s.ListObservations(ctx, "dev"); err != nil || len(list) != 1 {
		t.Errorf("ListObservations(dev): got %d observations (%v), want 1", len(list), err)
	}
	for _, tc := range []struct {
		name string
		k    entity.Key
		etag string
		want error
	}{
		{"unknown ETag", k, etag('d'), ErrNotFound},
		{"other entity", entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims"}, planned.ETag, ErrNotFound},
		{"other environment", entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Claims #2"}, planned.ETag, ErrNotFound},
	} {
		if _, err := f.s.GetSnapshot(ctx, tc.k, tc.etag); !errors.Is(err, tc.want) {
			t.Errorf("%s: GetSnapshot got %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := f.s.GetSnapshot(ctx, k, "md5:abc"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("GetSnapshot(bad ETag): got %v, want a validation error", err)
	}
}

func TestObservationValidation(t *testing.T) {
	f := newFixture(t)
	good := Observation{Key: entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Q"}, ETag: etag('a'), Config: json.RawMessage(`{}`), ObservedAt: t0, Source: SourceScan}
	tests := []struct {
		name    string
		edit    func(*Observation)
		wantErr string
	}{
		{"env with #", func(o *Observation) { o.Key.Environment = "a#b" }, "environment"},
		{"unknown kind", func(o *Observation) { o.Key.Kind = "workbin" }, "kind"},
		{"empty name", func(o *Observation) { o.Key.Name = "" }, "empty name"},
		{"bad etag", func(o *Observation) { o.ETag = "md5:abc" }, "ETag"},
		{"bad config", func(o *Observation) { o.Config = json.RawMessage(`{`) }, "JSON"},
		{"no time", func(o *Observation) { o.ObservedAt = time.Time{} }, "observedAt"},
		{"bad source", func(o *Observation) { o.Source = "guess" }, "source"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.edit(&o)
			if err := f.s.PutObservation(ctx, o); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("PutObservation(%+v): got %v, want an error about %s", o, err, tc.wantErr)
			}
		})
	}
}

func desired(env string, kind entity.Kind, name, config string) Desired {
	return Desired{Key: entity.Key{Environment: env, Kind: kind, Name: name}, Config: json.RawMessage(config)}
}

func keysOf(ds []Desired) []string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s@%s=%s", d.Key, d.Version, d.Config))
	}
	return out
}

func TestPublishDesired(t *testing.T) {
	f := newFixture(t)
	// More than one BatchWriteItem (25) of entities.
	var v1 []Desired
	for i := range 30 {
		v1 = append(v1, desired("dev", entity.Skill, fmt.Sprintf("skill-%02d", i), `{"v":1}`))
	}
	v1 = append(v1, desired("dev", entity.Queue, "Sales", `{"v":1}`))
	if _, err := f.s.PublishDesired(ctx, "prod", "p1", []Desired{desired("prod", entity.Queue, "Sales", `{"p":1}`)}); err != nil {
		t.Fatal(err)
	}
	removed, err := f.s.PublishDesired(ctx, "dev", "commit-1", v1)
	if err != nil || len(removed) != 0 {
		t.Fatalf("first publish: removed %v, error %v; want nothing removed", removed, err)
	}
	got, err := f.s.ListDesired(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 31 || got[0].Version != "commit-1" || !got[0].PublishedAt.Equal(t0) {
		t.Fatalf("after first publish: got %d items, first %+v; want 31 at commit-1 published %s", len(got), got[0], t0)
	}

	f.clock.Advance(time.Minute)
	v2 := []Desired{desired("dev", entity.Queue, "Sales", `{"v":2}`), desired("dev", entity.Worktype, "Claims", `{"v":2}`)}
	removed, err = f.s.PublishDesired(ctx, "dev", "commit-2", v2)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 30 || removed[0] != (entity.Key{Environment: "dev", Kind: entity.Skill, Name: "skill-00"}) {
		t.Errorf("second publish removed %d keys starting %v, want the 30 skills", len(removed), removed)
	}
	got, err = f.s.ListDesired(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{`dev/queue/Sales@commit-2={"v":2}`, `dev/worktype/Claims@commit-2={"v":2}`}, keysOf(got)); diff != "" {
		t.Errorf("ListDesired(dev) after second publish (-want +got):\n%s", diff)
	}
	prod, _ := f.s.ListDesired(ctx, "prod")
	if diff := cmp.Diff([]string{`prod/queue/Sales@p1={"p":1}`}, keysOf(prod)); diff != "" {
		t.Errorf("another environment changed (-want +got):\n%s", diff)
	}

	bad := []struct {
		name string
		set  []Desired
	}{
		{"duplicate", []Desired{desired("dev", entity.Queue, "A", `{}`), desired("dev", entity.Queue, "A", `{}`)}},
		{"other environment", []Desired{desired("prod", entity.Queue, "A", `{}`)}},
		{"invalid JSON", []Desired{desired("dev", entity.Queue, "A", `nope`)}},
	}
	for _, tc := range bad {
		if _, err := f.s.PublishDesired(ctx, "dev", "commit-3", tc.set); err == nil {
			t.Errorf("PublishDesired(%s): got nil error, want one", tc.name)
		}
	}
	if after, _ := f.s.ListDesired(ctx, "dev"); len(after) != 2 {
		t.Errorf("a rejected publish changed the table: %d items, want 2", len(after))
	}
}

// unprocessingClient answers the first BatchWriteItem with every item unprocessed, as
// DynamoDB does under throttling, and forwards everything else.
type unprocessingClient struct {
	next    *http.Client
	mu      sync.Mutex
	batches int
}

func (c *unprocessingClient) Do(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".BatchWriteItem") {
		return c.next.Do(r)
	}
	c.mu.Lock()
	c.batches++
	first := c.batches == 1
	c.mu.Unlock()
	if !first {
		return c.next.Do(r)
	}
	var in struct{ RequestItems json.RawMessage }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return nil, err
	}
	body := []byte(`{"UnprocessedItems":` + string(in.RequestItems) + `}`)
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Request: r, ContentLength: int64(len(body)),
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:   io.NopCloser(bytes.NewReader(body)),
	}, nil
}

func TestPublishDesiredRetriesUnprocessedItems(t *testing.T) {
	hc := &unprocessingClient{next: &http.Client{}}
	f := newFixture(t, func(o *dynamodb.Options) { o.HTTPClient = hc })
	if _, err := f.s.PublishDesired(ctx, "dev", "c1", []Desired{desired("dev", entity.Queue, "A", `{}`)}); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.ListDesired(ctx, "dev")
	if err != nil || len(got) != 1 {
		t.Fatalf("after a throttled batch: got %v, %v; want the one entity stored", got, err)
	}
	if hc.batches < 2 {
		t.Errorf("BatchWriteItem calls: got %d, want 2 (the unprocessed item resubmitted)", hc.batches)
	}
}

var devQueue = ChangeInfo{Entity: entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Support"}, Operation: "update", RequestedBy: "ci"}

func mustClaim(t *testing.T, f fixture, id, hash string, expiry, lock time.Duration) {
	t.Helper()
	if _, err := f.s.Claim(ctx, id, hash, expiry, lock, devQueue); err != nil {
		t.Fatalf("Claim(%s, %s): %v", id, hash, err)
	}
}

func TestClaim(t *testing.T) {
	const (
		expiry   = 24 * time.Hour
		lockTime = 30 * time.Second
	)
	result := json.RawMessage(`{"outcome":"applied","etag":"sha256:x"}`)
	complete := func(t *testing.T, f fixture, id string, st Status, r json.RawMessage) {
		t.Helper()
		if err := f.s.Complete(ctx, id, st, r); err != nil {
			t.Fatal(err)
		}
	}
	fail := func(t *testing.T, f fixture, id, msg string) {
		t.Helper()
		if err := f.s.RecordAttempt(ctx, id, msg); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		setup      func(t *testing.T, f fixture, id string) // before the claim under test
		hash       string
		wantErr    error
		wantStatus Status
		wantResult json.RawMessage
		wantTries  int
		wantClaims int // successful claims so far, this one included
	}{
		{
			name: "new request", hash: "h1",
			setup:      func(*testing.T, fixture, string) {},
			wantStatus: StatusInProgress, wantClaims: 1,
		},
		{
			name: "completed: replay returns the stored result", hash: "h1",
			setup: func(t *testing.T, f fixture, id string) {
				mustClaim(t, f, id, "h1", expiry, lockTime)
				complete(t, f, id, StatusApplied, result)
			},
			wantErr: ErrAlreadyCompleted, wantStatus: StatusApplied, wantResult: result,
		},
		{
			name: "in progress elsewhere", hash: "h1",
			setup: func(t *testing.T, f fixture, id string) {
				mustClaim(t, f, id, "h1", expiry, lockTime)
				f.clock.Advance(lockTime - time.Millisecond)
			},
			wantErr: ErrInProgress, wantStatus: StatusInProgress,
		},
		{
			name: "in progress but the holder's time ran out", hash: "h1",
			setup: func(t *testing.T, f fixture, id string) {
				mustClaim(t, f, id, "h1", expiry, lockTime)
				f.clock.Advance(lockTime + time.Millisecond)
			},
			wantStatus: StatusInProgress, wantClaims: 2,
		},
		{
			name: "expired record is claimed anew", hash: "h2",
			setup: func(t *testing.T, f fixture, id string) {
				mustClaim(t, f, id, "h1", expiry, lockTime)
				complete(t, f, id, StatusNoop, nil)
				f.clock.Advance(expiry + time.Second)
			},
			wantStatus: StatusInProgress, wantClaims: 2,
		},
		{
			name: "payload mismatch while in progress", hash: "h2",
			setup:   func(t *testing.T, f fixture, id string) { mustClaim(t, f, id, "h1", expiry, lockTime) },
			wantErr: ErrPayloadMismatch, wantStatus: StatusInProgress,
		},
		{
			name: "payload mismatch after completion", hash: "h2",
			setup: func(t *testing.T, f fixture, id string) {
				mustClaim(t, f, id, "h1", expiry, lockTime)
				complete(t, f, id, StatusConflict, result)
			},
			wantErr: ErrPayloadMismatch, wantStatus: StatusConflict, wantResult: result,
		},
		{
			name: "failed attempt released the lock", hash: "h1",
			setup: func(t *testing.T, f fixture, id string) {
				mustClaim(t, f, id, "h1", expiry, lockTime)
				fail(t, f, id, "genesys: 503 service unavailable")
			},
			wantStatus: StatusInProgress, wantTries: 1, wantClaims: 2,
		},
		{
			name: "failed attempt with another payload", hash: "h2",
			setup: func(t *testing.T, f fixture, id string) {
				mustClaim(t, f, id, "h1", expiry, lockTime)
				fail(t, f, id, "boom")
			},
			wantErr: ErrPayloadMismatch, wantStatus: StatusFailed, wantTries: 1,
		},
	}
	shared := newFixture(t)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Cases share the table; each has its own change id and clock.
			clock := &fakeClock{t: t0}
			f := fixture{s: New(shared.db, shared.table, WithClock(clock.Now)), db: shared.db, table: shared.table, clock: clock}
			id := fmt.Sprintf("change-%d", i)
			tc.setup(t, f, id)
			got, err := f.s.Claim(ctx, id, tc.hash, expiry, lockTime, devQueue)
			if (tc.wantErr == nil && err != nil) || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Claim(%s, %s): got error %v, want %v", id, tc.hash, err, tc.wantErr)
			}
			if got == nil {
				t.Fatalf("Claim(%s): got no record", id)
			}
			if got.ID != id || got.Status != tc.wantStatus || string(got.Result) != string(tc.wantResult) || got.Attempts != tc.wantTries {
				t.Errorf("Claim(%s): got id %s status %s result %s attempts %d, want %s %s %s %d",
					id, got.ID, got.Status, got.Result, got.Attempts, id, tc.wantStatus, tc.wantResult, tc.wantTries)
			}
			if tc.wantErr != nil {
				return
			}
			if got.Claims != tc.wantClaims {
				t.Errorf("Claim(%s): got %d claims, want %d", id, got.Claims, tc.wantClaims)
			}
			now := clock.Now()
			if want := now.Add(lockTime).Truncate(time.Millisecond); !got.InProgressExpiry.Equal(want) {
				t.Errorf("InProgressExpiry: got %s, want %s", got.InProgressExpiry, want)
			}
			if want := now.Add(expiry).Truncate(time.Second); !got.ExpiresAt.Equal(want) {
				t.Errorf("ExpiresAt: got %s, want %s", got.ExpiresAt, want)
			}
			if got.PayloadHash != tc.hash || got.Info.Entity != devQueue.Entity || got.Info.RequestedBy != "ci" {
				t.Errorf("claimed record: got %+v, want hash %s and the request's info", got, tc.hash)
			}
		})
	}
}

// TestClaimWithoutEntity: the record of an invalid message may have no entity, and is
// still listed under its environment; any other record must name its entity.
func TestClaimWithoutEntity(t *testing.T) {
	f := newFixture(t)
	env := entity.Key{Environment: "dev"}
	if _, err := f.s.Claim(ctx, "sqs-m1", "sha256:x", time.Hour, time.Minute, ChangeInfo{Entity: env, Operation: OperationInvalid}); err != nil {
		t.Fatalf("Claim(invalid message without entity): %v", err)
	}
	if err := f.s.Complete(ctx, "sqs-m1", StatusRejected, json.RawMessage(`{"reason":"not JSON"}`)); err != nil {
		t.Fatal(err)
	}
	c, err := f.s.GetChange(ctx, "sqs-m1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Info.Entity != env || c.Info.HasEntity() || c.Status != StatusRejected {
		t.Errorf("record: entity %+v (has entity %v), status %s; want %+v without entity, REJECTED", c.Info.Entity, c.Info.HasEntity(), c.Status, env)
	}
	if item := f.rawItem(t, changePK("sqs-m1"), skChange); item["kind"] != nil || item["name"] != nil {
		t.Errorf("stored kind %v, name %v; want both absent", item["kind"], item["name"])
	}
	list, err := f.s.ListChanges(ctx, "dev", 10)
	if err != nil || len(list) != 1 || list[0].ID != "sqs-m1" {
		t.Errorf("ListChanges(dev): got %d records (%v), want sqs-m1", len(list), err)
	}
	for _, tc := range []struct {
		name string
		info ChangeInfo
	}{
		{"update without entity", ChangeInfo{Entity: env, Operation: "update"}},
		{"invalid without environment", ChangeInfo{Operation: OperationInvalid}},
		{"name without kind", ChangeInfo{Entity: entity.Key{Environment: "dev", Name: "Q"}, Operation: OperationInvalid}},
	} {
		if _, err := f.s.Claim(ctx, "chg-"+strings.ReplaceAll(tc.name, " ", "-"), "sha256:x", time.Hour, time.Minute, tc.info); err == nil {
			t.Errorf("%s: Claim got no error, want a validation error", tc.name)
		}
	}
}

func TestCompleteAndRecordAttempt(t *testing.T) {
	f := newFixture(t)
	mustClaim(t, f, "c1", "h1", time.Hour, time.Minute)

	if err := f.s.RecordAttempt(ctx, "c1", "first "+strings.Repeat("x", 5000)); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Second)
	mustClaim(t, f, "c1", "h1", time.Hour, time.Minute)
	if err := f.s.RecordAttempt(ctx, "c1", "second"); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.GetChange(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusFailed || got.Attempts != 2 || got.LastError != "second" || !got.InProgressExpiry.IsZero() {
		t.Errorf("after two failed attempts: got status %s attempts %d last error %q lock %s; want FAILED 2 \"second\" no lock",
			got.Status, got.Attempts, got.LastError, got.InProgressExpiry)
	}

	mustClaim(t, f, "c1", "h1", time.Hour, time.Minute)
	res := json.RawMessage(`{"applied":true}`)
	if err := f.s.Complete(ctx, "c1", StatusApplied, res); err != nil {
		t.Fatal(err)
	}
	// A late failure report must not reopen a finished request.
	if err := f.s.RecordAttempt(ctx, "c1", "late"); !errors.Is(err, ErrAlreadyCompleted) {
		t.Errorf("RecordAttempt after Complete: got %v, want ErrAlreadyCompleted", err)
	}
	got, _ = f.s.GetChange(ctx, "c1")
	if got.Status != StatusApplied || string(got.Result) != string(res) || got.Attempts != 2 || got.LastError != "second" {
		t.Errorf("completed record: got %+v", got)
	}

	tests := []struct {
		name    string
		do      func() error
		wantErr error // nil: any error
	}{
		{"complete unknown id", func() error { return f.s.Complete(ctx, "nope", StatusApplied, nil) }, ErrNotFound},
		{"record attempt on unknown id", func() error { return f.s.RecordAttempt(ctx, "nope", "x") }, ErrNotFound},
		{"get unknown id", func() error { _, err := f.s.GetChange(ctx, "nope"); return err }, ErrNotFound},
		{"complete with non-terminal status", func() error { return f.s.Complete(ctx, "c1", StatusInProgress, nil) }, nil},
		{"complete with invalid JSON", func() error { return f.s.Complete(ctx, "c1", StatusApplied, json.RawMessage(`{`)) }, nil},
		{"complete with a result over the limit", func() error {
			return f.s.Complete(ctx, "c1", StatusApplied, json.RawMessage(`"`+strings.Repeat("x", MaxResultBytes)+`"`))
		}, ErrTooLarge},
		{"claim without hash", func() error { _, err := f.s.Claim(ctx, "c2", "", time.Hour, time.Minute, devQueue); return err }, nil},
		{"claim with zero expiry", func() error { _, err := f.s.Claim(ctx, "c2", "h", 0, time.Minute, devQueue); return err }, nil},
	}
	for _, tc := range tests {
		err := tc.do()
		if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
			t.Errorf("%s: got %v, want error %v", tc.name, err, tc.wantErr)
		}
	}
}

func TestListChangesNewestFirst(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		info := devQueue
		info.RequestedAt = t0.Add(time.Duration(i) * time.Minute)
		if _, err := f.s.Claim(ctx, fmt.Sprintf("dev-%d", i), "h", time.Hour, time.Minute, info); err != nil {
			t.Fatal(err)
		}
	}
	prod := devQueue
	prod.Entity.Environment = "prod"
	prod.RequestedAt = t0.Add(time.Hour)
	if _, err := f.s.Claim(ctx, "prod-0", "h", time.Hour, time.Minute, prod); err != nil {
		t.Fatal(err)
	}
	// Reclaiming an old request must not move it to the top.
	if err := f.s.RecordAttempt(ctx, "dev-1", "x"); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, f, "dev-1", "h", time.Hour, time.Minute)

	got, err := f.s.ListChanges(ctx, "dev", 3)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	if diff := cmp.Diff([]string{"dev-4", "dev-3", "dev-2"}, ids); diff != "" {
		t.Errorf("ListChanges(dev, 3) (-want +got):\n%s", diff)
	}
	all, _ := f.s.ListChanges(ctx, "dev", 100)
	if len(all) != 5 {
		t.Errorf("ListChanges(dev, 100): got %d, want 5", len(all))
	}
	if _, err := f.s.ListChanges(ctx, "dev", 0); err == nil {
		t.Error("ListChanges(dev, 0): got nil error, want one")
	}
}

func TestTTLs(t *testing.T) {
	f := newFixture(t)
	if _, err := f.s.Claim(ctx, "c1", "h", 48*time.Hour, time.Minute, devQueue); err != nil {
		t.Fatal(err)
	}
	if err := f.s.PutDriftReport(ctx, DriftReport{Environment: "dev", GeneratedAt: t0, Report: json.RawMessage(`{}`)}, 90*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := f.s.PutOccupancySample(ctx, OccupancySample{Environment: "dev", QueueID: "q1", SampledAt: t0, Metrics: map[string]float64{"oWaiting": 3}}, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.MarkEventSeen(ctx, "evt-1", 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := f.s.PutObservation(ctx, Observation{Key: devQueue.Entity, ETag: etag('a'), Config: json.RawMessage(`{}`), ObservedAt: t0, Source: SourceScan}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.PublishDesired(ctx, "dev", "c", []Desired{desired("dev", entity.Queue, "Support", `{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.PutOverflowState(ctx, OverflowState{Environment: "dev", Worktype: "Claims", ChangedAt: t0}); err != nil {
		t.Fatal(err)
	}
	secs := func(d time.Duration) string { return fmt.Sprint(t0.Add(d).Unix()) }
	tests := []struct {
		name, pk, sk, want string
	}{
		{"change request", changePK("c1"), skChange, secs(48 * time.Hour)},
		{"drift report", envPK("dev"), driftSK(t0), secs(90 * 24 * time.Hour)},
		{"occupancy sample", occupancyPK("dev", "q1"), occupancySK(t0), secs(2 * time.Hour)},
		{"webhook event", eventPK("evt-1"), skEvent, secs(10 * time.Minute)},
		{"last-known entity (kept)", envPK("dev"), entitySK(devQueue.Entity), "<none>"},
		{"desired entity (kept)", envPK("dev"), desiredSK(devQueue.Entity), "<none>"},
		{"overflow state (kept)", envPK("dev"), overflowSK("Claims"), "<none>"},
	}
	for _, tc := range tests {
		item := f.rawItem(t, tc.pk, tc.sk)
		if len(item) == 0 {
			t.Errorf("%s: no item at %s / %s", tc.name, tc.pk, tc.sk)
			continue
		}
		if got := numAttr(item, attrTTL); got != tc.want {
			t.Errorf("%s: ttl got %s, want %s", tc.name, got, tc.want)
		}
	}
	change := f.rawItem(t, changePK("c1"), skChange)
	if numAttr(change, "expiresAt") != numAttr(change, attrTTL) {
		t.Errorf("change request: expiresAt %s and ttl %s differ", numAttr(change, "expiresAt"), numAttr(change, attrTTL))
	}
}

func TestMarkEventSeen(t *testing.T) {
	f := newFixture(t)
	steps := []struct {
		name    string
		advance time.Duration
		want    bool
	}{
		{"first delivery", 0, true},
		{"duplicate delivery", time.Minute, false},
		{"duplicate just inside the window", 9*time.Minute - time.Second, false},
		{"after the window (item not yet deleted by TTL)", 2 * time.Second, true},
	}
	for _, st := range steps {
		f.clock.Advance(st.advance)
		got, err := f.s.MarkEventSeen(ctx, "evt-1", 10*time.Minute)
		if err != nil || got != st.want {
			t.Errorf("%s: MarkEventSeen got %v, %v; want %v", st.name, got, err, st.want)
		}
	}
}

func TestDriftReports(t *testing.T) {
	f := newFixture(t)
	if _, err := f.s.LatestDriftReport(ctx, "dev"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LatestDriftReport with none: got %v, want ErrNotFound", err)
	}
	for i, retention := range []time.Duration{48 * time.Hour, 48 * time.Hour, time.Hour} {
		r := DriftReport{Environment: "dev", GeneratedAt: t0.Add(time.Duration(i) * time.Minute), Report: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
		if err := f.s.PutDriftReport(ctx, r, retention); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.s.LatestDriftReport(ctx, "dev")
	if err != nil || string(got.Report) != `{"n":2}` {
		t.Errorf("LatestDriftReport: got %s, %v; want the newest report", got.Report, err)
	}
	f.clock.Advance(3 * time.Hour) // the newest expired; DynamoDB may not have deleted it yet
	got, err = f.s.LatestDriftReport(ctx, "dev")
	if err != nil || string(got.Report) != `{"n":1}` {
		t.Errorf("LatestDriftReport after the newest expired: got %s, %v; want report 1", got.Report, err)
	}
}

func TestOccupancyAndOverflow(t *testing.T) {
	f := newFixture(t)
	for i := range 3 {
		s := OccupancySample{Environment: "dev", QueueID: "q1", SampledAt: t0.Add(time.Duration(i) * time.Minute), Metrics: map[string]float64{"oWaiting": float64(i)}}
		if err := f.s.PutOccupancySample(ctx, s, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.s.ListOccupancySamples(ctx, "dev", "q1", t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := []OccupancySample{
		{Environment: "dev", QueueID: "q1", SampledAt: t0.Add(time.Minute), Metrics: map[string]float64{"oWaiting": 1}},
		{Environment: "dev", QueueID: "q1", SampledAt: t0.Add(2 * time.Minute), Metrics: map[string]float64{"oWaiting": 2}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListOccupancySamples since 1m (-want +got):\n%s", diff)
	}

	st := OverflowState{Environment: "dev", Worktype: "Claims #2", Active: true, Queue: "Claims", OverflowQueue: "Claims Overflow", Backlog: 42, ChangedAt: t0}
	if err := f.s.PutOverflowState(ctx, st); err != nil {
		t.Fatal(err)
	}
	gotSt, err := f.s.GetOverflowState(ctx, "dev", "Claims #2")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st, gotSt); diff != "" {
		t.Errorf("overflow state round trip (-want +got):\n%s", diff)
	}
	if _, err := f.s.GetOverflowState(ctx, "dev", "Other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetOverflowState(missing): got %v, want ErrNotFound", err)
	}
}

// BenchmarkClaimComplete measures the apply function's DynamoDB cost per change request
// (conditional claim + completion) against moto.
func BenchmarkClaimComplete(b *testing.B) {
	cfg, res := awslocal.ForTest(b)
	s := New(dynamodb.NewFromConfig(cfg), res.TableName)
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprintf("bench-%d", i)
		if _, err := s.Claim(ctx, id, "h", time.Hour, time.Minute, devQueue); err != nil {
			b.Fatal(err)
		}
		if err := s.Complete(ctx, id, StatusApplied, json.RawMessage(`{}`)); err != nil {
			b.Fatal(err)
		}
	}
}
