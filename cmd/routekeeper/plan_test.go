package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/routing"
	"github.com/routekeeper/routekeeper/shared/store"
)

// exportTo exports the org to dir/export.yaml and returns the path and config.
func exportTo(t *testing.T) (string, *routing.Config) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "export.yaml")
	if code, _, stderr := execute(t, "export", "--out", p); code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	cfg, err := routing.Load(p)
	if err != nil {
		t.Fatalf("Load(export): %v", err)
	}
	return p, cfg
}

func TestPlanShowsOutOfBandEdit(t *testing.T) {
	clearGenesysEnv(t)
	s := startOrg(t, "", smallOrg)
	path, cfg := exportTo(t)
	q := cfg.Queues[7]
	qid, _ := s.IDByName("queue", q.Name)
	before := *q.MediaSettings.Call.AlertingTimeoutSeconds
	after := before + 13
	if err := s.EditQueue(qid, func(m map[string]any) {
		m["mediaSettings"].(map[string]any)["call"].(map[string]any)["alertingTimeoutSeconds"] = float64(after)
	}); err != nil {
		t.Fatalf("EditQueue: %v", err)
	}

	t.Run("text", func(t *testing.T) {
		code, stdout, stderr := execute(t, "plan", "-f", path)
		if code != 2 {
			t.Fatalf("plan after an edit: exit %d, want 2; stderr %s", code, stderr)
		}
		// live (the edit) -> desired (the config)
		want := []string{`~ update queue "` + q.Name + `" (id ` + qid + `)`,
			"mediaSettings.call.alertingTimeoutSeconds: " + itoa(after) + " -> " + itoa(before),
			"Plan: 0 to create, 1 to update, 0 to delete"}
		for _, w := range want {
			if !strings.Contains(stdout, w) {
				t.Errorf("plan text lacks %q:\n%s", w, stdout)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		code, stdout, _ := execute(t, "plan", "-f", path, "--format", "json")
		if code != 2 {
			t.Fatalf("plan --format json: exit %d, want 2", code)
		}
		var p drift.Plan
		if err := json.Unmarshal([]byte(stdout), &p); err != nil {
			t.Fatalf("plan JSON does not decode: %v\n%s", err, stdout)
		}
		if p.Schema != drift.PlanSchema || len(p.Changes) != 1 {
			t.Fatalf("plan JSON schema %q with %d changes, want %s with 1", p.Schema, len(p.Changes), drift.PlanSchema)
		}
		c := p.Changes[0]
		if c.Kind != "queue" || c.Name != q.Name || c.ID != qid || c.Action != drift.ActionUpdate {
			t.Errorf("change = %s %q %s %s, want queue %q %s update", c.Kind, c.Name, c.ID, c.Action, q.Name, qid)
		}
		if !strings.HasPrefix(c.BaseETag, "sha256:") || len(c.BaseETag) != 71 {
			t.Errorf("baseEtag = %q, want sha256:<64 hex>", c.BaseETag)
		}
		if c.Desired["name"] != q.Name || c.Desired["mediaSettings"] == nil {
			t.Errorf("desired = %v, want the queue's managed document", c.Desired)
		}
		if len(c.Differences) != 1 || c.Differences[0].Path != "mediaSettings.call.alertingTimeoutSeconds" ||
			!document.Equal(c.Differences[0].Live, after) || !document.Equal(c.Differences[0].Desired, before) {
			t.Errorf("differences = %+v, want alertingTimeoutSeconds live %d desired %d", c.Differences, after, before)
		}
		if p.Summary.Update != 1 || p.Summary.Unchanged != 60+40+12-1 {
			t.Errorf("summary = %+v, want 1 update and %d unchanged", p.Summary, 60+40+12-1)
		}
	})

	t.Run("markdown", func(t *testing.T) {
		code, stdout, _ := execute(t, "plan", "-f", path, "--format", "markdown")
		if code != 2 {
			t.Fatalf("plan --format markdown: exit %d, want 2", code)
		}
		for _, w := range []string{"### routekeeper plan", "| ~ | update | queue |", "| `mediaSettings.call.alertingTimeoutSeconds` | `" + itoa(after) + "` | `" + itoa(before) + "` |", "<details>"} {
			if !strings.Contains(stdout, w) {
				t.Errorf("plan markdown lacks %q:\n%s", w, stdout)
			}
		}
	})
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func TestPlanCreatesUnmanagedAndPrune(t *testing.T) {
	clearGenesysEnv(t)
	startOrg(t, "", smallOrg)
	_, cfg := exportTo(t)
	// Keep two queues (one of them changed), add a skill, drop everything else.
	cfg.Queues = cfg.Queues[:2]
	cfg.Queues[1].Description = ptrTo("changed by the config")
	cfg.Skills = append(cfg.Skills, routing.Skill{Name: "Zulu Language"})
	cfg.Worktypes = nil
	b, err := routing.MarshalYAML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, "partial.yaml", string(b))

	code, stdout, stderr := execute(t, "plan", "-f", path, "--format", "json")
	if code != 2 {
		t.Fatalf("plan: exit %d, want 2: %s", code, stderr)
	}
	var p drift.Plan
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatal(err)
	}
	want := drift.PlanSummary{Create: 1, Update: 1, Delete: 0, Unchanged: 1 + 40, Unmanaged: 58 + 12}
	if p.Summary != want {
		t.Errorf("summary = %+v, want %+v", p.Summary, want)
	}
	if c := p.Changes[0]; c.Kind != "skill" || c.Name != "Zulu Language" || c.Action != drift.ActionCreate || c.BaseETag != "" || c.ID != "" {
		t.Errorf("first change = %+v, want create skill Zulu Language without id or baseEtag", c)
	}

	// --prune deletes unmanaged queues (declared kind) but not worktypes (none declared).
	code, stdout, _ = execute(t, "plan", "-f", path, "--format", "json", "--prune")
	if code != 2 {
		t.Fatalf("plan --prune: exit %d, want 2", code)
	}
	p = drift.Plan{}
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatal(err)
	}
	want = drift.PlanSummary{Create: 1, Update: 1, Delete: 58, Unchanged: 41, Unmanaged: 12}
	if p.Summary != want {
		t.Errorf("--prune summary = %+v, want %+v", p.Summary, want)
	}
	last := p.Changes[len(p.Changes)-1]
	if last.Action != drift.ActionDelete || last.Kind != "queue" || last.BaseETag == "" || last.Desired != nil {
		t.Errorf("last change = %+v, want a queue delete with baseEtag and no desired", last)
	}
	for _, u := range p.Unmanaged {
		if u.Kind != "worktype" {
			t.Errorf("unmanaged %s %q under --prune, want only worktypes", u.Kind, u.Name)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestPlanExitCodes(t *testing.T) {
	clearGenesysEnv(t)
	startOrg(t, "", smallOrg)
	path, _ := exportTo(t)
	invalid := writeConfig(t, "bad.yaml", invalidConfig)
	tests := []struct {
		name     string
		args     []string
		want     int
		inStderr string
	}{
		{"no changes", []string{"plan", "-f", path, "--format", "json"}, 0, "0 to create, 0 to update"},
		{"no -f", []string{"plan"}, 2, "no config given"},
		{"unknown format", []string{"plan", "-f", path, "--format", "yaml"}, 2, "unknown --format"},
		{"unknown flag", []string{"plan", "-f", path, "--bogus"}, 2, "unknown flag"},
		{"positional argument", []string{"plan", path}, 2, "takes no arguments"},
		{"invalid config", []string{"plan", "-f", invalid}, 1, "is invalid"},
		{"missing config", []string{"plan", "-f", filepath.Join(t.TempDir(), "nope.yaml")}, 1, "load config"},
		{"unconfigured profile", []string{"plan", "-f", path, "--env", "nowhere"}, 1, "ROUTEKEEPER_NOWHERE_"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := execute(t, tc.args...)
			if code != tc.want {
				t.Errorf("%v: exit %d, want %d; stderr %s", tc.args, code, tc.want, stderr)
			}
			if !strings.Contains(stderr, tc.inStderr) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, tc.inStderr)
			}
		})
	}
}

