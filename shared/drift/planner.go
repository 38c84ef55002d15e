package drift

import (
	"errors"
	"fmt"
	"time"

	"github.com/routekeeper/routekeeper/shared/changes"
)

// Planner turns a plan (NewPlan, the JSON of `routekeeper plan --format
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
	// Now stamps createdAt (nil: time.Now). NewID makes change ids (nil: changes.NewChangeID).
	Now   func() time.Time
	NewID func() (string, error)
	// WithoutIDs leaves entity.id out of the requests. The id is only a lookup hint;
	// sample events (events/) leave it out so they stay valid for any seeded org.
	WithoutIDs bool
}

// ErrNoEnvironment is returned when neither the Planner nor the plan names an
// environment.
var ErrNoEnvironment = errors.New("drift: plan has no environment: set environment in the config or pass one")

// Requests returns the change requests of plan in plan order (NewPlan orders
// creates and updates of skills, queues, worktypes, then deletes in reverse, the order in
// which references resolve). Every request is validated; the
// first invalid one fails the whole plan with an error matching changes.ErrInvalid, so a plan is
// enqueued completely or not at all.
func (p Planner) Requests(plan *Plan) ([]*changes.Request, error) {
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
	out := make([]*changes.Request, 0, len(plan.Changes))
	for _, c := range plan.Changes {
		r, err := p.request(env, c)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (p Planner) request(env string, c Change) (*changes.Request, error) {
	newID, now := p.NewID, p.Now
	if newID == nil {
		newID = changes.NewChangeID
	}
	if now == nil {
		now = time.Now
	}
	var op changes.Operation
	switch c.Action {
	case ActionCreate:
		op = changes.OpCreate
	case ActionUpdate:
		op = changes.OpUpdate
	case ActionDelete:
		op = changes.OpDelete
	default:
		return nil, &changes.InvalidError{Problems: []changes.Problem{{Field: "action", Message: fmt.Sprintf("%s %q: action %q cannot become a change request (want create, update or delete)", c.Kind, c.Name, c.Action)}}}
	}
	id, err := newID()
	if err != nil {
		return nil, fmt.Errorf("plan %s %q: change id: %w", c.Kind, c.Name, err)
	}
	r := &changes.Request{
		Schema:      changes.SchemaV1,
		ChangeID:    id,
		Environment: env,
		Entity:      changes.Entity{Type: c.Kind, Name: c.Name, ID: c.ID},
		Operation:   op,
		BaseEtag:    c.BaseETag,
		Reason:      p.Reason,
		RequestedBy: p.RequestedBy,
		CreatedAt:   now().UTC(),
	}
	if op != changes.OpDelete {
		r.Desired = c.Desired
	}
	if op == changes.OpCreate {
		r.BaseEtag, r.Entity.ID = "", "" // nothing to be concurrent with; no id yet
	}
	if p.WithoutIDs {
		r.Entity.ID = ""
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("plan %s %q: %w", c.Kind, c.Name, err)
	}
	return r, nil
}
