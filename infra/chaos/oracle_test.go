package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/store"
)

// logBuilder writes a crafted write log, numbering the writes.
type logBuilder struct{ writes []sim.Write }

func (b *logBuilder) add(w sim.Write) int {
	w.Seq = len(b.writes) + 1
	b.writes = append(b.writes, w)
	return w.Seq
}

// apply is a write by the apply engine that sent sent and changed changes.
func (b *logBuilder) apply(method, kind, id string, sent map[string]string, changes ...sim.PathChange) int {
	action := map[string]string{"POST": "Create", "PUT": "Update", "PATCH": "Update", "DELETE": "Delete"}[method]
	return b.add(sim.Write{Via: "apply-1", ClientID: "routekeeper-local", Method: method, Kind: kind, ID: id, Action: action, Sent: sent, Changes: changes, Answer: 200})
}

func (b *logBuilder) admin(kind, id string, changes ...sim.PathChange) int {
	return b.add(sim.Write{OutOfBand: true, Kind: kind, ID: id, Action: "Update", Changes: changes})
}

func change(path, old, new string) sim.PathChange {
	return sim.PathChange{Path: path, Old: old, New: new, Had: old != "", Has: new != ""}
}

func desc(v string) map[string]string { return map[string]string{"description": v} }

// The oracle is fed a crafted run with one of each case and must count each exactly.
func TestJudge(t *testing.T) {
	var b logBuilder
	req := func(id, op, kind, entityID, marker string, base, desired map[string]string) Request {
		return Request{ChangeID: id, Op: op, Kind: kind, Name: "entity of " + id, EntityID: entityID, Marker: marker, Base: base, Desired: desired}
	}
	reqs := []Request{
		req("r1", "update", "queue", "q1", "chaos r1", desc("old"), desc("chaos r1")),
		req("r2", "update", "queue", "q2", "chaos r2", desc("old"), desc("chaos r2")),
		req("r3", "update", "queue", "q3", "chaos r3", desc("old"), desc("chaos r3")),
		req("r4", "update", "worktype", "w4", "chaos r4", desc("old"), desc("chaos r4")),
		req("r5", "create", "skill", "", "Chaos Skill r5", nil, map[string]string{"name": "Chaos Skill r5"}),
		req("r6", "delete", "queue", "q6", "", desc("old"), nil),
		req("r7", "update", "queue", "q7", "chaos r7", desc("old"), desc("chaos r7")),
		req("r8", "update", "queue", "q8", "chaos r8", desc("old"), desc("chaos r8")),
		req("r9", "update", "queue", "q9", "chaos r9", desc("old"), desc("chaos r9")),
		req("r10", "update", "queue", "q10", "chaos r10", desc("old"), desc("chaos r10")),
		req("r11", "update", "queue", "q11", "chaos r11",
			map[string]string{"description": "old", "mediaSettings.call.alertingTimeoutSeconds": "8"},
			map[string]string{"description": "chaos r11", "mediaSettings.call.alertingTimeoutSeconds": "8"}),
		req("r12", "update", "worktype", "w12", "chaos r12",
			map[string]string{"description": "old", "defaultPriority": "1"}, map[string]string{"description": "chaos r12", "defaultPriority": "1"}),
		// Planned after r12's edit: it sets defaultPriority on purpose.
		req("r13", "update", "worktype", "w12", "chaos r13",
			map[string]string{"description": "chaos r12", "defaultPriority": "5"}, map[string]string{"description": "chaos r13", "defaultPriority": "9"}),
		req("r14", "update", "queue", "q14", "chaos r14", desc("old"), desc("chaos r14")),
		// Planned after r14's edit: it saw the admin's description and replaces it.
		req("r15", "update", "queue", "q14", "chaos r15", desc("admin 7"), desc("chaos r15")),
		req("r16", "update", "queue", "q16", "chaos r16", desc("old"), desc("chaos r16")),
		req("r17", "update", "queue", "q17", "chaos r17", desc("old"), desc("chaos r17")),
	}
	var edits []Edit
	edit := func(seq int, kind, id, path, value string, same, window bool, changeID string) {
		edits = append(edits, Edit{Seq: seq, Kind: kind, EntityID: id, Path: path, Value: value, SameField: same, InWindow: window, ChangeID: changeID})
	}

	b.apply("PUT", "queue", "q1", desc("chaos r1"), change("description", "old", "chaos r1"))
	// r2 applied twice: the second PUT changed nothing but carried the change again.
	b.apply("PUT", "queue", "q2", desc("chaos r2"), change("description", "old", "chaos r2"))
	b.apply("PUT", "queue", "q2", desc("chaos r2"))
	b.apply("PATCH", "worktype", "w4", desc("chaos r4"), change("description", "old", "chaos r4"))
	b.apply("POST", "skill", "s5", map[string]string{"name": "Chaos Skill r5"}, change("name", "", "Chaos Skill r5"))
	b.apply("DELETE", "queue", "q6", nil, change("description", "old", ""))
	// r7: a same-field edit inside the window, overwritten, the change APPLIED: silent.
	edit(b.admin("queue", "q7", change("description", "old", "admin 1")), "queue", "q7", "description", "admin 1", true, true, "r7")
	b.apply("PUT", "queue", "q7", desc("chaos r7"), change("description", "admin 1", "chaos r7"))
	// r8: the same, flagged POSSIBLE_OVERWRITE.
	edit(b.admin("queue", "q8", change("description", "old", "admin 2")), "queue", "q8", "description", "admin 2", true, true, "r8")
	b.apply("PUT", "queue", "q8", desc("chaos r8"), change("description", "admin 2", "chaos r8"))
	// r9: a same-field edit before the read; the change CONFLICTs and writes nothing.
	edit(b.admin("queue", "q9", change("description", "old", "admin 3")), "queue", "q9", "description", "admin 3", true, false, "r9")
	// r10: another field inside the window, reverted by the full replace, not put back.
	edit(b.admin("queue", "q10", change("callingPartyName", "", "Admin Co")), "queue", "q10", "callingPartyName", "Admin Co", false, true, "r10")
	b.apply("PUT", "queue", "q10", desc("chaos r10"), change("description", "old", "chaos r10"), change("callingPartyName", "Admin Co", ""))
	// r11: reverted, then put back by the webhook.
	edit(b.admin("queue", "q11", change("mediaSettings.call.alertingTimeoutSeconds", "8", "37")), "queue", "q11", "mediaSettings.call.alertingTimeoutSeconds", "37", false, true, "r11")
	b.apply("PUT", "queue", "q11", desc("chaos r11"), change("description", "old", "chaos r11"), change("mediaSettings.call.alertingTimeoutSeconds", "37", "8"))
	b.add(sim.Write{Via: "webhook", Method: "PUT", Kind: "queue", ID: "q11", Action: "Update", Sent: desc("chaos r11"),
		Changes: []sim.PathChange{change("mediaSettings.call.alertingTimeoutSeconds", "8", "37")}})
	// r12: another field before the read, kept by r12; r13, planned later, sets it on purpose.
	edit(b.admin("worktype", "w12", change("defaultPriority", "1", "5")), "worktype", "w12", "defaultPriority", "5", false, false, "r12")
	b.apply("PATCH", "worktype", "w12", map[string]string{"description": "chaos r12", "defaultPriority": "5"}, change("description", "old", "chaos r12"))
	b.apply("PATCH", "worktype", "w12", map[string]string{"description": "chaos r13", "defaultPriority": "9"}, change("description", "chaos r12", "chaos r13"), change("defaultPriority", "5", "9"))
	// r14: a same-field edit before the read (r14 CONFLICTs); r15 saw it and replaced it.
	edit(b.admin("queue", "q14", change("description", "old", "admin 7")), "queue", "q14", "description", "admin 7", true, false, "r14")
	b.apply("PUT", "queue", "q14", desc("chaos r15"), change("description", "admin 7", "chaos r15"))
	// r16: another field of a queue deleted since.
	edit(b.admin("queue", "q16", change("callingPartyName", "", "Gone Co")), "queue", "q16", "callingPartyName", "Gone Co", false, false, "r16")
	// r17: a same-field edit overwritten by a write that carries no generated change.
	edit(b.admin("queue", "q17", change("description", "old", "admin 9")), "queue", "q17", "description", "admin 9", true, true, "r17")
	b.apply("PUT", "queue", "q17", desc("something else"), change("description", "admin 9", "something else"))

	rec := func(s store.Status) Record { return Record{Status: s} }
	ev := Evidence{
		Requests: reqs,
		Edits:    edits,
		Writes:   b.writes,
		Records: map[string]Record{
			"r1": rec(store.StatusApplied), "r2": rec(store.StatusApplied),
			"r3": rec(store.StatusInProgress),
			"r4": {Status: store.StatusFailed, LastError: "genesys: 503"},
			"r5": rec(store.StatusApplied), "r6": rec(store.StatusApplied), "r7": rec(store.StatusApplied),
			"r8": rec(store.StatusPossibleOverwrite), "r9": rec(store.StatusConflict), "r10": rec(store.StatusPossibleOverwrite),
			"r11": rec(store.StatusPossibleOverwrite), "r12": rec(store.StatusApplied), "r13": rec(store.StatusApplied),
			"r14": rec(store.StatusConflict), "r15": rec(store.StatusApplied), "r16": rec(store.StatusNoop), "r17": rec(store.StatusApplied),
		},
		DLQ: []DLQMessage{
			{MessageID: "m1", ChangeID: "r4", Reason: "genesys: 503"},
			{MessageID: "m2", ChangeID: "r3"}, // no reason: r3 stays lost
		},
		Final: map[string]map[string]string{
			"q7": desc("chaos r7"), "q8": desc("chaos r8"), "q9": desc("admin 3"),
			"q10": desc("chaos r10"),
			"q11": {"description": "chaos r11", "mediaSettings.call.alertingTimeoutSeconds": "37"},
			"w12": {"description": "chaos r13", "defaultPriority": "9"},
			"q14": desc("chaos r15"), "q17": desc("something else"),
		},
	}
	v := Judge(ev)

	want := Counts{Requests: 17, Lost: 1, Double: 1, Silent: 2, Flagged: 3, DisjointLost: 1, Terminal: 15, DLQ: 1}
	if diff := cmp.Diff(want, v.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s\nproblems:\n%s", diff, strings.Join(v.Problems, "\n"))
	}
	type outcome struct{ Change, Outcome string }
	var got []outcome
	for _, j := range v.Edits {
		got = append(got, outcome{j.ChangeID, j.Outcome})
	}
	wantEdits := []outcome{
		{"r7", OutcomeSilent}, {"r8", OutcomeFlagged}, {"r9", OutcomeKept}, {"r10", OutcomeReverted},
		{"r11", OutcomeRestored}, {"r12", OutcomeChanged}, {"r14", OutcomeSeen}, {"r16", OutcomeGone}, {"r17", OutcomeSilent},
	}
	if diff := cmp.Diff(wantEdits, got); diff != "" {
		t.Errorf("edit outcomes (-want +got):\n%s", diff)
	}
	for _, p := range []string{"lost: r3", "double-applied: r2", "silent overwrite: admin edit (write 7", "carrying no generated change", "disjoint edit lost: admin edit (write 12"} {
		if !strings.Contains(strings.Join(v.Problems, "\n"), p) {
			t.Errorf("problems lack %q:\n%s", p, strings.Join(v.Problems, "\n"))
		}
	}
}

