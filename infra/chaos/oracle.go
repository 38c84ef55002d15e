package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/store"
)

// The oracle judges a run from evidence only: the requests generated, the admin edits
// made, the simulator's write log, the change records, the dead-letter queue and the org
// at the end. It never asks the pipeline what it did, so a pipeline that lies in its
// records is caught by the write log and the final org.

// applyViaPrefix starts the Via label of every apply container (apply-1, apply-2, ...):
// writes through them are the apply engine's. The webhook's writes (its restores) come
// through another label.
const applyViaPrefix = "apply"

// Request is one generated change request as the oracle sees it.
type Request struct {
	ChangeID string
	Kind     string // queue, skill or worktype
	Name     string
	EntityID string // the live entity planned against; "" for a create
	Op       string // create, update or delete
	// Marker is the value only this change writes at its kind's marker path (markerPath:
	// the description of a queue or worktype, the name of a skill): a write whose body
	// sends it carries this change.
	Marker string
	// Base is the entity as the plan saw it (update, delete), Desired what the change asks
	// for (create, update), both flattened as the write log flattens (dotted paths).
	Base, Desired map[string]string
}

// markerPath is where a change of kind writes its marker.
func markerPath(kind string) string {
	if kind == "skill" {
		return "name"
	}
	return "description"
}

// Edit is an admin edit the harness made, aimed at one change.
type Edit struct {
	Seq      int // its write in the simulator's log
	Kind     string
	EntityID string
	Path     string // the field it changed
	Value    string // the value it set, as the write log flattens it
	// SameField: Path is the field the change writes (its marker); else another field,
	// one the change does not change.
	SameField bool
	// InWindow: made between the engine's read and its write (just before the write
	// reached the simulator); else just before the engine's read.
	InWindow bool
	ChangeID string // the change it was aimed at
}

// Category names the edit's kind for the report.
func (e Edit) Category() string {
	s := "other field, "
	if e.SameField {
		s = "same field, "
	}
	if e.InWindow {
		return s + "inside the write window"
	}
	return s + "before the read"
}

// Record is what the change record of a request says.
type Record struct {
	Status    store.Status
	LastError string
}

// DLQMessage is a message found in the dead-letter queue.
type DLQMessage struct {
	MessageID string
	ChangeID  string // "" when the body names none
	Reason    string // the last error on its change record; "" when there is none
}

// Evidence is everything the oracle judges.
type Evidence struct {
	Requests []Request
	Edits    []Edit
	Writes   []sim.Write       // the simulator's write log, in Seq order
	Records  map[string]Record // by change id; absent: the change has no record
	DLQ      []DLQMessage
	// Final is the org at the end: each entity's raw document, flattened, by id; an
	// entity missing from it no longer exists.
	Final map[string]map[string]string
}

// Counts are the figures of the final line.
type Counts struct {
	Requests int
	// Lost: requests with neither a terminal change record nor a dead-letter message with
	// a reason.
	Lost int
	// Double: changes whose write the simulator applied more than once.
	Double int
	// Silent: same-field admin edits overwritten by a routekeeper write that had not seen
	// them, whose change neither ended CONFLICT nor was flagged POSSIBLE_OVERWRITE.
	Silent int
	// Flagged: changes flagged POSSIBLE_OVERWRITE.
	Flagged int
	// DisjointLost: other-field admin edits whose value is not in the final org although
	// no later write set that field on purpose (an admin's, or a change that changes it).
	DisjointLost int
	// Terminal: requests with a terminal change record.
	Terminal int
	// DLQ: dead-letter messages with a reason.
	DLQ int
}

// Line is the final line of a run.
func (c Counts) Line() string {
	return fmt.Sprintf("chaos: %d requests, %d lost, %d double-applied, %d silent overwrites, %d possible overwrites flagged, %d disjoint edits lost, %d terminal, %d in DLQ with reason",
		c.Requests, c.Lost, c.Double, c.Silent, c.Flagged, c.DisjointLost, c.Terminal, c.DLQ)
}

// Broken reports whether the run broke a promise: something lost, applied twice, or an
// admin's edit lost unseen.
func (c Counts) Broken() bool {
	return c.Lost > 0 || c.Double > 0 || c.Silent > 0 || c.DisjointLost > 0
}

