package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/shared/history"
	"github.com/routekeeper/routekeeper/shared/store"
)

// TestIncidentHistoryAndRevert is the README's incident walk-through, run against moto
// and the simulator with the real engine (--direct): a baseline scan, a bad change
// applied, an admin's edit of another field seen by the next scan; history shows each
// step with its source; the change is reverted (merged with the admin's edit) and the
// records link both ways; a revert after a same-field edit ends CONFLICT with nothing
// written; --to restores the baseline.
func TestIncidentHistoryAndRevert(t *testing.T) {
	clearGenesysEnv(t)
	s := startOrg(t, "", applyOrg)
	_, res := startStack(t)
	t.Setenv("EVENT_BUS_NAME", res.BusName) // the scan stores drift states with their events
	path, cfg := exportEnv(t, "dev")
	q := &cfg.Queues[1]
	qid, _ := s.IDByName("queue", q.Name)
	original := *q.Description
	if code, stdout, stderr := execute(t, "publish", "-f", path, "--version", "v1"); code != 0 {
		t.Fatalf("publish: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := execute(t, "drift", "--environment", "dev", "--scan"); code != driftExitInSync {
		t.Fatalf("baseline scan: exit %d\n%s%s", code, stdout, stderr)
	}
	baseline := time.Now()

	// The bad change, published and applied as CI does, through the pipeline's engine.
	bad := "incident: calls routed to the wrong team"
	q.Description = &bad
	saveConfig(t, path, cfg)
	if code, stdout, stderr := execute(t, "publish", "-f", path, "--version", "v2"); code != 0 {
		t.Fatalf("publish v2: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr := execute(t, "apply", "--auto-approve", "-f", path, "--direct", "--format", "json")
	var lines []applyLine
	if err := json.Unmarshal([]byte(stdout), &lines); code != 0 || err != nil || len(lines) != 1 || lines[0].Status != "APPLIED" {
		t.Fatalf("apply: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	changeID := lines[0].ChangeID
	// An admin edits another field; the next scan sees it (and the drift it is).
	if err := s.EditQueue(qid, func(m map[string]any) { m["enableTranscription"] = m["enableTranscription"] != true }); err != nil {
		t.Fatal(err)
	}
	edited, _ := s.Queue(qid)
	if code, stdout, stderr := execute(t, "drift", "--environment", "dev", "--scan"); code != driftExitDrift {
		t.Fatalf("scan after the admin's edit: exit %d\n%s%s", code, stdout, stderr)
	}

	code, stdout, stderr = execute(t, "history", "queue", q.Name, "--environment", "dev")
	if code != 0 {
		t.Fatalf("history: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		`History of queue "` + q.Name + `" in dev (oldest first)`,
		"observed  scan ", "first observed",
		"change    -  ", "change " + changeID + " update APPLIED: wrote description",
		"observed  apply ", "changed description",
		"changed enableTranscription",
		"drift     -", "drift (none) -> MODIFIED: enableTranscription",
		"Last known: ETag sha256:",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("history lacks %q:\n%s", want, stdout)
		}
	}

	// Look first, then revert: the admin's edit of another field is merged, not lost.
	code, stdout, stderr = execute(t, "revert", changeID, "--dry-run")
	if code != 0 || !strings.Contains(stdout, `~ update queue "`+q.Name+`"`) || !strings.Contains(stdout, `description: "`+bad+`" -> "`+original+`"`) {
		t.Errorf("revert --dry-run: exit %d\n%s%s", code, stdout, stderr)
	}
	if live, _ := s.Queue(qid); live["description"] != bad {
		t.Fatalf("after --dry-run: description %v, want it untouched", live["description"])
	}
	code, stdout, stderr = execute(t, "revert", changeID, "--direct", "--auto-approve", "--format", "json")
	var rev revertResult
	if err := json.Unmarshal([]byte(stdout), &rev); code != 0 || err != nil || len(rev.Changes) != 1 || len(rev.Requests) != 1 {
		t.Fatalf("revert: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if c := rev.Changes[0]; rev.Schema != RevertSchema || rev.RevertOf != changeID || c.Status != "APPLIED" || !c.Result.Merged ||
		rev.Requests[0].Reason != "revert of "+changeID {
		t.Errorf("revert result %+v; want APPLIED, merged, reason revert of %s", rev, changeID)
	}
	live, _ := s.Queue(qid)
	if live["description"] != original || live["enableTranscription"] != edited["enableTranscription"] {
		t.Errorf("after the revert: description %v, enableTranscription %v; want %q back and the admin's %v kept",
			live["description"], live["enableTranscription"], original, edited["enableTranscription"])
	}
	revertID := rev.Changes[0].ChangeID

	code, stdout, _ = execute(t, "history", "queue", q.Name, "--environment", "dev", "--format", "json", "--since", baseline.Format(time.RFC3339Nano))
	var tl history.Report
	if err := json.Unmarshal([]byte(stdout), &tl); code != 0 || err != nil || tl.Schema != history.Schema {
		t.Fatalf("history --format json: exit %d, %v\n%s", code, err, stdout)
	}
	var links []string
	for _, st := range tl.Steps {
		if st.Change != nil {
			links = append(links, st.Change.ID+" of="+st.Change.RevertOf+" by="+strings.Join(st.Change.RevertedBy, ","))
		}
		if st.Source == store.SourceScan && st.Summary == "first observed" {
			t.Errorf("--since %s lists the baseline scan's step", baseline.Format(time.RFC3339Nano))
		}
	}
	if want := []string{changeID + " of= by=" + revertID, revertID + " of=" + changeID + " by="}; strings.Join(links, "\n") != strings.Join(want, "\n") {
		t.Errorf("change steps:\n%s\nwant:\n%s", strings.Join(links, "\n"), strings.Join(want, "\n"))
	}

	// A second change, then an admin's edit of the same field: its revert is a CONFLICT
	// and writes nothing.
	second := "second change"
	q.Description = &second
	saveConfig(t, path, cfg)
	code, stdout, stderr = execute(t, "apply", "--auto-approve", "-f", path, "--direct", "--format", "json")
	if err := json.Unmarshal([]byte(stdout), &lines); code != 0 || err != nil || len(lines) != 1 {
		t.Fatalf("second apply: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if err := s.EditQueue(qid, func(m map[string]any) { m["description"] = "fixed by hand" }); err != nil {
		t.Fatal(err)
	}
	s.ResetCalls()
	code, stdout, stderr = execute(t, "revert", lines[0].ChangeID, "--direct", "--auto-approve")
	if code != revertExitConflict || !strings.Contains(stdout, "CONFLICT") || !strings.Contains(stdout, "conflict description (both-changed)") {
		t.Errorf("revert after a same-field edit: exit %d, want %d and the conflict\n%s%s", code, revertExitConflict, stdout, stderr)
	}
	if live, _ := s.Queue(qid); live["description"] != "fixed by hand" || s.Calls()["PUT /api/v2/routing/queues/{queueId}"] != 0 {
		t.Errorf("after the conflicting revert: description %v, %d PUTs; want the admin's edit and nothing written", live["description"], s.Calls()["PUT /api/v2/routing/queues/{queueId}"])
	}

	if _, stdout, _ := execute(t, "history", "queue", q.Name, "--environment", "dev"); !strings.Contains(stdout, "; reverted by chg-") || !strings.Contains(stdout, " (CONFLICT)") {
		t.Errorf("history after the conflicting revert does not say the second change's revert ended CONFLICT:\n%s", stdout)
	}

	// Back to the baseline, whatever happened since.
	code, stdout, stderr = execute(t, "revert", "--to", baseline.Format(time.RFC3339Nano), "queue", q.Name, "--environment", "dev", "--direct", "--auto-approve")
	if code != 0 || !strings.Contains(stdout, "APPLIED") {
		t.Fatalf("revert --to the baseline: exit %d\n%s%s", code, stdout, stderr)
	}
	if live, _ := s.Queue(qid); live["description"] != original {
		t.Errorf("after revert --to: description %v, want %q", live["description"], original)
	}
	code, stdout, stderr = execute(t, "revert", "--to", baseline.Format(time.RFC3339Nano), "queue", q.Name, "--environment", "dev", "--direct", "--auto-approve")
	if code != 0 || !strings.Contains(stdout, "nothing to revert") {
		t.Errorf("revert --to the baseline again: exit %d, want 0 and nothing to revert\n%s%s", code, stdout, stderr)
	}

	// The environment's latest events, newest first.
	code, stdout, _ = execute(t, "history", "--environment", "dev", "--limit", "3", "--format", "markdown")
	if code != 0 || !strings.Contains(stdout, "### routekeeper history: environment dev") || strings.Count(stdout, "| queue ") != 3 {
		t.Errorf("history --environment dev --format markdown: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := execute(t, "history", "queue", "No Such Queue", "--environment", "dev"); code != historyExitError || !strings.Contains(stderr, "no history and no last-known state") {
		t.Errorf("history of an unknown queue: exit %d, %q; want 1 and a message", code, stderr)
	}
	if code, _, stderr := execute(t, "revert", "chg-unknown", "--direct", "--auto-approve"); code != revertExitError || !strings.Contains(stderr, "no change request chg-unknown") {
		t.Errorf("revert of an unknown change: exit %d, %q; want 1 and a message", code, stderr)
	}
}

// TestHistoryRevertUsage: usage mistakes exit 2 with a message, before AWS is reached.
func TestHistoryRevertUsage(t *testing.T) {
	t.Setenv("TABLE_NAME", "t")
	t.Setenv("ROUTEKEEPER_ENVIRONMENT", "")
	t.Setenv("CHANGE_QUEUE_URL", "")
	for _, args := range [][]string{
		{"history", "queue"},
		{"history", "queue", "Q"},
		{"history", "widget", "Q", "--environment", "dev"},
		{"history", "--environment", "dev", "--limit", "0"},
		{"history", "--environment", "dev", "--since", "yesterday"},
		{"history", "--environment", "dev", "--since", "-2h"},
		{"history", "--environment", "dev", "--format", "sarif"},
		{"history", "a", "b", "c"},
		{"revert"},
		{"revert", "a", "b"},
		{"revert", "chg-1"},
		{"revert", "chg-1", "--direct"},
		{"revert", "chg-1", "--direct", "--queue-url", "https://sqs.example/q.fifo"},
		{"revert", "chg-1", "--dry-run", "--direct"},
		{"revert", "chg-1", "--queue-url", "https://sqs.eu-west-1.amazonaws.com/123456789012/changes", "--auto-approve"},
		{"revert", "--to", "2h", "queue", "--dry-run"},
		{"revert", "--to", "2h", "queue", "Q", "--dry-run"},
		{"revert", "--to", "soon", "queue", "Q", "--environment", "dev", "--dry-run"},
		{"revert", "--to", "2h", "widget", "Q", "--environment", "dev", "--dry-run"},
	} {
		if code, _, stderr := execute(t, args...); code != 2 || !strings.Contains(stderr, "--help") {
			t.Errorf("%q: exit %d, stderr %q; want 2 with a message", args, code, stderr)
		}
	}
}
