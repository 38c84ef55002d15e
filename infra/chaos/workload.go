package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/infra/localstack/stack"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// workload generates the change requests of a run the way `routekeeper apply` makes
// them: in rounds, each planned against the org as it is then (live.Read, drift.NewPlan,
// drift.Planner) and submitted with drift.Submit, which records the state each change was
// planned against and publishes through changes.Publisher. Every request is sent a second
// time later with another MessageDeduplicationId, as a CI retry past SQS's five-minute
// deduplication window would.
//
// Each request's write is identifiable: an update or create of a queue or worktype sets
// the description to "chaos <changeId>", a skill is named after its change. An entity gets
// a new change only once its previous one has a terminal record, so an edit aimed at a
// change meets that change's read and write.
type workload struct {
	cfg   config
	rng   *rand.Rand
	st    *stack.Stack
	db    *store.Store
	sqs   *sqs.Client
	pub   *changes.Publisher
	hooks *hooks
	log   *slog.Logger

	requests []Request          // for the oracle
	again    []*changes.Request // sent once, due to be sent again
	resent   int
	pending  map[string]string // kind/name -> change id without a terminal record yet
	created  map[string]bool   // kind/name of entities the run created
	editAt   map[int]bool      // request ordinals that bring an admin edit
	editDue  int               // edits owed to the next update (an ordinal fell on another op)
	edits    int               // edits planned, which cycles through editKinds
	rounds   int
}

// editKinds is the order edit categories are planned in: the in-window ones first, so
// a small run (100 requests, 5 edits) still has each of them.
var editKinds = []struct {
	same, window, managed bool
}{
	{same: true, window: true},
	{window: true, managed: true},
	{window: true},
	{same: true},
	{managed: true},
	{},
}

func newWorkload(st *stack.Stack, db *store.Store, client *sqs.Client, h *hooks, cfg config, log *slog.Logger) *workload {
	w := &workload{cfg: cfg, rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0xc4a05)), st: st, db: db, sqs: client,
		pub: changes.NewPublisher(client, st.Resources.ChangeQueueURL, changes.PublisherOptions{}), hooks: h, log: log,
		pending: map[string]string{}, created: map[string]bool{}, editAt: map[int]bool{}}
	edits := int(cfg.AdminRate*float64(cfg.N) + 0.5)
	for _, i := range w.rng.Perm(cfg.N)[:min(edits, cfg.N)] {
		w.editAt[i] = true
	}
	return w
}

// item is one entity change of a round being planned.
type item struct {
	kind    entity.Kind
	name    string
	id      string // change id
	op      changes.Operation
	doc     map[string]any // desired (create, update)
	live    *live.Entity   // planned against (update, delete)
	edit    *plannedEdit
	deleted drift.Change // the plan change of a delete
}

func key(kind entity.Kind, name string) string { return string(kind) + "/" + name }

