package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/routing"
)

const (
	exampleProd    = "../../examples/routing/prod.yaml"
	exampleStaging = "../../examples/routing/staging"
)

// execute runs the CLI in-process with args, as main does (run), with an empty stdin
// that is not a terminal, and returns the exit code, stdout and stderr.
func execute(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return executeIn(t, context.Background(), strings.NewReader(""), args...)
}

// executeIn is execute with a context and a stdin.
func executeIn(t *testing.T, ctx context.Context, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(ctx, args, stdin, &out, &errOut)
	return code, out.String(), errOut.String()
}

// writeConfig writes text to a temp file and returns its path.
func writeConfig(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const invalidConfig = `apiVersion: routekeeper/v1
queues:
  - name: Claims Tasks
    skillEvaluationMethod: best
    mediaSettings:
      message: {alertingTimeoutSeconds: -1}
  - name: Claims Overflow
    colour: blue
`

func TestValidateExitCodes(t *testing.T) {
	bad := writeConfig(t, "bad.yaml", invalidConfig)
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"valid file and directory", []string{"validate", exampleProd, exampleStaging}, 0, "validate: 2 configs valid (9 skills, 8 queues, 6 worktypes, 5 assignment rules)"},
		{"invalid config", []string{"validate", exampleProd, bad}, 1, "validate: 2 configs: 1 valid, 1 invalid with 3 problems"},
		{"missing file", []string{"validate", missing}, 2, "no such file or directory"},
		{"missing file wins over invalid", []string{"validate", bad, missing}, 2, "1 invalid with 3 problems, 1 unreadable"},
		{"unknown format", []string{"validate", "--format", "xml", exampleProd}, 2, `unknown --format "xml"`},
		{"unknown flag", []string{"validate", "--strict", exampleProd}, 2, "unknown flag: --strict"},
		{"json valid", []string{"validate", "--format", "json", exampleProd}, 0, "1 config valid"},
		{"sarif invalid", []string{"validate", "--format", "sarif", bad}, 1, "1 invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := execute(t, tc.args...)
			if code != tc.wantCode {
				t.Errorf("routekeeper %v exit code = %d, want %d (stderr %q)", tc.args, code, tc.wantCode, stderr)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("routekeeper %v stderr = %q, want it to contain %q", tc.args, stderr, tc.wantStderr)
			}
		})
	}
}

func TestValidateText(t *testing.T) {
	bad := writeConfig(t, "bad.yaml", invalidConfig)
	code, stdout, _ := execute(t, "validate", bad)
	if code != 1 {
		t.Fatalf("exit code = %d, want 1", code)
	}
	want := bad + `:4:5: queues[0].skillEvaluationMethod: "best" is not allowed: use one of NONE, BEST, ALL (exact, case-sensitive)
` + bad + `:6:17: queues[0].mediaSettings.message.alertingTimeoutSeconds: -1 is below the minimum 0
` + bad + `:8:5: queues[1].colour: unknown field "colour": allowed fields are acwSettings, bullseye, conditionalGroupRouting, description, division, enableManualAssignment, enableTranscription, lastAgentRoutingMode, mediaSettings, name, routingRules, scoringMethod, skillEvaluationMethod
`
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("text output (-want +got):\n%s", diff)
	}
	if code, stdout, _ := execute(t, "validate", exampleProd); code != 0 || stdout != "" {
		t.Errorf("valid config: exit %d stdout %q, want 0 and nothing on stdout", code, stdout)
	}
}

// mixedConfig has schema problems (an enum, an unknown field, a too short name) and
// semantic ones (a duplicate name, references that do not resolve) in one document.
const mixedConfig = `apiVersion: routekeeper/v1
skills:
  - name: Alpha
  - name: alpha
queues:
  - name: Claims
    skillEvaluationMethod: best
    colour: red
    bullseye:
      rings:
        - actions: {skillsToRemove: [Nope]}
worktypes:
  - name: W
  - name: Work
    defaultQueue: Missing
`

// TestValidateReportsEverythingInOneRun: schema and semantic problems of one document
// are reported together, in file order, each at its line:column, so one run is enough.
func TestValidateReportsEverythingInOneRun(t *testing.T) {
	p := writeConfig(t, "mixed.yaml", mixedConfig)
	code, stdout, stderr := execute(t, "validate", p)
	if code != 1 || !strings.Contains(stderr, "1 invalid with 6 problems") {
		t.Errorf("validate mixed.yaml: exit %d, stderr %q; want 1 and 6 problems", code, stderr)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		at, rest, _ := strings.Cut(strings.TrimPrefix(line, p+":"), ": ")
		path, _, _ := strings.Cut(rest, ":")
		got = append(got, at+" "+path)
	}
	want := []string{
		"4:5 skills[1].name",                                          // duplicate (semantic)
		"7:5 queues[0].skillEvaluationMethod",                         // enum (schema)
		"8:5 queues[0].colour",                                        // unknown field (schema)
		"11:38 queues[0].bullseye.rings[0].actions.skillsToRemove[0]", // reference (semantic)
		"13:5 worktypes[0].name",                                      // too short (schema)
		"15:5 worktypes[1].defaultQueue",                              // reference (semantic)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("validate mixed.yaml problems (-want +got):\n%s\n%s", diff, stdout)
	}
}

