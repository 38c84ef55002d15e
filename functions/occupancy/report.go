package main

import (
	"io"
	"slices"
	"time"

	"github.com/routekeeper/routekeeper/shared/bootstrap"
	"github.com/routekeeper/routekeeper/shared/emf"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/store"
)

// ResultSchema is the schema of the handler's answer.
const ResultSchema = "routekeeper.occupancy/v1"

// Result is what one run did (routekeeper.occupancy/v1), the handler's response.
type Result struct {
	Schema      string    `json:"schema"`
	Environment string    `json:"environment"`
	SampledAt   time.Time `json:"sampledAt"` // the schedule's time the samples are stamped with
	Queues      int       `json:"queues"`    // queues the rules name (queues and overflow queues)
	Rules       int       `json:"rules"`     // overflow rules published for the environment
	// GenesysCalls is the API requests the run made (retries and the reads of a switch
	// included); PlannedCalls what the poll needed: ceil(queues ÷ 100) observation queries
	// plus one workitem count per rule queue (plus the queue list for ids the table lacks).
	GenesysCalls int64 `json:"genesysCalls"`
	PlannedCalls int   `json:"plannedCalls"`
	// Metrics is the number of metric values written as EMF records.
	Metrics  int             `json:"metrics"`
	Overflow OverflowOutcome `json:"overflow"`
	// Partial: the run lacked data for some queue or rule (Problems says what); no rule
	// switched on data the run did not have.
	Partial  bool     `json:"partial"`
	Problems []string `json:"problems,omitempty"`
}

// OverflowOutcome lists the switches of a run and the overflows active after it.
type OverflowOutcome struct {
	Entered []Switched `json:"entered"`
	Left    []Switched `json:"left"`
	Active  []string   `json:"active"` // rules whose overflow is active after the run
}

// Switched is one switch of a run.
type Switched struct {
	Rule     string `json:"rule"`
	Worktype string `json:"worktype"`
	From     string `json:"from"` // defaultQueue before
	To       string `json:"to"`   // defaultQueue requested
	Backlog  int    `json:"backlog"`
	ChangeID string `json:"changeId"`
}

// OverflowSchema is the schema of the detail of Overflow Started and Overflow Ended
// (docs/events.md).
const OverflowSchema = "routekeeper.overflow/v1"

// OverflowDetail is the detail of an Overflow Started or Overflow Ended event.
type OverflowDetail struct {
	Schema        string `json:"schema"`
	Environment   string `json:"environment"`
	Rule          string `json:"rule"`
	Worktype      string `json:"worktype"`
	Queue         string `json:"queue"`
	OverflowQueue string `json:"overflowQueue"`
	// State is STARTED or ENDED.
	State       string `json:"state"`
	Backlog     int    `json:"backlog"`
	MaxCapacity int    `json:"maxCapacity"`
	ResumeBelow int    `json:"resumeBelow"`
	// ChangeID is the change request that points the worktype's defaultQueue (its outcome:
	// routekeeper status <changeId>).
	ChangeID string    `json:"changeId"`
	At       time.Time `json:"at"` // the sample that decided the switch
	// StartedAt is when the overflow started (Ended), and DurationSeconds how long it lasted.
	StartedAt       *time.Time `json:"startedAt,omitempty"`
	DurationSeconds *int64     `json:"durationSeconds,omitempty"`
}

// Overflow detail states.
const (
	StateStarted = "STARTED"
	StateEnded   = "ENDED"
)

// EMF dimension names of the occupancy records (template.yaml's alarms and dashboard
// select on them).
const (
	dimEnvironment = "Environment"
	dimQueue       = "Queue"
	dimRule        = "Rule"
)

