package drift

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// The drift scan: the whole org compared with what git declares and with what
// routekeeper last saw, on a schedule (functions/driftscan) or at once (`routekeeper
// drift --scan`). docs/ARCHITECTURE.md, "The drift scan", says why it is built so.

// ScanStore is what a scan reads and writes in the table (*store.Store satisfies it).
type ScanStore interface {
	ListDesiredConfigs(ctx context.Context, env string) ([]store.Desired, error)
	ListObservedETags(ctx context.Context, env string) ([]store.Observation, error)
	ListDriftStates(ctx context.Context, env string) ([]store.DriftState, error)
	ListOverflowStates(ctx context.Context, env string) ([]store.OverflowState, error)
	PutObservations(ctx context.Context, obs []store.Observation, workers int) []error
	PutDriftState(ctx context.Context, d store.DriftState, prev *store.DriftState) error
	PutDriftReport(ctx context.Context, r store.DriftReport, retention time.Duration) error
	// PutObservation records the state a revert was planned against (Submit).
	PutObservation(ctx context.Context, o store.Observation) error
}

// EventPublisher puts events on routekeeper's bus (*bus.Publisher satisfies it).
type EventPublisher interface {
	Publish(ctx context.Context, events ...bus.Event) error
}

// Defaults of a Scanner.
const (
	DefaultMaxReverts = 25
	// DefaultRetention is how long a report is kept (its TTL): the history `routekeeper
	// drift --history` lists.
	DefaultRetention = 30 * 24 * time.Hour
	// DefaultMargin is the time a scan keeps before its deadline, after reading the org,
	// to assess, publish and store; the changed observations are written until
	// DefaultMargin/2 before it, the report after.
	DefaultMargin = 20 * time.Second
	// DefaultWorkers is how many observations and drift states are written at a time.
	DefaultWorkers = 16
	// ScanRequestedBy is the requestedBy of revert mode's change requests.
	ScanRequestedBy = "routekeeper-driftscan"
)

// Scanner scans one environment. Build it once; Scan may run many times.
type Scanner struct {
	Environment string
	Genesys     *genesys.Client
	// Store is the table: the desired state, the last-known observations, the drift
	// states and the active overflows are read from it, and observations, drift states and
	// the report are written to it. nil: nothing is read or stored, and the desired state
	// is Declared.
	Store ScanStore
	// Declared is the desired state when Store is nil (a config's documents, routing
	// Desired.Docs); nil declares nothing, so every entity is unmanaged.
	Declared []entity.Doc
	// Bus receives Drift Scan Completed, and Drift Detected / Drift Resolved for every
	// entity whose drift state changes. nil: drift states are neither updated nor
	// published (the report still says what changed): the state is the record of what was
	// published, so it moves only with its events.
	Bus EventPublisher
	// Mode ModeRevert enqueues corrective change requests with Send, at most MaxReverts
	// (0: DefaultMaxReverts) a scan, for the MODIFIED, MISSING and DELETED declared
	// entities. Unmanaged entities are never touched.
	Mode       ScanMode
	MaxReverts int
	Send       Sender
	// Retention is the report's TTL (0: DefaultRetention); Margin the time kept before
	// ctx's deadline (0: DefaultMargin); Workers the writes at a time (0: DefaultWorkers).
	Retention time.Duration
	Margin    time.Duration
	Workers   int
	Now       func() time.Time // nil: time.Now
	Logger    *slog.Logger     // nil: discard
}

