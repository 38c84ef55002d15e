package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// steps renders a timeline as one line per step, the fields a test is about.
func steps(es []HistoryEvent) []string {
	out := make([]string, len(es))
	for i, e := range es {
		s := fmt.Sprintf("%s %s %s", e.At.Sub(t0), e.Key.Name, e.Type)
		switch e.Type {
		case HistoryObserved:
			s += fmt.Sprintf(" %s %s<-%s first=%v deleted=%v", e.Source, short(e.ETag), short(e.PrevETag), e.First, e.Deleted)
			if e.Cause != nil {
				s += " by " + e.Cause.UserID
			}
		case HistoryChange:
			s += fmt.Sprintf(" %s %s %s by %s", e.ChangeID, e.Operation, e.Status, e.RequestedBy)
		case HistoryDrift:
			s += fmt.Sprintf(" %s->%s %s omitted=%v", e.PrevState, e.State, e.Differences, e.DifferencesOmitted)
		case HistoryOverflow:
			s += fmt.Sprintf(" active=%v %s->%s %s", e.Active, e.Queue, e.OverflowQueue, e.ChangeID)
			if !e.Active {
				s += fmt.Sprintf(" since=%s", e.Since.Sub(t0))
			}
		}
		out[i] = s
	}
	return out
}

func short(etag string) string {
	if etag == "" {
		return "-"
	}
	return etag[len("sha256:"):][:1]
}

// TestHistoryOfObservations: only an observation that changes what is known (the first,
// another ETag, a new id, a deletion) is a step; a repeated or an older one is not. Steps
// come back oldest first, from since, and keep the webhook's cause.
func TestHistoryOfObservations(t *testing.T) {
	f := newFixture(t)
	k := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims #1"}
	other := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims #1 #2"} // a name continuing k's
	mustPut(t, f.s, observation(k, 'a', 0, SourceScan))
	mustPut(t, f.s, observation(k, 'a', time.Minute, SourceScan)) // same ETag: no step
	mustPut(t, f.s, observation(other, 'f', time.Minute, SourceScan))
	edit := observation(k, 'b', 2*time.Minute, SourceWebhook)
	edit.Cause = &Cause{EventID: "ev-1", UserID: "admin-1"}
	mustPut(t, f.s, edit)
	checkErr(t, "older observation", f.s.PutObservation(ctx, observation(k, 'c', 90*time.Second, SourcePlan)), ErrStale)
	recreated := observation(k, 'b', 3*time.Minute, SourceApply)
	recreated.GenesysID = "id-new" // same document, another id: re-created
	mustPut(t, f.s, recreated)
	mustPut(t, f.s, Observation{Key: k, ObservedAt: t0.Add(4 * time.Minute), Source: SourceWebhook, Deleted: true})
	mustPut(t, f.s, Observation{Key: k, ObservedAt: t0.Add(5 * time.Minute), Source: SourceScan, Deleted: true}) // still gone

	got, err := f.s.ListHistory(ctx, k, time.Time{})
	must(t, "ListHistory", err)
	want := []string{
		"0s Claims #1 observed scan a<-- first=true deleted=false",
		"2m0s Claims #1 observed webhook b<-a first=false deleted=false by admin-1",
		"3m0s Claims #1 observed apply b<-b first=false deleted=false",
		"4m0s Claims #1 observed webhook -<-b first=false deleted=true",
	}
	if d := cmp.Diff(want, steps(got)); d != "" {
		t.Errorf("history (-want +got):\n%s", d)
	}
	if got[2].PrevGenesysID != "id-"+k.Name || got[2].GenesysID != "id-new" {
		t.Errorf("re-created step: id %s <- %s; want id-new <- id-%s", got[2].GenesysID, got[2].PrevGenesysID, k.Name)
	}
	since, err := f.s.ListHistory(ctx, k, t0.Add(2*time.Minute))
	must(t, "ListHistory since", err)
	if len(since) != 3 || !since[0].At.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("since 2m: %v; want the last 3 steps", steps(since))
	}

	// Kept for the retention, like the snapshot written with it; expired steps that
	// DynamoDB has not deleted yet are not listed.
	item := f.rawItem(t, historyPK(k), historySK(t0, HistoryObserved, etag('a')))
	if got := numAttr(item, attrTTL); got != fmt.Sprint(t0.Add(SnapshotRetention).Unix()) {
		t.Errorf("history ttl %s, want now + %v", got, SnapshotRetention)
	}
	f.clock.Advance(SnapshotRetention + time.Second)
	if late, err := f.s.ListHistory(ctx, k, time.Time{}); err != nil || len(late) != 0 {
		t.Errorf("after the retention: %v, %v; want nothing", steps(late), err)
	}
}