// writeMetrics writes the EMF records of a run to w: one per queue (dimensions
// Environment, Queue), one per rule (Environment, Rule, rolled up to Environment so an
// alarm covers every rule), one for the run (Environment, Function). It returns how many
// metric values it wrote.
func writeMetrics(w io.Writer, env string, at time.Time, p *poll, rules []store.OverflowRule, states map[string]store.OverflowState, run runCounts) (int, error) {
	clock := func() time.Time { return at }
	n := 0
	flush := func(m *emf.Metrics, values int) error {
		n += values
		return m.Flush()
	}
	names := make([]string, 0, len(p.queues))
	for name := range p.queues {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		q := p.queues[name]
		m := emf.New(w, "routekeeper", emf.Dimension{Name: dimEnvironment, Value: env}, emf.Dimension{Name: dimQueue, Value: name}).WithClock(clock)
		values := 0
		if q.Load != nil {
			interacting, onQueue := q.Load[genesys.MetricInteracting], q.Load[genesys.MetricOnQueueUsers]
			m.Set("Waiting", emf.Count, q.Load[genesys.MetricWaiting])
			m.Set("Interacting", emf.Count, interacting)
			m.Set("OnQueueAgents", emf.Count, onQueue)
			m.Set("ActiveAgents", emf.Count, q.Load[genesys.MetricActiveUsers])
			m.Set("MemberAgents", emf.Count, q.Load[genesys.MetricMemberUsers])
			m.Set("Utilization", emf.None, utilization(interacting, onQueue))
			values += 6
		}
		if q.Counted {
			m.Set("Backlog", emf.Count, float64(q.Backlog))
			values++
		}
		if err := flush(m, values); err != nil {
			return n, err
		}
	}
	for _, r := range rules {
		st := states[r.Worktype]
		m := emf.New(w, "routekeeper", emf.Dimension{Name: dimEnvironment, Value: env}, emf.Dimension{Name: dimRule, Value: r.Rule}).
			Rollup(dimEnvironment).WithClock(clock)
		values := 0
		if q := p.queues[r.Queue]; q != nil && q.Counted {
			m.Set("Backlog", emf.Count, float64(q.Backlog))
			m.Set("MaxCapacity", emf.Count, float64(r.MaxCapacity))
			m.Set("BacklogRatio", emf.None, float64(q.Backlog)/float64(r.MaxCapacity))
			values += 3
		}
		active, since := 0.0, 0.0
		if st.Active {
			active = 1
			if !st.ChangedAt.IsZero() {
				since = max(at.Sub(st.ChangedAt).Seconds(), 0)
			}
		}
		m.Set("OverflowActive", emf.None, active)
		m.Set("OverflowSeconds", emf.Seconds, since)
		values += 2
		if err := flush(m, values); err != nil {
			return n, err
		}
	}
	m := bootstrap.Metrics(w, env, "occupancy").WithClock(clock)
	for _, c := range []struct {
		name string
		v    int
	}{
		{"Queues", len(p.queues)}, {"Rules", len(rules)}, {"GenesysCalls", int(run.calls.Requests)},
		{"GenesysRateLimited", int(run.calls.RateLimited)}, {"PlannedCalls", p.planned},
		{"PartialQueues", run.partialQueues}, {"PartialRules", run.partialRules},
		{"OverflowEntered", run.entered}, {"OverflowLeft", run.left}, {"OverflowRulesActive", run.active},
		{"SwitchFailures", run.switchFailures}, {"Partial", boolInt(run.partial)},
	} {
		m.Count(c.name, c.v)
	}
	m.Add("DurationMs", emf.Milliseconds, float64(run.duration.Milliseconds()))
	return n, flush(m, 13)
}

// runCounts are the per-run figures of the run's own record.
type runCounts struct {
	calls                       genesys.Stats
	partialQueues, partialRules int
	entered, left, active       int
	switchFailures              int
	partial                     bool
	duration                    time.Duration
}

// utilization is interacting ÷ on-queue agents, 0 with no agent on queue.
func utilization(interacting, onQueue float64) float64 {
	if onQueue <= 0 {
		return 0
	}
	return interacting / onQueue
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
