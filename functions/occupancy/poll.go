package main

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/store"
)

// queueMetrics are the observation metrics a run asks for (docs/genesys-api.md §6).
var queueMetrics = []string{genesys.MetricWaiting, genesys.MetricInteracting, genesys.MetricOnQueueUsers,
	genesys.MetricActiveUsers, genesys.MetricMemberUsers}

// MetricBacklog is the key of a rule queue's backlog (open workitems) in a stored sample.
const MetricBacklog = "backlog"

// openWorkitems narrows a workitems count to the backlog: items not closed, waiting to be
// worked (statusCategory Open; docs/genesys-api.md §4).
var openWorkitems = genesys.WorkitemFilter{Name: "statusCategory", Type: "String", Operator: "EQ", Values: []string{"Open"}}

// queueSample is what a run read of one queue the rules name.
type queueSample struct {
	Name string
	ID   string // "" when the org lacks the queue
	// Load holds the observation metrics (oWaiting, ...) when the observations of the
	// queue were read; nil when they are missing.
	Load genesys.QueueLoad
	// Backlog is the open workitems of a rule queue, when counted.
	Backlog  int
	Counted  bool
	RuleOnly bool // a rule's queue (its backlog is counted), not only an overflow queue
	Problem  string
}

// partial reports whether the run lacks something of the queue it meant to read.
func (q *queueSample) partial() bool {
	return q.ID == "" || q.Load == nil || (q.RuleOnly && !q.Counted)
}

// poll is one run's reading of the rules' queues.
type poll struct {
	queues map[string]*queueSample // by name
	// planned is the Genesys calls the poll needs: ceil(queues ÷ 100) observation queries
	// plus one count per rule queue, plus the queue list when ids had to be looked up.
	planned  int
	problems []string
	mu       sync.Mutex
}

