package drift_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }

// scanWorld is one scan test's world: a generated org in the simulator, the table on moto,
// the bus (events recorded on their way to moto) and the change queue.
type scanWorld struct {
	*applytest.Env
	events *recorder
	org    *live.Org // the org as seeded
	clock  *stepClock
}

// recorder records the events a scan puts, and puts them on the real bus.
type recorder struct {
	next drift.EventPublisher
	mu   sync.Mutex
	evs  []bus.Event
}

func (r *recorder) Publish(ctx context.Context, evs ...bus.Event) error {
	r.mu.Lock()
	r.evs = append(r.evs, evs...)
	r.mu.Unlock()
	return r.next.Publish(ctx, evs...)
}

// take returns the detail-types and resources of the events put since the last take.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.evs {
		out = append(out, e.DetailType+" "+strings.Join(e.Resources, ","))
	}
	r.evs = nil
	slices.Sort(out)
	return out
}

// stepClock is the scans' clock: each scan starts a minute after the previous one.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) next() {
	c.mu.Lock()
	c.t = c.t.Add(time.Minute)
	c.mu.Unlock()
}

// scanT0 is now: reports expire by the table's clock (the real one), which reads them.
var scanT0 = time.Now().UTC().Truncate(time.Second)

func newScanWorld(t *testing.T, g sim.GenerateOptions) *scanWorld {
	t.Helper()
	f := sim.Generate(g)
	env := applytest.New(t, applytest.Options{Fixture: &f})
	org, err := live.Read(context.Background(), env.Client, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &scanWorld{Env: env, org: org, clock: &stepClock{t: scanT0},
		events: &recorder{next: bus.NewPublisher(eventbridge.NewFromConfig(env.AWS), env.Resources.BusName)}}
}

// publish makes docs the desired state of the environment.
func (w *scanWorld) publish(t *testing.T, docs []entity.Doc) {
	t.Helper()
	if _, _, err := drift.Publish(context.Background(), w.Table, w.Env.Env, "v1", docs); err != nil {
		t.Fatal(err)
	}
}

func (w *scanWorld) scanner() *drift.Scanner {
	return &drift.Scanner{Environment: w.Env.Env, Genesys: w.Client, Store: w.Table, Bus: w.events, Now: w.clock.Now}
}

// scan runs one scan a minute after the previous one.
func (w *scanWorld) scan(t *testing.T, s *drift.Scanner) *drift.ScanReport {
	t.Helper()
	w.clock.next()
	r, err := s.Scan(context.Background())
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return r
}

// entityOf returns the report's entry of kind and name.
func entityOf(r *drift.ScanReport, kind entity.Kind, name string) (drift.ScanEntity, bool) {
	for _, e := range r.Entities {
		if e.Kind == kind && e.Name == name {
			return e, true
		}
	}
	return drift.ScanEntity{}, false
}

func states(r *drift.ScanReport) map[string]drift.State {
	out := map[string]drift.State{}
	for _, e := range r.Entities {
		out[string(e.Kind)+"/"+e.Name] = e.State
	}
	return out
}

// TestScanEntityStates: the whole org declared but for two queues and a worktype
// (UNMANAGED), one skill declared that the org lacks (MISSING), one queue edited by an
// admin (MODIFIED, with the field, what git declares and what Genesys holds, who changed it
// and when), the rest IN_SYNC. The first scan records every observation and raises drift
// for the two drifted entities; an unchanged org then costs two writes (the report's
// summary and its one part); undoing the edit puts Drift Resolved; an edit of an unmanaged queue
// is recorded as a change since the last observation but is no drift.
func TestScanEntityStates(t *testing.T) {
	w := newScanWorld(t, sim.GenerateOptions{Queues: 12, Skills: 6, Worktypes: 4, Seed: 5})
	ctx := context.Background()
	queues, worktypes := w.org.Sorted(entity.Queue), w.org.Sorted(entity.Worktype)
	unmanaged := map[string]bool{"queue/" + queues[10].Name: true, "queue/" + queues[11].Name: true, "worktype/" + worktypes[3].Name: true}
	var docs []entity.Doc
	for _, d := range w.org.Docs() {
		if !unmanaged[string(d.Kind)+"/"+d.Name] {
			docs = append(docs, d)
		}
	}
	docs = append(docs, entity.Doc{Kind: entity.Skill, Name: "Ghost Skill", Fields: map[string]any{"name": "Ghost Skill"}})
	w.publish(t, docs)
	edited := queues[2]
	declared := edited.Canonical["description"]
	if err := w.Sim.EditQueue(edited.ID, func(q map[string]any) { q["description"] = "changed by an admin" }); err != nil {
		t.Fatal(err)
	}
	s := w.scanner()
	total := len(w.org.Queues) + len(w.org.Skills) + len(w.org.Worktypes)

	// 1: first scan.
	r := w.scan(t, s)
	want := drift.ScanCounts{Read: total, InSync: total - 4, Modified: 1, Missing: 1, Unmanaged: 3}
	if diff := cmp.Diff(want, r.Summary.Entities); diff != "" || !r.Summary.Complete || r.Summary.Changed != total {
		t.Fatalf("first scan counts (-want +got):\n%s\ncomplete %v (%s), changed %d (want %d)", diff, r.Summary.Complete, r.Summary.Reason, r.Summary.Changed, total)
	}
	if got, want := r.Summary.Coverage, float64(total-3)/float64(total); got != want {
		t.Errorf("coverage %v, want %v", got, want)
	}
	wantStates := map[string]drift.State{"queue/" + edited.Name: drift.Modified, "skill/Ghost Skill": drift.Missing,
		"queue/" + queues[10].Name: drift.Unmanaged, "queue/" + queues[11].Name: drift.Unmanaged, "worktype/" + worktypes[3].Name: drift.Unmanaged}
	if diff := cmp.Diff(wantStates, states(r)); diff != "" {
		t.Errorf("report entities (-want +got):\n%s", diff)
	}
	e, _ := entityOf(r, entity.Queue, edited.Name)
	if len(e.Differences) != 1 || e.Differences[0].Path != "description" || e.Differences[0].Expected != declared ||
		e.Differences[0].Actual != "changed by an admin" || e.ModifiedBy == "" || e.ModifiedAt.IsZero() || !e.Since.Equal(r.Summary.GeneratedAt) {
		t.Errorf("modified queue %+v; want description %q -> %q, who and when, since this scan", e, declared, "changed by an admin")
	}
	if diff := cmp.Diff([]string{"Drift Detected test/queue/" + edited.Name, "Drift Detected test/skill/Ghost Skill", "Drift Scan Completed "}, w.events.take()); diff != "" {
		t.Errorf("events of the first scan (-want +got):\n%s", diff)
	}
	// Every observation (a snapshot and a last-known item each), two drift states, the report.
	if got, want := r.Summary.DynamoDBWrites, 2*total+2+2; got != want {
		t.Errorf("first scan: %d DynamoDB writes, want %d", got, want)
	}
	stored, err := w.Table.LatestDriftReport(ctx, w.Env.Env)
	if err != nil {
		t.Fatal(err)
	}
	back, err := drift.ReportOf(stored)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, back, cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("stored report differs from the scan's (-scan +stored):\n%s", diff)
	}
	st, err := w.Table.GetDriftState(ctx, entity.Key{Environment: w.Env.Env, Kind: entity.Queue, Name: edited.Name})
	if err != nil || st.State != string(drift.Modified) {
		t.Errorf("drift state of the edited queue: %+v, %v; want MODIFIED", st, err)
	}

	// 2: nothing changed: no observation, no state; the report (its summary and one part
	// for the five entities it lists); no drift event.
	r = w.scan(t, s)
	if r.Summary.DynamoDBWrites != 2 || r.Summary.Changed != 0 || r.Summary.Entities != want {
		t.Errorf("unchanged org: %d writes, %d changed, counts %+v; want 2 writes (the report), none changed", r.Summary.DynamoDBWrites, r.Summary.Changed, r.Summary.Entities)
	}
	if diff := cmp.Diff([]string{"Drift Scan Completed "}, w.events.take()); diff != "" {
		t.Errorf("events of an unchanged scan (-want +got):\n%s", diff)
	}
	e, _ = entityOf(r, entity.Queue, edited.Name)
	if e.PreviousState != drift.Modified || e.LastKnown == nil || e.LastKnown.Changed || !e.Since.Before(r.Summary.GeneratedAt) {
		t.Errorf("modified queue in the second scan %+v; want the last-known state unchanged, modified since the first scan", e)
	}

	// 3: the edit undone, and an unmanaged queue edited.
	if err := w.Sim.EditQueue(edited.ID, func(q map[string]any) { q["description"] = declared }); err != nil {
		t.Fatal(err)
	}
	if err := w.Sim.EditQueue(queues[10].ID, func(q map[string]any) { q["description"] = "unmanaged edit" }); err != nil {
		t.Fatal(err)
	}
	r = w.scan(t, s)
	if r.Summary.Changed != 2 || r.Summary.Entities.Modified != 0 || r.Summary.Entities.InSync != total-3 {
		t.Errorf("after the fix: %d changed, counts %+v; want 2 changed, nothing modified", r.Summary.Changed, r.Summary.Entities)
	}
	if diff := cmp.Diff([]string{"Drift Resolved test/queue/" + edited.Name, "Drift Scan Completed "}, w.events.take()); diff != "" {
		t.Errorf("events after the fix (-want +got):\n%s", diff)
	}
	e, _ = entityOf(r, entity.Queue, queues[10].Name)
	if e.State != drift.Unmanaged || e.LastKnown == nil || !e.LastKnown.Changed {
		t.Errorf("edited unmanaged queue %+v; want UNMANAGED, changed since its last observation", e)
	}
	// Two observations (4 items), the resolved state, the report.
	if got, want := r.Summary.DynamoDBWrites, 4+1+2; got != want {
		t.Errorf("after the fix: %d DynamoDB writes, want %d", got, want)
	}
}

