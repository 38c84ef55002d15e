package stack

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/store"
)

// The occupancy run invoked with events/occupancy/scheduled.json on a stack with the
// example config published: the rule vip-claims (Claims Tasks, maxCapacity 50, two
// samples in) has one sample at capacity in its state already and its queue holds 64
// open claims, so the run enters overflow.
const (
	occupancyRule     = "vip-claims"
	occupancyWorktype = "Claim"
	occupancyQueue    = "Claims Tasks"
	occupancyOverflow = "Claims Overflow"
)

func setupOccupancyScheduled(t *testing.T, s *Stack) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	desired, err := LoadConfig(filepath.Join(root, ExampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Publish(t.Context(), desired); err != nil {
		t.Fatal(err)
	}
	if _, err := storeOf(s).SwapOverflowState(t.Context(), store.OverflowState{Environment: desired.Environment, Worktype: occupancyWorktype,
		Rule: occupancyRule, Queue: occupancyQueue, OverflowQueue: occupancyOverflow, Above: 1, Backlog: 58,
		LastSampleAt: OccupancyEventTime.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	id, ok := s.Sim.IDByName("queue", occupancyQueue)
	if !ok {
		t.Fatalf("queue %q is not in the seeded org", occupancyQueue)
	}
	s.Sim.SetWorkitemCount(id, 64)
	for m, v := range map[string]float64{"oWaiting": 64, "oInteracting": 9, "oOnQueueUsers": 10, "oActiveUsers": 12, "oMemberUsers": 15} {
		s.Sim.SetObservation(id, m, v)
	}
}

// scheduled: the run polls the example's 3 queues (one observations query, a count of each
// of the 2 rule queues, one queue list for the ids the fresh table lacks), enters the
// overflow of vip-claims with a change request on the FIFO change queue, and stores the
// state.
func checkOccupancyScheduled(t *testing.T, s *Stack, ev events.EventBridgeEvent, resp []byte, metrics map[string]float64) {
	var res struct {
		Schema       string    `json:"schema"`
		Environment  string    `json:"environment"`
		SampledAt    time.Time `json:"sampledAt"`
		Queues       int       `json:"queues"`
		Rules        int       `json:"rules"`
		GenesysCalls int       `json:"genesysCalls"`
		PlannedCalls int       `json:"plannedCalls"`
		Metrics      int       `json:"metrics"`
		Overflow     struct {
			Entered []struct{ Rule, Worktype, To, ChangeID string }
			Left    []json.RawMessage
		} `json:"overflow"`
		Partial  bool     `json:"partial"`
		Problems []string `json:"problems"`
	}
	if err := json.Unmarshal(resp, &res); err != nil {
		t.Fatalf("response %s: want routekeeper.occupancy/v1: %v", resp, err)
	}
	if res.Schema != "routekeeper.occupancy/v1" || res.Environment != ExampleEnvironment || !res.SampledAt.Equal(ev.Time) ||
		res.Rules != 2 || res.Queues != 3 || res.PlannedCalls != 1+2+1 || res.Partial || res.Metrics == 0 {
		t.Errorf("response %s; want prod sampled at the event's time, 2 rules, 3 queues, 4 planned calls, complete, metrics", resp)
	}
	if len(res.Overflow.Entered) != 1 || res.Overflow.Entered[0].Rule != occupancyRule || res.Overflow.Entered[0].To != occupancyOverflow || len(res.Overflow.Left) != 0 {
		t.Fatalf("overflow %+v; want %s entered towards %q", res.Overflow, occupancyRule, occupancyOverflow)
	}
	calls := s.Sim.Calls()
	if calls["POST /api/v2/analytics/queues/observations/query"] != 1 || calls["POST /api/v2/taskmanagement/workitems/query"] != 2 {
		t.Errorf("observations queries %d, workitem counts %d; want 1 and 2 (calls %v)", calls["POST /api/v2/analytics/queues/observations/query"],
			calls["POST /api/v2/taskmanagement/workitems/query"], calls)
	}
	wantMetrics(t, metrics, map[string]float64{"Rules": 2, "Queues": 3, "OverflowEntered": 1, "Partial": 0, "PlannedCalls": 4})

	out, err := sqs.NewFromConfig(s.AWS).ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.Resources.ChangeQueueURL), MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("change queue: %d messages (%v), want the enter request", len(out.Messages), err)
	}
	req, err := changes.Decode([]byte(aws.ToString(out.Messages[0].Body)))
	if err != nil {
		t.Fatal(err)
	}
	if req.ChangeID != res.Overflow.Entered[0].ChangeID || req.Reason != "overflow enter" || req.Entity.Name != occupancyWorktype ||
		req.Desired["defaultQueue"] != occupancyOverflow || req.BaseEtag == "" {
		t.Errorf("change request %+v; want the enter: worktype %s, defaultQueue %s, reason overflow enter, a baseEtag", req, occupancyWorktype, occupancyOverflow)
	}
	st, err := storeOf(s).GetOverflowState(t.Context(), ExampleEnvironment, occupancyWorktype)
	if err != nil || !st.Active || st.EnterChangeID != req.ChangeID || !st.ChangedAt.Equal(ev.Time) {
		t.Errorf("overflow state %+v, %v; want active since the event's time with the enter's change id", st, err)
	}
}
