package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/drift"
)

func TestDiffTwoOrgsByName(t *testing.T) {
	clearGenesysEnv(t, "ROUTEKEEPER_DEV_", "ROUTEKEEPER_PROD_")
	dev := startOrg(t, "dev", sim.GenerateOptions{Queues: 40, Skills: 30, Worktypes: 8, Seed: 1})
	prod := startOrg(t, "prod", sim.GenerateOptions{Queues: 40, Skills: 30, Worktypes: 8, Seed: 2})

	code, stdout, stderr := execute(t, "diff", "--left-env", "dev", "--right-env", "prod", "--format", "json")
	if code != 2 {
		t.Fatalf("diff of two different orgs: exit %d, want 2; stderr %s", code, stderr)
	}
	var r drift.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("diff JSON does not decode: %v", err)
	}
	if r.Schema != drift.ReportSchema || r.Left != "env:dev" || r.Right != "env:prod" {
		t.Errorf("report header = %q %q %q", r.Schema, r.Left, r.Right)
	}
	// Entities present in both orgs are matched by name although their ids differ.
	matched := 0
	for _, e := range r.Entities {
		if e.Status != drift.Different {
			continue
		}
		matched++
		if e.Kind == "queue" {
			devID, _ := dev.IDByName("queue", e.Name)
			prodID, _ := prod.IDByName("queue", e.Name)
			if devID == "" || prodID == "" || devID == prodID {
				t.Errorf("queue %q: ids %q and %q, want one in each org, different", e.Name, devID, prodID)
			}
			if strings.Contains(stdout, devID) || strings.Contains(stdout, prodID) {
				t.Errorf("report mentions the org-specific id of queue %q", e.Name)
			}
		}
		for _, d := range e.Differences {
			if d.Path == "" || d.Path == "id" || strings.HasSuffix(d.Path, "dateModified") {
				t.Errorf("%s %q: difference at %q, want a modelled field path", e.Kind, e.Name, d.Path)
			}
		}
	}
	if matched == 0 || r.Summary.Same+r.Summary.Different == 0 {
		t.Errorf("no entity matched by name between the orgs: summary %+v", r.Summary)
	}

	// The same org on both sides: no drift, exit 0.
	t.Setenv("ROUTEKEEPER_PROD2_GENESYS_API_URL", getenv("ROUTEKEEPER_PROD_GENESYS_API_URL"))
	t.Setenv("ROUTEKEEPER_PROD2_GENESYS_LOGIN_URL", getenv("ROUTEKEEPER_PROD_GENESYS_LOGIN_URL"))
	t.Setenv("ROUTEKEEPER_PROD2_GENESYS_CLIENT_ID", sim.DefaultClientID)
	t.Setenv("ROUTEKEEPER_PROD2_GENESYS_CLIENT_SECRET", sim.DefaultClientSecret)
	code, stdout, _ = execute(t, "diff", "--left-env", "prod", "--right-env", "prod2")
	if code != 0 || !strings.Contains(stdout, "No differences") {
		t.Errorf("diff of one org with itself: exit %d, want 0 and No differences:\n%s", code, stdout)
	}
}