func (s *Scanner) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scanner) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Scan reads the org with list endpoints (live.List), compares every entity with its
// desired state (managed fields only, an active overflow expected) and with its last-known
// observation, records the observations whose ETag changed, moves the drift states that
// changed (Drift Detected / Drift Resolved first), in revert mode enqueues corrective
// change requests, stores the report and puts Drift Scan Completed.
//
// What could not be read (a list that failed: 429s past the deadline, 5xx, refused
// credentials; the deadline itself) makes the report incomplete, with the reason and the
// kinds not read; nothing is concluded about those kinds. The error is for what prevents
// a report at all: the table cannot be read, or the report cannot be stored.
func (s *Scanner) Scan(ctx context.Context) (*ScanReport, error) {
	log := s.log()
	start := s.now().UTC()
	mode := cmp.Or(s.Mode, ModeReport)
	r := &ScanReport{Schema: ScanReportSchema, Entities: []ScanEntity{},
		Summary: ScanSummary{Schema: ScanSchema, Environment: s.Environment, GeneratedAt: start, Mode: mode, Complete: true}}
	margin := cmp.Or(s.Margin, DefaultMargin)
	readCtx, cancelRead := withMargin(ctx, margin)
	defer cancelRead()
	before := s.Genesys.Calls()

	// The org and the table are read at the same time; the table with the whole deadline
	// (without it there is no report at all).
	var (
		listing *live.Listing
		listErr error
		t       tableState
		tErr    error
		wg      sync.WaitGroup
	)
	var listTook, tableTook time.Duration
	wg.Go(func() {
		listing, listErr = live.List(readCtx, s.Genesys)
		listTook = s.now().Sub(start)
	})
	wg.Go(func() {
		t, tErr = s.readTable(ctx)
		tableTook = s.now().Sub(start)
	})
	wg.Wait()
	r.Summary.ReadOrgMs, r.Summary.ReadTableMs = listTook.Milliseconds(), tableTook.Milliseconds()
	after := s.Genesys.Calls()
	r.Summary.GenesysCalls = after.Requests - before.Requests
	r.Summary.GenesysRateLimited = after.RateLimited - before.RateLimited
	if tErr != nil {
		return nil, fmt.Errorf("drift scan of %s: %w", s.Environment, tErr)
	}
	if listErr != nil {
		r.incomplete(listErr.Error())
		for _, k := range entity.Kinds {
			if !listing.Read(k) {
				r.Summary.NotRead = append(r.Summary.NotRead, k)
			}
		}
		log.WarnContext(ctx, "drift scan: the org was not read completely", slog.String("error", listErr.Error()))
	}

	sc := &scan{Scanner: s, r: r, listing: listing, t: t, start: start}
	if err := sc.assess(); err != nil {
		return nil, fmt.Errorf("drift scan of %s: %w", s.Environment, err)
	}
	if mode == ModeRevert {
		sc.revert(ctx)
	}
	sc.transitions(ctx)
	writeCtx, cancelWrite := withMargin(ctx, margin/2)
	sc.observe(writeCtx)
	cancelWrite()
	r.Summary.Entities.Read = len(listing.Entities)
	if managed := r.Summary.Entities.InSync + r.Summary.Entities.Modified; r.Summary.Entities.Read > 0 {
		r.Summary.Coverage = float64(managed) / float64(r.Summary.Entities.Read)
	}
	if err := sc.store(ctx); err != nil {
		return r, fmt.Errorf("drift scan of %s: %w", s.Environment, err)
	}
	if s.Bus != nil {
		if err := s.Bus.Publish(ctx, bus.Event{DetailType: bus.DriftScanCompleted, Detail: r.Summary, Time: start}); err != nil {
			log.ErrorContext(ctx, "drift scan: Drift Scan Completed not put on the bus", slog.String("error", err.Error()))
		}
	}
	return r, nil
}

// withMargin is ctx with a deadline margin before ctx's own (none when ctx has none).
func withMargin(ctx context.Context, margin time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-margin))
	}
	return context.WithCancel(ctx)
}

// incomplete marks the report incomplete for reason (reasons accumulate).
func (r *ScanReport) incomplete(reason string) {
	r.Summary.Complete = false
	if r.Summary.Reason == "" {
		r.Summary.Reason = reason
	} else {
		r.Summary.Reason += "; " + reason
	}
}

// tableState is what a scan reads from the table.
type tableState struct {
	desired  []declared
	observed map[entity.Key]store.Observation
	states   map[entity.Key]store.DriftState
	overflow map[string]string // active overflows: worktype -> overflow queue
}

// declared is one desired entity; its fields are decoded only when it is compared.
type declared struct {
	doc entity.Doc      // Fields nil until fields() for a stored one
	raw json.RawMessage // the stored JSON; nil for a config's document
}

func (d *declared) fields() (map[string]any, error) {
	if d.doc.Fields != nil || d.raw == nil {
		return d.doc.Fields, nil
	}
	f, err := document.Decode(d.raw)
	if err != nil {
		return nil, fmt.Errorf("desired %s %q: %w", d.doc.Kind, d.doc.Name, err)
	}
	return f, nil
}

