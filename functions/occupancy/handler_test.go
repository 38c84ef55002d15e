package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// TestOverflowThroughTheApplyPath: a surge then a drain of the rule's queue, one run a
// minute. Entering and leaving are change requests on the FIFO change queue that the
// apply engine applies guarded by the worktype's ETag and records; the worktype's
// defaultQueue in Genesys follows; Overflow Started and Ended reach the bus; while the
// overflow is active a plan with the table's states expects the overflow queue, one
// without proposes the revert.
func TestOverflowThroughTheApplyPath(t *testing.T) {
	for _, observe := range []bool{true, false} {
		name := "ids and base from the table"
		if !observe {
			name = "ids from the queue list, base read live"
		}
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, worldOptions{observe: observe})
			ctx := context.Background()
			tap, err := awslocal.NewTap(ctx, w.AWS, w.Resources.BusName, strings.TrimSuffix(w.Resources.TableName, "-Table"), `{"source":["routekeeper"]}`)
			if err != nil {
				t.Fatal(err)
			}
			steps := []struct {
				backlog    int
				wantQueue  string // defaultQueue after the run and the drain
				wantSwitch string
			}{
				{6, w.q, ""}, {7, w.o, "enter"}, {8, w.o, ""}, {1, w.o, ""}, {0, w.q, "leave"}, {0, w.q, ""},
			}
			var requests []*changes.Request
			for i, s := range steps {
				at := t0.Add(time.Duration(i+1) * time.Minute)
				w.load(w.q, s.backlog, float64(s.backlog), 3, 4)
				w.load(w.o, 0, 0, 1, 2)
				res := w.run(t, at)
				reqs := w.drain(t)
				requests = append(requests, reqs...)
				got := ""
				switch {
				case len(res.Overflow.Entered) == 1 && len(res.Overflow.Left) == 0:
					got = "enter"
				case len(res.Overflow.Left) == 1 && len(res.Overflow.Entered) == 0:
					got = "leave"
				case len(res.Overflow.Entered)+len(res.Overflow.Left) > 0:
					got = "both"
				}
				if got != s.wantSwitch || len(reqs) != len(res.Overflow.Entered)+len(res.Overflow.Left) {
					t.Fatalf("minute %d (backlog %d): switch %q with %d change requests, want %q; result %+v", i+1, s.backlog, got, len(reqs), s.wantSwitch, res)
				}
				if res.Partial {
					t.Errorf("minute %d: partial, problems %v", i+1, res.Problems)
				}
				if q := w.defaultQueue(t); q != s.wantQueue {
					t.Fatalf("minute %d: defaultQueue %s after the apply engine, want %s", i+1, q, s.wantQueue)
				}
				if s.wantSwitch == "enter" {
					checkPlanWhileActive(t, w)
				}
				// The same fire delivered again changes nothing.
				// (Only the outcome of the enter, now applied, is recorded.)
				if i == 1 {
					before := w.state(t)
					again := w.run(t, at)
					after := w.state(t)
					if after.SwitchStatus != store.StatusApplied {
						t.Errorf("switch status %q after the enter was applied, want APPLIED", after.SwitchStatus)
					}
					after.SwitchStatus, after.Version = before.SwitchStatus, before.Version
					if len(again.Overflow.Entered)+len(again.Overflow.Left) != 0 || after != before || len(w.drain(t)) != 0 {
						t.Errorf("a redelivered fire switched again or changed the state: %+v\nbefore %+v\nafter  %+v", again.Overflow, before, after)
					}
				}
			}

			// Each request: the worktype, ETag-guarded, the reason, recorded APPLIED.
			wantReasons := []string{ReasonEnter, ReasonLeave}
			if len(requests) != 2 {
				t.Fatalf("%d change requests, want 2", len(requests))
			}
			for i, r := range requests {
				if r.Entity.Type != entity.Worktype || r.Entity.Name != w.rule.Worktype || r.Reason != wantReasons[i] || r.BaseEtag == "" ||
					r.Operation != changes.OpUpdate || !strings.HasPrefix(r.RequestedBy, RequestedBy) {
					t.Errorf("request %d: %s %s %q, reason %q, baseEtag %q, by %q; want an ETag-guarded update of worktype %q with reason %q",
						i, r.Operation, r.Entity.Type, r.Entity.Name, r.Reason, r.BaseEtag, r.RequestedBy, w.rule.Worktype, wantReasons[i])
				}
				c, err := w.Table.GetChange(ctx, r.ChangeID)
				if err != nil || c.Status != store.StatusApplied {
					t.Errorf("change %s: %+v, %v; want APPLIED", r.ChangeID, c, err)
				}
			}
			st := w.state(t)
			if st.Active || st.EnterChangeID != requests[0].ChangeID || st.LeaveChangeID != requests[1].ChangeID || !st.ChangedAt.Equal(t0.Add(5*time.Minute)) {
				t.Errorf("final state %+v; want inactive since minute 5 with both change ids", st)
			}

			evs, err := tap.ReceiveN(ctx, 2)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(evs, func(a, b awsEvent) int { return a.Time.Compare(b.Time) })
			var details []OverflowDetail
			for _, ev := range evs {
				var d OverflowDetail
				if err := json.Unmarshal(ev.Detail, &d); err != nil {
					t.Fatal(err)
				}
				if ev.Source != bus.Source || len(ev.Resources) != 1 || ev.Resources[0] != applytest.Environment+"/worktype/"+w.rule.Worktype {
					t.Errorf("event %s from %s about %v; want source routekeeper and the worktype's key", ev.DetailType, ev.Source, ev.Resources)
				}
				details = append(details, d)
			}
			started, ended := t0.Add(2*time.Minute), int64(180)
			want := []OverflowDetail{
				{Schema: OverflowSchema, Environment: applytest.Environment, Rule: "vip", Worktype: w.rule.Worktype, Queue: w.rule.Queue,
					OverflowQueue: w.rule.OverflowQueue, State: StateStarted, Backlog: 7, MaxCapacity: 5, ResumeBelow: 2,
					ChangeID: requests[0].ChangeID, At: started},
				{Schema: OverflowSchema, Environment: applytest.Environment, Rule: "vip", Worktype: w.rule.Worktype, Queue: w.rule.Queue,
					OverflowQueue: w.rule.OverflowQueue, State: StateEnded, Backlog: 0, MaxCapacity: 5, ResumeBelow: 2,
					ChangeID: requests[1].ChangeID, At: t0.Add(5 * time.Minute), StartedAt: &started, DurationSeconds: &ended},
			}
			if diff := cmp.Diff(want, details); diff != "" {
				t.Errorf("Overflow Started, Overflow Ended details (-want +got):\n%s", diff)
			}
			if evs[0].DetailType != bus.OverflowStarted || evs[1].DetailType != bus.OverflowEnded {
				t.Errorf("detail-types %s, %s; want %s then %s", evs[0].DetailType, evs[1].DetailType, bus.OverflowStarted, bus.OverflowEnded)
			}
		})
	}
}