// A same-field edit overwritten by a change flagged after the fact, or ended CONFLICT
// though its write went through, is not silent; one overwritten by a client other than
// the apply engine is.
func TestJudgeOverwriters(t *testing.T) {
	tests := []struct {
		name   string
		via    string
		status store.Status
		want   string
	}{
		{"apply, CONFLICT", "apply-2", store.StatusConflict, OutcomeConflict},
		{"apply, POSSIBLE_OVERWRITE", "apply-1", store.StatusPossibleOverwrite, OutcomeFlagged},
		{"apply, NOOP", "apply-1", store.StatusNoop, OutcomeSilent},
		{"webhook", "webhook", store.StatusPossibleOverwrite, OutcomeSilent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b logBuilder
			seq := b.admin("queue", "q", change("description", "old", "admin"))
			b.add(sim.Write{Via: tc.via, Method: "PUT", Kind: "queue", ID: "q", Action: "Update", Sent: desc("chaos r"),
				Changes: []sim.PathChange{change("description", "admin", "chaos r")}})
			v := Judge(Evidence{
				Requests: []Request{{ChangeID: "r", Op: "update", Kind: "queue", EntityID: "q", Marker: "chaos r", Base: desc("old"), Desired: desc("chaos r")}},
				Edits:    []Edit{{Seq: seq, Kind: "queue", EntityID: "q", Path: "description", Value: "admin", SameField: true, InWindow: true, ChangeID: "r"}},
				Writes:   b.writes,
				Records:  map[string]Record{"r": {Status: tc.status}},
				Final:    map[string]map[string]string{"q": desc("chaos r")},
			})
			if got := v.Edits[0].Outcome; got != tc.want {
				t.Errorf("overwritten via %s, change %s: got %q, want %q", tc.via, tc.status, got, tc.want)
			}
			if silent := tc.want == OutcomeSilent; (v.Silent == 1) != silent {
				t.Errorf("silent overwrites: got %d, want %v", v.Silent, silent)
			}
		})
	}
}