func (s *Scanner) readTable(ctx context.Context) (tableState, error) {
	t := tableState{observed: map[entity.Key]store.Observation{}, states: map[entity.Key]store.DriftState{}}
	if s.Store == nil {
		for _, d := range s.Declared {
			t.desired = append(t.desired, declared{doc: d})
		}
		return t, nil
	}
	var (
		desired  []store.Desired
		observed []store.Observation
		states   []store.DriftState
		errs     [4]error
		wg       sync.WaitGroup
	)
	wg.Go(func() { desired, errs[0] = s.Store.ListDesiredConfigs(ctx, s.Environment) })
	wg.Go(func() { observed, errs[1] = s.Store.ListObservedETags(ctx, s.Environment) })
	wg.Go(func() { states, errs[2] = s.Store.ListDriftStates(ctx, s.Environment) })
	wg.Go(func() { t.overflow, errs[3] = ActiveOverflow(ctx, s.Store, s.Environment) })
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return t, fmt.Errorf("read the table: %w", err)
	}
	for _, d := range desired {
		if !d.Key.Kind.Managed() {
			continue
		}
		t.desired = append(t.desired, declared{doc: entity.Doc{Kind: d.Key.Kind, Name: d.Key.Name}, raw: d.Config})
	}
	for _, o := range observed {
		t.observed[o.Key] = o
	}
	for _, st := range states {
		t.states[st.Key] = st
	}
	return t, nil
}

// scan is one run of a Scanner.
type scan struct {
	*Scanner
	r       *ScanReport
	listing *live.Listing
	t       tableState
	start   time.Time

	// assessed are the entities of the kinds read, declared or live, with their new state.
	assessed []*assessed
	obs      []store.Observation
}

// assessed is one entity's outcome.
type assessed struct {
	key      entity.Key
	id       string
	desired  *declared    // nil: not declared
	live     *live.Listed // nil: not live
	a        Assessment
	prev     *store.DriftState
	entry    ScanEntity
	reported bool // listed in the report
}