// Outcomes of an admin edit.
const (
	OutcomeKept       = "kept"                  // its value is in the final org, never overwritten
	OutcomeSeen       = "seen"                  // a later change read it and wrote over it on purpose
	OutcomeConflict   = "overwritten, CONFLICT" // overwritten, and its change ended CONFLICT
	OutcomeFlagged    = "overwritten, flagged"  // overwritten, and its change was flagged POSSIBLE_OVERWRITE
	OutcomeSilent     = "silently overwritten"
	OutcomeRestored   = "reverted, put back"
	OutcomeChanged    = "changed later on purpose"
	OutcomeReverted   = "reverted, lost"
	OutcomeSuperseded = "superseded by another admin edit"
	OutcomeGone       = "entity deleted"
)

// Judged is one admin edit with its outcome.
type Judged struct {
	Edit
	Outcome string
	By      string       // the change (or client) that overwrote or reverted it, if any
	Status  store.Status // of the change it was aimed at
}

// Verdict is the oracle's answer: the counts and what they are made of.
type Verdict struct {
	Counts
	Edits []Judged
	// Problems explain each lost request, double write, silent overwrite and lost edit.
	Problems []string
	// Statuses counts the requests by the status of their record ("" for none).
	Statuses map[store.Status]int
}

// Judge judges the evidence.
func Judge(ev Evidence) Verdict {
	v := Verdict{Counts: Counts{Requests: len(ev.Requests)}, Statuses: map[store.Status]int{}}
	byMarker := map[string]map[string]*Request{} // kind -> marker -> request
	deletes := map[string]*Request{}             // kind/id -> delete request
	for i := range ev.Requests {
		r := &ev.Requests[i]
		if r.Op == "delete" {
			deletes[r.Kind+"/"+r.EntityID] = r
			continue
		}
		if byMarker[r.Kind] == nil {
			byMarker[r.Kind] = map[string]*Request{}
		}
		byMarker[r.Kind][r.Marker] = r
	}
	// carrier is the change an apply write carried, or nil.
	carrier := func(w sim.Write) *Request {
		if w.Method == "DELETE" {
			return deletes[w.Kind+"/"+w.ID]
		}
		return byMarker[w.Kind][w.Sent[markerPath(w.Kind)]]
	}

	// Lost, terminal, dead-lettered, flagged.
	reasons := map[string]bool{}
	for _, m := range ev.DLQ {
		if m.Reason != "" {
			v.DLQ++
			reasons[m.ChangeID] = true
		}
	}
	for _, r := range ev.Requests {
		rec, ok := ev.Records[r.ChangeID]
		v.Statuses[rec.Status]++
		switch {
		case ok && rec.Status.Terminal():
			v.Terminal++
		case reasons[r.ChangeID]:
		default:
			v.Lost++
			v.Problems = append(v.Problems, fmt.Sprintf("lost: %s %s %s %q: record %s, no dead-letter message with a reason",
				r.ChangeID, r.Op, r.Kind, r.Name, describeRecord(rec, ok)))
		}
		if rec.Status == store.StatusPossibleOverwrite {
			v.Flagged++
		}
	}

	// Double-applied: more than one applied write carried the change.
	applied := map[string][]int{}
	for _, w := range ev.Writes {
		if w.OutOfBand || !strings.HasPrefix(w.Via, applyViaPrefix) {
			continue
		}
		if r := carrier(w); r != nil {
			applied[r.ChangeID] = append(applied[r.ChangeID], w.Seq)
		}
	}
	for _, r := range ev.Requests {
		if seqs := applied[r.ChangeID]; len(seqs) > 1 {
			v.Double++
			v.Problems = append(v.Problems, fmt.Sprintf("double-applied: %s %s %s %q: writes %v all carried it",
				r.ChangeID, r.Op, r.Kind, r.Name, seqs))
		}
	}

	// Admin edits.
	for _, e := range ev.Edits {
		j := Judged{Edit: e, Status: ev.Records[e.ChangeID].Status}
		if e.SameField {
			j.Outcome, j.By = sameField(ev, e, carrier)
			if j.Outcome == OutcomeSilent {
				v.Silent++
				v.Problems = append(v.Problems, fmt.Sprintf("silent overwrite: admin edit (write %d, %s) of %s %s %s=%q, aimed at %s, overwritten by %s unflagged",
					e.Seq, e.Category(), e.Kind, e.EntityID, e.Path, e.Value, e.ChangeID, j.By))
			}
		} else {
			j.Outcome, j.By = otherField(ev, e, carrier)
			if j.Outcome == OutcomeReverted {
				v.DisjointLost++
				v.Problems = append(v.Problems, fmt.Sprintf("disjoint edit lost: admin edit (write %d, %s) of %s %s %s=%q, aimed at %s, reverted by %s and not put back (final %q)",
					e.Seq, e.Category(), e.Kind, e.EntityID, e.Path, e.Value, e.ChangeID, j.By, ev.Final[e.EntityID][e.Path]))
			}
		}
		v.Edits = append(v.Edits, j)
	}
	return v
}

