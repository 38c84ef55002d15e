package routing

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// doc builds a config document from the default sections, replaced or removed (value "")
// by overrides. Keys are written in a fixed order.
func doc(overrides map[string]string) string {
	sections := map[string]string{
		"apiVersion":  "apiVersion: routekeeper/v1",
		"environment": "environment: test",
		"skills":      "skills:\n  - name: Claims\n  - name: Motor",
		"queues":      "queues:\n  - name: Claims Tasks\n  - name: Claims Overflow",
		"worktypes":   "worktypes:\n  - name: Claim\n  - name: Motor Claim",
	}
	for k, v := range overrides {
		sections[k] = v
	}
	var b strings.Builder
	for _, k := range []string{"apiVersion", "environment", "divisions", "workbins", "skills", "queues", "worktypes", "assignmentRules", "extra"} {
		if s := sections[k]; s != "" {
			b.WriteString(s + "\n")
		}
	}
	return b.String()
}

// want is an expected diagnostic; its line is the line of the file holding "#"+mark.
type want struct {
	file string // default "a.yaml"
	mark string
	path string
	rule Rule
	msg  string // substring of the message
}

type gotDiag struct {
	File string
	Line int
	Path string
	Rule Rule
}

func lineOf(t *testing.T, files []File, file, mark string) int {
	t.Helper()
	for _, f := range files {
		if f.Name != file {
			continue
		}
		for i, l := range strings.Split(string(f.Data), "\n") {
			if strings.Contains(l, "#"+mark) {
				return i + 1
			}
		}
	}
	if mark == "" {
		return 1
	}
	t.Fatalf("marker #%s not found in %s", mark, file)
	return 0
}

func checkDiagnostics(t *testing.T, files []File, err error, wants []want) {
	t.Helper()
	if len(wants) == 0 {
		if err != nil {
			t.Fatalf("got error %v, want a valid config", err)
		}
		return
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got error %v (%T), want *ValidationError", err, err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(err, ErrInvalid) = false, want true")
	}
	var got, exp []gotDiag
	for _, d := range ve.Diagnostics {
		got = append(got, gotDiag{d.File, d.Line, d.Path, d.Rule})
	}
	for _, w := range wants {
		file := w.file
		if file == "" {
			file = "a.yaml"
		}
		exp = append(exp, gotDiag{file, lineOf(t, files, file, w.mark), w.path, w.rule})
	}
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Fatalf("diagnostics mismatch (-want +got):\n%s\nall: %v", diff, err)
	}
	for i, w := range wants {
		if !strings.Contains(ve.Diagnostics[i].Message, w.msg) {
			t.Errorf("diagnostic %d message = %q, want it to contain %q", i, ve.Diagnostics[i].Message, w.msg)
		}
	}
}