// assess gives every entity of the kinds read its state, and makes the observations to
// record.
func (sc *scan) assess() error {
	env, names := sc.Environment, sc.listing.Names
	docs := make([]entity.Doc, len(sc.t.desired))
	for i, d := range sc.t.desired {
		docs[i] = d.doc
	}
	// One order for docs and t.desired: NewPlan's (kinds in creation order, then names).
	order := make([]int, len(docs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(docs[a].Kind.Order(), docs[b].Kind.Order()), cmp.Compare(docs[a].Name, docs[b].Name))
	})
	sorted := make([]entity.Doc, len(order))
	for i, j := range order {
		sorted[i] = docs[j]
	}
	matches := matchLive(sorted, sc.listing.Org())
	matched := map[entity.Key]bool{}
	for i, j := range order {
		d := &sc.t.desired[j]
		if !sc.listing.Read(d.doc.Kind) {
			sc.r.Summary.Entities.NotAssessed++
			continue
		}
		x := &assessed{desired: d}
		if m := matches[i]; m != nil {
			x.live, _ = sc.listing.Find(m.Kind, m.Name)
		}
		if x.live != nil {
			x.key, x.id = entity.Key{Environment: env, Kind: x.live.Kind, Name: x.live.Name}, x.live.ID
			matched[x.key] = true
		} else {
			x.key = entity.Key{Environment: env, Kind: d.doc.Kind, Name: d.doc.Name}
		}
		if prev, ok := sc.t.states[x.key]; ok {
			x.prev = &prev
		}
		if x.live == nil {
			// Gone: still DELETED when the webhook saw it deleted, else MISSING.
			x.a = Assess(&d.doc, nil, x.prev != nil && x.prev.State == string(Deleted), names)
		} else {
			fields, err := d.fields()
			if err != nil {
				return err
			}
			doc := ExpectOverflow([]entity.Doc{{Kind: d.doc.Kind, Name: d.doc.Name, Fields: fields}}, sc.t.overflow)[0]
			l, err := x.live.Entity()
			if err != nil {
				return err
			}
			x.a = Assess(&doc, l, false, names)
		}
		sc.assessed = append(sc.assessed, x)
	}
	for _, l := range sc.listing.Entities {
		k := entity.Key{Environment: env, Kind: l.Kind, Name: l.Name}
		if matched[k] {
			continue
		}
		x := &assessed{key: k, id: l.ID, live: l, a: Assessment{State: Unmanaged}}
		if prev, ok := sc.t.states[k]; ok {
			x.prev = &prev
		}
		sc.assessed = append(sc.assessed, x)
	}

	counts := &sc.r.Summary.Entities
	for _, x := range sc.assessed {
		switch x.a.State {
		case InSync:
			counts.InSync++
		case Modified:
			counts.Modified++
		case Missing:
			counts.Missing++
		case Deleted:
			counts.Deleted++
		case Unmanaged:
			counts.Unmanaged++
		}
		x.entry = ScanEntity{Kind: x.key.Kind, Name: x.key.Name, ID: x.id, State: x.a.State, Differences: x.a.Deviations}
		if x.prev != nil {
			x.entry.PreviousState, x.entry.Since = State(x.prev.State), x.prev.ChangedAt
			if x.prev.State != string(x.a.State) {
				x.entry.Since = sc.start
			}
		} else if x.a.State.Drifted() {
			x.entry.Since = sc.start
		}
		if x.live != nil {
			x.entry.ETag, x.entry.ModifiedAt, x.entry.ModifiedBy = x.live.ETag, x.live.Modified, x.live.ModifiedBy
		}
		stored, seen := sc.t.observed[x.key]
		if seen {
			lk := &LastKnown{ETag: stored.ETag, ObservedAt: stored.ObservedAt, Source: stored.Source, Deleted: stored.Deleted}
			lk.Changed = x.live != nil && (stored.Deleted || stored.ETag != x.live.ETag)
			if c := stored.Cause; c != nil {
				lk.Cause = &EventCause{EventID: c.EventID, EventTime: c.EventTime, UserID: c.UserID, ClientID: c.ClientID}
			}
			x.entry.LastKnown = lk
		}
		if x.live != nil && (!seen || stored.Deleted || stored.ETag != x.live.ETag) {
			sc.r.Summary.Changed++
			sc.obs = append(sc.obs, x.live.Observation(sc.Environment, store.SourceScan, sc.start))
		}
		x.reported = x.a.State != InSync
	}
	// Entities observed before and gone now, in the kinds read: recorded as deleted.
	for k, o := range sc.t.observed {
		if o.Deleted || !sc.listing.Read(k.Kind) {
			continue
		}
		if _, live := sc.listing.Find(k.Kind, k.Name); live {
			continue
		}
		sc.obs = append(sc.obs, store.Observation{Key: k, GenesysID: o.GenesysID, ObservedAt: sc.start, Source: store.SourceScan, Deleted: true})
	}
	slices.SortFunc(sc.obs, func(a, b store.Observation) int {
		return cmp.Or(cmp.Compare(a.Key.Kind.Order(), b.Key.Kind.Order()), cmp.Compare(a.Key.Name, b.Key.Name))
	})
	return nil
}