// TestScanLastKnownCause: an edit the webhook recorded (same ETag, with its audit event)
// is reported with who made it; an entity gone from the org since it was observed is
// recorded as deleted, once.
func TestScanLastKnownCause(t *testing.T) {
	w := newScanWorld(t, sim.GenerateOptions{Queues: 5, Skills: 3, Worktypes: 2, Seed: 8})
	ctx := context.Background()
	w.publish(t, w.org.Docs())
	s := w.scanner()
	w.scan(t, s)
	q := w.org.Sorted(entity.Queue)[1]
	if err := w.Sim.EditQueue(q.ID, func(m map[string]any) { m["description"] = "seen by the webhook" }); err != nil {
		t.Fatal(err)
	}
	l, err := live.List(ctx, w.Client)
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := l.Find(entity.Queue, q.Name)
	o := ls.Observation(w.Env.Env, store.SourceWebhook, w.clock.Now().Add(30*time.Second))
	o.Cause = &store.Cause{EventID: "ev-1", EventTime: o.ObservedAt.Add(-time.Second), UserID: "admin-1"}
	if err := w.Table.PutObservation(ctx, o); err != nil {
		t.Fatal(err)
	}
	gone := w.org.Sorted(entity.Queue)[4]
	if err := w.Sim.Delete("queue", gone.ID); err != nil {
		t.Fatal(err)
	}
	r := w.scan(t, s)
	e, _ := entityOf(r, entity.Queue, q.Name)
	if e.State != drift.Modified || e.LastKnown == nil || e.LastKnown.Changed || e.LastKnown.Cause == nil ||
		e.LastKnown.Cause.UserID != "admin-1" || e.LastKnown.Cause.EventID != "ev-1" || e.LastKnown.Source != store.SourceWebhook {
		t.Errorf("queue edited and recorded by the webhook: %+v (last known %+v); want MODIFIED with the audit event's user", e, e.LastKnown)
	}
	if e, _ := entityOf(r, entity.Queue, gone.Name); e.State != drift.Missing {
		t.Errorf("deleted queue: %+v, want MISSING", e)
	}
	obs, err := w.Table.GetObservation(ctx, entity.Key{Environment: w.Env.Env, Kind: entity.Queue, Name: gone.Name})
	if err != nil || !obs.Deleted || obs.Source != store.SourceScan {
		t.Errorf("observation of the deleted queue: %+v, %v; want a deletion recorded by the scan", obs, err)
	}
	if r = w.scan(t, s); r.Summary.DynamoDBWrites != 2 {
		t.Errorf("the scan after: %d writes, want 2, the report's (the deletion is recorded once)", r.Summary.DynamoDBWrites)
	}
}

