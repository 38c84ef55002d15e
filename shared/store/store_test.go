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
	if _, err := f.s.PublishDesired(ctx, "dev", "c1", []Desired{{Key: entity.Key{Environment: "dev", Kind: entity.Queue, Name: "A"}, Config: json.RawMessage(`{}`)}}); err != nil {
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
	if _, err := f.s.PublishDesired(ctx, "dev", "c", []Desired{{Key: devQueue.Entity, Config: json.RawMessage(`{}`)}}); err != nil {
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
		{"snapshot", envPK("dev"), snapshotSK(devQueue.Entity, etag('a')), secs(SnapshotRetention)},
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

// TestChangeItems checks change records as stored, beyond what the contract sees: a record
// without entity has no kind and name attributes, and a record renewed after its expiry
// is a new item (its TTL, index position and history start again).
func TestChangeItems(t *testing.T) {
	f := newFixture(t)
	invalid := ChangeInfo{Entity: entity.Key{Environment: "dev"}, Operation: OperationInvalid}
	if _, err := f.s.Claim(ctx, "sqs-m1", "sha256:x", time.Hour, time.Minute, invalid); err != nil {
		t.Fatal(err)
	}
	if item := f.rawItem(t, changePK("sqs-m1"), skChange); item["kind"] != nil || item["name"] != nil {
		t.Errorf("record without entity: stored kind %v, name %v; want both absent", item["kind"], item["name"])
	}

	if _, err := f.s.Claim(ctx, "c1", "h1", time.Hour, time.Minute, devQueue); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RecordAttempt(ctx, "c1", "503"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Complete(ctx, "c1", StatusApplied, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour)
	if _, err := f.s.Claim(ctx, "c1", "h2", 48*time.Hour, time.Minute, devQueue); err != nil {
		t.Fatal(err)
	}
	item := f.rawItem(t, changePK("c1"), skChange)
	want := fmt.Sprint(f.clock.Now().Add(48 * time.Hour).Unix())
	if got := numAttr(item, attrTTL); got != want || numAttr(item, "expiresAt") != want {
		t.Errorf("renewed record: ttl %s, expiresAt %s; want both %s", got, numAttr(item, "expiresAt"), want)
	}
	if sk, _ := item[attrGSI1SK].(*types.AttributeValueMemberS); sk == nil || sk.Value != changesGSI1SK(f.clock.Now(), "c1") {
		t.Errorf("renewed record: gsi1sk %v, want %s", item[attrGSI1SK], changesGSI1SK(f.clock.Now(), "c1"))
	}
	for _, attr := range []string{"lastError", "result"} {
		if item[attr] != nil {
			t.Errorf("renewed record: %s %v carried over, want absent", attr, item[attr])
		}
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