func TestDiffFileAgainstOrgAndFormats(t *testing.T) {
	clearGenesysEnv(t, "ROUTEKEEPER_PROD_")
	s := startOrg(t, "", smallOrg)
	path, cfg := exportTo(t)
	// Point the prod profile at the same org.
	for _, k := range []string{"GENESYS_API_URL", "GENESYS_LOGIN_URL", "GENESYS_CLIENT_ID", "GENESYS_CLIENT_SECRET"} {
		t.Setenv("ROUTEKEEPER_PROD_"+k, getenv(k))
	}
	if code, stdout, stderr := execute(t, "diff", path, "--right-env", "prod"); code != 0 {
		t.Fatalf("diff of an export with its org: exit %d, want 0\n%s%s", code, stdout, stderr)
	}

	q := cfg.Queues[2]
	qid, _ := s.IDByName("queue", q.Name)
	if err := s.EditQueue(qid, func(m map[string]any) { m["description"] = "edited | by *hand*" }); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		format string
		want   []string
	}{
		{"text", []string{`~ queue "` + q.Name + `"`, `description: "` + *q.Description + `" | "edited | by *hand*"`, "1 different"}},
		{"markdown", []string{"### routekeeper drift:", "| queue | " + mdText(q.Name) + " | different | 1 |", "| `description` |", `edited \| by *hand*`}},
		{"json", []string{`"status": "different"`, `"path": "description"`, `"right": "edited | by *hand*"`}},
		{"sarif", []string{`"ruleId": "field-changed"`, `"version": "2.1.0"`, `"fullyQualifiedName": "queue/` + q.Name + `#description"`, `"uri": "` + sarifURI(path) + `"`}},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			code, stdout, stderr := execute(t, "diff", path, "--right-env", "prod", "--format", tc.format)
			if code != 2 {
				t.Fatalf("diff --format %s: exit %d, want 2; stderr %s", tc.format, code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("diff --format %s lacks %q:\n%s", tc.format, w, stdout)
				}
			}
			if tc.format == "sarif" || tc.format == "json" {
				var v map[string]any
				if err := json.Unmarshal([]byte(stdout), &v); err != nil {
					t.Errorf("diff --format %s is not JSON: %v", tc.format, err)
				}
			}
		})
	}
}

func TestDiffFilesAndExitCodes(t *testing.T) {
	clearGenesysEnv(t)
	a := writeConfig(t, "a.yaml", "apiVersion: routekeeper/v1\nskills:\n  - name: English\nqueues:\n  - name: Claims\n    enableTranscription: true\n")
	b := writeConfig(t, "b.yaml", "apiVersion: routekeeper/v1\nskills:\n  - name: English\n  - name: French\nqueues:\n  - name: Claims\n    enableTranscription: false\n    description: x\n")
	tests := []struct {
		name string
		args []string
		want int
		in   string
	}{
		{"same file", []string{"diff", a, a}, 0, "No differences"},
		{"different files", []string{"diff", a, b}, 2, `> skill "French" only in`},
		{"only declared", []string{"diff", "--only-declared", a, b}, 2, "enableTranscription: true | false"},
		{"one side", []string{"diff", a}, 2, ""},
		{"three sides", []string{"diff", a, b, a}, 2, ""},
		{"unknown format", []string{"diff", a, b, "--format", "html"}, 2, ""},
		{"missing file", []string{"diff", a, a + ".nope"}, 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := execute(t, tc.args...)
			if code != tc.want {
				t.Errorf("%v: exit %d, want %d\n%s%s", tc.args, code, tc.want, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.in) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, tc.in, stdout)
			}
		})
	}
	// --only-declared hides what only the right side sets.
	_, stdout, _ := execute(t, "diff", "--only-declared", a, b)
	if strings.Contains(stdout, "French") || strings.Contains(stdout, "description") {
		t.Errorf("--only-declared reported right-only entities or fields:\n%s", stdout)
	}
}

func TestDiffFileLocations(t *testing.T) {
	clearGenesysEnv(t)
	a := writeConfig(t, "a.yaml", "apiVersion: routekeeper/v1\n"+
		"skills:\n"+
		"  - name: English\n"+ // 3
		"queues:\n"+
		"  - name: Claims\n"+ // 5
		"    enableTranscription: true\n") // 6
	b := writeConfig(t, "b.yaml", "apiVersion: routekeeper/v1\n"+
		"queues:\n"+
		"  - name: Claims\n"+ // 3
		"    enableTranscription: false\n") // 4
	tests := []struct {
		format string
		want   []string
	}{
		{"text", []string{`< skill "English" only in ` + a + `  (` + a + `:3)`,
			`~ queue "Claims"  (` + a + `:5 | ` + b + `:3)`,
			`enableTranscription: true | false  (` + a + `:6 | ` + b + `:4)`}},
		{"markdown", []string{"| Declared at |", "| queue | Claims | different | 1 | `" + a + ":5 \\| " + b + ":3` |",
			"| `enableTranscription` | `true` | `false` | `" + a + ":6 \\| " + b + ":4` |"}},
		{"json", []string{`"leftAt": {`, `"line": 6`, `"line": 4`}},
		{"sarif", []string{`"startLine": 6`, `"startLine": 3`, `"uri": "` + sarifURI(a) + `"`}},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			code, stdout, stderr := execute(t, "diff", a, b, "--format", tc.format)
			if code != 2 {
				t.Fatalf("diff --format %s: exit %d, want 2; stderr %s", tc.format, code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("diff --format %s lacks %q:\n%s", tc.format, w, stdout)
				}
			}
		})
	}
}