// TestMarkdownEscapesKeepTableRows: a name or value holding a line break must not end a
// Markdown table row early (Genesys names and descriptions are free text).
func TestMarkdownEscapesKeepTableRows(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(string) string
		in   string
	}{
		{"mdText newline", mdText, "Claims\nTasks"},
		{"mdText carriage return", mdText, "Claims\r\nTasks"},
		{"mdCell newline", mdCell, "a\nb"},
		{"mdCell carriage return", mdCell, "a\r\nb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f(tc.in); strings.ContainsAny(got, "\r\n") {
				t.Errorf("%s(%q) = %q, want no line break", tc.name, tc.in, got)
			}
		})
	}
}

// A skill declared with the live name's case changed cannot be renamed (Genesys has no
// skill rename): plan shows it as a conflict in every format, and apply never sends it
// and exits 3.
func TestPlanAndApplyReportCaseConflicts(t *testing.T) {
	clearGenesysEnv(t)
	startOrg(t, "", smallOrg)
	_, live := exportTo(t)
	var skill string
	for _, s := range live.Skills {
		if strings.ToLower(s.Name) != s.Name {
			skill = s.Name
			break
		}
	}
	if skill == "" {
		t.Fatal("the generated org has no skill with an upper-case letter")
	}
	declared := strings.ToLower(skill)
	path := writeConfig(t, "case.yaml", "apiVersion: routekeeper/v1\nenvironment: dev\nskills:\n  - name: "+declared+"\n")

	code, stdout, stderr := execute(t, "plan", "-f", path)
	if code != planExitConflict {
		t.Fatalf("plan: exit %d, want %d (a conflict needs a person); stderr %s", code, planExitConflict, stderr)
	}
	for _, w := range []string{`! conflict skill "` + declared + `": live "` + skill + `"`, "1 in conflict (manual action needed)"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("plan text lacks %q:\n%s", w, stdout)
		}
	}
	if strings.Contains(stdout, "No changes") {
		t.Errorf("plan text says there are no changes despite the conflict:\n%s", stdout)
	}

	code, js, _ := execute(t, "plan", "-f", path, "--format", "json")
	var p drift.Plan
	if err := json.Unmarshal([]byte(js), &p); err != nil || code != planExitConflict || len(p.Conflicts) != 1 || p.Conflicts[0].LiveName != skill {
		t.Errorf("plan --format json: exit %d, %v, conflicts %+v; want %d and the conflict in the document", code, err, p.Conflicts, planExitConflict)
	}

	_, md, _ := execute(t, "plan", "-f", path, "--format", "markdown")
	if !strings.Contains(md, "Conflicts (manual action needed):") || !strings.Contains(md, mdText(skill)) || strings.Contains(md, "No changes") {
		t.Errorf("plan markdown does not show the conflict:\n%s", md)
	}

	code, stdout, stderr = execute(t, "apply", "--auto-approve", "-f", path, "--direct", "--format", "json")
	if code != applyExitConflict {
		t.Fatalf("apply --direct: exit %d, want %d; stdout %s stderr %s", code, applyExitConflict, stdout, stderr)
	}
	var lines []applyLine
	if err := json.Unmarshal([]byte(stdout), &lines); err != nil || len(lines) != 1 || lines[0].Status != "CONFLICT" || lines[0].Name != declared {
		t.Errorf("apply --format json: %v, %s; want the conflict as a CONFLICT line", err, stdout)
	}
	if !strings.Contains(stderr, `CONFLICT (not sent) skill "`+declared+`"`) {
		t.Errorf("apply stderr does not report the unsent conflict:\n%s", stderr)
	}
}