// TestScanOverflowActive: a worktype pointed at its rule's overflow queue while the
// overflow is active (the occupancy function's overflow state) is in sync; the same
// worktype with no active overflow is drift.
func TestScanOverflowActive(t *testing.T) {
	w := newScanWorld(t, sim.GenerateOptions{Queues: 4, Skills: 3, Worktypes: 2, Seed: 3})
	ctx := context.Background()
	qs, wt := w.org.Sorted(entity.Queue), w.org.Sorted(entity.Worktype)[0]
	docs := w.org.Docs()
	for i, d := range docs {
		if d.Kind == entity.Worktype && d.Name == wt.Name {
			f := map[string]any{}
			for k, v := range d.Fields {
				f[k] = v
			}
			f["defaultQueue"] = qs[0].Name
			docs[i].Fields = f
		}
	}
	w.publish(t, docs)
	// The switch the apply engine made for the occupancy function.
	if _, err := w.Client.PatchWorktype(ctx, wt.ID, map[string]any{"defaultQueueId": qs[1].ID}); err != nil {
		t.Fatal(err)
	}
	if err := w.Table.PutOverflowState(ctx, store.OverflowState{Environment: w.Env.Env, Worktype: wt.Name, Rule: "vip",
		Active: true, Queue: qs[0].Name, OverflowQueue: qs[1].Name, ChangedAt: scanT0}); err != nil {
		t.Fatal(err)
	}
	s := w.scanner()
	r := w.scan(t, s)
	if r.Summary.Entities.Modified != 0 || !r.Summary.Complete {
		t.Errorf("overflow active: %+v (%s); want no drift", r.Summary.Entities, r.Summary.Reason)
	}
	if err := w.Table.PutOverflowState(ctx, store.OverflowState{Environment: w.Env.Env, Worktype: wt.Name, Rule: "vip",
		Active: false, Queue: qs[0].Name, OverflowQueue: qs[1].Name, ChangedAt: scanT0}); err != nil {
		t.Fatal(err)
	}
	r = w.scan(t, s)
	e, _ := entityOf(r, entity.Worktype, wt.Name)
	if e.State != drift.Modified || len(e.Differences) != 1 || e.Differences[0].Path != "defaultQueue" ||
		e.Differences[0].Expected != qs[0].Name || e.Differences[0].Actual != qs[1].Name {
		t.Errorf("overflow ended, worktype still at the overflow queue: %+v; want defaultQueue %q expected, %q actual", e, qs[0].Name, qs[1].Name)
	}
}

