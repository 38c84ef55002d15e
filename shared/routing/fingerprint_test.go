package routing

import (
	"errors"
	"testing"
)

const revalidateConfig = `apiVersion: routekeeper/v1
divisions: [Home]
skills: [{name: Motor}, {name: Claims}]
queues:
  - name: Claims Tasks
    division: Home
    acwSettings: {wrapupPrompt: MANDATORY_TIMEOUT, timeoutMs: 30000}
    mediaSettings:
      call: {alertingTimeoutSeconds: 8}
    bullseye:
      rings:
        - actions: {skillsToRemove: [Motor]}
  - name: Overflow
worktypes:
  - name: Claim
    defaultSkills: [Motor]
assignmentRules:
  - name: claims
    worktype: Claim
    queue: Claims Tasks
    priorityScore: 60
`

// TestCompileRevalidatesChangedConfig checks that Compile trusts the loader's validation
// only while the loaded config is unchanged: every change made in code, however deep,
// is validated again and reported with the loaded file's lines.
func TestCompileRevalidatesChangedConfig(t *testing.T) {
	tests := []struct {
		name     string
		change   func(c *Config)
		wantRule Rule
		wantPath string
		wantLine int // an element added in code is reported at the first file's line 1
	}{
		{"duplicate name", func(c *Config) { c.Skills[1].Name = "motor" }, RuleDuplicate, "skills[1].name", 3},
		{"unknown skill in a nested list", func(c *Config) { c.Queues[0].Bullseye.Rings[0].Actions.SkillsToRemove[0] = "Motr" }, RuleReference, "queues[0].bullseye.rings[0].actions.skillsToRemove[0]", 12},
		{"pointer set", func(c *Config) { c.Queues[1].SkillEvaluationMethod = ptr("all") }, RuleSchema, "queues[1].skillEvaluationMethod", 13},
		{"pointee changed", func(c *Config) { *c.Queues[0].AcwSettings.WrapupPrompt = "OPTIONAL" }, RuleAcw, "queues[0].acwSettings.timeoutMs", 7},
		{"number out of range", func(c *Config) { *c.Queues[0].MediaSettings.Call.AlertingTimeoutSeconds = -1 }, RuleSchema, "queues[0].mediaSettings.call.alertingTimeoutSeconds", 9},
		{"pointer cleared", func(c *Config) { c.Queues[0].Division = nil; c.Worktypes[0].DefaultPriority = ptr(1) }, RuleContradiction, "assignmentRules[0].priorityScore", 21},
		{"element appended", func(c *Config) { c.Queues = append(c.Queues, Queue{Name: "Overflow"}) }, RuleDuplicate, "queues[2].name", 1},
		{"list emptied", func(c *Config) { c.Queues = []Queue{} }, RuleReference, "assignmentRules[0].queue", 20},
		{"apiVersion cleared", func(c *Config) { c.APIVersion = "" }, RuleMerge, "apiVersion", 1},
		{"declared list changed", func(c *Config) { c.Divisions = []string{"Other"} }, RuleReference, "queues[0].division", 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("a.yaml", []byte(revalidateConfig))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !cfg.validatedSince() {
				t.Fatal("validatedSince() of a freshly parsed config = false, want true")
			}
			if _, err := Compile(cfg); err != nil {
				t.Fatalf("Compile of the unchanged config: %v", err)
			}
			tc.change(cfg)
			if cfg.validatedSince() {
				t.Fatal("validatedSince() after a change = true, want false")
			}
			_, err = Compile(cfg)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Compile after the change = %v, want a *ValidationError", err)
			}
			want := Diagnostic{Rule: tc.wantRule, Path: tc.wantPath, Line: tc.wantLine}
			found := false
			for _, d := range ve.Diagnostics {
				if d.Rule == want.Rule && d.Path == want.Path && d.Line == want.Line {
					found = true
				}
			}
			if !found {
				t.Errorf("Compile after the change: got %v, want a %s diagnostic at %s line %d", err, want.Rule, want.Path, want.Line)
			}
			if verr := cfg.Validate(); verr == nil || verr.Error() != err.Error() {
				t.Errorf("Compile's error differs from Validate's: got %v, want %v", err, verr)
			}
		})
	}
}

// TestCompileSkipsOnlyUnchanged checks the fingerprint: reverting a change restores it, and
// a config built in code is never trusted.
func TestCompileSkipsOnlyUnchanged(t *testing.T) {
	cfg, err := Parse("a.yaml", []byte(revalidateConfig))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	cfg.Queues[1].EnableTranscription = ptr(false)
	if cfg.validatedSince() {
		t.Error("validatedSince() after setting a bool = true, want false")
	}
	cfg.Queues[1].EnableTranscription = nil
	if !cfg.validatedSince() {
		t.Error("validatedSince() after reverting the change = false, want true")
	}
	cfg.Worktypes[0].DefaultSkills = cfg.Worktypes[0].DefaultSkills[:0]
	if cfg.validatedSince() {
		t.Error("validatedSince() after emptying a list = true, want false")
	}
	built := &Config{APIVersion: APIVersion, Skills: []Skill{{Name: "A"}, {Name: "a"}}}
	if built.validatedSince() {
		t.Error("validatedSince() of a config built in code = true, want false")
	}
	if _, err := Compile(built); !errors.Is(err, ErrInvalid) {
		t.Errorf("Compile of an invalid config built in code = %v, want ErrInvalid", err)
	}
	if _, err := Compile(nil); err == nil {
		t.Error("Compile(nil) = nil error, want one")
	}
}