// round plans and submits size requests against the org as it is now, after sending the
// previous round's requests a second time.
func (w *workload) round(ctx context.Context, size int) error {
	w.rounds++
	if err := w.settle(ctx); err != nil {
		return err
	}
	org, err := live.Read(ctx, w.st.Genesys, nil)
	if err != nil {
		return fmt.Errorf("round %d: read the org: %w", w.rounds, err)
	}
	used := map[string]bool{}
	var items []*item
	for range size {
		ordinal := len(w.requests) + len(items)
		if w.editAt[ordinal] {
			w.editDue++
		}
		it, err := w.pick(org, used)
		if err != nil {
			return fmt.Errorf("round %d: %w", w.rounds, err)
		}
		used[key(it.kind, it.name)] = true
		items = append(items, it)
	}

	var docs []entity.Doc
	var deletes []drift.Change
	byKey := map[string]*item{}
	for _, it := range items {
		byKey[key(it.kind, it.name)] = it
		if it.op == changes.OpDelete {
			deletes = append(deletes, it.deleted)
			continue
		}
		docs = append(docs, entity.Doc{Kind: it.kind, Name: it.name, Fields: it.doc})
	}
	plan, err := drift.NewPlan(w.st.Environment, docs, org, drift.PlanOptions{})
	if err != nil {
		return fmt.Errorf("round %d: plan: %w", w.rounds, err)
	}
	plan.Changes = append(plan.Changes, deletes...)
	if len(plan.Changes) != len(items) || len(plan.Conflicts) > 0 {
		return fmt.Errorf("round %d: the plan has %d changes and %d conflicts for %d generated changes", w.rounds, len(plan.Changes), len(plan.Conflicts), len(items))
	}
	ids := make([]string, 0, len(plan.Changes))
	for _, c := range plan.Changes {
		it := byKey[key(c.Kind, c.Name)]
		if it == nil {
			return fmt.Errorf("round %d: the plan changes %s %q, which no generated change names", w.rounds, c.Kind, c.Name)
		}
		ids = append(ids, it.id)
	}
	planner := drift.Planner{Environment: w.st.Environment, Reason: fmt.Sprintf("chaos round %d (seed %d)", w.rounds, w.cfg.Seed),
		RequestedBy: "chaos@routekeeper", NewID: func() (string, error) {
			if len(ids) == 0 {
				return "", errors.New("more changes than change ids")
			}
			id := ids[0]
			ids = ids[1:]
			return id, nil
		}}
	send := func(ctx context.Context, reqs []*changes.Request) error {
		// The edits wait for their moment before a message can reach a container.
		for _, it := range items {
			if it.live != nil {
				w.hooks.forget(string(it.kind), it.live.ID)
			}
			if it.edit != nil {
				w.hooks.plan(it.edit)
			}
		}
		if err := w.sendAgain(ctx, w.again); err != nil {
			return err
		}
		_, err := w.pub.Publish(ctx, reqs)
		return err
	}
	reqs, err := drift.Submit(ctx, plan, org, planner, w.db, send)
	if err != nil {
		return fmt.Errorf("round %d: submit: %w", w.rounds, err)
	}
	for _, r := range reqs {
		it := byKey[key(r.Entity.Type, r.Entity.Name)]
		if it == nil || it.id != r.ChangeID {
			return fmt.Errorf("round %d: request %s for %s %q is not the change generated for it", w.rounds, r.ChangeID, r.Entity.Type, r.Entity.Name)
		}
		q := Request{ChangeID: r.ChangeID, Kind: string(it.kind), Name: it.name, Op: string(it.op), Desired: sim.Flatten(r.Desired)}
		if it.live != nil {
			q.EntityID, q.Base = it.live.ID, sim.Flatten(it.live.Canonical)
		}
		if it.op != changes.OpDelete {
			q.Marker = q.Desired[markerPath(q.Kind)]
		}
		w.requests = append(w.requests, q)
		w.pending[key(it.kind, it.name)] = r.ChangeID
		if it.op == changes.OpCreate {
			w.created[key(it.kind, it.name)] = true
		}
	}
	w.again = reqs
	return nil
}

// finish sends the last round's requests a second time.
func (w *workload) finish(ctx context.Context) error {
	err := w.sendAgain(ctx, w.again)
	w.again = nil
	return err
}

// settle forgets the pending changes that have a terminal record now.
func (w *workload) settle(ctx context.Context) error {
	for k, id := range w.pending {
		c, err := w.db.GetChange(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read change %s: %w", id, err)
		}
		if c.Status.Terminal() {
			delete(w.pending, k)
		}
	}
	return nil
}

// sendAgain sends requests again, as new messages: same body and group, another
// deduplication id.
func (w *workload) sendAgain(ctx context.Context, reqs []*changes.Request) error {
	for start := 0; start < len(reqs); start += changes.MaxBatchEntries {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i, r := range reqs[start:min(start+changes.MaxBatchEntries, len(reqs))] {
			body, err := changes.Encode(r)
			if err != nil {
				return err
			}
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String("again" + strconv.Itoa(i)),
				MessageBody: aws.String(string(body)), MessageGroupId: aws.String(r.GroupID()),
				MessageDeduplicationId: aws.String(r.ChangeID + "-again")})
		}
		out, err := w.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(w.st.Resources.ChangeQueueURL), Entries: entries})
		if err != nil {
			return fmt.Errorf("send requests again: %w", err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("send requests again: %d of %d refused: %s", len(out.Failed), len(entries), aws.ToString(out.Failed[0].Message))
		}
		w.resent += len(entries)
	}
	return nil
}