// TestScanIncomplete: a scan that cannot read everything (429s with a Retry-After past the
// deadline, a 5xx storm, the deadline itself) is stored as incomplete with its reason: it
// says nothing of the kinds it did not read (no in sync, no missing, no drift state moved,
// no observation), while an expired token is simply renewed.
func TestScanIncomplete(t *testing.T) {
	for _, tc := range []struct {
		name     string
		setup    func(w *scanWorld)
		ctx      func() (context.Context, context.CancelFunc)
		reason   string
		complete bool
	}{
		{name: "429 storm", setup: func(w *scanWorld) { w.Sim.SetFaults(sim.Faults{Force429: 10000, RetryAfterSeconds: 600}) },
			reason: "429"},
		{name: "5xx storm", setup: func(w *scanWorld) { w.Sim.SetFaults(sim.Faults{ServerErrorRate: 1}) }, reason: "503"},
		{name: "deadline", ctx: func() (context.Context, context.CancelFunc) {
			// Less time left than the scan keeps for storing: nothing is read.
			return context.WithTimeout(context.Background(), 15*time.Second)
		}, reason: "deadline"},
		{name: "expired token", setup: func(w *scanWorld) { w.Sim.ExpireTokens() }, complete: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newScanWorld(t, sim.GenerateOptions{Queues: 6, Skills: 3, Worktypes: 2, Seed: 4})
			w.publish(t, w.org.Docs())
			s := w.scanner()
			first := w.scan(t, s)
			if !first.Summary.Complete {
				t.Fatalf("first scan incomplete: %s", first.Summary.Reason)
			}
			w.events.take()
			if tc.setup != nil {
				tc.setup(w)
			}
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			w.clock.next()
			r, err := s.Scan(ctx)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if tc.complete {
				if !r.Summary.Complete || r.Summary.Entities.InSync != first.Summary.Entities.InSync {
					t.Errorf("scan: %+v; want complete and in sync", r.Summary)
				}
				return
			}
			sum := r.Summary
			if sum.Complete || !strings.Contains(sum.Reason, tc.reason) || len(sum.NotRead) == 0 {
				t.Fatalf("summary %+v; want incomplete, the reason naming %q, the kinds not read", sum, tc.reason)
			}
			for _, k := range sum.NotRead {
				for _, e := range r.Entities {
					if e.Kind == k {
						t.Errorf("%s %q reported %s, but %ss were not read", e.Kind, e.Name, e.State, k)
					}
				}
			}
			if sum.Entities.InSync+sum.Entities.Missing+sum.Entities.NotAssessed != first.Summary.Entities.InSync ||
				sum.Entities.Missing != 0 || sum.Entities.NotAssessed == 0 {
				t.Errorf("counts %+v; want the kinds not read counted as not assessed, nothing missing", sum.Entities)
			}
			if got := w.events.take(); !slices.Equal(got, []string{"Drift Scan Completed "}) {
				t.Errorf("events %v; want only Drift Scan Completed", got)
			}
			stored, err := w.Table.LatestDriftReport(context.Background(), w.Env.Env)
			if err != nil {
				t.Fatal(err)
			}
			back, err := drift.ReportOf(stored)
			if err != nil || back.Summary.Complete || back.Summary.Reason != sum.Reason {
				t.Errorf("stored report %+v, %v; want it incomplete with the reason", back.Summary, err)
			}
			states, err := w.Table.ListDriftStates(context.Background(), w.Env.Env)
			if err != nil || len(states) != 0 {
				t.Errorf("drift states %+v, %v; want none (nothing drifted, nothing concluded)", states, err)
			}
		})
	}
}