func nameList(prefix string, n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func skillList(n int) string {
	var b strings.Builder
	b.WriteString("skills:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: S%02d\n", i)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func rings(n int) string {
	return "queues:\n  - name: Claims Tasks\n    bullseye:\n      rings: #A\n" +
		strings.Repeat("        - expansionCriteria: [{type: TIMEOUT_SECONDS, threshold: 10}]\n", n) +
		"  - name: Claims Overflow"
}

func TestParse(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name  string
		files []File // when empty, one file a.yaml with text
		text  string
		want  []want
	}{
		// ----- valid documents and bounds endpoints
		{name: "minimal valid", text: doc(nil)},
		{name: "empty lists and explicit zero values", text: doc(map[string]string{
			"queues":    "queues:\n  - name: Claims Tasks\n    description: \"\"\n    routingRules: []\n    enableTranscription: false\n    mediaSettings: {call: {alertingTimeoutSeconds: 0, serviceLevel: {percentage: 0, durationMs: 0}}}\n  - name: Claims Overflow",
			"worktypes": "worktypes:\n  - name: Claim\n    defaultSkills: []\n    defaultPriority: 0\n    assignmentEnabled: false\n  - name: Motor Claim",
		})},
		{name: "bounds endpoints", text: doc(map[string]string{
			"skills": skillList(20),
			"queues": "queues:\n  - name: Claims Tasks\n    acwSettings: {wrapupPrompt: MANDATORY_TIMEOUT, timeoutMs: 1000}\n    mediaSettings: {message: {serviceLevel: {percentage: 1}}}\n" +
				"  - name: Claims Overflow\n    acwSettings: {wrapupPrompt: AGENT_REQUESTED, timeoutMs: 3600000}\n" +
				"  - name: Q3\n    acwSettings: {wrapupPrompt: MANDATORY_FORCED_TIMEOUT, timeoutMs: 60000}\n" +
				"    bullseye: {rings: [{expansionCriteria: [{type: TIMEOUT_SECONDS, threshold: 0}]}, {expansionCriteria: [{type: TIMEOUT_SECONDS, threshold: 259200}]}]}",
			"worktypes": "worktypes:\n  - name: abc\n    description: " + long(512) + "\n    defaultPriority: -25000000\n    defaultSkills: " + nameList("S", 20) + "\n" +
				"  - name: " + long(256) + "\n    defaultPriority: 25000000\n  - name: Wt3\n  - name: Wt4",
			"assignmentRules": "assignmentRules:\n  - {name: r1, worktype: Wt3, queue: Claims Tasks, priorityScore: 0, maxCapacity: 1, overflowQueue: Claims Overflow, skills: " + nameList("S", 20) + "}\n" +
				"  - {name: r2, worktype: Wt4, queue: Claims Tasks, priorityScore: 100}",
		})},
		{name: "six rings", text: doc(map[string]string{"queues": rings(6)})},
		{name: "rule agreeing with worktype values", text: doc(map[string]string{
			"worktypes":       "worktypes:\n  - name: Claim\n    defaultQueue: Claims Tasks\n    defaultSkills: [Motor, Claims]\n    defaultPriority: 22500000\n  - name: Motor Claim",
			"assignmentRules": "assignmentRules:\n  - {name: r, worktype: Claim, queue: Claims Tasks, skills: [Claims, Motor], priorityScore: 95}",
		})},
		{name: "divisions and workbins unchecked when not listed", text: doc(map[string]string{
			"queues":    "queues:\n  - name: Claims Tasks\n    division: Anything\n  - name: Claims Overflow",
			"worktypes": "worktypes:\n  - name: Claim\n    defaultWorkbin: Any Bin\n  - name: Motor Claim",
		})},
		{name: "several documents in one file", text: "apiVersion: routekeeper/v1\nskills: [{name: A}]\n---\n# only a comment\n---\nqueues: [{name: Q}]\n"},
		{name: "JSON file", text: `{"apiVersion": "routekeeper/v1", "skills": [{"name": "Claims"}]}`},
		{name: "directory config merges files", files: []File{
			{Name: "a.yaml", Data: []byte("apiVersion: routekeeper/v1\nenvironment: test\nskills: [{name: Claims}]\n")},
			{Name: "b.yaml", Data: []byte("environment: test\nqueues: [{name: Claims Tasks}]\nworktypes: [{name: Claim}]\n")},
			{Name: "c.yaml", Data: []byte("assignmentRules: [{name: r, worktype: Claim, queue: Claims Tasks, skills: [Claims]}]\n")},
		}},

		// ----- syntax
		{name: "tab indentation", text: "apiVersion: routekeeper/v1\nqueues:\n\t- name: Q #A\n",
			want: []want{{mark: "A", rule: RuleSyntax, msg: "tab"}}},
		{name: "duplicate key", text: "apiVersion: routekeeper/v1\nqueues:\n  - name: Q\n    description: a\n    description: b #A\n",
			want: []want{{mark: "A", path: "queues[0].description", rule: RuleSyntax, msg: "duplicate key \"description\" (first defined on line 4)"}}},
		{name: "merge key", text: "apiVersion: routekeeper/v1\nqueues:\n  - name: Q\n    <<: {description: a} #A\n",
			want: []want{{mark: "A", path: "queues[0]", rule: RuleSyntax, msg: "merge keys"}}},
		{name: "custom tag", text: "apiVersion: routekeeper/v1\nqueues:\n  - name: !secret Q #A\n",
			want: []want{{mark: "A", path: "queues[0].name", rule: RuleSyntax, msg: "unsupported YAML tag !secret"}}},
		{name: "not a finite number", text: "apiVersion: routekeeper/v1\nqueues:\n  - name: Q\n    mediaSettings: {call: {serviceLevel: {percentage: .nan}}} #A\n",
			want: []want{{mark: "A", path: "queues[0].mediaSettings.call.serviceLevel.percentage", rule: RuleSyntax, msg: "not a finite number"}}},
		{name: "unclosed flow sequence", text: "apiVersion: routekeeper/v1\nskills: [{name: A} #A\nqueues:\n",
			want: []want{{mark: "A", rule: RuleSyntax, msg: "invalid YAML"}}},

		// ----- schema: unknown fields, types, enums, bounds, required
		{name: "unknown top-level field", text: doc(map[string]string{"extra": "queus: [] #A"}),
			want: []want{{mark: "A", path: "queus", rule: RuleSchema, msg: "unknown field \"queus\": allowed fields are apiVersion, assignmentRules"}}},
		{name: "unknown field with suggestion", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    skill_evaluation_method: BEST #A"}),
			want: []want{{mark: "A", path: "queues[0].skill_evaluation_method", rule: RuleSchema, msg: "did you mean \"skillEvaluationMethod\""}}},
		{name: "no workitem media settings", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n  - name: R\n    mediaSettings:\n      workitem: {alertingTimeoutSeconds: 30} #A"}),
			want: []want{{mark: "A", path: "queues[1].mediaSettings.workitem", rule: RuleSchema, msg: "unknown field \"workitem\""}}},
		{name: "skillEvaluationMethod case-sensitive", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    skillEvaluationMethod: best #A"}),
			want: []want{{mark: "A", path: "queues[0].skillEvaluationMethod", rule: RuleSchema, msg: "use one of NONE, BEST, ALL"}}},
		{name: "scoringMethod enum", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    scoringMethod: Priority #A"}),
			want: []want{{mark: "A", path: "queues[0].scoringMethod", rule: RuleSchema, msg: "TimestampAndPriority, PriorityOnly"}}},
		{name: "lastAgentRoutingMode enum", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    lastAgentRoutingMode: disabled #A"}),
			want: []want{{mark: "A", path: "queues[0].lastAgentRoutingMode", rule: RuleSchema, msg: "Disabled, QueueMembersOnly, AnyAgent"}}},
		{name: "wrapupPrompt enum", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    acwSettings:\n      wrapupPrompt: Optional #A"}),
			want: []want{{mark: "A", path: "queues[0].acwSettings.wrapupPrompt", rule: RuleSchema, msg: "MANDATORY, OPTIONAL"}}},
		{name: "callback mode enum", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    mediaSettings: {callback: {mode: agentFirst}} #A"}),
			want: []want{{mark: "A", path: "queues[0].mediaSettings.callback.mode", rule: RuleSchema}}},
		{name: "alertingTimeoutSeconds below minimum", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n  - name: R\n  - name: S\n  - name: T\n    mediaSettings:\n      message:\n        alertingTimeoutSeconds: -5 #A"}),
			want: []want{{mark: "A", path: "queues[3].mediaSettings.message.alertingTimeoutSeconds", rule: RuleSchema, msg: "-5 is below the minimum 0"}}},
		{name: "serviceLevel percentage above 1", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    mediaSettings:\n      chat:\n        serviceLevel: {percentage: 1.5, durationMs: 20000} #A"}),
			want: []want{{mark: "A", path: "queues[0].mediaSettings.chat.serviceLevel.percentage", rule: RuleSchema, msg: "1.5 is above the maximum 1"}}},
		{name: "serviceLevel percentage below 0", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    mediaSettings: {email: {serviceLevel: {percentage: -0.1}}} #A"}),
			want: []want{{mark: "A", path: "queues[0].mediaSettings.email.serviceLevel.percentage", rule: RuleSchema, msg: "below the minimum 0"}}},
		{name: "acw timeoutMs below 1 s", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    acwSettings:\n      wrapupPrompt: MANDATORY_TIMEOUT\n      timeoutMs: 999 #A"}),
			want: []want{{mark: "A", path: "queues[0].acwSettings.timeoutMs", rule: RuleSchema, msg: "999 is below the minimum 1000"}}},
		{name: "acw timeoutMs above 60 min", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    acwSettings:\n      wrapupPrompt: MANDATORY_TIMEOUT\n      timeoutMs: 3600001 #A"}),
			want: []want{{mark: "A", path: "queues[0].acwSettings.timeoutMs", rule: RuleSchema, msg: "above the maximum 3600000"}}},
		{name: "bullseye no ring", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    bullseye:\n      rings: [] #A"}),
			want: []want{{mark: "A", path: "queues[0].bullseye.rings", rule: RuleSchema, msg: "too few items: 0, want at least 1"}}},
		{name: "bullseye seven rings", text: doc(map[string]string{"queues": rings(7)}),
			want: []want{{mark: "A", path: "queues[0].bullseye.rings", rule: RuleSchema, msg: "too many items: 7, want at most 6"}}},
		{name: "bullseye timeout above 259200", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    bullseye:\n      rings:\n        - expansionCriteria: [{type: TIMEOUT_SECONDS, threshold: 10}]\n        - expansionCriteria: [{type: TIMEOUT_SECONDS, threshold: 259201}] #A"}),
			want: []want{{mark: "A", path: "queues[0].bullseye.rings[1].expansionCriteria[0].threshold", rule: RuleSchema, msg: "above the maximum 259200"}}},
		{name: "bullseye negative timeout and wrong type", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    bullseye:\n      rings:\n        - expansionCriteria: [{type: TIMEOUT_SECONDS, threshold: -1}] #A\n        - expansionCriteria: [{type: timeout, threshold: 1}] #B"}),
			want: []want{
				{mark: "A", path: "queues[0].bullseye.rings[0].expansionCriteria[0].threshold", rule: RuleSchema, msg: "below the minimum 0"},
				{mark: "B", path: "queues[0].bullseye.rings[1].expansionCriteria[0].type", rule: RuleSchema, msg: "TIMEOUT_SECONDS"},
			}},
		{name: "worktype name too short", text: doc(map[string]string{"worktypes": "worktypes:\n  - name: ab #A"}),
			want: []want{{mark: "A", path: "worktypes[0].name", rule: RuleSchema, msg: "too short: 2 characters, want at least 3"}}},
		{name: "worktype name too long", text: doc(map[string]string{"worktypes": "worktypes:\n  - name: " + long(257) + " #A"}),
			want: []want{{mark: "A", path: "worktypes[0].name", rule: RuleSchema, msg: "too long: 257 characters, want at most 256"}}},
		{name: "worktype description too long", text: doc(map[string]string{"worktypes": "worktypes:\n  - name: Claim\n    description: " + long(513) + " #A"}),
			want: []want{{mark: "A", path: "worktypes[0].description", rule: RuleSchema, msg: "want at most 512"}}},
		{name: "defaultPriority out of range", text: doc(map[string]string{"worktypes": "worktypes:\n  - name: Claim\n    defaultPriority: 25000001 #A\n  - name: Motor Claim\n    defaultPriority: -25000001 #B"}),
			want: []want{
				{mark: "A", path: "worktypes[0].defaultPriority", rule: RuleSchema, msg: "25000001 is above the maximum 25000000"},
				{mark: "B", path: "worktypes[1].defaultPriority", rule: RuleSchema, msg: "-25000001 is below the minimum -25000000"},
			}},
		{name: "defaultSkills at most 20", text: doc(map[string]string{"skills": skillList(21), "worktypes": "worktypes:\n  - name: Claim\n    defaultSkills: " + nameList("S", 21) + " #A"}),
			want: []want{{mark: "A", path: "worktypes[0].defaultSkills", rule: RuleSchema, msg: "too many items: 21, want at most 20"}}},
		{name: "rule skills at most 20 and unique", text: doc(map[string]string{"skills": skillList(21), "assignmentRules": "assignmentRules:\n  - name: r\n    worktype: Claim\n    queue: Claims Tasks\n    skills: " + nameList("S", 21) + " #A\n  - name: s\n    worktype: Motor Claim\n    queue: Claims Tasks\n    skills: [S01, S01] #B"}),
			want: []want{
				{mark: "A", path: "assignmentRules[0].skills", rule: RuleSchema, msg: "want at most 20"},
				{mark: "B", path: "assignmentRules[1].skills", rule: RuleSchema, msg: "items [0] and [1] are equal"},
			}},
		{name: "priorityScore out of range", text: doc(map[string]string{"assignmentRules": "assignmentRules:\n  - {name: r, worktype: Claim, queue: Claims Tasks, priorityScore: 101} #A\n  - name: s\n    worktype: Motor Claim\n    queue: Claims Tasks\n    priorityScore: -1 #B"}),
			want: []want{
				{mark: "A", path: "assignmentRules[0].priorityScore", rule: RuleSchema, msg: "101 is above the maximum 100"},
				{mark: "B", path: "assignmentRules[1].priorityScore", rule: RuleSchema, msg: "-1 is below the minimum 0"},
			}},
		{name: "priorityScore must be an integer", text: doc(map[string]string{"assignmentRules": "assignmentRules:\n  - name: r\n    worktype: Claim\n    queue: Claims Tasks\n    priorityScore: 9.5 #A"}),
			want: []want{{mark: "A", path: "assignmentRules[0].priorityScore", rule: RuleSchema, msg: "wrong type: got number, want integer"}}},
		{name: "maxCapacity at least 1", text: doc(map[string]string{"assignmentRules": "assignmentRules:\n  - name: r\n    worktype: Claim\n    queue: Claims Tasks\n    maxCapacity: 0 #A\n    overflowQueue: Claims Overflow"}),
			want: []want{{mark: "A", path: "assignmentRules[0].maxCapacity", rule: RuleSchema, msg: "0 is below the minimum 1"}}},
		{name: "empty name", text: doc(map[string]string{"queues": "queues:\n  - name: \"\" #A"}),
			want: []want{{mark: "A", path: "queues[0].name", rule: RuleSchema, msg: "too short: 0 characters"}}},
		{name: "missing name and rule fields", text: doc(map[string]string{"queues": "queues:\n  - description: no name #A", "assignmentRules": "assignmentRules:\n  - name: r #B"}),
			want: []want{
				{mark: "A", path: "queues[0]", rule: RuleSchema, msg: "missing required field \"name\""},
				{mark: "B", path: "assignmentRules[0]", rule: RuleSchema, msg: "missing required field \"worktype\""},
				{mark: "B", path: "assignmentRules[0]", rule: RuleSchema, msg: "missing required field \"queue\""},
			}},
		{name: "quoted number is a string", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    mediaSettings: {call: {alertingTimeoutSeconds: \"30\"}} #A"}),
			want: []want{{mark: "A", path: "queues[0].mediaSettings.call.alertingTimeoutSeconds", rule: RuleSchema, msg: "got string, want integer"}}},
		{name: "yes is not a boolean", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    enableTranscription: yes #A"}),
			want: []want{{mark: "A", path: "queues[0].enableTranscription", rule: RuleSchema, msg: "got string, want boolean"}}},
		{name: "wrong apiVersion", text: doc(map[string]string{"apiVersion": "apiVersion: routekeeper/v2 #A"}),
			want: []want{{mark: "A", path: "apiVersion", rule: RuleSchema, msg: "\"routekeeper/v2\" is not allowed: use one of routekeeper/v1"}}},
		{name: "environment pattern", text: doc(map[string]string{"environment": "environment: Prod EU #A"}),
			want: []want{{mark: "A", path: "environment", rule: RuleSchema, msg: "does not match the pattern"}}},
		{name: "document is not a mapping", text: "- apiVersion: routekeeper/v1 #A\n",
			want: []want{{mark: "A", rule: RuleSchema, msg: "wrong type: got array, want object"}}},
		{name: "many schema errors in one run", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    scoringMethod: x #A\n  - name: R\n    colour: blue #B", "worktypes": "worktypes:\n  - name: W #C"}),
			want: []want{
				{mark: "A", path: "queues[0].scoringMethod", rule: RuleSchema},
				{mark: "B", path: "queues[1].colour", rule: RuleSchema},
				{mark: "C", path: "worktypes[0].name", rule: RuleSchema},
			}},

		// ----- merge
		{name: "environments disagree across files", files: []File{
			{Name: "a.yaml", Data: []byte("apiVersion: routekeeper/v1\nenvironment: prod\n")},
			{Name: "b.yaml", Data: []byte("environment: dev #A\nskills: [{name: S}]\n")},
		}, want: []want{{file: "b.yaml", mark: "A", path: "environment", rule: RuleMerge, msg: "environment \"dev\" differs from \"prod\" at a.yaml:2"}}},
		{name: "no apiVersion", text: doc(map[string]string{"apiVersion": "", "environment": "environment: test #A"}),
			want: []want{{mark: "A", path: "apiVersion", rule: RuleMerge, msg: "apiVersion is missing"}}},

		// ----- names
		{name: "names differing only by a trailing space are distinct", text: doc(map[string]string{"skills": "skills:\n  - name: \"Claims \"\n  - name: Claims\n  - name: \" claims\"\n  - name: CLAIMS #A"}),
			want: []want{{mark: "A", path: "skills[3].name", rule: RuleDuplicate, msg: "skill \"CLAIMS\" is already declared"}}},
		{name: "blank name", text: doc(map[string]string{"queues": "queues:\n  - name: \"  \" #A"}),
			want: []want{{mark: "A", path: "queues[0].name", rule: RuleName, msg: "queue name is blank"}}},

		// ----- duplicates
		{name: "duplicate queue, case-insensitive", text: doc(map[string]string{"queues": "queues:\n  - name: Claims Tasks\n  - name: claims tasks #A"}),
			want: []want{{mark: "A", path: "queues[1].name", rule: RuleDuplicate, msg: "queue \"claims tasks\" is already declared at a.yaml:"}}},
		{name: "duplicate skill, worktype, rule and division", text: doc(map[string]string{
			"divisions":       "divisions: [Home, home] #D",
			"skills":          "skills:\n  - name: Claims\n  - name: Claims #A",
			"worktypes":       "worktypes:\n  - name: Claim\n  - name: Claim #B",
			"assignmentRules": "assignmentRules:\n  - {name: r, worktype: Claim, queue: Claims Tasks}\n  - {name: r, worktype: Claim, queue: Claims Tasks} #C",
		}), want: []want{
			{mark: "D", path: "divisions[1]", rule: RuleDuplicate},
			{mark: "A", path: "skills[1].name", rule: RuleDuplicate},
			{mark: "B", path: "worktypes[1].name", rule: RuleDuplicate},
			{mark: "C", path: "assignmentRules[1].name", rule: RuleDuplicate},
			{mark: "C", path: "assignmentRules[1].worktype", rule: RuleRulePerType},
		}},
		{name: "duplicate across files", files: []File{
			{Name: "a.yaml", Data: []byte("apiVersion: routekeeper/v1\nqueues:\n  - name: Claims Tasks\n")},
			{Name: "b.yaml", Data: []byte("queues:\n  - name: Other\n  - name: Claims Tasks #A\n")},
		}, want: []want{{file: "b.yaml", mark: "A", path: "queues[1].name", rule: RuleDuplicate, msg: "already declared at a.yaml:3 (queues[0].name)"}}},

		// ----- references
		{name: "worktype references", text: doc(map[string]string{"worktypes": "worktypes:\n  - name: Claim\n    defaultQueue: Claim Tasks #A\n    defaultSkills: [Claims, Fraud] #B"}),
			want: []want{
				{mark: "A", path: "worktypes[0].defaultQueue", rule: RuleReference, msg: "queue \"Claim Tasks\" is not declared in this config"},
				{mark: "B", path: "worktypes[0].defaultSkills[1]", rule: RuleReference, msg: "skill \"Fraud\""},
			}},
		{name: "reference differs in case", text: doc(map[string]string{"worktypes": "worktypes:\n  - name: Claim\n    defaultQueue: claims tasks #A"}),
			want: []want{{mark: "A", path: "worktypes[0].defaultQueue", rule: RuleReference, msg: "did you mean \"Claims Tasks\"? (names are case-sensitive)"}}},
		{name: "rule references", text: doc(map[string]string{"assignmentRules": "assignmentRules:\n  - name: r\n    worktype: Claims #A\n    queue: Nowhere #B\n    skills:\n      - Claims\n      - Nope #C\n    maxCapacity: 5\n    overflowQueue: Gone #D"}),
			want: []want{
				{mark: "A", path: "assignmentRules[0].worktype", rule: RuleReference, msg: "worktype \"Claims\""},
				{mark: "B", path: "assignmentRules[0].queue", rule: RuleReference},
				{mark: "C", path: "assignmentRules[0].skills[1]", rule: RuleReference},
				{mark: "D", path: "assignmentRules[0].overflowQueue", rule: RuleReference},
			}},
		{name: "references by id are not checked offline", text: doc(map[string]string{
			"divisions":       "divisions: [Home]",
			"workbins":        "workbins: []",
			"queues":          "queues:\n  - name: Claims Tasks\n    division: id:div-1\n    bullseye:\n      rings:\n        - actions: {skillsToRemove: [id:sk-1]}\n        - {}\n  - name: Claims Overflow",
			"worktypes":       "worktypes:\n  - name: Claim\n    defaultWorkbin: id:wb-1\n    defaultQueue: id:q-1\n    defaultSkills: [Claims, id:sk-2]\n  - name: Motor Claim",
			"assignmentRules": "assignmentRules:\n  - {name: r, worktype: Motor Claim, queue: id:q-2, skills: [id:sk-3], maxCapacity: 3, overflowQueue: id:q-3}",
		})},
		{name: "an assignment rule's worktype is declared, not an id", text: doc(map[string]string{"assignmentRules": "assignmentRules:\n  - {name: r, worktype: id:wt-1, queue: Claims Tasks} #A\n  - {name: s, worktype: \"id:\", queue: Claims Tasks} #B"}),
			want: []want{
				{mark: "A", path: "assignmentRules[0].worktype", rule: RuleReference, msg: "an assignment rule routes a worktype the config declares"},
				{mark: "B", path: "assignmentRules[1].worktype", rule: RuleReference, msg: "worktype \"id:\" is not declared in this config"},
			}},
		{name: "bullseye and conditional group routing references", text: doc(map[string]string{"queues": "queues:\n  - name: Claims Tasks\n    bullseye:\n      rings:\n        - expansionCriteria: [{type: TIMEOUT_SECONDS, threshold: 10}]\n        - actions: {skillsToRemove: [Claims, Ghost]} #A\n    conditionalGroupRouting:\n      rules:\n        - {queue: Elsewhere, metric: ServiceLevel, operator: LessThan, conditionValue: 0.5, groups: [{name: T, type: TEAM}]} #B"}),
			want: []want{
				{mark: "A", path: "queues[0].bullseye.rings[1].actions.skillsToRemove[1]", rule: RuleReference, msg: "skill \"Ghost\""},
				{mark: "B", path: "queues[0].conditionalGroupRouting.rules[0].queue", rule: RuleReference, msg: "queue \"Elsewhere\""},
			}},
		{name: "divisions and workbins checked when listed", text: doc(map[string]string{
			"divisions": "divisions: [Home]",
			"workbins":  "workbins: [Claims Bin]",
			"queues":    "queues:\n  - name: Claims Tasks\n    division: Claims #A",
			"worktypes": "worktypes:\n  - name: Claim\n    division: Home\n    defaultWorkbin: Claim Bin #B",
		}), want: []want{
			{mark: "A", path: "queues[0].division", rule: RuleReference, msg: "division \"Claims\" is not declared in this config: declare it under divisions"},
			{mark: "B", path: "worktypes[0].defaultWorkbin", rule: RuleReference, msg: "workbin \"Claim Bin\""},
		}},
		{name: "empty divisions and workbins lists are present: nothing resolves", text: doc(map[string]string{
			"divisions": "divisions: []",
			"workbins":  "workbins: []",
			"queues":    "queues:\n  - name: Claims Tasks\n    division: Home #A",
			"worktypes": "worktypes:\n  - name: Claim\n    defaultWorkbin: Claims Bin #B",
		}), want: []want{
			{mark: "A", path: "queues[0].division", rule: RuleReference, msg: "division \"Home\""},
			{mark: "B", path: "worktypes[0].defaultWorkbin", rule: RuleReference, msg: "workbin \"Claims Bin\""},
		}},

		// ----- acw
		{name: "acw timeout with a prompt that has no timeout", text: doc(map[string]string{"queues": "queues:\n  - name: Q\n    acwSettings:\n      wrapupPrompt: OPTIONAL\n      timeoutMs: 60000 #A\n  - name: R\n    acwSettings: {timeoutMs: 60000}"}),
			want: []want{
				{mark: "A", path: "queues[0].acwSettings.timeoutMs", rule: RuleAcw, msg: "not OPTIONAL"},
			}},

		// ----- overflow
		{name: "overflow pairing and own queue", text: doc(map[string]string{"assignmentRules": "assignmentRules:\n" +
			"  - {name: a, worktype: Claim, queue: Claims Tasks, maxCapacity: 5, overflowQueue: Claims Tasks} #A\n" +
			"  - {name: b, worktype: Motor Claim, queue: Claims Tasks, overflowQueue: Claims Overflow} #B"}),
			want: []want{
				{mark: "A", path: "assignmentRules[0].overflowQueue", rule: RuleOverflow, msg: "is the rule's own queue"},
				{mark: "B", path: "assignmentRules[1].overflowQueue", rule: RuleOverflow, msg: "overflowQueue needs maxCapacity"},
			}},
		{name: "hysteresis without an overflow", text: doc(map[string]string{"assignmentRules": "assignmentRules:\n  - name: a\n    worktype: Claim\n    queue: Claims Tasks\n    overflowAfter: 3 #A\n    resumeBelow: 2 #B\n    resumeAfter: 4 #C\n    minDwellSeconds: 60 #D"}),
			want: []want{
				{mark: "A", path: "assignmentRules[0].overflowAfter", rule: RuleOverflow, msg: "overflowAfter tunes the overflow, but the rule has no overflowQueue"},
				{mark: "B", path: "assignmentRules[0].resumeBelow", rule: RuleOverflow, msg: "resumeBelow tunes the overflow"},
				{mark: "C", path: "assignmentRules[0].resumeAfter", rule: RuleOverflow, msg: "resumeAfter tunes the overflow"},
				{mark: "D", path: "assignmentRules[0].minDwellSeconds", rule: RuleOverflow, msg: "minDwellSeconds tunes the overflow"},
			}},
		{name: "resumeBelow not below maxCapacity", text: doc(map[string]string{"assignmentRules": "assignmentRules:\n" +
			"  - {name: a, worktype: Claim, queue: Claims Tasks, maxCapacity: 10, overflowQueue: Claims Overflow, resumeBelow: 10} #A\n" +
			"  - {name: b, worktype: Motor Claim, queue: Claims Tasks, maxCapacity: 10, overflowQueue: Claims Overflow, resumeBelow: 9}"}),
			want: []want{{mark: "A", path: "assignmentRules[0].resumeBelow", rule: RuleOverflow, msg: "resumeBelow 10 is not below maxCapacity 10: tasks would go back to the queue while it is still at capacity; set resumeBelow to at most 9, or leave it out (default 80 % of maxCapacity: 8)"}}},
		{name: "hysteresis bounds", text: doc(map[string]string{"assignmentRules": "assignmentRules:\n  - name: a\n    worktype: Claim\n    queue: Claims Tasks\n    maxCapacity: 10\n    overflowQueue: Claims Overflow\n    overflowAfter: 0 #A\n    resumeAfter: 1441 #B\n    minDwellSeconds: -1 #C\n    resumeBelow: -1 #D"}),
			want: []want{
				{mark: "A", path: "assignmentRules[0].overflowAfter", rule: RuleSchema, msg: "0 is below the minimum 1"},
				{mark: "B", path: "assignmentRules[0].resumeAfter", rule: RuleSchema, msg: "1441 is above the maximum 1440"},
				{mark: "C", path: "assignmentRules[0].minDwellSeconds", rule: RuleSchema, msg: "-1 is below the minimum 0"},
				{mark: "D", path: "assignmentRules[0].resumeBelow", rule: RuleSchema, msg: "-1 is below the minimum 0"},
			}},
		{name: "maxCapacity without overflowQueue", text: doc(map[string]string{"assignmentRules": "assignmentRules:\n  - name: a\n    worktype: Claim\n    queue: Claims Tasks\n    maxCapacity: 5 #A"}),
			want: []want{{mark: "A", path: "assignmentRules[0].maxCapacity", rule: RuleOverflow, msg: "maxCapacity needs overflowQueue"}}},

		// ----- one rule per worktype
		{name: "two rules for one worktype", text: doc(map[string]string{"assignmentRules": "assignmentRules:\n  - {name: a, worktype: Claim, queue: Claims Tasks}\n  - name: b\n    worktype: Claim #A\n    queue: Claims Overflow"}),
			want: []want{{mark: "A", path: "assignmentRules[1].worktype", rule: RuleRulePerType, msg: "already has assignment rule \"a\" (a.yaml:"}}},

		// ----- contradictions
		{name: "rule contradicts worktype", text: doc(map[string]string{
			"worktypes":       "worktypes:\n  - name: Claim\n    defaultQueue: Claims Overflow\n    defaultSkills: [Motor]\n    defaultPriority: 1000",
			"assignmentRules": "assignmentRules:\n  - name: r\n    worktype: Claim\n    queue: Claims Tasks #A\n    skills: [Claims] #B\n    priorityScore: 50 #C",
		}), want: []want{
			{mark: "A", path: "assignmentRules[0].queue", rule: RuleContradiction, msg: "contradicts defaultQueue \"Claims Overflow\" set on worktype \"Claim\" (a.yaml:"},
			{mark: "B", path: "assignmentRules[0].skills", rule: RuleContradiction, msg: "contradict defaultSkills [Motor]"},
			{mark: "C", path: "assignmentRules[0].priorityScore", rule: RuleContradiction, msg: "priorityScore 50 means defaultPriority 0"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := tc.files
			if len(files) == 0 {
				files = []File{{Name: "a.yaml", Data: []byte(tc.text)}}
			}
			cfg, err := ParseFiles(files)
			checkDiagnostics(t, files, err, tc.want)
			if err == nil {
				// A loaded config is valid and compiles.
				if err := cfg.Validate(); err != nil {
					t.Errorf("Validate of a loaded config: %v", err)
				}
				if _, err := Compile(cfg); err != nil {
					t.Errorf("Compile of a loaded config: %v", err)
				}
			}
		})
	}
}

func TestExamplesValidate(t *testing.T) {
	for _, p := range []string{"../../examples/routing/prod.yaml", "../../examples/routing/staging"} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			cfg, err := Load(p)
			if err != nil {
				t.Fatalf("Load(%s): %v", p, err)
			}
			d, err := Compile(cfg)
			if err != nil {
				t.Fatalf("Compile(%s): %v", p, err)
			}
			if len(d.Queues) < 2 || len(d.Worktypes) < 2 || len(d.Skills) < 2 || len(d.Overflow) < 1 {
				t.Errorf("example %s is too small: %d queues, %d worktypes, %d skills, %d overflow rules", p, len(d.Queues), len(d.Worktypes), len(d.Skills), len(d.Overflow))
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "missing.yaml"), empty} {
		_, err := Load(p)
		if err == nil || errors.Is(err, ErrInvalid) {
			t.Errorf("Load(%s) = %v, want an I/O error that is not ErrInvalid", p, err)
		}
	}
}

func TestDiagnosticsOfConfigBuiltInCode(t *testing.T) {
	cfg := &Config{APIVersion: APIVersion, Queues: []Queue{{Name: "Q", AcwSettings: &AcwSettings{WrapupPrompt: ptr("MANDATORY"), TimeoutMs: ptr(10)}}},
		AssignmentRules: []AssignmentRule{{Name: "r", Worktype: "W", Queue: "Q"}}}
	err := cfg.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want *ValidationError", err)
	}
	got := ve.Diagnostics
	want := []Diagnostic{{Path: "queues[0].acwSettings.timeoutMs", Rule: RuleSchema, Message: "10 is below the minimum 1000"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("schema diagnostics (-want +got):\n%s", diff)
	}
	cfg.Queues[0].AcwSettings.TimeoutMs = ptr(1000)
	err = cfg.Validate()
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want *ValidationError", err)
	}
	want = []Diagnostic{
		{Path: "assignmentRules[0].worktype", Rule: RuleReference, Message: `worktype "W" is not declared in this config: declare it under worktypes or fix the name`},
		{Path: "queues[0].acwSettings.timeoutMs", Rule: RuleAcw, Message: "timeoutMs is only allowed with wrapupPrompt AGENT_REQUESTED, MANDATORY_TIMEOUT, MANDATORY_FORCED_TIMEOUT, not MANDATORY: remove timeoutMs or change the prompt"},
	}
	if diff := cmp.Diff(want, ve.Diagnostics); diff != "" {
		t.Errorf("semantic diagnostics (-want +got):\n%s", diff)
	}
}
