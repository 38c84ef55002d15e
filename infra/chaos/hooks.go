package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
)

// hooks is the simulator hook (sim.Server.SetHook) of a run. It sees every request of the
// apply containers about one entity, just before the simulator handles it, and:
//
//   - makes each planned admin edit at its moment: just before the engine's read of the
//     entity (its GET), or inside the read-to-write window, just before the write that
//     carries the edit's change (its PUT or PATCH) is applied;
//   - times each read-to-write window as the simulator sees it: from an apply container's
//     GET of an entity (as it is handled) to that container's next write of it (as it
//     arrives), the span in which an admin's save is applied between the two;
//   - kills the container that sent the k-th apply request, for each k of the kill plan:
//     the request then goes on (a write is applied) while its sender is gone, so a kill can
//     land between a write and the record of its outcome.
type hooks struct {
	sim *sim.Server
	log *slog.Logger

	mu         sync.Mutex
	planned    map[string]*plannedEdit // kind/id -> the edit waiting for its moment
	plans      int                     // edits planned
	made       []Edit
	failed     []string // edits that could not be made
	requests   int      // apply requests seen
	killAt     []int    // request ordinals, ascending
	kills      []string // what each kill interrupted
	containers map[string]*container
	now        func() time.Time
	readAt     map[string]time.Time // via kind/id -> when its last GET was handled
	windows    []time.Duration      // GET handled to the next write's arrival
}

// plannedEdit is an admin edit waiting for its moment.
type plannedEdit struct {
	Kind, EntityID, ChangeID string
	Marker                   string // the description the change's write sends
	SameField, InWindow      bool
	Path                     string
	// value is the value to set, given the entity's current one at that path (absent:
	// nil); it differs from it.
	value func(current any) any
}

// plan registers an edit; a stale one for the same entity (its change ended without
// reaching the edit's moment) is dropped.
func (h *hooks) plan(p *plannedEdit) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.planned[p.Kind+"/"+p.EntityID] = p
	h.plans++
}

// forget drops the edit planned for an entity, if any: its change ended without meeting
// the moment (a CONFLICT before the write, say), and the entity's next change must not
// take it over.
func (h *hooks) forget(kind, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.planned, kind+"/"+id)
}

func (h *hooks) hook(_ context.Context, r sim.EntityRequest) {
	if !strings.HasPrefix(r.Via, applyViaPrefix) {
		return
	}
	h.mu.Lock()
	h.requests++
	kill := len(h.killAt) > 0 && h.requests >= h.killAt[0]
	if kill {
		h.killAt = h.killAt[1:]
		h.kills = append(h.kills, fmt.Sprintf("%s %s %s (apply request %d, %s)", r.Method, r.Kind, r.ID, h.requests, r.Via))
	}
	key := r.Kind + "/" + r.ID
	if r.Method == "PUT" || r.Method == "PATCH" {
		if at, ok := h.readAt[r.Via+" "+key]; ok {
			h.windows = append(h.windows, h.now().Sub(at))
			delete(h.readAt, r.Via+" "+key)
		}
	}
	p := h.planned[key]
	if p != nil && p.due(r) {
		delete(h.planned, key)
	} else {
		p = nil
	}
	c := h.containers[r.Via]
	h.mu.Unlock()

	if p != nil {
		h.edit(p)
	}
	if r.Method == "GET" && r.ID != "" {
		h.mu.Lock()
		h.readAt[r.Via+" "+key] = h.now()
		h.mu.Unlock()
	}
	if kill && c != nil {
		c.kill()
	}
}

// due reports whether r is the moment of the edit.
func (p *plannedEdit) due(r sim.EntityRequest) bool {
	if !p.InWindow {
		return r.Method == "GET"
	}
	if r.Method != "PUT" && r.Method != "PATCH" {
		return false
	}
	d, _ := r.Body[markerPath(p.Kind)].(string)
	return d == p.Marker
}

// edit makes the admin's edit out of band and records it with its write.
func (h *hooks) edit(p *plannedEdit) {
	w, err := h.sim.Edit(p.Kind, p.EntityID, func(e map[string]any) {
		cur, _ := getPath(e, p.Path)
		setPath(e, p.Path, p.value(cur))
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.failed = append(h.failed, fmt.Sprintf("%s %s %s: %v", p.Kind, p.EntityID, p.Path, err))
		return
	}
	c, ok := w.Changed(p.Path)
	if !ok || !c.Has {
		h.failed = append(h.failed, fmt.Sprintf("%s %s %s: the edit changed nothing", p.Kind, p.EntityID, p.Path))
		return
	}
	e := Edit{Seq: w.Seq, Kind: p.Kind, EntityID: p.EntityID, Path: c.Path, Value: c.New, SameField: p.SameField,
		InWindow: p.InWindow, ChangeID: p.ChangeID}
	h.made = append(h.made, e)
	h.log.Info("admin edit", "change", p.ChangeID, "category", e.Category(), "path", e.Path, "value", e.Value, "write", w.Seq)
}

// results returns the edits made, those that failed, what each kill interrupted, and how
// many planned edits never met their moment (their change ended without reading or
// writing the entity where the edit waited: a replay, a CONFLICT found before the write).
func (h *hooks) results() (made []Edit, failed, kills []string, unmet int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Edit(nil), h.made...), append([]string(nil), h.failed...), append([]string(nil), h.kills...), h.plans - len(h.made) - len(h.failed)
}

// readWriteWindows returns the read-to-write windows the simulator saw.
func (h *hooks) readWriteWindows() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Duration(nil), h.windows...)
}

// getPath and setPath read and write a dotted path of a JSON object (setPath creates
// missing objects).
func getPath(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, seg := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func setPath(m map[string]any, path string, v any) {
	segs := strings.Split(path, ".")
	for _, seg := range segs[:len(segs)-1] {
		next, ok := m[seg].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[seg] = next
		}
		m = next
	}
	m[segs[len(segs)-1]] = v
}
