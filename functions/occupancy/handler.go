package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/routekeeper/routekeeper/shared/bootstrap"
	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Defaults of a Handler.
const (
	// DefaultMaxCalls bounds a run's poll: 240 of the 300 requests a minute a Genesys
	// token may make (docs/genesys-api.md §8), paced by the client over about 48 s, which
	// leaves room in the minute for the reads of a switch and in the 60 s timeout for the
	// table and the metrics.
	DefaultMaxCalls = 240
	// DefaultMargin is the time a run keeps after its poll, before the invocation's
	// deadline, to store what it read and switch.
	DefaultMargin = 8 * time.Second
	// SampleRetention is how long a sample is kept (its TTL).
	SampleRetention = 7 * 24 * time.Hour
)

// Store is what a run needs from the table (*store.Store satisfies it).
type Store interface {
	ListOverflowRules(ctx context.Context, env string) ([]store.OverflowRule, error)
	ListOverflowStates(ctx context.Context, env string) ([]store.OverflowState, error)
	SwapOverflowState(ctx context.Context, o store.OverflowState) (store.OverflowState, error)
	ListObservations(ctx context.Context, env string) ([]store.Observation, error)
	PutOccupancySamples(ctx context.Context, samples []store.OccupancySample, retention time.Duration) error
	GetChange(ctx context.Context, changeID string) (*store.Change, error)
	// PutObservation records the state a switch was planned against (drift.Submit).
	PutObservation(ctx context.Context, o store.Observation) error
}

// ChangePublisher sends change requests to the FIFO change queue (*changes.Publisher).
type ChangePublisher interface {
	Publish(ctx context.Context, reqs []*changes.Request) ([]changes.Sent, error)
}

// EventPublisher puts events on routekeeper's bus (*bus.Publisher).
type EventPublisher interface {
	Publish(ctx context.Context, events ...bus.Event) error
}

