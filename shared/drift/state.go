package drift

import (
	"time"

	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// State is an entity's drift state: how its live state compares with what git declares.
// The webhook assesses one entity at a time, the drift scan a whole org; both keep the
// latest state in the table (store.DriftState) and publish an event when it changes.
type State string

// Drift states.
const (
	InSync    State = "IN_SYNC"   // declared, and live holds every declared field
	Modified  State = "MODIFIED"  // declared, and live differs in declared fields
	Deleted   State = "DELETED"   // declared, and seen deleted in Genesys (the webhook)
	Missing   State = "MISSING"   // declared, and not in the org (the drift scan)
	Unmanaged State = "UNMANAGED" // live, and not declared
)

// Drifted reports whether s is drift: live does not hold what git declares.
func (s State) Drifted() bool { return s == Modified || s == Deleted || s == Missing }

// Deviation is one declared field live does not hold: Expected is what git declares,
// Actual what Genesys holds (absent when the field is absent).
type Deviation struct {
	Path     string `json:"path"`
	Expected any    `json:"expected,omitempty"`
	Actual   any    `json:"actual,omitempty"`
}

// Assessment is the drift state of one entity and, for Modified, the fields that differ.
type Assessment struct {
	State      State
	Deviations []Deviation
}

// Assess compares an entity's desired document (nil: not declared) with its live state (nil:
// not in the org; gone: it was seen deleted rather than just not found). References are
// compared as the org spells them (OrgSpelling), and only declared fields count, as plans
// compare them. The zero Assessment means there is nothing to say: neither declared nor live.
func Assess(desired *entity.Doc, l *live.Entity, gone bool, names *live.Names) Assessment {
	switch {
	case desired == nil && l == nil:
		return Assessment{}
	case desired == nil:
		return Assessment{State: Unmanaged}
	case l == nil && gone:
		return Assessment{State: Deleted}
	case l == nil:
		return Assessment{State: Missing}
	}
	diffs := document.Diff(live.OrgSpelling(desired.Kind, desired.Fields, names), l.Canonical)
	if len(diffs) == 0 {
		return Assessment{State: InSync}
	}
	a := Assessment{State: Modified, Deviations: make([]Deviation, len(diffs))}
	for i, d := range diffs {
		a.Deviations[i] = Deviation{Path: d.Path, Expected: d.Desired, Actual: d.Live}
	}
	return a
}

// EventSchema is the schema of the detail of Drift Detected and Drift Resolved
// (docs/events.md).
const EventSchema = "routekeeper.drift/v1"

// Event is the detail of a Drift Detected or Drift Resolved event (routekeeper.drift/v1).
type Event struct {
	Schema        string      `json:"schema"`
	Environment   string      `json:"environment"`
	Entity        EventEntity `json:"entity"`
	State         State       `json:"state"`
	PreviousState State       `json:"previousState,omitempty"`
	Differences   []Deviation `json:"differences"`
	ObservedAt    time.Time   `json:"observedAt"`
	Cause         *EventCause `json:"cause,omitempty"`
}

// EventEntity names the entity of an Event.
type EventEntity struct {
	Kind entity.Kind `json:"kind"`
	Name string      `json:"name"`
	ID   string      `json:"id,omitempty"`
}

// EventCause is what made routekeeper look: the Genesys audit event (id, time, who), or a
// drift scan.
type EventCause struct {
	EventID   string    `json:"eventId,omitempty"`
	EventTime time.Time `json:"eventTime,omitzero"`
	UserID    string    `json:"userId,omitempty"`
	ClientID  string    `json:"clientId,omitempty"`
	Scan      bool      `json:"scan,omitempty"`
}

// Transition is the detail-type of the event to publish when an entity's state goes from
// prev ("" when it had none) to next: Drift Detected when next is drift (MODIFIED,
// DELETED, MISSING) and prev was another state, Drift Resolved when drift ends (next is
// IN_SYNC, or UNMANAGED because git no longer declares the entity), and "" when nothing
// is to be said (the same state, or between IN_SYNC, UNMANAGED and a first sighting).
func Transition(prev, next State) (detailType string) {
	switch {
	case prev == next:
		return ""
	case next.Drifted():
		return bus.DriftDetected
	case prev.Drifted():
		return bus.DriftResolved
	}
	return ""
}

// NewEvent is the event detail of entity k (Genesys id, when known) assessed as a at
// observedAt, after prev.
func NewEvent(k entity.Key, id string, a Assessment, prev State, observedAt time.Time, cause *store.Cause, scan bool) Event {
	ev := Event{
		Schema: EventSchema, Environment: k.Environment,
		Entity: EventEntity{Kind: k.Kind, Name: k.Name, ID: id},
		State:  a.State, PreviousState: prev, Differences: a.Deviations, ObservedAt: observedAt.UTC(),
	}
	if ev.Differences == nil {
		ev.Differences = []Deviation{}
	}
	switch {
	case cause != nil:
		ev.Cause = &EventCause{EventID: cause.EventID, EventTime: cause.EventTime, UserID: cause.UserID, ClientID: cause.ClientID, Scan: scan}
	case scan:
		ev.Cause = &EventCause{Scan: true}
	}
	return ev
}