func describeRecord(r Record, ok bool) string {
	switch {
	case !ok:
		return "none"
	case r.LastError != "":
		return fmt.Sprintf("%s (last error: %s)", r.Status, r.LastError)
	}
	return string(r.Status)
}

// later returns the writes to e's entity after e, in order.
func later(ev Evidence, e Edit) []sim.Write {
	var out []sim.Write
	for _, w := range ev.Writes {
		if w.Seq > e.Seq && w.Kind == e.Kind && w.ID == e.EntityID {
			out = append(out, w)
		}
	}
	return out
}

// who names the client of a write for the report.
func who(w sim.Write, r *Request) string {
	switch {
	case w.OutOfBand:
		return fmt.Sprintf("admin edit (write %d)", w.Seq)
	case r != nil:
		return fmt.Sprintf("change %s (write %d via %s)", r.ChangeID, w.Seq, w.Via)
	}
	return fmt.Sprintf("write %d via %q carrying no generated change", w.Seq, w.Via)
}

// sameField judges a same-field edit by the first later write that changed its field to
// something else: none, or an admin's, leaves it standing; a routekeeper write overwrote
// it, on purpose when its change's plan had seen it, else unseen, which is only allowed
// when the change ended CONFLICT or was flagged POSSIBLE_OVERWRITE.
func sameField(ev Evidence, e Edit, carrier func(sim.Write) *Request) (outcome, by string) {
	for _, w := range later(ev, e) {
		c, changed := w.Changed(e.Path)
		if w.Action != "Delete" && (!changed || (c.Has && c.New == e.Value)) {
			continue
		}
		if w.OutOfBand {
			return OutcomeSuperseded, who(w, nil)
		}
		var r *Request
		if strings.HasPrefix(w.Via, applyViaPrefix) {
			r = carrier(w)
		}
		if r == nil {
			return OutcomeSilent, who(w, nil)
		}
		if base, ok := r.Base[e.Path]; ok && base == e.Value {
			return OutcomeSeen, who(w, r)
		}
		switch rec := ev.Records[r.ChangeID]; rec.Status {
		case store.StatusConflict:
			return OutcomeConflict, who(w, r)
		case store.StatusPossibleOverwrite:
			return OutcomeFlagged, who(w, r)
		}
		return OutcomeSilent, who(w, r)
	}
	return OutcomeKept, ""
}

// otherField judges an other-field edit by the final org: its value there, or put back
// after a write reverted it, keeps it; else it is lost unless a later write set the field
// on purpose (an admin's, or a change whose desired value differs from the one it planned
// against).
func otherField(ev Evidence, e Edit, carrier func(sim.Write) *Request) (outcome, by string) {
	final, exists := ev.Final[e.EntityID]
	if !exists {
		return OutcomeGone, ""
	}
	var reverter string
	for _, w := range later(ev, e) {
		c, changed := w.Changed(e.Path)
		if !changed {
			continue
		}
		if w.OutOfBand {
			return OutcomeChanged, who(w, nil)
		}
		var r *Request
		if strings.HasPrefix(w.Via, applyViaPrefix) {
			r = carrier(w)
		}
		if r != nil && r.Desired[e.Path] != r.Base[e.Path] && slices.Contains([]string{"create", "update"}, r.Op) {
			return OutcomeChanged, who(w, r)
		}
		if reverter == "" && (!c.Has || c.New != e.Value) {
			reverter = who(w, r)
		}
	}
	if final[e.Path] == e.Value {
		if reverter != "" {
			return OutcomeRestored, reverter
		}
		return OutcomeKept, ""
	}
	if reverter == "" {
		reverter = "no logged write"
	}
	return OutcomeReverted, reverter
}