// TestHistoryOfStatesOverflowAndChanges: drift-state changes, overflow periods and change
// outcomes are steps of their entity; the environment's recent view lists every entity's
// steps newest first.
func TestHistoryOfStatesOverflowAndChanges(t *testing.T) {
	f := newFixture(t)
	q := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims"}
	w := entity.Key{Environment: "dev", Kind: entity.Worktype, Name: "Claim"}

	// Drift: a first IN_SYNC is no step; a change of state is, with its differences unless
	// they are too large.
	s1 := DriftState{Key: q, State: "IN_SYNC", ETag: etag('a'), ObservedAt: t0}
	must(t, "in sync", f.s.PutDriftState(ctx, s1, nil))
	s1.ChangedAt = t0
	f.clock.Advance(time.Minute)
	diffs := json.RawMessage(`[{"path":"description","expected":"a","actual":"b"}]`)
	s2 := DriftState{Key: q, State: "MODIFIED", Differences: diffs, ETag: etag('b'), ObservedAt: t0.Add(time.Minute), Cause: &Cause{UserID: "admin"}}
	must(t, "modified", f.s.PutDriftState(ctx, s2, &s1))
	s2.ChangedAt = t0.Add(time.Minute)
	f.clock.Advance(time.Minute)
	big := json.RawMessage(`[{"path":"description","expected":"` + strings.Repeat("x", MaxHistoryDifferences) + `","actual":"b"}]`)
	s3 := DriftState{Key: q, State: "MODIFIED", Differences: big, ETag: etag('c'), ObservedAt: t0.Add(2 * time.Minute)}
	must(t, "still modified", f.s.PutDriftState(ctx, s3, &s2))
	s3.ChangedAt = s2.ChangedAt
	f.clock.Advance(time.Minute)
	s4 := DriftState{Key: q, State: "DELETED", Differences: big, ObservedAt: t0.Add(3 * time.Minute)}
	must(t, "deleted", f.s.PutDriftState(ctx, s4, &s3))

	// Overflow: a state that does not switch is no step; starting and ending are.
	v1, err := f.s.SwapOverflowState(ctx, OverflowState{Environment: "dev", Worktype: w.Name, Rule: "vip", Queue: "Q", OverflowQueue: "O", Above: 1})
	must(t, "first overflow state", err)
	on := v1
	on.Active, on.ChangedAt, on.EnterChangeID, on.Backlog = true, t0.Add(4*time.Minute), "chg-enter", 60
	v2, err := f.s.SwapOverflowState(ctx, on)
	must(t, "enter", err)
	off := v2
	off.Active, off.ChangedAt, off.LeaveChangeID, off.Backlog = false, t0.Add(9*time.Minute), "chg-leave", 10
	_, err = f.s.SwapOverflowState(ctx, off)
	must(t, "leave", err)

	// A change request's outcome, at its requestedAt; a replay writes the same step again,
	// so one lost with Complete comes back. A message without entity has no step.
	info := ChangeInfo{Entity: q, Operation: "update", RequestedBy: "ci", RequestedAt: t0.Add(5 * time.Minute)}
	mustClaim(t, f.s, "chg-1", "h", info)
	must(t, "complete", f.s.Complete(ctx, "chg-1", StatusApplied, json.RawMessage(`{"status":"APPLIED"}`)))
	stepKey := key(historyPK(q), historySK(info.RequestedAt, HistoryChange, "chg-1"))
	if _, err := f.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &f.table, Key: stepKey}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Claim(ctx, "chg-1", "h", time.Hour, time.Minute, info); !errors.Is(err, ErrAlreadyCompleted) {
		t.Fatalf("replay: %v, want ErrAlreadyCompleted", err)
	}
	mustClaim(t, f.s, "sqs-bad", "h", ChangeInfo{Entity: entity.Key{Environment: "dev"}, Operation: OperationInvalid})
	must(t, "complete invalid", f.s.Complete(ctx, "sqs-bad", StatusRejected, nil))

	got, err := f.s.ListHistory(ctx, q, time.Time{})
	must(t, "queue history", err)
	want := []string{
		`1m0s Claims drift IN_SYNC->MODIFIED ` + string(diffs) + ` omitted=false`,
		`3m0s Claims drift MODIFIED->DELETED  omitted=true`,
		`5m0s Claims change chg-1 update APPLIED by ci`,
	}
	if d := cmp.Diff(want, steps(got)); d != "" {
		t.Errorf("queue history (-want +got):\n%s", d)
	}
	if got[0].Cause == nil || got[0].Cause.UserID != "admin" || got[0].ETag != etag('b') {
		t.Errorf("drift step %+v: want the cause and the ETag assessed", got[0])
	}
	wt, err := f.s.ListHistory(ctx, w, time.Time{})
	must(t, "worktype history", err)
	want = []string{
		"4m0s Claim overflow active=true Q->O chg-enter",
		"9m0s Claim overflow active=false Q->O chg-leave since=4m0s",
	}
	if d := cmp.Diff(want, steps(wt)); d != "" {
		t.Errorf("worktype history (-want +got):\n%s", d)
	}

	recent, err := f.s.RecentHistory(ctx, "dev", time.Time{}, 3)
	must(t, "RecentHistory", err)
	want = []string{
		"9m0s Claim overflow active=false Q->O chg-leave since=4m0s",
		"5m0s Claims change chg-1 update APPLIED by ci",
		"4m0s Claim overflow active=true Q->O chg-enter",
	}
	if d := cmp.Diff(want, steps(recent)); d != "" {
		t.Errorf("recent history (-want +got):\n%s", d)
	}
	if late, err := f.s.RecentHistory(ctx, "dev", t0.Add(5*time.Minute), 10); err != nil || len(late) != 2 {
		t.Errorf("recent since 5m: %v, %v; want 2 steps", steps(late), err)
	}
	if none, err := f.s.RecentHistory(ctx, "prod", time.Time{}, 10); err != nil || len(none) != 0 {
		t.Errorf("recent history of prod: %v, %v; want none", steps(none), err)
	}
	checkErr(t, "limit 0", func() error { _, err := f.s.RecentHistory(ctx, "dev", time.Time{}, 0); return err }(), nil)
}