// pick chooses the next entity change: mostly queue updates, then worktype updates, skill,
// queue and worktype creates, and deletes of entities the run created.
func (w *workload) pick(org *live.Org, used map[string]bool) (*item, error) {
	id, err := changes.NewChangeID()
	if err != nil {
		return nil, err
	}
	short := id[len(id)-12:]
	marker := "chaos " + id
	free := func(kind entity.Kind, name string) bool {
		_, busy := w.pending[key(kind, name)]
		return !busy && !used[key(kind, name)]
	}
	for {
		switch r := w.rng.Float64(); {
		case r < 0.10:
			return &item{kind: entity.Skill, name: "Chaos Skill " + short, id: id, op: changes.OpCreate,
				doc: map[string]any{"name": "Chaos Skill " + short}}, nil
		case r < 0.20:
			kind, label := entity.Queue, "Chaos Queue "
			if r >= 0.16 {
				kind, label = entity.Worktype, "Chaos Worktype "
			}
			all := org.Sorted(kind)
			if len(all) == 0 {
				continue
			}
			doc := document.Clone(all[w.rng.IntN(len(all))].Canonical).(map[string]any)
			doc["name"], doc["description"] = label+short, marker
			return &item{kind: kind, name: label + short, id: id, op: changes.OpCreate, doc: doc}, nil
		case r < 0.34:
			var cands []*live.Entity
			for _, kind := range entity.Kinds {
				for _, e := range org.Sorted(kind) {
					if w.created[key(kind, e.Name)] && free(kind, e.Name) {
						cands = append(cands, e)
					}
				}
			}
			if len(cands) == 0 {
				continue // nothing created yet: another op
			}
			e := cands[w.rng.IntN(len(cands))]
			return &item{kind: e.Kind, name: e.Name, id: id, op: changes.OpDelete, live: e,
				deleted: drift.Change{Kind: e.Kind, Name: e.Name, ID: e.ID, Action: drift.ActionDelete, BaseETag: e.ETag, Differences: []drift.Difference{}}}, nil
		default:
			kind := entity.Queue
			if r < 0.50 {
				kind = entity.Worktype
			}
			var cands []*live.Entity
			for _, e := range org.Sorted(kind) {
				if free(kind, e.Name) {
					cands = append(cands, e)
				}
			}
			if len(cands) == 0 {
				continue
			}
			e := cands[w.rng.IntN(len(cands))]
			it := &item{kind: kind, name: e.Name, id: id, op: changes.OpUpdate, live: e,
				doc: document.Clone(e.Canonical).(map[string]any)}
			it.doc["description"] = marker
			if w.rng.IntN(10) < 3 {
				w.alsoChange(it)
			}
			if w.editDue > 0 {
				w.editDue--
				it.edit = w.planEdit(it, marker, short)
			}
			return it, nil
		}
	}
}

// alsoChange makes an update change a second managed field: a queue's call alerting
// timeout, a worktype's default duration. Admin edits of "another field" never pick it.
func (w *workload) alsoChange(it *item) {
	switch it.kind {
	case entity.Queue:
		ms, _ := it.doc["mediaSettings"].(map[string]any)
		call, _ := ms["call"].(map[string]any)
		if call == nil {
			return
		}
		cur, _ := number(call["alertingTimeoutSeconds"])
		call["alertingTimeoutSeconds"] = json.Number(strconv.Itoa(int(cur)%50 + 5 + w.rng.IntN(40)))
		if call["alertingTimeoutSeconds"] == json.Number(strconv.Itoa(int(cur))) {
			call["alertingTimeoutSeconds"] = json.Number(strconv.Itoa(int(cur) + 1))
		}
	case entity.Worktype:
		cur, _ := number(it.doc["defaultDurationSeconds"])
		it.doc["defaultDurationSeconds"] = json.Number(strconv.Itoa(int(cur) + 60*(1+w.rng.IntN(60))))
	}
}

// planEdit plans the next admin edit of editKinds for the update it.
func (w *workload) planEdit(it *item, marker, short string) *plannedEdit {
	k := editKinds[w.edits%len(editKinds)]
	w.edits++
	p := &plannedEdit{Kind: string(it.kind), EntityID: it.live.ID, ChangeID: it.id, Marker: marker, SameField: k.same, InWindow: k.window}
	switch {
	case k.same:
		p.Path = "description"
		p.value = func(any) any { return "admin " + short }
	case it.kind == entity.Queue && k.managed:
		p.Path = "skillEvaluationMethod"
		p.value = func(cur any) any {
			for _, v := range []string{"BEST", "NONE", "ALL"} {
				if v != cur {
					return v
				}
			}
			return "ALL"
		}
	case it.kind == entity.Queue:
		p.Path = "callingPartyName"
		p.value = func(any) any { return "Admin " + short }
	case k.managed:
		p.Path = "defaultPriority"
		p.value = func(cur any) any {
			f, _ := number(cur)
			return float64((int(f) + 1_000_003) % 25_000_000)
		}
	default:
		p.Path = "unassignedDivisionContactsEnabled"
		p.value = func(cur any) any { b, _ := cur.(bool); return !b }
	}
	return p
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// ops counts the generated requests by op and kind, e.g. "update queue".
func (w *workload) ops() map[string]int {
	out := map[string]int{}
	for _, r := range w.requests {
		out[r.Op+" "+r.Kind]++
	}
	return out
}

func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