// TestScanRevertCap: revert mode enqueues a corrective change request for each drifted
// declared entity, at most MaxReverts, in plan order, each an update guarded by the live
// ETag (or a create); the rest are reported skipped; an unmanaged entity is never
// touched. Applied by the engine, the next scan finds the org in sync.
func TestScanRevertCap(t *testing.T) {
	w := newScanWorld(t, sim.GenerateOptions{Queues: 6, Skills: 3, Worktypes: 2, Seed: 6})
	ctx := context.Background()
	qs := w.org.Sorted(entity.Queue)
	var docs []entity.Doc
	for _, d := range w.org.Docs() {
		if !(d.Kind == entity.Queue && d.Name == qs[5].Name) {
			docs = append(docs, d)
		}
	}
	docs = append(docs, entity.Doc{Kind: entity.Skill, Name: "Ghost Skill", Fields: map[string]any{"name": "Ghost Skill"}})
	w.publish(t, docs)
	for _, q := range []*live.Entity{qs[1], qs[3], qs[5]} {
		if err := w.Sim.EditQueue(q.ID, func(m map[string]any) { m["description"] = "admin edit" }); err != nil {
			t.Fatal(err)
		}
	}
	sqsc := sqs.NewFromConfig(w.AWS)
	pub := changes.NewPublisher(sqsc, w.Resources.ChangeQueueURL, changes.PublisherOptions{})
	s := w.scanner()
	s.Mode, s.MaxReverts = drift.ModeRevert, 2
	s.Send = func(ctx context.Context, reqs []*changes.Request) error { _, err := pub.Publish(ctx, reqs); return err }
	r := w.scan(t, s)
	if r.Summary.Reverts.Requested != 2 || r.Summary.Reverts.Skipped != 1 || len(r.Summary.Reverts.ChangeIDs) != 2 || r.Summary.Reverts.Error != "" {
		t.Fatalf("reverts %+v; want 2 requested, 1 skipped", r.Summary.Reverts)
	}
	// Plan order: the skill, then queues by name.
	ghost, _ := entityOf(r, entity.Skill, "Ghost Skill")
	first, _ := entityOf(r, entity.Queue, qs[1].Name)
	second, _ := entityOf(r, entity.Queue, qs[3].Name)
	unmanaged, _ := entityOf(r, entity.Queue, qs[5].Name)
	if ghost.Revert == nil || ghost.Revert.Status != drift.RevertRequested || first.Revert == nil || first.Revert.Status != drift.RevertRequested ||
		second.Revert == nil || second.Revert.Status != drift.RevertSkipped || !strings.Contains(second.Revert.Reason, "MaxRevertsPerScan (2)") ||
		unmanaged.State != drift.Unmanaged || unmanaged.Revert != nil {
		t.Errorf("reverts: skill %+v, %s %+v, %s %+v, unmanaged %+v", ghost.Revert, qs[1].Name, first.Revert, qs[3].Name, second.Revert, unmanaged)
	}
	out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.Resources.ChangeQueueURL), MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 2 {
		t.Fatalf("change queue: %d messages (%v), want 2", len(out.Messages), err)
	}
	var reqs []*changes.Request
	for _, m := range out.Messages {
		req, err := changes.Decode([]byte(aws.ToString(m.Body)))
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, req)
	}
	slices.SortFunc(reqs, func(a, b *changes.Request) int { return strings.Compare(string(a.Entity.Type), string(b.Entity.Type)) })
	if reqs[0].Operation != changes.OpUpdate || reqs[0].Entity.Name != qs[1].Name || reqs[0].BaseEtag != first.ETag ||
		reqs[0].RequestedBy != drift.ScanRequestedBy || reqs[1].Operation != changes.OpCreate || reqs[1].Entity.Name != "Ghost Skill" {
		t.Fatalf("requests %+v, %+v; want an update of %q at its live ETag and a create of Ghost Skill", reqs[0], reqs[1], qs[1].Name)
	}
	for _, req := range reqs {
		if res, err := w.Engine.Apply(ctx, req); err != nil || res.Status != store.StatusApplied {
			t.Fatalf("apply %s: %+v, %v", req.Key(), res, err)
		}
	}
	r = w.scan(t, s)
	if r.Summary.Entities.Modified != 1 || r.Summary.Entities.Missing != 0 || r.Summary.Reverts.Requested != 1 {
		t.Errorf("after applying the reverts: %+v, reverts %+v; want the skipped queue left, and reverted now", r.Summary.Entities, r.Summary.Reverts)
	}
}