// TestRevertLinksAndBatchReads: LinkRevert links a revert and its original both ways,
// before the revert's record exists too; GetChanges and GetSnapshots read many at once
// and leave out what is not stored.
func TestRevertLinksAndBatchReads(t *testing.T) {
	f := newFixture(t)
	q := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims"}
	mustClaim(t, f.s, "chg-orig", "h", ChangeInfo{Entity: q, Operation: "update", RequestedBy: "ci"})
	must(t, "complete", f.s.Complete(ctx, "chg-orig", StatusApplied, nil))

	must(t, "link", f.s.LinkRevert(ctx, "chg-rev", "chg-orig"))
	must(t, "link again", f.s.LinkRevert(ctx, "chg-rev", "chg-orig"))
	if _, err := f.s.GetChange(ctx, "chg-rev"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetChange of a revert not claimed yet: %v, want ErrNotFound", err)
	}
	// The apply function claims it: the claim keeps the link beside the record.
	mustClaim(t, f.s, "chg-rev", "h2", ChangeInfo{Entity: q, Operation: "update", RequestedBy: "oncall"})
	must(t, "link a second revert", f.s.LinkRevert(ctx, "chg-rev2", "chg-orig"))

	orig, err := f.s.GetChange(ctx, "chg-orig")
	must(t, "GetChange original", err)
	if d := cmp.Diff([]string{"chg-rev", "chg-rev2"}, orig.RevertedBy); d != "" || orig.RevertOf != "" {
		t.Errorf("original: revertedBy (-want +got):\n%s revertOf %q", d, orig.RevertOf)
	}
	rev, err := f.s.GetChange(ctx, "chg-rev")
	must(t, "GetChange revert", err)
	if rev.RevertOf != "chg-orig" || rev.Status != StatusInProgress {
		t.Errorf("revert: revertOf %q status %s; want chg-orig INPROGRESS", rev.RevertOf, rev.Status)
	}
	checkErr(t, "link to a missing original", f.s.LinkRevert(ctx, "chg-x", "chg-missing"), ErrNotFound)
	checkErr(t, "link to itself", f.s.LinkRevert(ctx, "chg-x", "chg-x"), nil)

	many, err := f.s.GetChanges(ctx, []string{"chg-orig", "chg-rev", "chg-missing", "chg-orig", ""})
	must(t, "GetChanges", err)
	if len(many) != 2 || many["chg-rev"].RevertOf != "chg-orig" || len(many["chg-orig"].RevertedBy) != 2 {
		t.Errorf("GetChanges = %+v; want chg-orig reverted by two and chg-rev reverting it", many)
	}

	var refs []SnapshotRef
	for i := range 120 { // more than one batch
		k := entity.Key{Environment: "dev", Kind: entity.Skill, Name: fmt.Sprintf("skill-%03d", i)}
		mustPut(t, f.s, observation(k, 'a'+byte(i%3), 0, SourceScan))
		refs = append(refs, SnapshotRef{Key: k, ETag: etag('a' + byte(i%3))})
	}
	refs = append(refs, SnapshotRef{Key: q, ETag: etag('f')}, refs[0])
	snaps, err := f.s.GetSnapshots(ctx, refs)
	must(t, "GetSnapshots", err)
	if len(snaps) != 120 || string(snaps[refs[7]].Config) != string(observation(refs[7].Key, 'b', 0, SourceScan).Config) {
		t.Errorf("GetSnapshots: %d snapshots, skill-007 %s; want 120 with their config", len(snaps), snaps[refs[7]].Config)
	}
	if _, err := f.s.GetSnapshots(ctx, []SnapshotRef{{Key: q, ETag: "bad"}}); err == nil {
		t.Error("GetSnapshots of a malformed ETag: no error")
	}
}