// A queue declared with the live name's case changed is renamed: plan shows one update of
// name, apply --direct applies it (the change request allows a case-only rename), and the
// next plan finds nothing to do.
func TestApplyRenamesQueueInCase(t *testing.T) {
	clearGenesysEnv(t)
	s := startOrg(t, "", smallOrg)
	_, live := exportTo(t)
	var queue string
	for _, q := range live.Queues {
		if strings.ToLower(q.Name) != q.Name {
			queue = q.Name
			break
		}
	}
	if queue == "" {
		t.Fatal("the generated org has no queue with an upper-case letter")
	}
	id, _ := s.IDByName("queue", queue)
	declared := strings.ToLower(queue)
	path := writeConfig(t, "rename.yaml", "apiVersion: routekeeper/v1\nenvironment: dev\nqueues:\n  - name: "+declared+"\n")

	code, stdout, stderr := execute(t, "plan", "-f", path)
	if code != 2 || !strings.Contains(stdout, `name: "`+queue+`" -> "`+declared+`"`) {
		t.Fatalf("plan: exit %d, want 2 with a rename of %q; stdout %s stderr %s", code, queue, stdout, stderr)
	}
	code, stdout, stderr = execute(t, "apply", "--auto-approve", "-f", path, "--direct")
	if code != 0 || !strings.Contains(stdout, "APPLIED") {
		t.Fatalf("apply --direct: exit %d, want 0 with APPLIED; stdout %s stderr %s", code, stdout, stderr)
	}
	if q, _ := s.Queue(id); q["name"] != declared {
		t.Errorf("live queue %s is named %v after apply, want %q", id, q["name"], declared)
	}
	if code, stdout, _ = execute(t, "plan", "-f", path); code != 0 {
		t.Errorf("plan after the rename: exit %d, want 0:\n%s", code, stdout)
	}
}