// checkPlanWhileActive: with the active overflow read from the table the worktype plans
// unchanged ("overflow active"); without it the plan reverts the defaultQueue.
func checkPlanWhileActive(t *testing.T, w *world) {
	t.Helper()
	ctx := context.Background()
	org, err := live.Read(ctx, w.Client, nil)
	if err != nil {
		t.Fatal(err)
	}
	desired := []entity.Doc{{Kind: entity.Worktype, Name: w.rule.Worktype, Fields: map[string]any{"name": w.rule.Worktype, "defaultQueue": w.rule.Queue}}}
	active, err := drift.ActiveOverflow(ctx, w.Table, applytest.Environment)
	if err != nil {
		t.Fatal(err)
	}
	with, err := drift.NewPlan(applytest.Environment, desired, org, drift.PlanOptions{Overflow: active})
	if err != nil {
		t.Fatal(err)
	}
	if len(with.Changes) != 0 || len(with.Overflow) != 1 || with.Overflow[0].State != drift.OverflowActive {
		t.Errorf("plan with the table while the overflow is active: changes %+v, overflow %+v; want none and \"overflow active\"", with.Changes, with.Overflow)
	}
	without, err := drift.NewPlan(applytest.Environment, desired, org, drift.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(without.Changes) != 1 || without.Changes[0].Desired["defaultQueue"] != w.rule.Queue {
		t.Errorf("plan without the overflow states: %+v; want the revert to %q", without.Changes, w.rule.Queue)
	}
}

// TestPartialNeverSwitches: one sample at capacity is in the state already, and the
// backlog is at capacity again, so a complete run enters. A run missing any of the rule's
// data records what it has, marks the sample partial, starts the run of samples again
// and does not switch.
func TestPartialNeverSwitches(t *testing.T) {
	var dropQueue string // the middleware's queue id whose observations are dropped
	dropObservations := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/observations/query") || dropQueue == "" {
				next.ServeHTTP(rw, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body struct {
				Results []map[string]any `json:"results"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			body.Results = slices.DeleteFunc(body.Results, func(m map[string]any) bool {
				g, _ := m["group"].(map[string]any)
				return g["queueId"] == dropQueue
			})
			rw.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(rw).Encode(body)
		})
	}
	tests := []struct {
		name     string
		opts     worldOptions
		setup    func(w *world)
		want     bool   // enters
		problem  string // in Result.Problems
		partialQ func(w *world) string
	}{
		{name: "complete data enters", opts: worldOptions{observe: true}, want: true},
		{name: "a queue the org lacks", opts: worldOptions{observe: true, rule: func(r *store.OverflowRule) { r.OverflowQueue = "Nowhere Queue" }},
			problem: `queue "Nowhere Queue", named by rule "vip", is not in the org`},
		{name: "observations missing for a queue", opts: worldOptions{observe: true, middleware: dropObservations},
			setup: func(w *world) { dropQueue = w.o }, problem: "no observations in the answer", partialQ: func(w *world) string { return w.o }},
		{name: "a 429 mid-poll", opts: worldOptions{observe: true},
			setup: func(w *world) { w.Sim.SetFaults(sim.Faults{Force429: 1, RetryAfterSeconds: 600}) }, problem: "429"},
		{name: "the call budget", opts: worldOptions{observe: true}, setup: func(w *world) { w.h.MaxCalls = 1 },
			problem: "call budget: 1 of 1 rule queues not counted", partialQ: func(w *world) string { return w.q }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dropQueue = ""
			w := newWorld(t, tc.opts)
			ctx := context.Background()
			if _, err := w.Table.SwapOverflowState(ctx, store.OverflowState{Environment: applytest.Environment, Worktype: w.rule.Worktype,
				Rule: "vip", Queue: w.rule.Queue, OverflowQueue: w.rule.OverflowQueue, Above: 1, Backlog: 9, LastSampleAt: t0}); err != nil {
				t.Fatal(err)
			}
			w.load(w.q, 9, 9, 2, 2)
			w.load(w.o, 0, 0, 0, 1)
			if tc.setup != nil {
				tc.setup(w)
			}
			res := w.run(t, t0.Add(time.Minute))
			reqs := w.drain(t)
			st := w.state(t)
			if entered := len(res.Overflow.Entered) == 1; entered != tc.want || len(reqs) != len(res.Overflow.Entered) || st.Active != tc.want {
				t.Fatalf("entered %v (%d change requests, state active %v), want %v; result %+v", entered, len(reqs), st.Active, tc.want, res)
			}
			if tc.want {
				if res.Partial {
					t.Errorf("complete run reported partial: %v", res.Problems)
				}
				return
			}
			if !res.Partial || st.Above != 0 || !st.LastSampleAt.Equal(t0.Add(time.Minute)) {
				t.Errorf("partial %v, state above %d at %s; want partial, the run of samples started again at minute 1", res.Partial, st.Above, st.LastSampleAt)
			}
			if !slices.ContainsFunc(res.Problems, func(p string) bool { return strings.Contains(p, tc.problem) }) {
				t.Errorf("problems %q lack %q", res.Problems, tc.problem)
			}
			if tc.partialQ != nil {
				id := tc.partialQ(w)
				samples, err := w.Table.ListOccupancySamples(ctx, applytest.Environment, id, t0)
				if err != nil || len(samples) != 1 || !samples[0].Partial {
					t.Errorf("samples of %s: %+v, %v; want one, partial", id, samples, err)
				}
			}
			if rec := w.records(t)["run"]; rec.Values["Partial"][0] != 1 {
				t.Errorf("run record Partial %v, want 1", rec.Values["Partial"])
			}
		})
	}
}

// TestRunCallsAndMetrics: a run's Genesys calls are ceil(queues ÷ 100) observation
// queries plus one count per rule queue (plus the queue list when the table knows no
// ids), and its EMF records hold each queue's load and each rule's backlog against
// capacity; every line is valid EMF.
func TestRunCallsAndMetrics(t *testing.T) {
	for _, tc := range []struct {
		name      string
		observe   bool
		wantCalls int64
	}{
		{name: "ids from the table", observe: true, wantCalls: 1 + 1},
		{name: "ids from the queue list", observe: false, wantCalls: 1 + 1 + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{observe: tc.observe})
			w.load(w.q, 4, 6, 3, 4)
			w.load(w.o, 0, 0, 0, 0)
			res := w.run(t, t0)
			if res.GenesysCalls != tc.wantCalls || int64(res.PlannedCalls) != tc.wantCalls {
				t.Errorf("genesysCalls %d, plannedCalls %d; want %d", res.GenesysCalls, res.PlannedCalls, tc.wantCalls)
			}
			recs := w.records(t)
			got := map[string]map[string][]float64{}
			for k, r := range recs {
				got[k] = r.Values
			}
			q, o := "queue:"+w.rule.Queue, "queue:"+w.rule.OverflowQueue
			want := map[string]map[string][]float64{
				q:          {"Waiting": {6}, "Interacting": {3}, "OnQueueAgents": {4}, "ActiveAgents": {5}, "MemberAgents": {7}, "Utilization": {0.75}, "Backlog": {4}},
				o:          {"Waiting": {0}, "Interacting": {0}, "OnQueueAgents": {0}, "ActiveAgents": {1}, "MemberAgents": {3}, "Utilization": {0}},
				"rule:vip": {"Backlog": {4}, "MaxCapacity": {5}, "BacklogRatio": {0.8}, "OverflowActive": {0}, "OverflowSeconds": {0}},
			}
			for k, v := range want {
				if diff := cmp.Diff(v, got[k]); diff != "" {
					t.Errorf("%s record (-want +got):\n%s", k, diff)
				}
			}
			run := recs["run"]
			if run.Values["GenesysCalls"][0] != float64(tc.wantCalls) || run.Dimensions["Function"] != "occupancy" {
				t.Errorf("run record %v %v; want GenesysCalls %d, Function occupancy", run.Dimensions, run.Values, tc.wantCalls)
			}
			if sets := recs["rule:vip"].Directives[0].DimensionSets; !cmp.Equal(sets, [][]string{{"Environment", "Rule"}, {"Environment"}}) {
				t.Errorf("rule record dimension sets %v, want [Environment Rule] rolled up to [Environment]", sets)
			}
			if total := countValues(recs); res.Metrics != total {
				t.Errorf("result metrics %d, the records hold %d values", res.Metrics, total)
			}
			samples, err := w.Table.ListOccupancySamples(context.Background(), applytest.Environment, w.q, t0)
			if err != nil || len(samples) != 1 || samples[0].Metrics[MetricBacklog] != 4 || samples[0].Metrics["oWaiting"] != 6 || samples[0].Partial {
				t.Errorf("stored samples of the rule queue: %+v, %v; want one complete with backlog 4 and oWaiting 6", samples, err)
			}

			// The answer: routekeeper.occupancy/v1 with the members the schema documents.
			b, _ := json.Marshal(res)
			var members map[string]json.RawMessage
			_ = json.Unmarshal(b, &members)
			for _, m := range []string{"schema", "environment", "queues", "rules", "genesysCalls", "metrics", "overflow", "partial"} {
				if _, ok := members[m]; !ok {
					t.Errorf("result %s lacks %q", b, m)
				}
			}
			if res.Schema != ResultSchema || res.Queues != 2 || res.Rules != 1 || string(members["overflow"]) != `{"entered":[],"left":[],"active":[]}` {
				t.Errorf("result %s", b)
			}
		})
	}
}

func countValues(recs map[string]emfRecord) int {
	n := 0
	for _, r := range recs {
		n += len(r.Values)
	}
	return n
}

// TestRefusedSwitchIsUndone: an admin changes the worktype's defaultQueue between the
// enter request and its apply, so the engine ends it CONFLICT and writes nothing. The
// next run finds that outcome and puts the state back to inactive, so plans and scans do
// not expect an overflow that did not happen.
func TestRefusedSwitchIsUndone(t *testing.T) {
	w := newWorld(t, worldOptions{observe: true})
	ctx := context.Background()
	w.load(w.o, 0, 0, 0, 1)
	for i, backlog := range []int{9, 9} {
		w.load(w.q, backlog, 0, 0, 1)
		w.run(t, t0.Add(time.Duration(i)*time.Minute))
	}
	third := ""
	for _, e := range mustOrg(t, w).Sorted(entity.Queue) {
		if e.ID != w.q && e.ID != w.o {
			third = e.ID
			break
		}
	}
	if err := w.Sim.EditWorktype(w.wt, func(m map[string]any) { m["defaultQueue"] = map[string]any{"id": third} }); err != nil {
		t.Fatal(err)
	}
	reqs := w.drain(t)
	if len(reqs) != 1 {
		t.Fatalf("%d change requests, want the enter", len(reqs))
	}
	if c, err := w.Table.GetChange(ctx, reqs[0].ChangeID); err != nil || c.Status != store.StatusConflict {
		t.Fatalf("enter change: %+v, %v; want CONFLICT", c, err)
	}
	if !w.state(t).Active {
		t.Fatal("the state is not active after the enter was sent")
	}
	res := w.run(t, t0.Add(2*time.Minute))
	st := w.state(t)
	if st.Active || st.SwitchStatus != store.StatusConflict {
		t.Errorf("state after the refused enter: %+v; want inactive with switch status CONFLICT", st)
	}
	if !slices.ContainsFunc(res.Problems, func(p string) bool { return strings.Contains(p, "ended CONFLICT") }) {
		t.Errorf("problems %q lack the refused enter", res.Problems)
	}
	if w.defaultQueue(t) != third {
		t.Errorf("defaultQueue %s, want the admin's %s", w.defaultQueue(t), third)
	}
}

func mustOrg(t *testing.T, w *world) *live.Org {
	t.Helper()
	org, err := live.Read(context.Background(), w.Client, nil)
	if err != nil {
		t.Fatal(err)
	}
	return org
}

// TestHandleErrors: a run that cannot read its rules or states fails, saying what is
// wrong; with no rules published it polls nothing.
func TestHandleErrors(t *testing.T) {
	w := newWorld(t, worldOptions{observe: true})
	if _, err := w.Table.PublishOverflowRules(context.Background(), applytest.Environment, "v2", nil); err != nil {
		t.Fatal(err)
	}
	res := w.run(t, t0)
	if res.Rules != 0 || res.GenesysCalls != 0 || res.Partial {
		t.Errorf("run without rules: %+v; want nothing polled", res)
	}
	w.h.Store = failingStore{Store: w.Table, err: errors.New("table gone")}
	if _, err := w.h.Handle(context.Background(), scheduled(t0.Add(time.Minute))); err == nil || !strings.Contains(err.Error(), "read the overflow rules of test: table gone") {
		t.Errorf("Handle with a failing table: %v; want the rules read error", err)
	}
}

type failingStore struct {
	*store.Store
	err error
}

func (f failingStore) ListOverflowRules(context.Context, string) ([]store.OverflowRule, error) {
	return nil, f.err
}