// TestSnapshotRetention: SNAPSHOT_RETENTION_DAYS sets how long snapshots and history are
// kept; a value that cannot be used stops every write that keeps them, Claim included.
func TestSnapshotRetention(t *testing.T) {
	for _, tc := range []struct {
		value   string
		want    time.Duration
		wantErr string
	}{
		{"", SnapshotRetention, ""},
		{"90", 90 * 24 * time.Hour, ""},
		{" 30 ", 30 * 24 * time.Hour, ""},
		{"29", 29 * 24 * time.Hour, "at least 30 days"},
		{"90d", SnapshotRetention, "whole number of days"},
		{"1e9", SnapshotRetention, "whole number of days"},
	} {
		got, err := RetentionFromEnv(func(string) string { return tc.value })
		if got != tc.want || (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("RetentionFromEnv(%q) = %v, %v; want %v, error %q", tc.value, got, err, tc.want, tc.wantErr)
		}
	}

	f := newFixture(t)
	k := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims"}
	long := New(f.db, f.table, WithClock(f.clock.Now), WithSnapshotRetention(90*24*time.Hour))
	mustPut(t, long, observation(k, 'a', 0, SourceScan))
	want := fmt.Sprint(t0.Add(90 * 24 * time.Hour).Unix())
	for what, item := range map[string]map[string]any{
		"snapshot": {"pk": envPK("dev"), "sk": snapshotSK(k, etag('a'))},
		"history":  {"pk": historyPK(k), "sk": historySK(t0, HistoryObserved, etag('a'))},
	} {
		if got := numAttr(f.rawItem(t, item["pk"].(string), item["sk"].(string)), attrTTL); got != want {
			t.Errorf("%s ttl %s, want now + 90 days (%s)", what, got, want)
		}
	}

	t.Setenv(SnapshotRetentionEnv, "7")
	bad := New(f.db, f.table, WithClock(f.clock.Now))
	for what, err := range map[string]error{
		"PutObservation":  bad.PutObservation(ctx, observation(k, 'b', time.Minute, SourceScan)),
		"PutDriftState":   bad.PutDriftState(ctx, DriftState{Key: k, State: "MODIFIED", ObservedAt: t0}, nil),
		"Claim":           func() error { _, err := bad.Claim(ctx, "c", "h", time.Hour, time.Minute, devQueue); return err }(),
		"Complete":        bad.Complete(ctx, "c", StatusApplied, nil),
		"LinkRevert":      bad.LinkRevert(ctx, "a", "b"),
		"PutObservations": bad.PutObservations(ctx, []Observation{observation(k, 'b', time.Minute, SourceScan)}, 1)[0],
	} {
		if err == nil || !strings.Contains(err.Error(), SnapshotRetentionEnv+"=7") {
			t.Errorf("%s with %s=7: %v; want the variable's problem", what, SnapshotRetentionEnv, err)
		}
	}
	if o, err := f.s.GetObservation(ctx, k); err != nil || o.ETag != etag('a') {
		t.Errorf("after refused writes: %s, %v; want the first observation only", o.ETag, err)
	}
}