// Handler is one environment's occupancy run: it polls the queues of the published
// overflow rules, writes their metrics and samples, and switches overflows with
// hysteresis (Step) through change requests.
type Handler struct {
	Environment string
	Store       Store
	Genesys     Genesys
	Changes     ChangePublisher
	Bus         EventPublisher // nil: no events
	Metrics     io.Writer      // EMF records; nil: none
	Logger      *slog.Logger   // nil: discard
	// Now is the wall clock (change requests' createdAt, the run's duration); nil:
	// time.Now. The samples are stamped with the schedule's time, not with it.
	Now      func() time.Time
	MaxCalls int           // 0: DefaultMaxCalls
	Margin   time.Duration // 0: DefaultMargin

	names *live.Cache // the org's names, for the live read of a switch; built on first use
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Handle runs once for a scheduled event (EventBridge Scheduler's default payload; its
// detail, the string "{}", is not read). The event's time (the scheduled time) stamps the
// samples and drives the hysteresis, so a redelivered event (same time) changes no state,
// and the local stack can step through time without waiting. An event without a time is
// sampled at the clock's now.
//
// It returns an error only when it cannot start (the rules or states cannot be read from
// the table). Everything else is in the Result: what could not be read makes it partial
// and is listed in Problems, and no rule switches on data the run lacks.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) (Result, error) {
	log := h.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	started := h.now()
	at := ev.Time.UTC()
	if ev.Time.IsZero() {
		at = started.UTC()
	}
	res := Result{Schema: ResultSchema, Environment: h.Environment, SampledAt: at,
		Overflow: OverflowOutcome{Entered: []Switched{}, Left: []Switched{}, Active: []string{}}}
	rules, err := h.Store.ListOverflowRules(ctx, h.Environment)
	if err != nil {
		return res, fmt.Errorf("read the overflow rules of %s: %w (TABLE_NAME must be the stack's table)", h.Environment, err)
	}
	slices.SortFunc(rules, func(a, b store.OverflowRule) int { return strings.Compare(a.Rule, b.Rule) })
	stateList, err := h.Store.ListOverflowStates(ctx, h.Environment)
	if err != nil {
		return res, fmt.Errorf("read the overflow states of %s: %w", h.Environment, err)
	}
	states := map[string]store.OverflowState{}
	for _, s := range stateList {
		states[s.Worktype] = s
	}
	res.Rules = len(rules)
	if len(rules) == 0 {
		log.InfoContext(ctx, "no overflow rules published for the environment: nothing to poll (routekeeper publish writes them from the config's assignment rules)",
			slog.String("environment", h.Environment))
	}
	problem := func(format string, args ...any) {
		res.Problems = append(res.Problems, fmt.Sprintf(format, args...))
	}

	// Ids and last-known worktypes from the table; a failure only costs Genesys calls.
	observations, err := h.Store.ListObservations(ctx, h.Environment)
	if err != nil {
		log.WarnContext(ctx, "could not read the last-known state; queue ids come from Genesys", slog.String("error", err.Error()))
		observations = nil
	}
	worktypes := map[string]store.Observation{}
	for _, o := range observations {
		if o.Key.Kind == entity.Worktype {
			worktypes[o.Key.Name] = o
		}
	}
	activeQueues := map[string]bool{}
	for _, r := range rules {
		activeQueues[r.Queue] = activeQueues[r.Queue] || states[r.Worktype].Active
	}

	before := h.Genesys.Calls()
	pctx, cancel := h.pollContext(ctx)
	p := h.readQueues(pctx, rules, activeQueues, observations, cmpOr(h.MaxCalls, DefaultMaxCalls))
	cancel()
	res.Queues, res.PlannedCalls = len(p.queues), p.planned
	res.Problems = append(res.Problems, p.problems...)

	run := runCounts{}
	var samples []store.OccupancySample
	for _, q := range p.queues {
		if q.partial() {
			run.partialQueues++
		}
		if q.ID == "" {
			continue
		}
		s := store.OccupancySample{Environment: h.Environment, QueueID: q.ID, SampledAt: at, Metrics: map[string]float64{}, Partial: q.partial()}
		for k, v := range q.Load {
			s.Metrics[k] = v
		}
		if q.Counted {
			s.Metrics[MetricBacklog] = float64(q.Backlog)
		}
		samples = append(samples, s)
	}
	slices.SortFunc(samples, func(a, b store.OccupancySample) int { return strings.Compare(a.QueueID, b.QueueID) })
	if err := h.Store.PutOccupancySamples(ctx, samples, SampleRetention); err != nil {
		log.ErrorContext(ctx, "could not store the samples", slog.String("error", err.Error()))
		problem("samples not stored: %v", err)
	}

	var evs []bus.Event
	for _, r := range rules {
		st, ok := states[r.Worktype]
		if !ok {
			st = store.OverflowState{Environment: h.Environment, Worktype: r.Worktype}
		}
		read := st
		st, failed := h.confirmSwitch(ctx, log, st, problem)
		if failed {
			run.switchFailures++
		}
		q, oq := p.queues[r.Queue], p.queues[r.OverflowQueue]
		smp := Sample{Backlog: q.Backlog, Partial: q.partial() || oq.ID == "" || oq.Load == nil}
		if smp.Partial {
			run.partialRules++
		}
		next, sw := Step(st, smp, r, at)
		var from, to string
		if sw != Stay {
			from, to = r.Queue, r.OverflowQueue
			if sw == Leave {
				from, to = st.OverflowQueue, r.Queue
			}
			req, err := h.submitSwitch(ctx, sw, r, from, to, worktypes)
			if err != nil {
				// The state is left as read: the next run decides again and retries.
				log.ErrorContext(ctx, "overflow switch not sent", slog.String("rule", r.Rule), slog.String("switch", sw.String()), slog.String("error", err.Error()))
				problem("rule %q: overflow %s not sent: %v", r.Rule, sw, err)
				run.switchFailures++
				states[r.Worktype] = st
				continue
			}
			if sw == Enter {
				next.EnterChangeID = req.ChangeID
			} else {
				next.LeaveChangeID = req.ChangeID
			}
			next.SwitchStatus = ""
		}
		if next != read && !quietStep(read, next) {
			saved, err := h.Store.SwapOverflowState(ctx, next)
			if err != nil {
				what := "state not stored"
				if sw != Stay {
					what = "the change request was sent but the state could not be stored (an overlapping run may have stored its own)"
				}
				log.WarnContext(ctx, "overflow "+what, slog.String("rule", r.Rule), slog.String("error", err.Error()))
				problem("rule %q: %s: %v", r.Rule, what, err)
				continue
			}
			next = saved
		}
		states[r.Worktype] = next
		if sw == Stay {
			continue
		}
		s := Switched{Rule: r.Rule, Worktype: r.Worktype, From: from, To: to, Backlog: next.Backlog}
		detail := OverflowDetail{Schema: OverflowSchema, Environment: h.Environment, Rule: r.Rule, Worktype: r.Worktype,
			Queue: r.Queue, OverflowQueue: to, State: StateStarted, Backlog: next.Backlog, MaxCapacity: r.MaxCapacity,
			ResumeBelow: r.ResumeBelow, At: at}
		detailType := bus.OverflowStarted
		if sw == Enter {
			s.ChangeID, detail.ChangeID = next.EnterChangeID, next.EnterChangeID
			res.Overflow.Entered = append(res.Overflow.Entered, s)
			run.entered++
		} else {
			s.ChangeID, detail.ChangeID = next.LeaveChangeID, next.LeaveChangeID
			detail.State, detail.OverflowQueue, detailType = StateEnded, from, bus.OverflowEnded
			if !st.ChangedAt.IsZero() {
				startedAt, secs := st.ChangedAt, int64(at.Sub(st.ChangedAt)/time.Second)
				detail.StartedAt, detail.DurationSeconds = &startedAt, &secs
			}
			res.Overflow.Left = append(res.Overflow.Left, s)
			run.left++
		}
		log.InfoContext(ctx, "overflow "+sw.String(), slog.String("rule", r.Rule), slog.String("worktype", r.Worktype),
			slog.String("from", from), slog.String("to", to), slog.Int("backlog", next.Backlog), slog.String("changeId", s.ChangeID))
		evs = append(evs, bus.Event{DetailType: detailType, Detail: detail, Time: at,
			Resources: []string{entity.Key{Environment: h.Environment, Kind: entity.Worktype, Name: r.Worktype}.String()}})
	}
	ruled := map[string]bool{}
	for _, r := range rules {
		ruled[r.Worktype] = true
		if states[r.Worktype].Active {
			res.Overflow.Active = append(res.Overflow.Active, r.Rule)
		}
	}
	for _, s := range stateList {
		if s.Active && !ruled[s.Worktype] {
			problem("worktype %q still points at overflow queue %q, but no published rule routes it any more: declare its defaultQueue in the config and apply", s.Worktype, s.OverflowQueue)
		}
	}
	run.active = len(res.Overflow.Active)
	if h.Bus != nil && len(evs) > 0 {
		if err := h.Bus.Publish(ctx, evs...); err != nil {
			log.ErrorContext(ctx, "overflow events not put on the bus", slog.String("error", err.Error()))
			problem("overflow events not published: %v", err)
		}
	}

	after := h.Genesys.Calls()
	run.calls = after
	run.calls.Requests -= before.Requests
	run.calls.RateLimited -= before.RateLimited
	res.GenesysCalls = run.calls.Requests
	res.Partial = run.partialQueues > 0 || run.partialRules > 0
	run.partial = res.Partial
	run.duration = h.now().Sub(started)
	if h.Metrics != nil {
		n, err := writeMetrics(h.Metrics, h.Environment, at, p, rules, states, run)
		res.Metrics = n
		if err != nil {
			log.ErrorContext(ctx, "could not write metrics", slog.String("error", err.Error()))
		}
	}
	level := slog.LevelInfo
	if res.Partial || len(res.Problems) > 0 {
		level = slog.LevelWarn
	}
	log.Log(ctx, level, "occupancy run", slog.Int("queues", res.Queues), slog.Int("rules", res.Rules),
		slog.Int64("genesysCalls", res.GenesysCalls), slog.Int("plannedCalls", res.PlannedCalls),
		slog.Int("entered", run.entered), slog.Int("left", run.left), slog.Bool("partial", res.Partial),
		slog.Any("problems", res.Problems))
	return res, nil
}

// quietStep reports whether a step only moved the state's sample time and backlog while
// no run of samples is under way (both counters 0 before and after): such a write is
// skipped, so a quiet rule costs no table write a minute. Skipping it loses nothing: a
// repeated or late sample of a quiet state again changes nothing, and a sample that
// starts a run of samples changes a counter and is written.
func quietStep(read, next store.OverflowState) bool {
	if read.Above != 0 || read.Below != 0 || read.Version == 0 {
		return false
	}
	next.LastSampleAt, next.Backlog = read.LastSampleAt, read.Backlog
	return next == read
}

// pollContext bounds the poll so that Margin remains before the invocation's deadline.
func (h *Handler) pollContext(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, dl.Add(-cmpOr(h.Margin, DefaultMargin)))
}

