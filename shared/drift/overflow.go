package drift

import (
	"context"
	"fmt"
	"maps"

	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// While an assignment rule's overflow is active (the occupancy function pointed its
// worktype's defaultQueue at the overflow queue, through a change request), the org is
// expected to differ from the config in exactly that field. Plans, applies and the drift
// scan compare live state with the expected documents, not the declared ones, so they
// neither report the overflow as drift nor revert it.

// OverflowStates is the store method ActiveOverflow uses (*store.Store satisfies it).
type OverflowStates interface {
	ListOverflowStates(ctx context.Context, env string) ([]store.OverflowState, error)
}

// ActiveOverflow reads the overflow states of env and returns the active ones: worktype
// name -> the overflow queue its defaultQueue points at. An environment without states
// has none.
func ActiveOverflow(ctx context.Context, st OverflowStates, env string) (map[string]string, error) {
	states, err := st.ListOverflowStates(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("read the overflow states of %s: %w", env, err)
	}
	active := map[string]string{}
	for _, s := range states {
		if s.Active && s.OverflowQueue != "" {
			active[s.Worktype] = s.OverflowQueue
		}
	}
	return active, nil
}

// ExpectOverflow returns docs as the org is expected to be while the overflows in active
// (ActiveOverflow) last: the defaultQueue of each such worktype that declares one is its
// overflow queue. The other documents, and docs itself, are unchanged.
func ExpectOverflow(docs []entity.Doc, active map[string]string) []entity.Doc {
	if len(active) == 0 {
		return docs
	}
	out := make([]entity.Doc, len(docs))
	for i, d := range docs {
		out[i] = d
		q, ok := active[d.Name]
		if d.Kind != entity.Worktype || !ok {
			continue
		}
		if _, declared := d.Fields[defaultQueue]; !declared {
			continue
		}
		fields := maps.Clone(d.Fields)
		fields[defaultQueue] = q
		out[i].Fields = fields
	}
	return out
}

const defaultQueue = "defaultQueue"

// Overflow states of a PlanOverflow.
const (
	OverflowActive  = "active"  // the table says the overflow is active: defaultQueue is expected at the overflow queue
	OverflowUnknown = "unknown" // no overflow states were read (no table): the plan cannot know
)

// PlanOverflow is a declared worktype whose assignment rule overflows, and how the plan
// treated it (PlanOptions.Overflow, PlanOptions.OverflowUnknown).
type PlanOverflow struct {
	Worktype string `json:"worktype"`
	State    string `json:"state"` // OverflowActive or OverflowUnknown
	// Queue is the defaultQueue the config declares, OverflowQueue the rule's overflow
	// queue (the defaultQueue the plan expects, for OverflowActive).
	Queue         string `json:"queue,omitempty"`
	OverflowQueue string `json:"overflowQueue,omitempty"`
	// Note says it for a person.
	Note string `json:"note"`
}

// planOverflow substitutes the active overflows into docs and says what it did, and what
// the plan cannot know, per worktype (in docs order).
func planOverflow(docs []entity.Doc, opts PlanOptions) ([]entity.Doc, []PlanOverflow) {
	var notes []PlanOverflow
	for _, d := range docs {
		if d.Kind != entity.Worktype {
			continue
		}
		declared, _ := d.Fields[defaultQueue].(string)
		if q, ok := opts.Overflow[d.Name]; ok && declared != "" {
			notes = append(notes, PlanOverflow{Worktype: d.Name, State: OverflowActive, Queue: declared, OverflowQueue: q,
				Note: fmt.Sprintf("overflow active: defaultQueue is expected to be %q while the backlog of %q drains; the occupancy function points it back", q, declared)})
		} else if q, ok := opts.OverflowUnknown[d.Name]; ok {
			notes = append(notes, PlanOverflow{Worktype: d.Name, State: OverflowUnknown, Queue: declared, OverflowQueue: q,
				Note: fmt.Sprintf("overflow unknown: its assignment rule overflows to %q, and without the table (--table or $TABLE_NAME) the plan cannot know whether that overflow is active; a defaultQueue change planned here would end an active overflow early", q)})
		}
	}
	return ExpectOverflow(docs, opts.Overflow), notes
}