// refusingHistory answers every PutItem of a history step with a validation error (as
// DynamoDB would for a permanent problem) and forwards everything else.
type refusingHistory struct{ next *http.Client }

func (c refusingHistory) Do(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutItem") {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		if bytes.Contains(b, []byte(`"HIST#`)) {
			body := []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"refused by the test"}`)
			return &http.Response{StatusCode: 400, Status: "400 Bad Request", Request: r, ContentLength: int64(len(body)),
				Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}}, Body: io.NopCloser(bytes.NewReader(body))}, nil
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	return c.next.Do(r)
}

// TestHistoryNotRecorded: when only the step cannot be written, the fact is stored and
// the error says so (ErrHistoryNotRecorded); a replay of the change writes its step.
func TestHistoryNotRecorded(t *testing.T) {
	f := newFixture(t, func(o *dynamodb.Options) { o.HTTPClient = refusingHistory{next: &http.Client{}} })
	k := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims"}
	checkErr(t, "PutObservation", f.s.PutObservation(ctx, observation(k, 'a', 0, SourceScan)), ErrHistoryNotRecorded)
	if o, err := f.s.GetObservation(ctx, k); err != nil || o.ETag != etag('a') {
		t.Errorf("last-known state: %s, %v; want the observation stored", o.ETag, err)
	}
	checkErr(t, "PutDriftState", f.s.PutDriftState(ctx, DriftState{Key: k, State: "MODIFIED", ObservedAt: t0}, nil), ErrHistoryNotRecorded)
	if d, err := f.s.GetDriftState(ctx, k); err != nil || d.State != "MODIFIED" {
		t.Errorf("drift state: %+v, %v; want MODIFIED stored", d, err)
	}
	v1, err := f.s.SwapOverflowState(ctx, OverflowState{Environment: "dev", Worktype: "Claim", Active: true, ChangedAt: t0})
	if !errors.Is(err, ErrHistoryNotRecorded) || v1.Version != 1 {
		t.Errorf("SwapOverflowState: version %d, %v; want the stored state (version 1) and ErrHistoryNotRecorded", v1.Version, err)
	}
	info := ChangeInfo{Entity: k, Operation: "update", RequestedBy: "ci", RequestedAt: t0}
	mustClaim(t, f.s, "chg-1", "h", info)
	checkErr(t, "Complete", f.s.Complete(ctx, "chg-1", StatusApplied, nil), ErrHistoryNotRecorded)
	if c, err := f.s.GetChange(ctx, "chg-1"); err != nil || c.Status != StatusApplied {
		t.Errorf("change record: %+v, %v; want APPLIED", c, err)
	}

	// The redelivery's replay, once DynamoDB takes the step again.
	fixed := New(dynamodb.New(f.db.Options(), func(o *dynamodb.Options) { o.HTTPClient = &http.Client{} }), f.table, WithClock(f.clock.Now))
	if _, err := fixed.Claim(ctx, "chg-1", "h", time.Hour, time.Minute, info); !errors.Is(err, ErrAlreadyCompleted) {
		t.Fatalf("replay: %v, want ErrAlreadyCompleted", err)
	}
	got, err := fixed.ListHistory(ctx, k, time.Time{})
	must(t, "ListHistory", err)
	if d := cmp.Diff([]string{"0s Claims change chg-1 update APPLIED by ci"}, steps(got)); d != "" {
		t.Errorf("history after the replay (-want +got):\n%s", d)
	}
}