// confirmSwitch looks up the outcome of the state's last switch while it is pending. A
// switch the apply engine refused (CONFLICT: someone else changed the worktype's
// defaultQueue; REJECTED) did not happen, so the state goes back to how it was before it;
// failed reports that. The dwell still counts from the attempt, so a retry waits MinDwell.
func (h *Handler) confirmSwitch(ctx context.Context, log *slog.Logger, st store.OverflowState, problem func(string, ...any)) (_ store.OverflowState, failed bool) {
	id, what := st.LeaveChangeID, "leave"
	if st.Active {
		id, what = st.EnterChangeID, "enter"
	}
	if id == "" || st.SwitchStatus != "" {
		return st, false
	}
	c, err := h.Store.GetChange(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return st, false // not applied yet
	}
	if err != nil {
		log.WarnContext(ctx, "could not read the outcome of the last overflow switch", slog.String("worktype", st.Worktype), slog.String("changeId", id), slog.String("error", err.Error()))
		return st, false
	}
	if !c.Status.Terminal() {
		return st, false
	}
	st.SwitchStatus = c.Status
	if c.Status != store.StatusConflict && c.Status != store.StatusRejected {
		return st, false
	}
	st.Active, st.Above, st.Below = !st.Active, 0, 0
	log.ErrorContext(ctx, "overflow "+what+" was not applied; the overflow state is back as before it",
		slog.String("worktype", st.Worktype), slog.String("changeId", id), slog.String("status", string(c.Status)))
	problem("worktype %q: overflow %s %s ended %s (routekeeper status %s); the state is back as before it, and the switch is retried after minDwell", st.Worktype, what, id, c.Status, id)
	return st, true
}

func cmpOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// positiveInt reads the optional whole-number variable name (def when unset).
func positiveInt(getenv func(string) string, name string, def int) (int, error) {
	s := strings.TrimSpace(getenv(name))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, errors.New(name + " " + strconv.Quote(s) + ": want a whole number of Genesys calls, at least 1")
	}
	return n, nil
}

// needChangeQueue refuses a function without its change queue (env nil: Load failed and
// said why): a switch is a change request through it, never a direct write.
func needChangeQueue(env *bootstrap.Env) error {
	if env != nil && env.ChangeQueueURL == "" {
		return errors.New("CHANGE_QUEUE_URL is not set: the occupancy function sends every overflow switch to the change queue; set it to the stack's ChangeQueue URL")
	}
	return nil
}