func TestValidateJSON(t *testing.T) {
	bad := writeConfig(t, "bad.yaml", invalidConfig)
	code, stdout, _ := execute(t, "validate", "--format", "json", exampleProd, bad)
	if code != 1 {
		t.Fatalf("exit code = %d, want 1", code)
	}
	var got struct {
		Valid   bool
		Configs []struct {
			Path        string
			Valid       bool
			Diagnostics []routing.Diagnostic
		}
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	if got.Valid || len(got.Configs) != 2 || !got.Configs[0].Valid || got.Configs[1].Valid {
		t.Fatalf("got valid=%v configs=%+v, want overall invalid, prod valid, bad invalid", got.Valid, got.Configs)
	}
	if len(got.Configs[0].Diagnostics) != 0 {
		t.Errorf("prod diagnostics = %v, want none", got.Configs[0].Diagnostics)
	}
	want := []routing.Diagnostic{
		{File: bad, Line: 4, Column: 5, Path: "queues[0].skillEvaluationMethod", Rule: routing.RuleSchema, Message: `"best" is not allowed: use one of NONE, BEST, ALL (exact, case-sensitive)`},
		{File: bad, Line: 6, Column: 17, Path: "queues[0].mediaSettings.message.alertingTimeoutSeconds", Rule: routing.RuleSchema, Message: "-1 is below the minimum 0"},
	}
	if diff := cmp.Diff(want, got.Configs[1].Diagnostics[:2]); diff != "" {
		t.Errorf("json diagnostics (-want +got):\n%s", diff)
	}
}

func TestValidateSARIF(t *testing.T) {
	bad := writeConfig(t, "bad.yaml", invalidConfig)
	code, stdout, _ := execute(t, "validate", "--format", "sarif", bad)
	if code != 1 {
		t.Fatalf("exit code = %d, want 1", code)
	}
	// Check the structure with plain JSON, not the writer's own types.
	var got struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string `json:"id"`
						ShortDescription struct {
							Text string `json:"text"`
						} `json:"shortDescription"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID  string `json:"ruleId"`
				Level   string `json:"level"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine   int `json:"startLine"`
							StartColumn int `json:"startColumn"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	if got.Version != "2.1.0" || !strings.Contains(got.Schema, "sarif") || len(got.Runs) != 1 {
		t.Fatalf("got version %q schema %q runs %d, want 2.1.0, a sarif schema and 1 run", got.Version, got.Schema, len(got.Runs))
	}
	run := got.Runs[0]
	if run.Tool.Driver.Name != "routekeeper" {
		t.Errorf("driver name = %q, want routekeeper", run.Tool.Driver.Name)
	}
	var ruleIDs []string
	for _, r := range run.Tool.Driver.Rules {
		ruleIDs = append(ruleIDs, r.ID)
		if r.ShortDescription.Text == "" {
			t.Errorf("rule %s has no description", r.ID)
		}
	}
	var wantIDs []string
	for _, r := range routing.Rules() {
		wantIDs = append(wantIDs, string(r))
	}
	if diff := cmp.Diff(wantIDs, ruleIDs); diff != "" {
		t.Errorf("rule ids (-want +got):\n%s", diff)
	}
	if len(run.Results) != 3 {
		t.Fatalf("got %d results, want 3", len(run.Results))
	}
	r := run.Results[1]
	loc := r.Locations[0].PhysicalLocation
	if r.RuleID != "schema" || r.Level != "error" || loc.ArtifactLocation.URI != "file://"+filepath.ToSlash(bad) ||
		loc.Region.StartLine != 6 || loc.Region.StartColumn != 17 ||
		r.Message.Text != "queues[0].mediaSettings.message.alertingTimeoutSeconds: -1 is below the minimum 0" {
		t.Errorf("result[1] = %+v, want rule schema, level error, %s line 6 column 17 and the path in the message", r, bad)
	}
}

func TestValidateDefaultPath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if code, _, stderr := execute(t, "validate"); code != 2 || !strings.Contains(stderr, "./routing does not exist") {
		t.Errorf("no PATH and no ./routing: exit %d stderr %q, want 2 and a hint", code, stderr)
	}
	if err := os.Mkdir("routing", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("routing", "prod.yaml"), []byte("apiVersion: routekeeper/v1\nskills: [{name: A}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := execute(t, "validate"); code != 0 || !strings.Contains(stderr, "1 config valid (1 skills") {
		t.Errorf("no PATH with ./routing: exit %d stderr %q, want 0", code, stderr)
	}
}

func TestRunExitCodes(t *testing.T) {
	// run is what main calls: check it maps the commands' errors to the same codes.
	bad := writeConfig(t, "bad.yaml", invalidConfig)
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"validate", exampleProd}, 0},
		{[]string{"validate", bad}, 1},
		{[]string{"validate", filepath.Join(t.TempDir(), "none")}, 2},
	} {
		if got := run(context.Background(), tc.args, strings.NewReader(""), io.Discard, io.Discard); got != tc.want {
			t.Errorf("run(%v) = %d, want %d", tc.args, got, tc.want)
		}
	}
}

func TestSchemaCommand(t *testing.T) {
	code, stdout, _ := execute(t, "schema")
	if code != 0 {
		t.Fatalf("exit code = %d, want 0", code)
	}
	if stdout != string(routing.Schema()) {
		t.Errorf("schema output differs from routing.Schema()")
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || s["$id"] != routing.SchemaID {
		t.Errorf("schema output: err %v, $id %v; want JSON with $id %s", err, s["$id"], routing.SchemaID)
	}
	if code, _, _ := execute(t, "schema", "extra"); code != 2 {
		t.Errorf("schema with an argument: exit %d, want 2", code)
	}
}