// TestPlanAndApplyWithOverflow: publish stores the rule's overflow side with its
// defaults; while the table says the overflow is active, plan and apply expect the
// overflow queue as the worktype's defaultQueue ("overflow active", nothing to revert);
// without a table plan says it cannot know and plans the config as declared; once the
// overflow is over, the same difference is a change again.
func TestPlanAndApplyWithOverflow(t *testing.T) {
	clearGenesysEnv(t)
	s := startOrg(t, "", applyOrg)
	awsCfg, res := startStack(t)
	path, cfg := exportEnv(t, "dev")
	wt := &cfg.Worktypes[0]
	wt.DefaultQueue = nil // the rule sets it
	queue, overflow := cfg.Queues[0].Name, cfg.Queues[1].Name
	cfg.AssignmentRules = []routing.AssignmentRule{{Name: "vip", Worktype: wt.Name, Queue: queue,
		MaxCapacity: ptrTo(5), OverflowQueue: ptrTo(overflow), MinDwellSeconds: ptrTo(60)}}
	saveConfig(t, path, cfg)
	if code, stdout, stderr := execute(t, "apply", "--auto-approve", "-f", path, "--direct"); code != 0 {
		t.Fatalf("apply --direct: exit %d\n%s%s", code, stdout, stderr)
	}

	code, stdout, stderr := execute(t, "publish", "-f", path, "--version", "v7")
	if code != 0 || !strings.Contains(stdout, "1 overflow rule") {
		t.Fatalf("publish: exit %d\n%s%s", code, stdout, stderr)
	}
	st := store.New(dynamodb.NewFromConfig(awsCfg), res.TableName)
	rules, err := st.ListOverflowRules(context.Background(), "dev")
	if err != nil {
		t.Fatal(err)
	}
	wantRule := store.OverflowRule{Environment: "dev", Rule: "vip", Worktype: wt.Name, Queue: queue, OverflowQueue: overflow,
		MaxCapacity: 5, OverflowAfter: 2, ResumeBelow: 4, ResumeAfter: 3, MinDwell: time.Minute, Version: "v7"}
	if len(rules) != 1 {
		t.Fatalf("published rules %+v, want one", rules)
	}
	rules[0].PublishedAt = time.Time{}
	if diff := cmp.Diff(wantRule, rules[0]); diff != "" {
		t.Errorf("published rule (-want +got):\n%s", diff)
	}

	// The occupancy function pointed the worktype at the overflow queue.
	wtID, _ := s.IDByName("worktype", wt.Name)
	overflowID, _ := s.IDByName("queue", overflow)
	if err := s.EditWorktype(wtID, func(m map[string]any) { m["defaultQueue"] = map[string]any{"id": overflowID} }); err != nil {
		t.Fatal(err)
	}
	state := func(active bool) {
		t.Helper()
		if err := st.PutOverflowState(context.Background(), store.OverflowState{Environment: "dev", Worktype: wt.Name, Rule: "vip",
			Active: active, Queue: queue, OverflowQueue: overflow}); err != nil {
			t.Fatal(err)
		}
	}
	state(true)
	revert := `defaultQueue: "` + overflow + `" -> "` + queue + `"`
	tests := []struct {
		name     string
		active   bool
		table    string // TABLE_NAME
		args     []string
		wantCode int
		want     []string // in stdout
		wantNot  []string
	}{
		{name: "plan with the table: overflow active", active: true, table: res.TableName, args: []string{"plan", "-f", path},
			wantCode: 0, want: []string{`= worktype "` + wt.Name + `": overflow active: defaultQueue is expected to be "` + overflow + `"`, "No changes"}, wantNot: []string{revert}},
		{name: "plan --table flag", active: true, args: []string{"plan", "-f", path, "--table", res.TableName},
			wantCode: 0, want: []string{"overflow active"}, wantNot: []string{revert}},
		{name: "plan markdown", active: true, table: res.TableName, args: []string{"plan", "-f", path, "--format", "markdown"},
			wantCode: 0, want: []string{"Overflow:", "overflow active"}},
		{name: "plan without a table cannot know", active: true, args: []string{"plan", "-f", path},
			wantCode: 2, want: []string{`? worktype "` + wt.Name + `": overflow unknown: its assignment rule overflows to "` + overflow + `"`, revert}},
		{name: "plan after the overflow ended: drift", active: false, table: res.TableName, args: []string{"plan", "-f", path},
			wantCode: 2, want: []string{revert}, wantNot: []string{"overflow active"}},
		{name: "apply with the table sends nothing", active: true, table: res.TableName, args: []string{"apply", "--auto-approve", "-f", path, "--direct"},
			wantCode: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TABLE_NAME", tc.table)
			state(tc.active)
			code, stdout, stderr := execute(t, tc.args...)
			if code != tc.wantCode {
				t.Fatalf("%v: exit %d, want %d\n%s%s", tc.args, code, tc.wantCode, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(stdout, w) {
					t.Errorf("stdout has %q:\n%s", w, stdout)
				}
			}
		})
	}
	if live, _ := s.Worktype(wtID); live["defaultQueue"].(map[string]any)["id"] != overflowID {
		t.Errorf("defaultQueue %v after apply while the overflow is active; want the overflow queue kept", live["defaultQueue"])
	}

	code, stdout, _ = execute(t, "plan", "-f", path, "--format", "json", "--table", res.TableName)
	var p drift.Plan
	if err := json.Unmarshal([]byte(stdout), &p); err != nil || code != 0 {
		t.Fatalf("plan --format json: exit %d, %v", code, err)
	}
	want := []drift.PlanOverflow{{Worktype: wt.Name, State: drift.OverflowActive, Queue: queue, OverflowQueue: overflow}}
	for i := range p.Overflow {
		p.Overflow[i].Note = ""
	}
	if diff := cmp.Diff(want, p.Overflow); diff != "" {
		t.Errorf("JSON plan overflow (-want +got):\n%s", diff)
	}
}