// TestDiffAgainstOrgAsPlan: a config against a live org compares what the config
// declares, as plan does, whichever side the config is on: after applying a queue
// declared with only a description and a division, plan and diff agree there is nothing
// to do; --all-fields shows Genesys's defaults. The text is one line per entity and
// field, with the summary once.
func TestDiffAgainstOrgAsPlan(t *testing.T) {
	clearGenesysEnv(t, "ROUTEKEEPER_DEV_")
	t.Setenv("TABLE_NAME", "")
	s := startOrg(t, "", applyOrg)
	for _, k := range []string{"GENESYS_API_URL", "GENESYS_LOGIN_URL", "GENESYS_CLIENT_ID", "GENESYS_CLIENT_SECRET"} {
		t.Setenv("ROUTEKEEPER_DEV_"+k, getenv(k))
	}
	path := writeConfig(t, "dev.yaml", "apiVersion: routekeeper/v1\nenvironment: dev\nqueues:\n"+
		"  - name: Declared Queue\n"+ // line 4
		"    description: only this\n"+ // line 5
		"    division: Home\n")
	if code, stdout, stderr := execute(t, "apply", "--auto-approve", "-f", path, "--direct"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := execute(t, "plan", "-f", path); code != planExitNone {
		t.Fatalf("plan after apply: exit %d, want %d\n%s%s", code, planExitNone, stdout, stderr)
	}
	for _, args := range [][]string{{"diff", path, "--right-env", "dev"}, {"diff", "--left-env", "dev", path}} {
		code, stdout, stderr := execute(t, args...)
		if code != 0 || !strings.Contains(stdout, "No differences") {
			t.Errorf("%v after apply: exit %d, want 0 as plan\n%s%s", args, code, stdout, stderr)
		}
	}
	code, stdout, _ := execute(t, "diff", path, "--right-env", "dev", "--all-fields")
	if code != 2 || !strings.Contains(stdout, "    mediaSettings: (absent) | {") || !strings.Contains(stdout, `> skill "`) {
		t.Errorf("diff --all-fields: exit %d, want 2 with Genesys's defaults and the org's other entities:\n%s", code, stdout)
	}

	// An edit by hand of a declared field is drift on either side, at the config's line.
	id, _ := s.IDByName("queue", "Declared Queue")
	if err := s.EditQueue(id, func(m map[string]any) { m["description"] = "by hand" }); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"diff", path, "--right-env", "dev"}, "Drift between " + path + " (left) and env:dev (right)\n\n" +
			`~ queue "Declared Queue"  (` + path + ":4)\n" +
			`    description: "only this" | "by hand"  (` + path + ":5)\n" +
			"\nDrift: 1 different, 0 only in " + path + ", 0 only in env:dev, 0 same.\n"},
		{[]string{"diff", "--left-env", "dev", path}, "Drift between env:dev (left) and " + path + " (right)\n\n" +
			`~ queue "Declared Queue"  (` + path + ":4)\n" +
			`    description: "by hand" | "only this"  (` + path + ":5)\n" +
			"\nDrift: 1 different, 0 only in env:dev, 0 only in " + path + ", 0 same.\n"},
	}
	for _, tc := range tests {
		code, stdout, stderr := execute(t, tc.args...)
		if code != 2 || stdout != tc.want {
			t.Errorf("%v: exit %d, want 2; stdout (-want +got):\n%s", tc.args, code, cmp.Diff(tc.want, stdout))
		}
		if strings.Contains(stderr, "1 different") {
			t.Errorf("%v: the summary is on stderr too: %q", tc.args, stderr)
		}
	}
	if code, _, stderr := execute(t, "diff", path, "--right-env", "dev", "--all-fields", "--only-declared"); code != 2 || !strings.Contains(stderr, "choose one") {
		t.Errorf("diff --all-fields --only-declared: exit %d, %q; want 2 and a usage error", code, stderr)
	}
}