// TestScanNothingDeclared: without a desired state the scan still reads the org and
// records it: every entity unmanaged, not an error, no drift.
func TestScanNothingDeclared(t *testing.T) {
	w := newScanWorld(t, sim.GenerateOptions{Queues: 5, Skills: 2, Worktypes: 2, Seed: 9})
	r := w.scan(t, w.scanner())
	total := len(w.org.Queues) + len(w.org.Skills) + len(w.org.Worktypes)
	if r.Summary.Entities != (drift.ScanCounts{Read: total, Unmanaged: total}) || !r.Summary.Complete || r.Summary.Coverage != 0 || r.HasDrift() {
		t.Errorf("summary %+v; want every entity unmanaged, complete, coverage 0", r.Summary)
	}
	obs, err := w.Table.ListObservations(context.Background(), w.Env.Env)
	if err != nil || len(obs) != total {
		t.Errorf("%d observations (%v), want %d", len(obs), err, total)
	}
}

// TestScanWithoutTable: the CLI's scan without a table compares with a config's documents
// and stores nothing.
func TestScanWithoutTable(t *testing.T) {
	w := newScanWorld(t, sim.GenerateOptions{Queues: 5, Skills: 2, Worktypes: 2, Seed: 9})
	docs := w.org.Docs()
	q := w.org.Sorted(entity.Queue)[0]
	if err := w.Sim.EditQueue(q.ID, func(m map[string]any) { m["description"] = "x" }); err != nil {
		t.Fatal(err)
	}
	s := &drift.Scanner{Environment: "cli", Genesys: w.Client, Declared: docs, Now: w.clock.Now}
	r := w.scan(t, s)
	if r.Summary.Entities.Modified != 1 || r.Summary.DynamoDBWrites != 0 || !r.Summary.Complete {
		t.Errorf("summary %+v; want one modified queue, nothing written", r.Summary)
	}
	if _, err := w.Table.LatestDriftReport(context.Background(), "cli"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a report was stored without a table: %v", err)
	}
}

// The report's JSON round-trips, and numbers keep their exact form.
func TestScanReportJSON(t *testing.T) {
	r := &drift.ScanReport{Schema: drift.ScanReportSchema, Summary: drift.ScanSummary{Schema: drift.ScanSchema, Environment: "prod", GeneratedAt: scanT0, Complete: true},
		Entities: []drift.ScanEntity{{Kind: entity.Queue, Name: "Claims", State: drift.Modified,
			Differences: []drift.Deviation{{Path: "mediaSettings.call.alertingTimeoutSeconds", Expected: json.Number("8"), Actual: json.Number("21")}}}}}
	st, err := r.Stored()
	if err != nil {
		t.Fatal(err)
	}
	back, err := drift.ReportOf(st)
	if err != nil {
		t.Fatal(err)
	}
	if !document.Equal(back.Entities[0].Differences[0].Actual, json.Number("21")) || back.Summary.Environment != "prod" {
		t.Errorf("round trip: %+v", back)
	}
}
