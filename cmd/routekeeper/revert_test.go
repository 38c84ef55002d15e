package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/history"
	"github.com/routekeeper/routekeeper/shared/routing"
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
	s.ResetWrites()
	code, stdout, stderr = execute(t, "revert", changeID, "--direct", "--auto-approve", "--format", "json")
	if w := s.Writes(); len(w) != 1 || w[0].OutOfBand || w[0].Method != "PUT" || w[0].ID != qid {
		t.Errorf("write log of the revert: %+v; want the one PUT of queue %s", w, qid)
	}
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
	s.ResetWrites()
	code, stdout, stderr = execute(t, "revert", lines[0].ChangeID, "--direct", "--auto-approve")
	if code != revertExitConflict || !strings.Contains(stdout, "CONFLICT") || !strings.Contains(stdout, "conflict description (both-changed)") {
		t.Errorf("revert after a same-field edit: exit %d, want %d and the conflict\n%s%s", code, revertExitConflict, stdout, stderr)
	}
	// The simulator's write log: nothing reached Genesys (the merged revert above shows a
	// write is logged).
	if live, _ := s.Queue(qid); live["description"] != "fixed by hand" || s.Calls()["PUT /api/v2/routing/queues/{queueId}"] != 0 || len(s.Writes()) != 0 {
		t.Errorf("after the conflicting revert: description %v, %d PUTs, write log %+v; want the admin's edit and nothing written",
			live["description"], s.Calls()["PUT /api/v2/routing/queues/{queueId}"], s.Writes())
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

// TestRevertThroughQueue: revert --queue-url enqueues the inverse for the apply function
// and writes nothing itself; the two records link both ways and status of each shows the
// other. A revert of a create deletes what it created; a revert of that delete re-creates
// the skill from its snapshot with a new id, and the output says so.
func TestRevertThroughQueue(t *testing.T) {
	clearGenesysEnv(t)
	s := startOrg(t, "", applyOrg)
	awsCfg, res := startStack(t)
	path, cfg := exportEnv(t, "dev")
	const skill = "Incident Pop-up"
	cfg.Skills = append(cfg.Skills, routing.Skill{Name: skill})
	saveConfig(t, path, cfg)
	code, stdout, stderr := execute(t, "apply", "--auto-approve", "-f", path, "--direct", "--format", "json")
	var lines []applyLine
	if err := json.Unmarshal([]byte(stdout), &lines); code != 0 || err != nil || len(lines) != 1 || lines[0].Operation != "create" || lines[0].Status != "APPLIED" {
		t.Fatalf("apply (create the skill): exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	createID := lines[0].ChangeID
	oldID, ok := s.IDByName("skill", skill)
	if !ok {
		t.Fatal("the skill was not created")
	}

	s.ResetWrites()
	code, stdout, stderr = execute(t, "revert", createID, "--queue-url", res.ChangeQueueURL, "--auto-approve", "--format", "json")
	var rev revertResult
	if err := json.Unmarshal([]byte(stdout), &rev); code != 0 || err != nil || len(rev.Changes) != 1 {
		t.Fatalf("revert --queue-url: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	del := rev.Changes[0]
	if del.Status != "ENQUEUED" || del.Operation != "delete" || rev.Requests[0].Reason != "revert of "+createID {
		t.Errorf("revert --queue-url: %+v, reason %q; want a delete ENQUEUED, reason revert of %s", del, rev.Requests[0].Reason, createID)
	}
	if w := s.Writes(); len(w) != 0 {
		t.Errorf("revert --queue-url wrote to Genesys itself: %+v", w)
	}

	// The apply function's part: receive, decode, apply with the engine.
	st := store.New(dynamodb.NewFromConfig(awsCfg), res.TableName)
	client, err := genesys.New(genesys.Config{APIURL: getenv("GENESYS_API_URL"), LoginURL: getenv("GENESYS_LOGIN_URL"),
		ClientID: sim.DefaultClientID, ClientSecret: sim.DefaultClientSecret, RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	out, err := sqs.NewFromConfig(awsCfg).ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(res.ChangeQueueURL), MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive: %d messages (err %v), want 1", len(out.Messages), err)
	}
	req, err := changes.Decode([]byte(aws.ToString(out.Messages[0].Body)))
	if err != nil || req.ChangeID != del.ChangeID {
		t.Fatalf("decode: %v (id %s), want change %s", err, req.ChangeID, del.ChangeID)
	}
	if r, err := apply.New(client, st, apply.Options{Environment: "dev"}).Apply(context.Background(), req); err != nil || r.Status != store.StatusApplied {
		t.Fatalf("engine: %+v, %v; want APPLIED", r, err)
	}
	if _, ok := s.IDByName("skill", skill); ok {
		t.Fatal("the revert of the create left the skill")
	}

	for _, tc := range []struct{ id, want string }{
		{createID, "reverted by: " + del.ChangeID},
		{del.ChangeID, "revert of:  " + createID},
	} {
		if code, stdout, stderr := execute(t, "status", tc.id); code != 0 || !strings.Contains(stdout, "status:     APPLIED") || !strings.Contains(stdout, tc.want) {
			t.Errorf("status %s: exit %d, want APPLIED and %q\n%s%s", tc.id, code, tc.want, stdout, stderr)
		}
	}

	// The revert of that delete re-creates the skill, under a new id, and says so.
	code, stdout, stderr = execute(t, "revert", del.ChangeID, "--direct", "--auto-approve")
	if code != 0 || !strings.Contains(stdout, "APPLIED") || !strings.Contains(stdout, "create") ||
		!strings.Contains(stdout, "re-created with a new id (it was "+oldID+")") || !strings.Contains(stdout, "re-assign it to agents") {
		t.Errorf("revert of the delete: exit %d; want APPLIED, a create and a note of the new id\n%s%s", code, stdout, stderr)
	}
	if newID, ok := s.IDByName("skill", skill); !ok || newID == oldID {
		t.Errorf("after the revert of the delete: skill id %q (exists %v); want a new id, not %s", newID, ok, oldID)
	}
}