func TestCountsLine(t *testing.T) {
	tests := []struct {
		c      Counts
		line   string
		broken bool
	}{
		{Counts{Requests: 100, Flagged: 3, Terminal: 100},
			"chaos: 100 requests, 0 lost, 0 double-applied, 0 silent overwrites, 3 possible overwrites flagged, 0 disjoint edits lost, 100 terminal, 0 in DLQ with reason", false},
		{Counts{Requests: 1000, Lost: 1, Double: 2, Silent: 3, Flagged: 4, DisjointLost: 5, Terminal: 990, DLQ: 9},
			"chaos: 1000 requests, 1 lost, 2 double-applied, 3 silent overwrites, 4 possible overwrites flagged, 5 disjoint edits lost, 990 terminal, 9 in DLQ with reason", true},
		{Counts{Requests: 10, DisjointLost: 1, Terminal: 10}, "", true},
		{Counts{Requests: 10, DLQ: 2, Terminal: 8}, "", false},
	}
	for _, tc := range tests {
		if tc.line != "" && tc.c.Line() != tc.line {
			t.Errorf("Line of %+v:\n got %s\nwant %s", tc.c, tc.c.Line(), tc.line)
		}
		if tc.c.Broken() != tc.broken {
			t.Errorf("Broken of %+v: got %v, want %v", tc.c, tc.c.Broken(), tc.broken)
		}
	}
}
