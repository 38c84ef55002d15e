package changes

import (
	"errors"
	"fmt"
	"time"

	"github.com/routekeeper/routekeeper/shared/drift"
)

// Planner turns a live plan (drift.PlanLive, the JSON of `routekeeper plan --format
// json`) into change requests, one per planned entity change, each carrying the ETag the
// entity was planned against (baseEtag). The zero value needs only an environment (its
// own or the plan's).
type Planner struct {
	// Environment of the requests; "" => the plan's environment.
	Environment string
	// Reason and RequestedBy describe where the change comes from, e.g.
	// "routekeeper apply of routing/prod.yaml at 3f2c1a9" and "ci@github-actions".
	Reason      string
	RequestedBy string
	// Now stamps createdAt (nil: time.Now). NewID makes change ids (nil: NewChangeID).
	Now   func() time.Time
	NewID func() (string, error)
}

// ErrNoEnvironment is returned when neither the Planner nor the plan names an
// environment.
var ErrNoEnvironment = errors.New("changes: plan has no environment: set environment in the config or pass one")

// Requests returns the change requests of plan in plan order (drift.PlanLive orders
// creates and updates of skills, queues, worktypes, then deletes in reverse, the order in
// which references resolve). Noop entries are skipped. Every request is validated; the
// first invalid one fails the whole plan with an error matching ErrInvalid, so a plan is
// enqueued completely or not at all.
func (p Planner) Requests(plan *drift.LivePlan) ([]*Request, error) {
	if plan == nil {
		return nil, nil
	}
	env := p.Environment
	if env == "" {
		env = plan.Environment
	}
	if env == "" {
		return nil, ErrNoEnvironment
	}
	out := make([]*Request, 0, len(plan.Changes))
	for _, c := range plan.Changes {
		if c.Action == drift.ActionNoop {
			continue
		}
		r, err := p.request(env, c)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Request returns the change request of one planned change in the Planner's environment.
func (p Planner) Request(c drift.PlannedChange) (*Request, error) {
	if p.Environment == "" {
		return nil, ErrNoEnvironment
	}
	return p.request(p.Environment, c)
}

func (p Planner) request(env string, c drift.PlannedChange) (*Request, error) {
	newID, now := p.NewID, p.Now
	if newID == nil {
		newID = NewChangeID
	}
	if now == nil {
		now = time.Now
	}
	var op Operation
	switch c.Action {
	case drift.ActionCreate:
		op = OpCreate
	case drift.ActionUpdate:
		op = OpUpdate
	case drift.ActionDelete:
		op = OpDelete
	default:
		return nil, &InvalidError{Problems: []Problem{{Field: "action", Message: fmt.Sprintf("%s %q: action %q cannot become a change request (want create, update or delete)", c.Kind, c.Name, c.Action)}}}
	}
	id, err := newID()
	if err != nil {
		return nil, fmt.Errorf("changes: plan %s %q: change id: %w", c.Kind, c.Name, err)
	}
	r := &Request{
		Schema:      SchemaV1,
		ChangeID:    id,
		Environment: env,
		Entity:      Entity{Type: EntityType(c.Kind), Name: c.Name, ID: c.ID},
		Operation:   op,
		BaseEtag:    c.BaseETag,
		Reason:      p.Reason,
		RequestedBy: p.RequestedBy,
		CreatedAt:   now().UTC(),
	}
	if op != OpDelete {
		r.Desired = c.Desired
	}
	if op == OpCreate {
		r.BaseEtag, r.Entity.ID = "", "" // nothing to be concurrent with; no id yet
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("changes: plan %s %q: %w", c.Kind, c.Name, err)
	}
	return r, nil
}
