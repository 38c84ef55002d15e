package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// liveGenesys is the client of a live read (live.Cache, Session.Find).
type liveGenesys = live.Genesys

// Reasons of the change requests of a switch (routekeeper.change/v1 reason).
const (
	ReasonEnter = "overflow enter"
	ReasonLeave = "overflow leave"
	// RequestedBy names the occupancy function as the requester.
	RequestedBy = "routekeeper occupancy"
)

// namesTTL is how long a container reuses the org's names for the live read of a switch.
const namesTTL = 10 * time.Minute

// submitSwitch sends the change request of a switch through the change queue, as every
// change to Genesys goes: a plan of one update of the worktype (desired
// {"name", "defaultQueue"}) made into a request by the drift Planner and sent by
// drift.Submit, so the apply engine writes it guarded by baseEtag and records it. from is
// where the defaultQueue points now, to where the switch points it.
//
// baseEtag is the worktype's last-known ETag from the table when that observation shows
// the defaultQueue at from (the state the switch is planned against); otherwise (no
// observation, or one that does not show from, so a merge against it could quietly keep
// the old queue) the worktype is read live, and that state is recorded as the base.
func (h *Handler) submitSwitch(ctx context.Context, sw Switch, r store.OverflowRule, from, to string, observed map[string]store.Observation) (*changes.Request, error) {
	name, id, etag := r.Worktype, "", ""
	org := live.NewOrg(nil)
	o, seen := observed[r.Worktype]
	if seen && observedDefaultQueue(o) == from {
		name, id, etag = o.Key.Name, o.GenesysID, o.ETag
	} else {
		e, err := h.readWorktype(ctx, r.Worktype, o.GenesysID)
		if err != nil {
			return nil, err
		}
		name, id, etag = e.Name, e.ID, e.ETag
		org = live.NewOrg(nil, e)
	}
	plan := &drift.Plan{Schema: drift.PlanSchema, Environment: h.Environment, Unmanaged: []drift.Ref{}, Changes: []drift.Change{{
		Kind: entity.Worktype, Name: name, ID: id, Action: drift.ActionUpdate, BaseETag: etag,
		Desired: map[string]any{"name": name, "defaultQueue": to},
		Differences: []drift.Difference{{Kind: entity.Worktype, Name: name,
			Difference: document.Difference{Path: "defaultQueue", Live: from, Desired: to, Delta: document.Changed}}},
	}}}
	reason := ReasonEnter
	if sw == Leave {
		reason = ReasonLeave
	}
	planner := drift.Planner{Environment: h.Environment, Reason: reason, RequestedBy: RequestedBy + ", rule " + r.Rule, Now: h.now}
	send := func(ctx context.Context, reqs []*changes.Request) error {
		_, err := h.Changes.Publish(ctx, reqs)
		return err
	}
	reqs, err := drift.Submit(ctx, plan, org, planner, h.Store, send)
	if err != nil {
		return nil, fmt.Errorf("overflow %s of worktype %q: %w", sw, name, err)
	}
	return reqs[0], nil
}

// readWorktype reads the worktype called name live (by idHint when it still has that
// name), through the container's names.
func (h *Handler) readWorktype(ctx context.Context, name, idHint string) (*live.Entity, error) {
	if h.names == nil {
		h.names = live.NewCache(h.Genesys, namesTTL, nil)
	}
	sess, err := h.names.Session(ctx, h.Genesys)
	if err != nil {
		return nil, fmt.Errorf("read the org's names for worktype %q: %w", name, err)
	}
	e, err := sess.Find(ctx, entity.Worktype, name, idHint, true)
	if err != nil {
		return nil, fmt.Errorf("read worktype %q: %w", name, err)
	}
	if e == nil {
		return nil, fmt.Errorf("worktype %q is not in the org: create it (routekeeper apply) or fix the assignment rule", name)
	}
	return e, nil
}

// observedDefaultQueue is the defaultQueue of a last-known worktype ("" when it has none).
func observedDefaultQueue(o store.Observation) string {
	var doc struct {
		DefaultQueue string `json:"defaultQueue"`
	}
	_ = json.Unmarshal(o.Config, &doc)
	return doc.DefaultQueue
}