func (p *poll) problem(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

// Genesys is what a run reads from and writes through Genesys (*genesys.Client satisfies
// it): the observations and workitem counts of the poll, the queue list when an id is not
// known yet, and (live.Genesys, for a worktype the table has no observation of) the reads
// of a switch.
type Genesys interface {
	QueryQueueObservations(ctx context.Context, queueIDs []string, metrics ...string) ([]genesys.ObservationResult, error)
	CountWorkitems(ctx context.Context, queueID string, extra ...genesys.WorkitemFilter) (int64, error)
	ListQueues(ctx context.Context) ([]genesys.Queue, error)
	Calls() genesys.Stats
	liveGenesys
}

// readQueues polls the queues of rules: their ids (the table's last-known observations
// first, the queue list for the rest), one observations query per ObservationQueueLimit
// ids, and the backlog of each rule queue, at most maxCalls calls in all (counts of rule
// queues with an active overflow first, so an overflow can end). Nothing here fails the
// run: what could not be read is a problem of the queue and makes it partial.
func (h *Handler) readQueues(ctx context.Context, rules []store.OverflowRule, active map[string]bool, obs []store.Observation, maxCalls int) *poll {
	p := &poll{queues: map[string]*queueSample{}}
	for _, r := range rules {
		for _, name := range []string{r.Queue, r.OverflowQueue} {
			if p.queues[name] == nil {
				p.queues[name] = &queueSample{Name: name}
			}
		}
		p.queues[r.Queue].RuleOnly = true
	}
	h.resolveIDs(ctx, p, rules, obs)

	var ids []string
	byID := map[string]*queueSample{}
	for _, q := range p.queues {
		if q.ID != "" && byID[q.ID] == nil {
			ids = append(ids, q.ID)
			byID[q.ID] = q
		}
	}
	slices.Sort(ids)
	chunks := (len(ids) + genesys.ObservationQueueLimit - 1) / genesys.ObservationQueueLimit

	// Rule queues to count, those of active overflows first, then by name.
	var counts []*queueSample
	for _, q := range p.queues {
		if q.RuleOnly && q.ID != "" {
			counts = append(counts, q)
		}
	}
	slices.SortFunc(counts, func(a, b *queueSample) int {
		return cmp.Or(-cmpBool(active[a.Name], active[b.Name]), cmp.Compare(a.Name, b.Name))
	})
	p.planned += chunks + len(counts)
	if room := maxCalls - chunks; len(counts) > room {
		room = max(room, 0)
		for _, q := range counts[room:] {
			q.Problem = fmt.Sprintf("backlog not counted: the run's call budget (OCCUPANCY_MAX_CALLS %d) fits %d observation queries and %d of %d workitem counts; raise it if the Genesys budget allows, or split the rules over environments",
				maxCalls, chunks, room, len(counts))
		}
		p.problem("call budget: %d of %d rule queues not counted (OCCUPANCY_MAX_CALLS %d)", len(counts)-room, len(counts), maxCalls)
		counts = counts[:room]
	}

	var g errgroup.Group
	g.SetLimit(pollConcurrency)
	for start := 0; start < len(ids); start += genesys.ObservationQueueLimit {
		chunk := ids[start:min(start+genesys.ObservationQueueLimit, len(ids))]
		g.Go(func() error {
			results, err := h.Genesys.QueryQueueObservations(ctx, chunk, queueMetrics...)
			if err != nil {
				p.problem("observations of %d queues: %v", len(chunk), err)
				p.mu.Lock()
				defer p.mu.Unlock()
				for _, id := range chunk {
					byID[id].Problem = "observations not read: " + err.Error()
				}
				return nil
			}
			loads := loadsOf(chunk, results)
			p.mu.Lock()
			defer p.mu.Unlock()
			for _, id := range chunk {
				q := byID[id]
				if l, ok := loads[id]; ok {
					q.Load = l
				} else {
					q.Problem = "Genesys returned no observations for the queue (id " + id + ")"
					p.problems = append(p.problems, fmt.Sprintf("queue %q: no observations in the answer", q.Name))
				}
			}
			return nil
		})
	}
	for _, q := range counts {
		g.Go(func() error {
			n, err := h.Genesys.CountWorkitems(ctx, q.ID, openWorkitems)
			if err != nil {
				p.problem("backlog of queue %q: %v", q.Name, err)
				p.mu.Lock()
				q.Problem = "backlog not counted: " + err.Error()
				p.mu.Unlock()
				return nil
			}
			p.mu.Lock()
			q.Backlog, q.Counted = int(n), true
			p.mu.Unlock()
			return nil
		})
	}
	_ = g.Wait() // every failure is recorded on its queue
	return p
}

// pollConcurrency bounds the poll's concurrent Genesys calls; the client's request budget
// paces them anyway, this only keeps a slow org from holding many connections.
const pollConcurrency = 8

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// resolveIDs gives every queue of the poll its Genesys id: from the table's last-known
// observations (free), else from one listing of the org's queues (its calls are added to
// the plan), matching the name exactly and then ignoring case (Genesys names are unique
// ignoring case). A queue still unnamed is one the config names but the org lacks.
func (h *Handler) resolveIDs(ctx context.Context, p *poll, rules []store.OverflowRule, obs []store.Observation) {
	for _, o := range obs {
		if o.Key.Kind == entity.Queue && o.GenesysID != "" {
			if q := p.queues[o.Key.Name]; q != nil {
				q.ID = o.GenesysID
			}
		}
	}
	var missing []*queueSample
	for _, q := range p.queues {
		if q.ID == "" {
			missing = append(missing, q)
		}
	}
	if len(missing) == 0 {
		return
	}
	before := h.Genesys.Calls().Requests
	list, err := h.Genesys.ListQueues(ctx)
	p.planned += int(h.Genesys.Calls().Requests - before)
	if err != nil {
		p.problem("list the org's queues for %d queue ids the table does not know: %v", len(missing), err)
		for _, q := range missing {
			q.Problem = "id unknown: the table has no observation of the queue and listing the org's queues failed: " + err.Error()
		}
		return
	}
	exact, folded := map[string]string{}, map[string]string{}
	for _, q := range list {
		exact[q.Name] = q.ID
		if _, dup := folded[strings.ToLower(q.Name)]; !dup {
			folded[strings.ToLower(q.Name)] = q.ID
		}
	}
	for _, q := range missing {
		id, ok := exact[q.Name]
		if !ok {
			id, ok = folded[strings.ToLower(q.Name)]
		}
		if ok {
			q.ID = id
			continue
		}
		users := rulesNaming(rules, q.Name)
		q.Problem = "the org has no such queue"
		p.problem("queue %q, named by rule %s, is not in the org: create it (routekeeper apply) or fix the rule", q.Name, strings.Join(users, ", "))
	}
}

// rulesNaming lists the rules that name queue, quoted.
func rulesNaming(rules []store.OverflowRule, queue string) []string {
	var out []string
	for _, r := range rules {
		if r.Queue == queue || r.OverflowQueue == queue {
			out = append(out, fmt.Sprintf("%q", r.Rule))
		}
	}
	return out
}

// loadsOf sums the observation results of one query per queue and metric (over media
// types and qualifiers, e.g. oOnQueueUsers over routing statuses). A queue asked for
// that no result group names has no entry: its observations are missing. A metric of a
// present queue that the answer leaves out counts 0 (the API reports what it observed).
// Results for queues not asked for are ignored.
func loadsOf(asked []string, results []genesys.ObservationResult) map[string]genesys.QueueLoad {
	want := make(map[string]bool, len(asked))
	for _, id := range asked {
		want[id] = true
	}
	loads := map[string]genesys.QueueLoad{}
	for _, r := range results {
		id := r.Group["queueId"]
		if !want[id] {
			continue
		}
		l := loads[id]
		if l == nil {
			l = genesys.QueueLoad{}
			for _, m := range queueMetrics {
				l[m] = 0
			}
			loads[id] = l
		}
		for _, d := range r.Data {
			if _, asked := l[d.Metric]; asked && !isBad(d.Stats.Count) && !isBad(l[d.Metric]+d.Stats.Count) {
				l[d.Metric] += d.Stats.Count
			}
		}
	}
	return loads
}

// isBad reports a count that cannot be a count (NaN, infinite or negative); such values
// are left out rather than break a metric or a sum.
func isBad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || v < 0 }