// revert enqueues corrective change requests for the drifted declared entities, at most
// MaxReverts, in plan order (skills, queues, worktypes, by name): NewPlan and Submit, as
// `routekeeper apply` does, with baseEtag the live ETag and the state planned against
// recorded. Unmanaged entities are never part of it.
func (sc *scan) revert(ctx context.Context) {
	limit := cmp.Or(sc.MaxReverts, DefaultMaxReverts)
	var picked []*assessed
	for _, x := range sc.assessed {
		if x.desired == nil || !x.a.State.Drifted() {
			continue
		}
		if len(picked) == limit {
			x.entry.Revert = &EntityRevert{Status: RevertSkipped, Reason: fmt.Sprintf("over MaxRevertsPerScan (%d): the next scan reverts it", limit)}
			sc.r.Summary.Reverts.Skipped++
			continue
		}
		picked = append(picked, x)
	}
	if len(picked) == 0 {
		return
	}
	if sc.Send == nil {
		sc.failReverts(picked, errors.New("revert mode without a change queue (CHANGE_QUEUE_URL)"))
		return
	}
	docs := make([]entity.Doc, 0, len(picked))
	var lives []*live.Entity
	for _, x := range picked {
		fields, err := x.desired.fields()
		if err != nil {
			sc.failReverts(picked, err)
			return
		}
		docs = append(docs, entity.Doc{Kind: x.desired.doc.Kind, Name: x.desired.doc.Name, Fields: fields})
		if x.live != nil {
			l, err := x.live.Entity()
			if err != nil {
				sc.failReverts(picked, err)
				return
			}
			lives = append(lives, l)
		}
	}
	org := live.NewOrg(sc.listing.Names, lives...)
	plan, err := NewPlan(sc.Environment, docs, org, PlanOptions{Overflow: sc.t.overflow})
	if err != nil {
		sc.failReverts(picked, err)
		return
	}
	byKey := map[entity.Key]*assessed{}
	for _, x := range picked {
		byKey[entity.Key{Kind: x.key.Kind, Name: x.key.Name}] = x
		if x.desired != nil {
			byKey[entity.Key{Kind: x.desired.doc.Kind, Name: x.desired.doc.Name}] = x
		}
	}
	for _, c := range plan.Conflicts {
		if x := byKey[entity.Key{Kind: c.Kind, Name: c.LiveName}]; x != nil {
			x.entry.Revert = &EntityRevert{Status: RevertSkipped, Reason: c.Reason}
			sc.r.Summary.Reverts.Skipped++
		}
	}
	p := Planner{Environment: sc.Environment, Reason: "drift scan revert at " + sc.start.Format(time.RFC3339), RequestedBy: ScanRequestedBy, Now: sc.Now}
	var bases BaseRecorder
	if sc.Store != nil {
		bases = sc.Store
	}
	reqs, err := Submit(ctx, plan, org, p, bases, sc.Send)
	if err != nil {
		sc.r.Summary.Reverts.Error = err.Error()
		sc.r.incomplete("revert: " + err.Error())
		sc.log().ErrorContext(ctx, "drift scan: corrective change requests not sent", slog.String("error", err.Error()))
	}
	for _, req := range reqs {
		if bases != nil && req.BaseEtag != "" {
			sc.r.Summary.DynamoDBWrites += 2 // the planned-against observation: snapshot, last-known
		}
		x := byKey[entity.Key{Kind: req.Entity.Type, Name: req.Entity.Name}]
		if x == nil || err != nil {
			continue
		}
		x.entry.Revert = &EntityRevert{Status: RevertRequested, ChangeID: req.ChangeID}
		sc.r.Summary.Reverts.Requested++
		sc.r.Summary.Reverts.ChangeIDs = append(sc.r.Summary.Reverts.ChangeIDs, req.ChangeID)
	}
}

func (sc *scan) failReverts(picked []*assessed, err error) {
	sc.r.Summary.Reverts.Error = err.Error()
	sc.r.incomplete("revert: " + err.Error())
	for _, x := range picked {
		x.entry.Revert = &EntityRevert{Status: RevertSkipped, Reason: err.Error()}
		sc.r.Summary.Reverts.Skipped++
	}
}

