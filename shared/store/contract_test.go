package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/shared/entity"
)

// contractStore is what Store and Memory both offer; the contract uses nothing else.
type contractStore interface {
	Claim(ctx context.Context, changeID, payloadHash string, expiry, inProgressExpiry time.Duration, info ChangeInfo) (*Change, error)
	Complete(ctx context.Context, changeID string, status Status, result json.RawMessage) error
	RecordAttempt(ctx context.Context, changeID, errMsg string) error
	GetChange(ctx context.Context, changeID string) (*Change, error)
	ListChanges(ctx context.Context, env string, limit int) ([]*Change, error)
	GetObservation(ctx context.Context, k entity.Key) (Observation, error)
	GetSnapshot(ctx context.Context, k entity.Key, etag string) (Observation, error)
	PutObservation(ctx context.Context, o Observation) error
	ListObservations(ctx context.Context, env string) ([]Observation, error)
	PublishDesired(ctx context.Context, env, version string, entities []Desired) ([]entity.Key, error)
	ListDesired(ctx context.Context, env string) ([]Desired, error)
	PutWriteWindow(ctx context.Context, w WriteWindow) error
	ListWriteWindows(ctx context.Context, k entity.Key, since time.Time) ([]WriteWindow, error)
	MarkPossibleOverwrite(ctx context.Context, changeID string, o Overwrite) error
}

var (
	_ contractStore = (*Store)(nil)
	_ contractStore = (*Memory)(nil)
)

// contractCase is one behaviour both stores must show. run gets an empty store of its own
// and the clock (at t0) that store reads.
type contractCase struct {
	name string
	run  func(t *testing.T, s contractStore, clock *fakeClock)
}

// TestContract runs every contract case against the table on moto and against Memory.
func TestContract(t *testing.T) {
	impls := []struct {
		name string
		open func(t *testing.T, clock *fakeClock) contractStore
	}{
		{"dynamodb", func(t *testing.T, clock *fakeClock) contractStore {
			cfg, res := awslocal.ForTest(t)
			return New(dynamodb.NewFromConfig(cfg), res.TableName, WithClock(clock.Now))
		}},
		{"memory", func(_ *testing.T, clock *fakeClock) contractStore { return NewMemory(clock.Now) }},
	}
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			for _, tc := range contract {
				t.Run(tc.name, func(t *testing.T) {
					// Open before t.Parallel: creating resources from template.yaml is not
					// safe to run concurrently (goformation registers YAML tags globally).
					clock := &fakeClock{t: t0}
					s := impl.open(t, clock)
					t.Parallel()
					tc.run(t, s, clock)
				})
			}
		})
	}
}

const (
	expiry   = 24 * time.Hour   // how long the contract's change ids are remembered
	lockTime = 30 * time.Second // how long a claim holds them
)

var devQueue = ChangeInfo{Entity: entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Support"}, Operation: "update", RequestedBy: "ci"}

// claimed is the record a first claim of id at time at returns, at the table's precision
// (expiresAt in seconds, inProgressExpiry in milliseconds).
func claimed(id, hash string, info ChangeInfo, at time.Time) *Change {
	if info.RequestedAt.IsZero() {
		info.RequestedAt = at
	}
	return &Change{
		ID: id, Info: info, PayloadHash: hash, Status: StatusInProgress, Claims: 1,
		ExpiresAt: at.Add(expiry).Truncate(time.Second), InProgressExpiry: at.Add(lockTime).Truncate(time.Millisecond),
		UpdatedAt: at,
	}
}

func mustClaim(t *testing.T, s contractStore, id, hash string, info ChangeInfo) *Change {
	t.Helper()
	c, err := s.Claim(ctx, id, hash, expiry, lockTime, info)
	if err != nil {
		t.Fatalf("Claim(%s, %s): %v", id, hash, err)
	}
	return c
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func getChange(t *testing.T, s contractStore, id string) *Change {
	t.Helper()
	c, err := s.GetChange(ctx, id)
	if err != nil {
		t.Fatalf("GetChange(%s): %v", id, err)
	}
	return c
}

var sentinels = []error{ErrNotFound, ErrStale, ErrInProgress, ErrAlreadyCompleted, ErrPayloadMismatch, ErrTooLarge}

// checkErr fails unless err wraps want; want nil: a validation error, which wraps none of
// the sentinels callers branch on.
func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want != nil {
		if !errors.Is(err, want) {
			t.Errorf("%s: got error %v, want %v", what, err, want)
		}
		return
	}
	if err == nil {
		t.Errorf("%s: got nil error, want a validation error", what)
		return
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			t.Errorf("%s: got %v, want a validation error, not %v", what, err, s)
		}
	}
}

func diffChange(t *testing.T, what string, want, got *Change) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

func ids(cs []*Change) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func observation(k entity.Key, tag byte, at time.Duration, src Source) Observation {
	return Observation{Key: k, ETag: etag(tag), Config: json.RawMessage(`{"name":` + fmt.Sprintf("%q", k.Name) + `,"v":"` + string(tag) + `","n":1.0}`),
		GenesysID: "id-" + k.Name, ObservedAt: t0.Add(at), Source: src}
}

func mustPut(t *testing.T, s contractStore, os ...Observation) {
	t.Helper()
	for _, o := range os {
		must(t, fmt.Sprintf("PutObservation(%s %s)", o.Key, o.ETag), s.PutObservation(ctx, o))
	}
}

