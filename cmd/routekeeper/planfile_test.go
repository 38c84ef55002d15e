package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSavedPlan: plan -out saves the plan with the ETags it was made against; apply
// PLANFILE applies exactly it (no question asked), and refuses, naming what moved and
// sending nothing, once the org changed since.
func TestSavedPlan(t *testing.T) {
	clearGenesysEnv(t)
	t.Setenv("TABLE_NAME", "")
	s := startOrg(t, "", applyOrg)
	path, cfg := exportEnv(t, "dev")
	desc := "from a saved plan"
	cfg.Queues[1].Description = &desc
	saveConfig(t, path, cfg)
	planFile := filepath.Join(t.TempDir(), "dev.plan")

	code, stdout, stderr := execute(t, "plan", "-f", path, "-out", planFile)
	if code != planExitChanges || !strings.Contains(stderr, "routekeeper apply "+planFile) {
		t.Fatalf("plan -out: exit %d, want %d and how to apply it\n%s%s", code, planExitChanges, stdout, stderr)
	}
	var sp savedPlan
	b, err := os.ReadFile(planFile)
	if err == nil {
		err = json.Unmarshal(b, &sp)
	}
	if err != nil || sp.Schema != savedPlanSchema || len(sp.Plan.Changes) != 1 ||
		len(sp.Observed) != len(cfg.Queues)+len(cfg.Skills)+len(cfg.Worktypes) || !strings.HasPrefix(sp.Observed[0].ETag, "sha256:") {
		t.Fatalf("saved plan: %v; schema %q, %d changes, %d observed; want %s, 1 change and every declared entity with its ETag",
			err, sp.Schema, len(sp.Plan.Changes), len(sp.Observed), savedPlanSchema)
	}

	// Someone edits another declared queue after the plan was saved.
	other := cfg.Queues[3].Name
	otherID, _ := s.IDByName("queue", other)
	if err := s.EditQueue(otherID, func(m map[string]any) { m["description"] = "edited by hand" }); err != nil {
		t.Fatal(err)
	}
	s.ResetCalls()
	code, stdout, stderr = execute(t, "apply", planFile, "--direct")
	if code != applyExitError || !strings.Contains(stderr, `queue "`+other+`" changed`) || !strings.Contains(stderr, "nothing was sent") ||
		!strings.Contains(stderr, "plan again: routekeeper plan -f "+path+" -out "+planFile) {
		t.Fatalf("apply of a stale plan: exit %d, want %d naming the moved queue\n%s%s", code, applyExitError, stdout, stderr)
	}
	for route := range s.Calls() {
		if !strings.HasPrefix(route, "GET ") && !strings.HasSuffix(route, "/query") {
			t.Errorf("apply of a stale plan called %s; want reads only", route)
		}
	}

	// Planned again, it applies: exactly the saved change, and nothing else.
	if code, stdout, stderr := execute(t, "plan", "-f", path, "-out", planFile); code != planExitChanges {
		t.Fatalf("plan -out again: exit %d\n%s%s", code, stdout, stderr)
	}
	cfg.Queues[2].Description = &desc // changed in the config after the plan: not applied
	saveConfig(t, path, cfg)
	code, stdout, stderr = execute(t, "apply", planFile, "--direct", "--format", "json")
	var lines []applyLine
	if err := json.Unmarshal([]byte(stdout), &lines); err != nil || code != 0 || len(lines) != 2 {
		t.Fatalf("apply PLANFILE: exit %d, %v, lines %s; want 0 and two changes (the description and the hand edit reverted)\n%s", code, err, stdout, stderr)
	}
	for _, q := range []struct {
		name, want string
	}{{cfg.Queues[1].Name, desc}, {other, *cfg.Queues[3].Description}} {
		id, _ := s.IDByName("queue", q.name)
		if live, _ := s.Queue(id); live["description"] != q.want {
			t.Errorf("queue %q description %v after apply PLANFILE, want %q", q.name, live["description"], q.want)
		}
	}
	id, _ := s.IDByName("queue", cfg.Queues[2].Name)
	if live, _ := s.Queue(id); live["description"] == desc {
		t.Errorf("apply PLANFILE applied a config change made after the plan")
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"apply", planFile, "-f", path, "--direct"}, "not both"},
		{[]string{"apply", planFile, "--prune", "--direct"}, "--prune is decided when the plan is made"},
		{[]string{"apply", "--direct", filepath.Join(t.TempDir(), "none.plan")}, "read plan"},
		{[]string{"apply", "--direct", path}, "is not a saved plan"},
		{[]string{"plan", "-f", path, "-out", t.TempDir()}, "is a directory"},
	} {
		if code, _, stderr := execute(t, tc.args...); code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error with %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestApplyConfirms: apply -f on a terminal shows the plan and applies only after
// "yes"; without a terminal it refuses (exit 2) unless --auto-approve, with a hint.
func TestApplyConfirms(t *testing.T) {
	clearGenesysEnv(t)
	t.Setenv("TABLE_NAME", "")
	s := startOrg(t, "", applyOrg)
	path, cfg := exportEnv(t, "dev")
	desc := "confirmed"
	cfg.Queues[1].Description = &desc
	saveConfig(t, path, cfg)
	id, _ := s.IDByName("queue", cfg.Queues[1].Name)
	description := func() any { q, _ := s.Queue(id); return q["description"] }

	code, _, stderr := execute(t, "apply", "-f", path, "--direct")
	if code != applyExitUsage || !strings.Contains(stderr, "stdin is not a terminal: pass --auto-approve") {
		t.Errorf("apply -f without a terminal: exit %d, %q; want %d and the hint", code, stderr, applyExitUsage)
	}

	for _, tc := range []struct {
		answer  string
		code    int
		applied bool
	}{
		{"no\n", applyExitError, false},
		{"y\n", applyExitError, false},
		{"yes\n", applyExitOK, true},
	} {
		master, tty := openPTY(t)
		if _, err := master.WriteString(tc.answer); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := executeIn(t, t.Context(), tty, "apply", "-f", path, "--direct")
		if code != tc.code {
			t.Errorf("answer %q: exit %d, want %d\n%s%s", tc.answer, code, tc.code, stdout, stderr)
		}
		for _, want := range []string{`~ update queue "` + cfg.Queues[1].Name + `"`, `description:`, "Only 'yes' will be accepted"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("answer %q: the plan shown lacks %q:\n%s", tc.answer, want, stderr)
			}
		}
		if got := description() == desc; got != tc.applied {
			t.Errorf("answer %q: applied %v, want %v", tc.answer, got, tc.applied)
		}
		if !tc.applied && !strings.Contains(stderr, "apply cancelled: nothing was changed") {
			t.Errorf("answer %q: stderr does not say it was cancelled:\n%s", tc.answer, stderr)
		}
	}
}