// transitions puts Drift Detected / Drift Resolved for every entity whose drift state
// changes, then stores the states that changed (the event first: if the state write
// fails, the next scan publishes again; the other order could lose the event). A state is
// written only when it changes (state or differences), and not for a first sighting that
// is no drift: a scan of an unchanged org writes none.
func (sc *scan) transitions(ctx context.Context) {
	if sc.Bus == nil || sc.Store == nil {
		return
	}
	type change struct {
		x     *assessed
		diffs json.RawMessage
		dt    string
	}
	var changes []change
	var events []bus.Event
	for _, x := range sc.assessed {
		diffs, err := json.Marshal(x.a.Deviations)
		if err != nil || len(x.a.Deviations) == 0 {
			diffs = nil
		}
		var prevState State
		if x.prev != nil {
			prevState = State(x.prev.State)
			if x.prev.ObservedAt.After(sc.start) {
				continue // assessed from a newer observation (the webhook) meanwhile
			}
			if prevState == x.a.State && bytes.Equal(x.prev.Differences, diffs) {
				continue
			}
		} else if !x.a.State.Drifted() {
			continue
		}
		c := change{x: x, diffs: diffs, dt: Transition(prevState, x.a.State)}
		if c.dt != "" {
			ev := NewEvent(x.key, x.id, x.a, prevState, sc.start, nil, true)
			events = append(events, bus.Event{DetailType: c.dt, Detail: ev, Resources: []string{x.key.String()}, Time: sc.start})
		}
		changes = append(changes, c)
	}
	failed := map[string]bool{} // entity keys whose event was not put
	if err := sc.Bus.Publish(ctx, events...); err != nil {
		var be *bus.Error
		if !errors.As(err, &be) {
			sc.r.incomplete("drift events not put: " + err.Error())
			sc.log().ErrorContext(ctx, "drift scan: drift events not put; the states stay, for the next scan to publish", slog.String("error", err.Error()))
			return
		}
		for _, f := range be.Failed {
			failed[strings.Join(f.Event.Resources, ",")] = true
		}
		sc.r.incomplete(fmt.Sprintf("%d drift events not put", len(be.Failed)))
	}
	var mu sync.Mutex
	work := make(chan change)
	var wg sync.WaitGroup
	for range cmp.Or(sc.Workers, DefaultWorkers) {
		wg.Go(func() {
			for c := range work {
				x := c.x
				err := sc.Store.PutDriftState(ctx, store.DriftState{Key: x.key, State: string(x.a.State), Differences: c.diffs,
					ETag: etagOf(x.live), ObservedAt: sc.start}, x.prev)
				mu.Lock()
				sc.r.Summary.DynamoDBWrites++
				switch {
				case err == nil:
					switch c.dt {
					case bus.DriftDetected:
						sc.r.Summary.Detected++
					case bus.DriftResolved:
						sc.r.Summary.Resolved++
					}
				case errors.Is(err, store.ErrStale):
					// Someone assessed the entity meanwhile (the webhook): its state stands.
				default:
					sc.r.incomplete("drift state of " + x.key.String() + ": " + err.Error())
				}
				mu.Unlock()
			}
		})
	}
	for _, c := range changes {
		if c.dt != "" && failed[c.x.key.String()] {
			continue
		}
		work <- c
	}
	close(work)
	wg.Wait()
}

func etagOf(l *live.Listed) string {
	if l == nil {
		return ""
	}
	return l.ETag
}

// observe records the observations whose ETag changed, before ctx ends.
func (sc *scan) observe(ctx context.Context) {
	if sc.Store == nil || len(sc.obs) == 0 {
		return
	}
	errs := sc.Store.PutObservations(ctx, sc.obs, cmp.Or(sc.Workers, DefaultWorkers))
	written, skipped := 0, 0
	var first error
	for i, err := range errs {
		switch {
		case err == nil || errors.Is(err, store.ErrStale):
			written++
			sc.r.Summary.DynamoDBWrites++ // the last-known item
			if !sc.obs[i].Deleted {
				sc.r.Summary.DynamoDBWrites++ // its snapshot
			}
		default:
			skipped++
			if first == nil {
				first = err
			}
		}
	}
	if skipped > 0 {
		sc.r.incomplete(fmt.Sprintf("%d of %d changed observations not recorded (the next scan records them): %v", skipped, len(sc.obs), first))
	}
}

// store stores the report, with a context of its own: the scan's may be at its deadline.
func (sc *scan) store(ctx context.Context) error {
	for _, x := range sc.assessed {
		if x.reported {
			sc.r.Entities = append(sc.r.Entities, x.entry)
		}
	}
	slices.SortFunc(sc.r.Entities, func(a, b ScanEntity) int {
		return cmp.Or(cmp.Compare(a.Kind.Order(), b.Kind.Order()), cmp.Compare(a.Name, b.Name))
	})
	sc.r.Summary.DurationMs = sc.now().Sub(sc.start).Milliseconds()
	if sc.Store == nil {
		return nil
	}
	stored, err := sc.r.Stored()
	if err != nil {
		return err
	}
	n, err := stored.Items()
	if err != nil {
		return err
	}
	sc.r.Summary.DynamoDBWrites += n
	if stored, err = sc.r.Stored(); err != nil { // with its own writes counted
		return err
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cmp.Or(sc.Margin, DefaultMargin)/2)
	defer cancel()
	if err := sc.Store.PutDriftReport(sctx, stored, cmp.Or(sc.Retention, DefaultRetention)); err != nil {
		return fmt.Errorf("store the report: %w", err)
	}
	return nil
}