// contract is the behaviour Store and Memory share.
var contract = []contractCase{
	{"write windows open, close and list by entity and start", func(t *testing.T, s contractStore, _ *fakeClock) {
		k := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims # Tasks"}
		other := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims"}
		open := WriteWindow{Key: k, ChangeID: "c1", Start: t0}
		must(t, "open", s.PutWriteWindow(ctx, open))
		must(t, "other entity", s.PutWriteWindow(ctx, WriteWindow{Key: other, ChangeID: "c0", Start: t0}))
		got, err := s.ListWriteWindows(ctx, k, t0.Add(-time.Hour))
		must(t, "list", err)
		if len(got) != 1 || !got[0].Open() {
			t.Fatalf("windows %+v, want the open one", got)
		}
		closed := open
		closed.End, closed.Written, closed.ETag = t0.Add(300*time.Millisecond), []string{"description"}, etag('b')
		must(t, "close", s.PutWriteWindow(ctx, closed))
		later := WriteWindow{Key: k, ChangeID: "c2", Start: t0.Add(time.Minute), End: t0.Add(time.Minute + time.Second)}
		must(t, "later", s.PutWriteWindow(ctx, later))
		got, err = s.ListWriteWindows(ctx, k, t0.Add(-time.Hour))
		must(t, "list", err)
		if d := cmp.Diff([]WriteWindow{closed, later}, got); d != "" {
			t.Errorf("windows (-want +got):\n%s", d)
		}
		if got, _ := s.ListWriteWindows(ctx, k, t0.Add(time.Second)); len(got) != 1 || got[0].ChangeID != "c2" {
			t.Errorf("windows since t0+1s: %+v, want only c2", got)
		}
		if !closed.Covers(t0.Add(100*time.Millisecond), t0, 0) || closed.Covers(t0.Add(2*time.Second), t0, time.Second) ||
			!open.Covers(t0.Add(time.Hour), t0.Add(time.Hour), 0) {
			t.Error("Covers: wrong")
		}
		if err := s.PutWriteWindow(ctx, WriteWindow{Key: k, Start: t0}); err == nil {
			t.Error("a window without a change id was stored")
		}
	}},
	{"possible overwrites are recorded once on a completed change", func(t *testing.T, s contractStore, _ *fakeClock) {
		mustClaim(t, s, "c", "h1", devQueue)
		o := Overwrite{EventID: "ev-1", EventTime: t0, UserID: "admin", Paths: []string{"description"}, Overwritten: []string{"description"}}
		if err := s.MarkPossibleOverwrite(ctx, "c", o); !errors.Is(err, ErrInProgress) {
			t.Errorf("mark an INPROGRESS change: %v, want ErrInProgress", err)
		}
		must(t, "complete", s.Complete(ctx, "c", StatusApplied, json.RawMessage(`{"status":"APPLIED"}`)))
		must(t, "mark", s.MarkPossibleOverwrite(ctx, "c", o))
		must(t, "mark again", s.MarkPossibleOverwrite(ctx, "c", o))
		o2 := Overwrite{EventID: "ev-2", EventTime: t0.Add(time.Second), Paths: []string{"mediaSettings.call.alertingTimeoutSeconds"}, Restored: []string{"mediaSettings.call.alertingTimeoutSeconds"}}
		must(t, "mark another", s.MarkPossibleOverwrite(ctx, "c", o2))
		c := getChange(t, s, "c")
		if c.Status != StatusPossibleOverwrite || !c.Status.Terminal() {
			t.Errorf("status %s, want POSSIBLE_OVERWRITE (terminal)", c.Status)
		}
		if d := cmp.Diff([]Overwrite{o, o2}, c.Overwrites); d != "" {
			t.Errorf("overwrites (-want +got):\n%s", d)
		}
		if err := s.MarkPossibleOverwrite(ctx, "nope", o); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown change: %v, want ErrNotFound", err)
		}
		// A NOOP (or CONFLICT) redelivery can follow an unanswered write that applied.
		for _, st := range []Status{StatusNoop, StatusConflict} {
			id := "d-" + string(st)
			mustClaim(t, s, id, "h1", devQueue)
			must(t, "record attempt "+id, s.RecordAttempt(ctx, id, "503 after the write"))
			if err := s.MarkPossibleOverwrite(ctx, id, o); !errors.Is(err, ErrInProgress) {
				t.Errorf("mark a FAILED change: %v, want ErrInProgress", err)
			}
			mustClaim(t, s, id, "h1", devQueue)
			must(t, "complete "+id, s.Complete(ctx, id, st, nil))
			must(t, "mark "+id, s.MarkPossibleOverwrite(ctx, id, o))
			if c := getChange(t, s, id); c.Status != StatusPossibleOverwrite || len(c.Overwrites) != 1 {
				t.Errorf("%s change marked: %s with %d overwrites, want POSSIBLE_OVERWRITE with 1", st, c.Status, len(c.Overwrites))
			}
		}
	}},
	{"observation keeps its cause and Genesys's dateModified", func(t *testing.T, s contractStore, _ *fakeClock) {
		k := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims"}
		o := observation(k, 'a', 0, SourceWebhook)
		o.Cause = &Cause{EventID: "ev-1", EventTime: t0.Add(-time.Second), UserID: "u-1", ClientID: "c-1"}
		o.Modified = t0.Add(-1500 * time.Millisecond)
		mustPut(t, s, o)
		got, err := s.GetObservation(ctx, k)
		must(t, "GetObservation", err)
		if d := cmp.Diff(o, got); d != "" {
			t.Errorf("observation with a cause (-put +got):\n%s", d)
		}
		got.Cause.UserID = "changed"
		again, _ := s.GetObservation(ctx, k)
		if again.Cause.UserID != "u-1" {
			t.Error("editing a returned cause changed the stored one")
		}
	}},
	{"a deletion has no ETag, config or snapshot, and newer observations replace it", func(t *testing.T, s contractStore, _ *fakeClock) {
		k := entity.Key{Environment: "dev", Kind: entity.Skill, Name: "French"}
		live := observation(k, 'a', 0, SourceScan)
		gone := Observation{Key: k, GenesysID: live.GenesysID, ObservedAt: t0.Add(time.Minute), Source: SourceWebhook, Deleted: true,
			Cause: &Cause{EventID: "ev-del"}}
		mustPut(t, s, live, gone)
		got, err := s.GetObservation(ctx, k)
		must(t, "GetObservation", err)
		if d := cmp.Diff(gone, got); d != "" {
			t.Errorf("deletion (-put +got):\n%s", d)
		}
		// The live state's snapshot stays; the deletion adds none.
		if _, err := s.GetSnapshot(ctx, k, live.ETag); err != nil {
			t.Errorf("snapshot of the state before the deletion: %v", err)
		}
		checkErr(t, "an older observation after the deletion", s.PutObservation(ctx, observation(k, 'b', 30*time.Second, SourceScan)), ErrStale)
		back := observation(k, 'c', 2*time.Minute, SourceScan)
		mustPut(t, s, back)
		if got, _ := s.GetObservation(ctx, k); got.Deleted || got.ETag != back.ETag {
			t.Errorf("after the entity came back: %+v, want the newer live observation", got)
		}
		for name, bad := range map[string]Observation{
			"with an ETag":  {Key: k, ETag: etag('d'), ObservedAt: t0.Add(time.Hour), Source: SourceWebhook, Deleted: true},
			"with a config": {Key: k, Config: json.RawMessage(`{}`), ObservedAt: t0.Add(time.Hour), Source: SourceWebhook, Deleted: true},
		} {
			checkErr(t, "deletion "+name, s.PutObservation(ctx, bad), nil)
		}
	}},
	// Claim.
	{"claim a new request", func(t *testing.T, s contractStore, _ *fakeClock) {
		got, err := s.Claim(ctx, "c", "h1", expiry, lockTime, devQueue)
		must(t, "Claim", err)
		diffChange(t, "claimed record", claimed("c", "h1", devQueue, t0), got)
		diffChange(t, "GetChange after the claim", got, getChange(t, s, "c"))
	}},
	{"claim in progress elsewhere", func(t *testing.T, s contractStore, clock *fakeClock) {
		first := mustClaim(t, s, "c", "h1", devQueue)
		clock.Advance(lockTime - time.Millisecond)
		got, err := s.Claim(ctx, "c", "h1", expiry, lockTime, devQueue)
		checkErr(t, "Claim while held", err, ErrInProgress)
		diffChange(t, "record returned with ErrInProgress", first, got)
	}},
	{"claim held through the millisecond of its deadline", func(t *testing.T, s contractStore, clock *fakeClock) {
		// The table keeps the deadline in milliseconds: 100µs past the exact deadline is
		// still its millisecond (t0 is .589793238).
		mustClaim(t, s, "c", "h1", devQueue)
		clock.Advance(lockTime + 100*time.Microsecond)
		_, err := s.Claim(ctx, "c", "h1", expiry, lockTime, devQueue)
		checkErr(t, "Claim within the deadline's millisecond", err, ErrInProgress)
	}},
	{"claim in progress expired is taken over", func(t *testing.T, s contractStore, clock *fakeClock) {
		mustClaim(t, s, "c", "h1", devQueue)
		clock.Advance(lockTime + time.Millisecond)
		got, err := s.Claim(ctx, "c", "h1", expiry, lockTime, devQueue)
		must(t, "Claim after the holder's deadline", err)
		want := claimed("c", "h1", devQueue, clock.Now())
		want.Info.RequestedAt, want.Claims = t0, 2
		diffChange(t, "taken-over record", want, got)
	}},
	{"claim of a completed request replays the stored result", func(t *testing.T, s contractStore, clock *fakeClock) {
		mustClaim(t, s, "c", "h1", devQueue)
		clock.Advance(time.Second)
		result := json.RawMessage(`{"outcome":"applied","etag":"sha256:x"}`)
		must(t, "Complete", s.Complete(ctx, "c", StatusApplied, result))
		clock.Advance(2 * lockTime)
		got, err := s.Claim(ctx, "c", "h1", expiry, lockTime, devQueue)
		checkErr(t, "Claim of a completed request", err, ErrAlreadyCompleted)
		want := claimed("c", "h1", devQueue, t0)
		want.Status, want.Result, want.InProgressExpiry, want.UpdatedAt = StatusApplied, result, time.Time{}, t0.Add(time.Second)
		diffChange(t, "replayed record", want, got)
	}},
	{"claim with another payload is refused", func(t *testing.T, s contractStore, _ *fakeClock) {
		setups := []struct {
			name  string
			setup func(id string)
		}{
			{"while in progress", func(string) {}},
			{"after completion", func(id string) {
				must(t, "Complete", s.Complete(ctx, id, StatusConflict, json.RawMessage(`{"c":1}`)))
			}},
			{"after a failed attempt", func(id string) { must(t, "RecordAttempt", s.RecordAttempt(ctx, id, "boom")) }},
		}
		for i, st := range setups {
			id := fmt.Sprintf("c%d", i)
			mustClaim(t, s, id, "h1", devQueue)
			st.setup(id)
			before := getChange(t, s, id)
			got, err := s.Claim(ctx, id, "h2", expiry, lockTime, devQueue)
			checkErr(t, "Claim with another payload "+st.name, err, ErrPayloadMismatch)
			diffChange(t, "record returned with ErrPayloadMismatch "+st.name, before, got)
			diffChange(t, "record after the refused claim "+st.name, before, getChange(t, s, id))
		}
	}},
	{"claim after a failed attempt with the same payload", func(t *testing.T, s contractStore, clock *fakeClock) {
		mustClaim(t, s, "c", "h1", devQueue)
		must(t, "RecordAttempt", s.RecordAttempt(ctx, "c", "genesys: 503 service unavailable"))
		clock.Advance(time.Second) // well within the first claim's lock: the attempt released it
		got, err := s.Claim(ctx, "c", "h1", expiry, lockTime, devQueue)
		must(t, "Claim after a failed attempt", err)
		want := claimed("c", "h1", devQueue, clock.Now())
		want.Info.RequestedAt, want.Claims, want.Attempts, want.LastError = t0, 2, 1, "genesys: 503 service unavailable"
		diffChange(t, "reclaimed record", want, got)
	}},
	{"claim takes the new description but keeps requestedAt", func(t *testing.T, s contractStore, clock *fakeClock) {
		first := devQueue
		first.RequestedAt = t0.Add(-time.Hour)
		mustClaim(t, s, "c", "h1", first)
		must(t, "RecordAttempt", s.RecordAttempt(ctx, "c", "x"))
		again := ChangeInfo{Entity: devQueue.Entity, Operation: "delete", RequestedBy: "ops", RequestedAt: t0.Add(time.Hour)}
		got := mustClaim(t, s, "c", "h1", again)
		want := again
		want.RequestedAt = first.RequestedAt
		if d := cmp.Diff(want, got.Info); d != "" {
			t.Errorf("reclaimed record's info (-want +got):\n%s", d)
		}
	}},
	{"claim counts every claim across attempts", func(t *testing.T, s contractStore, clock *fakeClock) {
		mustClaim(t, s, "c", "h1", devQueue)
		must(t, "RecordAttempt", s.RecordAttempt(ctx, "c", "first"))
		mustClaim(t, s, "c", "h1", devQueue)
		long := strings.Repeat("x", 5000)
		must(t, "RecordAttempt", s.RecordAttempt(ctx, "c", long))
		mustClaim(t, s, "c", "h1", devQueue)
		clock.Advance(lockTime + time.Millisecond) // this holder ended without recording anything
		got := mustClaim(t, s, "c", "h1", devQueue)
		want := claimed("c", "h1", devQueue, clock.Now())
		want.Info.RequestedAt, want.Claims, want.Attempts, want.LastError = t0, 4, 2, long[:maxErrorLen]+"…"
		diffChange(t, "record after four claims and two recorded attempts", want, got)
	}},
	{"claim after the record's expiry starts a new request", func(t *testing.T, s contractStore, clock *fakeClock) {
		mustClaim(t, s, "c", "h1", devQueue)
		must(t, "RecordAttempt", s.RecordAttempt(ctx, "c", "503"))
		mustClaim(t, s, "c", "h1", devQueue)
		must(t, "Complete", s.Complete(ctx, "c", StatusNoop, json.RawMessage(`{"n":1}`)))
		later := devQueue
		later.RequestedAt = t0.Add(time.Hour)
		mustClaim(t, s, "later", "h", later)

		clock.Advance(expiry + time.Second)
		again := ChangeInfo{Entity: devQueue.Entity, Operation: "create", RequestedBy: "ops"}
		got, err := s.Claim(ctx, "c", "h2", expiry, lockTime, again)
		must(t, "Claim after expiry with another payload", err)
		// Nothing of the forgotten request carries over: no claims, attempts or last
		// error to pass for earlier attempts of this one.
		diffChange(t, "record after expiry", claimed("c", "h2", again, clock.Now()), got)
		list, err := s.ListChanges(ctx, "dev", 10)
		must(t, "ListChanges", err)
		if d := cmp.Diff([]string{"c", "later"}, ids(list)); d != "" {
			t.Errorf("ListChanges after the id was reused (-want +got):\n%s", d)
		}
	}},
	{"claim remembered through the second of its expiry", func(t *testing.T, s contractStore, clock *fakeClock) {
		// The table keeps expiresAt in seconds: 300ms past the exact expiry is still its
		// second (t0 is .589793238).
		mustClaim(t, s, "c", "h1", devQueue)
		must(t, "Complete", s.Complete(ctx, "c", StatusNoop, nil))
		clock.Advance(expiry + 300*time.Millisecond)
		_, err := s.Claim(ctx, "c", "h2", expiry, lockTime, devQueue)
		checkErr(t, "Claim within the expiry's second", err, ErrPayloadMismatch)
	}},
	{"claim without entity for an invalid message", func(t *testing.T, s contractStore, _ *fakeClock) {
		info := ChangeInfo{Entity: entity.Key{Environment: "dev"}, Operation: OperationInvalid}
		mustClaim(t, s, "sqs-m1", "sha256:x", info)
		reason := json.RawMessage(`{"reason":"not JSON"}`)
		must(t, "Complete", s.Complete(ctx, "sqs-m1", StatusRejected, reason))
		want := claimed("sqs-m1", "sha256:x", info, t0)
		want.Status, want.Result, want.InProgressExpiry = StatusRejected, reason, time.Time{}
		got := getChange(t, s, "sqs-m1")
		diffChange(t, "record of an invalid message", want, got)
		if got.Info.HasEntity() {
			t.Errorf("record of an invalid message: HasEntity got true, want false")
		}
		list, err := s.ListChanges(ctx, "dev", 10)
		must(t, "ListChanges", err)
		if d := cmp.Diff([]*Change{want}, list); d != "" {
			t.Errorf("ListChanges(dev) (-want +got):\n%s", d)
		}
	}},
	{"claim validation", func(t *testing.T, s contractStore, _ *fakeClock) {
		env := entity.Key{Environment: "dev"}
		tests := []struct {
			name         string
			id, hash     string
			expiry, lock time.Duration
			info         ChangeInfo
		}{
			{"empty change id", "", "h", expiry, lockTime, devQueue},
			{"empty payload hash", "c1", "", expiry, lockTime, devQueue},
			{"zero expiry", "c2", "h", 0, lockTime, devQueue},
			{"negative in-progress expiry", "c3", "h", expiry, -time.Second, devQueue},
			{"update without entity", "c4", "h", expiry, lockTime, ChangeInfo{Entity: env, Operation: "update"}},
			{"invalid message without environment", "c5", "h", expiry, lockTime, ChangeInfo{Operation: OperationInvalid}},
			{"name without kind", "c6", "h", expiry, lockTime, ChangeInfo{Entity: entity.Key{Environment: "dev", Name: "Q"}, Operation: OperationInvalid}},
			{"unmanaged kind", "c7", "h", expiry, lockTime, ChangeInfo{Entity: entity.Key{Environment: "dev", Kind: entity.Workbin, Name: "W"}, Operation: "update"}},
			{"kind without name", "c8", "h", expiry, lockTime, ChangeInfo{Entity: entity.Key{Environment: "dev", Kind: entity.Queue}, Operation: "update"}},
			{"environment with #", "c9", "h", expiry, lockTime, ChangeInfo{Entity: entity.Key{Environment: "a#b", Kind: entity.Queue, Name: "Q"}, Operation: "update"}},
		}
		for _, tc := range tests {
			got, err := s.Claim(ctx, tc.id, tc.hash, tc.expiry, tc.lock, tc.info)
			checkErr(t, "Claim with "+tc.name, err, nil)
			if got != nil {
				t.Errorf("Claim with %s: got record %+v, want none", tc.name, got)
			}
			if tc.id != "" {
				_, err := s.GetChange(ctx, tc.id)
				checkErr(t, "GetChange after a claim with "+tc.name, err, ErrNotFound)
			}
		}
	}},

	// Complete.
	{"complete stores status and result", func(t *testing.T, s contractStore, clock *fakeClock) {
		mustClaim(t, s, "c", "h1", devQueue)
		clock.Advance(2 * time.Second)
		result := json.RawMessage(`{"conflict":["maxCapacity"]}`)
		must(t, "Complete", s.Complete(ctx, "c", StatusConflict, result))
		want := claimed("c", "h1", devQueue, t0)
		want.Status, want.Result, want.InProgressExpiry, want.UpdatedAt = StatusConflict, result, time.Time{}, t0.Add(2*time.Second)
		diffChange(t, "completed record", want, getChange(t, s, "c"))
	}},
	{"complete accepts a result of MaxResultBytes", func(t *testing.T, s contractStore, _ *fakeClock) {
		mustClaim(t, s, "c", "h1", devQueue)
		result := json.RawMessage(`"` + strings.Repeat("x", MaxResultBytes-2) + `"`)
		must(t, "Complete with a result at the limit", s.Complete(ctx, "c", StatusApplied, result))
		if got := getChange(t, s, "c"); string(got.Result) != string(result) {
			t.Errorf("stored result: got %d bytes, want the %d given", len(got.Result), len(result))
		}
	}},
	{"complete without result keeps the stored one", func(t *testing.T, s contractStore, _ *fakeClock) {
		mustClaim(t, s, "c", "h1", devQueue)
		result := json.RawMessage(`{"applied":true}`)
		must(t, "Complete", s.Complete(ctx, "c", StatusApplied, result))
		must(t, "Complete again without result", s.Complete(ctx, "c", StatusNoop, nil))
		got := getChange(t, s, "c")
		if got.Status != StatusNoop || string(got.Result) != string(result) {
			t.Errorf("record: got status %s result %s, want NOOP %s", got.Status, got.Result, result)
		}
	}},
	{"complete refusals", func(t *testing.T, s contractStore, _ *fakeClock) {
		mustClaim(t, s, "c", "h1", devQueue)
		before := getChange(t, s, "c")
		tests := []struct {
			name   string
			id     string
			status Status
			result json.RawMessage
			want   error // nil: a validation error
		}{
			{"status INPROGRESS", "c", StatusInProgress, nil, nil},
			{"status FAILED", "c", StatusFailed, nil, nil},
			{"no status", "c", "", nil, nil},
			{"invalid JSON result", "c", StatusApplied, json.RawMessage(`{`), nil},
			{"result over the limit", "c", StatusApplied, json.RawMessage(`"` + strings.Repeat("x", MaxResultBytes-1) + `"`), ErrTooLarge},
			{"unknown id", "nope", StatusApplied, nil, ErrNotFound},
		}
		for _, tc := range tests {
			checkErr(t, "Complete with "+tc.name, s.Complete(ctx, tc.id, tc.status, tc.result), tc.want)
		}
		diffChange(t, "record after refused completions", before, getChange(t, s, "c"))
	}},

	// RecordAttempt.
	{"record attempt counts it and releases the lock", func(t *testing.T, s contractStore, clock *fakeClock) {
		mustClaim(t, s, "c", "h1", devQueue)
		clock.Advance(time.Second)
		must(t, "RecordAttempt", s.RecordAttempt(ctx, "c", "genesys: 429"))
		want := claimed("c", "h1", devQueue, t0)
		want.Status, want.Attempts, want.LastError, want.InProgressExpiry, want.UpdatedAt = StatusFailed, 1, "genesys: 429", time.Time{}, t0.Add(time.Second)
		diffChange(t, "record after a failed attempt", want, getChange(t, s, "c"))
	}},
	{"record attempt after completion is refused", func(t *testing.T, s contractStore, _ *fakeClock) {
		mustClaim(t, s, "c", "h1", devQueue)
		must(t, "RecordAttempt", s.RecordAttempt(ctx, "c", "first"))
		mustClaim(t, s, "c", "h1", devQueue)
		must(t, "Complete", s.Complete(ctx, "c", StatusApplied, json.RawMessage(`{}`)))
		before := getChange(t, s, "c")
		checkErr(t, "RecordAttempt after Complete", s.RecordAttempt(ctx, "c", "late"), ErrAlreadyCompleted)
		diffChange(t, "record after a late attempt", before, getChange(t, s, "c"))
	}},
	{"record attempt of an unknown id", func(t *testing.T, s contractStore, _ *fakeClock) {
		checkErr(t, "RecordAttempt(unknown)", s.RecordAttempt(ctx, "nope", "x"), ErrNotFound)
		_, err := s.GetChange(ctx, "nope")
		checkErr(t, "GetChange after RecordAttempt(unknown)", err, ErrNotFound)
	}},

	// GetChange and ListChanges.
	{"get change of an unknown id", func(t *testing.T, s contractStore, _ *fakeClock) {
		got, err := s.GetChange(ctx, "nope")
		checkErr(t, "GetChange(unknown)", err, ErrNotFound)
		if got != nil {
			t.Errorf("GetChange(unknown): got %+v, want no record", got)
		}
	}},
	{"returned change records are copies", func(t *testing.T, s contractStore, _ *fakeClock) {
		mustClaim(t, s, "c", "h1", devQueue)
		must(t, "Complete", s.Complete(ctx, "c", StatusApplied, json.RawMessage(`{"a":1}`)))
		want := getChange(t, s, "c")
		got := getChange(t, s, "c")
		got.Result[0], got.Info.Entity.Name, got.Claims = 'X', "changed", 99
		list, err := s.ListChanges(ctx, "dev", 1)
		must(t, "ListChanges", err)
		list[0].Result[0] = 'Y'
		diffChange(t, "record after its copies were changed", want, getChange(t, s, "c"))
	}},
	{"list changes newest first", func(t *testing.T, s contractStore, clock *fakeClock) {
		for i := range 5 {
			info := devQueue
			info.RequestedAt = t0.Add(time.Duration(i) * time.Minute)
			mustClaim(t, s, fmt.Sprintf("dev-%d", i), "h", info)
		}
		// Same requestedAt: the index orders by id after it.
		tie := devQueue
		tie.RequestedAt = t0.Add(2 * time.Minute)
		mustClaim(t, s, "dev-2b", "h", tie)
		prod := devQueue
		prod.Entity.Environment, prod.RequestedAt = "prod", t0.Add(time.Hour)
		mustClaim(t, s, "prod-0", "h", prod)
		// No requestedAt: the clock at the first claim.
		clock.Advance(30 * time.Second)
		mustClaim(t, s, "dev-now", "h", devQueue)
		// Reclaiming an old request must not move it to the top.
		clock.Advance(time.Hour)
		must(t, "RecordAttempt", s.RecordAttempt(ctx, "dev-1", "x"))
		mustClaim(t, s, "dev-1", "h", devQueue)

		for _, tc := range []struct {
			limit int
			want  []string
		}{
			{3, []string{"dev-4", "dev-3", "dev-2b"}},
			{100, []string{"dev-4", "dev-3", "dev-2b", "dev-2", "dev-1", "dev-now", "dev-0"}},
		} {
			got, err := s.ListChanges(ctx, "dev", tc.limit)
			must(t, "ListChanges", err)
			if d := cmp.Diff(tc.want, ids(got)); d != "" {
				t.Errorf("ListChanges(dev, %d) (-want +got):\n%s", tc.limit, d)
			}
		}
		got, err := s.ListChanges(ctx, "prod", 10)
		must(t, "ListChanges(prod)", err)
		if d := cmp.Diff([]*Change{getChange(t, s, "prod-0")}, got); d != "" {
			t.Errorf("ListChanges(prod) (-want +got):\n%s", d)
		}
	}},
	{"list changes refusals and no changes", func(t *testing.T, s contractStore, _ *fakeClock) {
		for _, tc := range []struct {
			env   string
			limit int
		}{{"dev", 0}, {"dev", -1}, {"a#b", 10}, {"", 10}} {
			_, err := s.ListChanges(ctx, tc.env, tc.limit)
			checkErr(t, fmt.Sprintf("ListChanges(%q, %d)", tc.env, tc.limit), err, nil)
		}
		mustClaim(t, s, "c", "h", devQueue)
		got, err := s.ListChanges(ctx, "staging", 10)
		must(t, "ListChanges(staging)", err)
		if d := cmp.Diff([]*Change{}, got); d != "" { // an empty list, not nil: it encodes as []
			t.Errorf("ListChanges(staging) (-want +got):\n%s", d)
		}
	}},

	// Observations and snapshots.
	{"put observation keeps the newest", func(t *testing.T, s contractStore, _ *fakeClock) {
		k := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Support #1"}
		steps := []struct {
			name    string
			put     Observation
			wantErr error
			want    Observation // stored afterwards
		}{
			{"first observation", observation(k, 'a', 2*time.Second, SourceScan), nil, observation(k, 'a', 2*time.Second, SourceScan)},
			{"older does not overwrite newer", observation(k, 'b', time.Second, SourceScan), ErrStale, observation(k, 'a', 2*time.Second, SourceScan)},
			{"same observedAt replaces (retry)", observation(k, 'c', 2*time.Second, SourceWebhook), nil, observation(k, 'c', 2*time.Second, SourceWebhook)},
			{"newer overwrites", observation(k, 'd', 3*time.Second, SourceApply), nil, observation(k, 'd', 3*time.Second, SourceApply)},
			{"much older scan is refused", observation(k, 'e', -time.Hour, SourceScan), ErrStale, observation(k, 'd', 3*time.Second, SourceApply)},
		}
		for _, st := range steps {
			err := s.PutObservation(ctx, st.put)
			if st.wantErr == nil {
				must(t, st.name, err)
			} else {
				checkErr(t, st.name, err, st.wantErr)
			}
			got, err := s.GetObservation(ctx, k)
			must(t, st.name+": GetObservation", err)
			if d := cmp.Diff(st.want, got); d != "" {
				t.Errorf("%s: stored observation (-want +got):\n%s", st.name, d)
			}
		}
	}},
	{"snapshots outlive newer observations, a stale one included", func(t *testing.T, s contractStore, _ *fakeClock) {
		k := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims #2"}
		planned, webhook, latePlan := observation(k, 'a', time.Second, SourcePlan), observation(k, 'b', 2*time.Second, SourceWebhook), observation(k, 'c', 0, SourcePlan)
		mustPut(t, s, planned, webhook)
		checkErr(t, "PutObservation(older plan)", s.PutObservation(ctx, latePlan), ErrStale)
		for _, want := range []Observation{planned, webhook, latePlan} {
			got, err := s.GetSnapshot(ctx, k, want.ETag)
			must(t, "GetSnapshot("+want.ETag+")", err)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("GetSnapshot(%s) (-want +got):\n%s", want.ETag, d)
			}
		}
		last, err := s.GetObservation(ctx, k)
		must(t, "GetObservation", err)
		if d := cmp.Diff(webhook, last); d != "" {
			t.Errorf("last-known state (-want +got):\n%s", d)
		}
		// Snapshots are not last-known state: one observation per entity is listed.
		list, err := s.ListObservations(ctx, "dev")
		must(t, "ListObservations", err)
		if d := cmp.Diff([]Observation{webhook}, list); d != "" {
			t.Errorf("ListObservations(dev) (-want +got):\n%s", d)
		}
	}},
	{"snapshot holds the latest put of its ETag", func(t *testing.T, s contractStore, _ *fakeClock) {
		k := entity.Key{Environment: "dev", Kind: entity.Skill, Name: "Spanish"}
		scan := observation(k, 'a', 2*time.Second, SourceScan)
		plan := observation(k, 'a', time.Second, SourcePlan) // same document, seen earlier, put later
		mustPut(t, s, scan)
		checkErr(t, "PutObservation(older, same ETag)", s.PutObservation(ctx, plan), ErrStale)
		got, err := s.GetSnapshot(ctx, k, scan.ETag)
		must(t, "GetSnapshot", err)
		if d := cmp.Diff(plan, got); d != "" {
			t.Errorf("GetSnapshot (-want +got):\n%s", d)
		}
	}},
	{"get snapshot and observation misses", func(t *testing.T, s contractStore, _ *fakeClock) {
		k := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims #2"}
		o := observation(k, 'a', 0, SourceScan)
		mustPut(t, s, o)
		for _, tc := range []struct {
			name string
			k    entity.Key
			etag string
		}{
			{"unknown ETag", k, etag('d')},
			{"name that is a prefix", entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims"}, o.ETag},
			{"other kind", entity.Key{Environment: "dev", Kind: entity.Worktype, Name: "Claims #2"}, o.ETag},
			{"other environment", entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Claims #2"}, o.ETag},
		} {
			_, err := s.GetSnapshot(ctx, tc.k, tc.etag)
			checkErr(t, "GetSnapshot with "+tc.name, err, ErrNotFound)
		}
		for _, miss := range []entity.Key{
			{Environment: "dev", Kind: entity.Queue, Name: "Claims"},
			{Environment: "prod", Kind: entity.Queue, Name: "Claims #2"},
		} {
			got, err := s.GetObservation(ctx, miss)
			checkErr(t, "GetObservation("+miss.String()+")", err, ErrNotFound)
			if d := cmp.Diff(Observation{}, got); d != "" {
				t.Errorf("GetObservation(%s) with ErrNotFound (-want +got):\n%s", miss, d)
			}
		}
	}},
	{"get snapshot and observation validation", func(t *testing.T, s contractStore, _ *fakeClock) {
		k := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Q"}
		mustPut(t, s, observation(k, 'a', 0, SourceScan))
		bad := []struct {
			name string
			k    entity.Key
		}{
			{"unmanaged kind", entity.Key{Environment: "dev", Kind: entity.Division, Name: "Q"}},
			{"no kind", entity.Key{Environment: "dev", Name: "Q"}},
			{"empty name", entity.Key{Environment: "dev", Kind: entity.Queue}},
			{"environment with #", entity.Key{Environment: "dev#x", Kind: entity.Queue, Name: "Q"}},
			{"no environment", entity.Key{Kind: entity.Queue, Name: "Q"}},
		}
		for _, tc := range bad {
			_, err := s.GetObservation(ctx, tc.k)
			checkErr(t, "GetObservation with "+tc.name, err, nil)
			_, err = s.GetSnapshot(ctx, tc.k, etag('a'))
			checkErr(t, "GetSnapshot with "+tc.name, err, nil)
		}
		for _, e := range []string{"", "md5:abc", etag('A'), "sha256:" + strings.Repeat("a", 63), etag('a') + "#"} {
			_, err := s.GetSnapshot(ctx, k, e)
			checkErr(t, fmt.Sprintf("GetSnapshot(ETag %q)", e), err, nil)
		}
	}},
	{"put observation validation", func(t *testing.T, s contractStore, _ *fakeClock) {
		good := Observation{Key: entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Q"}, ETag: etag('a'), Config: json.RawMessage(`{}`), ObservedAt: t0, Source: SourceScan}
		tests := []struct {
			name  string
			edit  func(*Observation)
			about string // the error names it
		}{
			{"environment with #", func(o *Observation) { o.Key.Environment = "a#b" }, "environment"},
			{"no environment", func(o *Observation) { o.Key.Environment = "" }, "environment"},
			{"unmanaged kind", func(o *Observation) { o.Key.Kind = entity.Workbin }, "kind"},
			{"no kind", func(o *Observation) { o.Key.Kind = "" }, "kind"},
			{"empty name", func(o *Observation) { o.Key.Name = "" }, "empty name"},
			{"bad ETag", func(o *Observation) { o.ETag = "md5:abc" }, "ETag"},
			{"upper-case ETag", func(o *Observation) { o.ETag = etag('A') }, "ETag"},
			{"invalid JSON config", func(o *Observation) { o.Config = json.RawMessage(`{`) }, "JSON"},
			{"no config", func(o *Observation) { o.Config = nil }, "JSON"},
			{"zero observedAt", func(o *Observation) { o.ObservedAt = time.Time{} }, "observedAt"},
			{"bad source", func(o *Observation) { o.Source = "guess" }, "source"},
			{"no source", func(o *Observation) { o.Source = "" }, "source"},
		}
		for _, tc := range tests {
			o := good
			tc.edit(&o)
			err := s.PutObservation(ctx, o)
			checkErr(t, "PutObservation with "+tc.name, err, nil)
			if err != nil && !strings.Contains(err.Error(), tc.about) {
				t.Errorf("PutObservation with %s: got %v, want an error about %s", tc.name, err, tc.about)
			}
		}
		// Nothing was written, the snapshot included.
		_, err := s.GetObservation(ctx, good.Key)
		checkErr(t, "GetObservation after refused puts", err, ErrNotFound)
		_, err = s.GetSnapshot(ctx, good.Key, good.ETag)
		checkErr(t, "GetSnapshot after refused puts", err, ErrNotFound)
	}},
	{"list observations in sort-key order", func(t *testing.T, s contractStore, _ *fakeClock) {
		q := func(name string) entity.Key { return entity.Key{Environment: "dev", Kind: entity.Queue, Name: name} }
		// ENTITY#<kind>#<name> compared bytewise: ' ' < '#' < 'B' < 'a' < 'Ä' (0xC3).
		want := []Observation{
			observation(q("A"), '1', 0, SourceScan),
			observation(q("A B"), '2', 0, SourceScan),
			observation(q("A#B"), '3', 0, SourceScan),
			observation(q("AB"), '4', 0, SourceScan),
			observation(q("a"), '5', 0, SourceScan),
			observation(q("Ärger"), '6', time.Second, SourceWebhook),
			observation(entity.Key{Environment: "dev", Kind: entity.Skill, Name: "Spanish"}, '7', 0, SourceScan),
			observation(entity.Key{Environment: "dev", Kind: entity.Worktype, Name: "Claims"}, '8', 0, SourceScan),
		}
		// Neither an earlier observation, another environment nor desired state is listed.
		mustPut(t, s, observation(q("Ärger"), '9', 0, SourceScan), observation(entity.Key{Environment: "prod", Kind: entity.Queue, Name: "A"}, '0', 0, SourceScan))
		for i := len(want) - 1; i >= 0; i-- {
			mustPut(t, s, want[i])
		}
		checkErr(t, "PutObservation(older)", s.PutObservation(ctx, observation(q("Ärger"), 'f', 0, SourceScan)), ErrStale)
		_, err := s.PublishDesired(ctx, "dev", "v1", []Desired{{Key: q("Desired only"), Config: json.RawMessage(`{}`)}})
		must(t, "PublishDesired", err)

		got, err := s.ListObservations(ctx, "dev")
		must(t, "ListObservations(dev)", err)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("ListObservations(dev) (-want +got):\n%s", d)
		}
	}},
	{"list observations refusals and no observations", func(t *testing.T, s contractStore, _ *fakeClock) {
		for _, env := range []string{"", "a#b"} {
			_, err := s.ListObservations(ctx, env)
			checkErr(t, fmt.Sprintf("ListObservations(%q)", env), err, nil)
		}
		mustPut(t, s, observation(entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Q"}, 'a', 0, SourceScan))
		got, err := s.ListObservations(ctx, "prod")
		must(t, "ListObservations(prod)", err)
		if d := cmp.Diff([]Observation{}, got); d != "" { // an empty list, not nil
			t.Errorf("ListObservations(prod) (-want +got):\n%s", d)
		}
	}},
	{"returned observations are copies", func(t *testing.T, s contractStore, _ *fakeClock) {
		o := observation(entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Q"}, 'a', 0, SourceScan)
		put := o
		put.Config = append(json.RawMessage(nil), o.Config...)
		mustPut(t, s, put)
		put.Config[0] = 'X' // the caller's buffer is not kept either
		got, err := s.GetObservation(ctx, o.Key)
		must(t, "GetObservation", err)
		got.Config[0] = 'Y'
		snap, err := s.GetSnapshot(ctx, o.Key, o.ETag)
		must(t, "GetSnapshot", err)
		snap.Config[0] = 'Z'
		list, err := s.ListObservations(ctx, "dev")
		must(t, "ListObservations", err)
		list[0].Config[0] = 'W'
		got, err = s.GetObservation(ctx, o.Key)
		must(t, "GetObservation", err)
		snap, err = s.GetSnapshot(ctx, o.Key, o.ETag)
		must(t, "GetSnapshot", err)
		if d := cmp.Diff([]Observation{o, o}, []Observation{got, snap}); d != "" {
			t.Errorf("last-known state and snapshot after their copies were changed (-want +got):\n%s", d)
		}
	}},

	// Desired state.
	{"publish desired replaces the environment's set", func(t *testing.T, s contractStore, clock *fakeClock) {
		d := func(env string, kind entity.Kind, name, config string) Desired {
			return Desired{Key: entity.Key{Environment: env, Kind: kind, Name: name}, Config: json.RawMessage(config)}
		}
		// More entities than one BatchWriteItem (25) takes.
		var v1 []Desired
		var skills []entity.Key
		for i := range 30 {
			v1 = append(v1, d("dev", entity.Skill, fmt.Sprintf("skill-%02d", i), `{"v":1}`))
			skills = append(skills, v1[i].Key)
		}
		v1 = append(v1, d("dev", entity.Queue, "Sales", `{"v":1}`))
		prod := d("prod", entity.Queue, "Sales", `{"p":1}`)
		prod.ETag = etag('p')
		removed, err := s.PublishDesired(ctx, "prod", "p1", []Desired{prod})
		must(t, "PublishDesired(prod)", err)
		if removed != nil {
			t.Errorf("first publish of prod removed %v, want nothing", removed)
		}
		removed, err = s.PublishDesired(ctx, "dev", "commit-1", v1)
		must(t, "PublishDesired(dev, commit-1)", err)
		if removed != nil {
			t.Errorf("first publish of dev removed %v, want nothing", removed)
		}
		got, err := s.ListDesired(ctx, "dev")
		must(t, "ListDesired", err)
		if len(got) != 31 || got[0].Key.Kind != entity.Queue || got[1].Key != skills[0] || got[1].Version != "commit-1" || !got[1].PublishedAt.Equal(t0) {
			t.Fatalf("after the first publish: got %d items starting %+v, %+v; want 31, the queue first, then skill-00 at commit-1 published %s", len(got), got[0], got[1], t0)
		}

		clock.Advance(time.Minute)
		v2 := []Desired{d("dev", entity.Worktype, "Claims", `{"v":2}`), d("dev", entity.Queue, "Sales", `{"v":2}`)}
		removed, err = s.PublishDesired(ctx, "dev", "commit-2", v2)
		must(t, "PublishDesired(dev, commit-2)", err)
		if d := cmp.Diff(skills, removed); d != "" {
			t.Errorf("second publish removed (-want +got):\n%s", d)
		}
		got, err = s.ListDesired(ctx, "dev")
		must(t, "ListDesired", err)
		at := t0.Add(time.Minute)
		want := []Desired{
			{Key: v2[1].Key, Config: v2[1].Config, Version: "commit-2", PublishedAt: at},
			{Key: v2[0].Key, Config: v2[0].Config, Version: "commit-2", PublishedAt: at},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("ListDesired(dev) after the second publish (-want +got):\n%s", d)
		}
		gotProd, err := s.ListDesired(ctx, "prod")
		must(t, "ListDesired(prod)", err)
		prod.Version, prod.PublishedAt = "p1", t0
		if d := cmp.Diff([]Desired{prod}, gotProd); d != "" {
			t.Errorf("another environment changed (-want +got):\n%s", d)
		}
		none, err := s.ListDesired(ctx, "staging")
		must(t, "ListDesired(staging)", err)
		if d := cmp.Diff([]Desired{}, none); d != "" { // an empty list, not nil
			t.Errorf("ListDesired(staging) (-want +got):\n%s", d)
		}
	}},
	{"publish desired refusals change nothing", func(t *testing.T, s contractStore, _ *fakeClock) {
		a := Desired{Key: entity.Key{Environment: "dev", Kind: entity.Queue, Name: "A"}, Config: json.RawMessage(`{}`)}
		_, err := s.PublishDesired(ctx, "dev", "commit-1", []Desired{a})
		must(t, "PublishDesired", err)
		before, err := s.ListDesired(ctx, "dev")
		must(t, "ListDesired", err)
		with := func(edit func(*Desired)) Desired { d := a; edit(&d); return d }
		b := with(func(d *Desired) { d.Key.Name = "B" })
		tests := []struct {
			name         string
			env, version string
			set          []Desired
		}{
			{"entity listed twice", "dev", "commit-2", []Desired{b, b}},
			{"entity of another environment", "dev", "commit-2", []Desired{b, with(func(d *Desired) { d.Key.Environment = "prod" })}},
			{"invalid JSON", "dev", "commit-2", []Desired{b, with(func(d *Desired) { d.Config = json.RawMessage(`nope`) })}},
			{"unmanaged kind", "dev", "commit-2", []Desired{b, with(func(d *Desired) { d.Key.Kind = entity.Group })}},
			{"empty name", "dev", "commit-2", []Desired{b, with(func(d *Desired) { d.Key.Name = "" })}},
			{"empty version", "dev", "", []Desired{b}},
			{"environment with #", "dev#2", "commit-2", nil},
		}
		for _, tc := range tests {
			removed, err := s.PublishDesired(ctx, tc.env, tc.version, tc.set)
			checkErr(t, "PublishDesired with "+tc.name, err, nil)
			if removed != nil {
				t.Errorf("PublishDesired with %s: removed %v, want nothing", tc.name, removed)
			}
		}
		after, err := s.ListDesired(ctx, "dev")
		must(t, "ListDesired", err)
		if d := cmp.Diff(before, after); d != "" {
			t.Errorf("refused publishes changed the desired set (-want +got):\n%s", d)
		}
		for _, env := range []string{"", "a#b"} {
			_, err := s.ListDesired(ctx, env)
			checkErr(t, fmt.Sprintf("ListDesired(%q)", env), err, nil)
		}
	}},
}
