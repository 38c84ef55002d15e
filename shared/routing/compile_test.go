package routing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/entity"
)

func TestPriorityFromScore(t *testing.T) {
	tests := []struct{ score, want int }{
		{0, MinPriority}, {1, -24_500_000}, {50, 0}, {95, 22_500_000}, {100, MaxPriority},
		{-10, MinPriority}, {150, MaxPriority}, // clamped
	}
	for _, tc := range tests {
		if got := PriorityFromScore(tc.score); got != tc.want {
			t.Errorf("PriorityFromScore(%d) = %d, want %d", tc.score, got, tc.want)
		}
	}
	for s := 1; s <= 100; s++ {
		if PriorityFromScore(s) <= PriorityFromScore(s-1) {
			t.Fatalf("PriorityFromScore not strictly increasing at %d: %d <= %d", s, PriorityFromScore(s), PriorityFromScore(s-1))
		}
		if got, exact := ScoreFromPriority(PriorityFromScore(s)); got != s || !exact {
			t.Fatalf("ScoreFromPriority(PriorityFromScore(%d)) = %d, %v; want %d, true", s, got, exact, s)
		}
	}
}

func TestScoreFromPriority(t *testing.T) {
	tests := []struct {
		p         int
		score     int
		wantExact bool
	}{
		{MinPriority, 0, true}, {MaxPriority, 100, true}, {0, 50, true},
		{1, 50, false}, {249_999, 50, false}, {250_001, 51, false},
		{MinPriority - 1, 0, false}, {MaxPriority + 1, 100, false},
	}
	for _, tc := range tests {
		got, exact := ScoreFromPriority(tc.p)
		if got != tc.score || exact != tc.wantExact {
			t.Errorf("ScoreFromPriority(%d) = %d, %v; want %d, %v", tc.p, got, exact, tc.score, tc.wantExact)
		}
	}
}

func TestCompile(t *testing.T) {
	cfg, err := Parse("a.yaml", []byte(`apiVersion: routekeeper/v1
environment: prod
skills: [{name: Motor}, {name: Claims}]
queues:
  - name: Overflow
  - name: Claims Tasks
    enableTranscription: false
worktypes:
  - name: Motor Claim
    description: kept as declared
  - name: Claim
    defaultQueue: Claims Tasks
    assignmentEnabled: true
  - name: Untouched
assignmentRules:
  - name: claims
    worktype: Claim
    queue: Claims Tasks
    skills: [Motor, Claims]
    priorityScore: 0
    maxCapacity: 10
    overflowQueue: Overflow
  - name: motor
    worktype: Motor Claim
    queue: Overflow
`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := &Desired{
		APIVersion:  APIVersion,
		Environment: "prod",
		Skills:      []Skill{{Name: "Claims"}, {Name: "Motor"}},
		Queues:      []Queue{{Name: "Claims Tasks", EnableTranscription: ptr(false)}, {Name: "Overflow"}},
		Worktypes: []Worktype{
			{Name: "Claim", DefaultQueue: ptr("Claims Tasks"), DefaultSkills: []string{"Claims", "Motor"}, DefaultPriority: ptr(MinPriority), AssignmentEnabled: ptr(true)},
			{Name: "Motor Claim", Description: ptr("kept as declared"), DefaultQueue: ptr("Overflow")},
			{Name: "Untouched"},
		},
		Overflow: []Overflow{{Rule: "claims", Worktype: "Claim", Queue: "Claims Tasks", OverflowQueue: "Overflow", MaxCapacity: 10, PriorityScore: ptr(0),
			OverflowAfter: DefaultOverflowAfter, ResumeBelow: 8, ResumeAfter: DefaultResumeAfter, MinDwellSeconds: DefaultMinDwellSeconds}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Compile (-want +got):\n%s", diff)
	}
	// The spec JSON is exactly the managed fields: explicit false and 0-score priority kept,
	// absent fields absent.
	wt, ok := got.Entity(entity.Worktype, "Claim")
	if !ok {
		t.Fatal("Entity(worktype, Claim) not found")
	}
	raw, _ := json.Marshal(wt.Spec)
	if w := `{"name":"Claim","defaultQueue":"Claims Tasks","defaultSkills":["Claims","Motor"],"defaultPriority":-25000000,"assignmentEnabled":true}`; string(raw) != w {
		t.Errorf("json of worktype spec = %s, want %s", raw, w)
	}
	q, _ := got.Entity(entity.Queue, "Claims Tasks")
	if raw, _ := json.Marshal(q.Spec); string(raw) != `{"name":"Claims Tasks","enableTranscription":false}` {
		t.Errorf("json of queue spec = %s", raw)
	}
	if _, ok := got.Entity(entity.Queue, "Nope"); ok {
		t.Error("Entity(queue, Nope) found, want not found")
	}
	var keys []string
	for _, e := range got.Entities() {
		keys = append(keys, string(e.Kind)+"/"+e.Name)
	}
	wantKeys := []string{"skill/Claims", "skill/Motor", "queue/Claims Tasks", "queue/Overflow", "worktype/Claim", "worktype/Motor Claim", "worktype/Untouched"}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("Entities keys (-want +got):\n%s", diff)
	}
	// Compile does not modify its input.
	if cfg.Worktypes[1].DefaultSkills != nil || cfg.Skills[0].Name != "Motor" {
		t.Errorf("Compile modified its input: %+v", cfg)
	}
}

func TestCompileRejectsInvalid(t *testing.T) {
	cfg := &Config{APIVersion: APIVersion, Worktypes: []Worktype{{Name: "Claim", DefaultPriority: ptr(1)}},
		Queues:          []Queue{{Name: "Q"}},
		AssignmentRules: []AssignmentRule{{Name: "r", Worktype: "Claim", Queue: "Q", PriorityScore: ptr(50)}}}
	_, err := Compile(cfg)
	var ve *ValidationError
	if !asValidation(err, &ve) || len(ve.Diagnostics) != 1 || ve.Diagnostics[0].Rule != RuleContradiction || ve.Diagnostics[0].Path != "assignmentRules[0].priorityScore" {
		t.Fatalf("Compile = %v, want one contradiction at assignmentRules[0].priorityScore", err)
	}
}

func asValidation(err error, ve **ValidationError) bool {
	v, ok := err.(*ValidationError)
	*ve = v
	return ok
}

func TestMarshalDeterministicRoundTrip(t *testing.T) {
	for _, p := range []string{"../../examples/routing/prod.yaml", "../../examples/routing/staging"} {
		t.Run(p, func(t *testing.T) {
			cfg, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			y1, err := MarshalYAML(cfg)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse("export.yaml", y1)
			if err != nil {
				t.Fatalf("Parse(MarshalYAML(cfg)): %v\n%s", err, y1)
			}
			if diff := cmp.Diff(Canonical(cfg), Canonical(back), cmp.AllowUnexported(Config{}), cmpIgnoreSource); diff != "" {
				t.Errorf("round trip changed the config (-before +after):\n%s", diff)
			}
			y2, _ := MarshalYAML(back)
			if !bytes.Equal(y1, y2) {
				t.Errorf("MarshalYAML is not stable:\nfirst:\n%s\nsecond:\n%s", y1, y2)
			}
			// Entity order in the input does not change the output.
			shuffled := Canonical(cfg)
			reverse(shuffled.Queues)
			reverse(shuffled.Skills)
			if y3, _ := MarshalYAML(shuffled); !bytes.Equal(y1, y3) {
				t.Errorf("MarshalYAML depends on input order")
			}
			j1, _ := MarshalJSON(cfg)
			j2, _ := MarshalJSON(shuffled)
			if !bytes.Equal(j1, j2) || !json.Valid(j1) {
				t.Errorf("MarshalJSON not deterministic or not valid JSON")
			}
			if _, err := Parse("export.json", j1); err != nil {
				t.Errorf("Parse(MarshalJSON(cfg)): %v", err)
			}
		})
	}
}

var cmpIgnoreSource = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".src" }, cmp.Ignore())

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// TestMarshalYAMLGolden pins the output format, so a change to it is a visible diff.
func TestMarshalYAMLGolden(t *testing.T) {
	cfg := &Config{
		APIVersion: APIVersion, Environment: "prod",
		Skills: []Skill{{Name: "b"}, {Name: "a"}},
		Queues: []Queue{{Name: "yes", Description: ptr("true"), AcwSettings: &AcwSettings{WrapupPrompt: ptr("OPTIONAL")},
			MediaSettings: &MediaSettings{Message: &MessageMediaSetting{MediaSetting: MediaSetting{AlertingTimeoutSeconds: ptr(30),
				ServiceLevel: &ServiceLevel{Percentage: ptr(0.8), DurationMs: ptr(20000)}}}}, RoutingRules: []RoutingRule{}}},
		Worktypes: []Worktype{{Name: "Claim", DefaultSkills: []string{"b", "a"}, AssignmentEnabled: ptr(false)}},
	}
	got, err := MarshalYAML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: routekeeper/v1
environment: prod
skills:
  - name: a
  - name: b
queues:
  - name: "yes"
    description: "true"
    acwSettings:
      wrapupPrompt: OPTIONAL
    mediaSettings:
      message:
        alertingTimeoutSeconds: 30
        serviceLevel:
          percentage: 0.8
          durationMs: 20000
    routingRules: []
worktypes:
  - name: Claim
    defaultSkills:
      - a
      - b
    assignmentEnabled: false
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("MarshalYAML (-want +got):\n%s", diff)
	}
}

func BenchmarkLoadProd(b *testing.B) {
	data, err := os.ReadFile("../../examples/routing/prod.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("prod.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMarshalYAMLChunked checks that MarshalYAML, which emits one top-level list element
// at a time, writes exactly what encoding the whole config as one YAML tree writes, for
// the examples, an org-sized config and names that need quoting or block scalars.
func TestMarshalYAMLChunked(t *testing.T) {
	odd := &Config{APIVersion: APIVersion, Divisions: []string{}, Workbins: []string{"a: b", "# x"}}
	skillNames := map[string]bool{}
	for _, n := range []string{" lead", "trail ", "a: b", "a #b", "null", "123", "1e3", "yes", "~", "- x", "@x", "*x", "&x",
		"!x", "{x", "[x", "a\tb", "a\nb", "a\n", "é", "a\u2028b", "\ufeffbom", "0x10", "1_000", ".nan", "1:20", "<<", `a"b`, `a\b`,
		"?x", "|x", ">x", "'x", "x:", "---", "...", "a\rb", "\x01ctl", "\u0085nel", "2001-12-14", "+1", "\t",
		"a\u2029b", "a\u0085b\nc", "Null", "NULL", "True", "Off", "A-b_c.d (e) f/g & h + i, j = k",
		strings.Repeat("a long description that goes on ", 12), "two\nlines: with: colons\n  and indent"} {
		odd.Queues = append(odd.Queues, Queue{Name: fmt.Sprintf("q%02d", len(odd.Queues)), Description: ptr(n), RoutingRules: []RoutingRule{}})
		// Blank names are invalid (RuleName), names are unique case-insensitively and at
		// most 256 characters: those are descriptions only.
		if key := strings.ToLower(n); strings.TrimSpace(n) != "" && !skillNames[key] && utf8.RuneCountInString(n) <= 256 {
			skillNames[key] = true
			odd.Skills = append(odd.Skills, Skill{Name: n})
		}
	}
	configs := map[string]*Config{"odd names": odd, "large": largeConfig(300, 50, 20), "empty": {APIVersion: APIVersion}}
	for _, p := range []string{"../../examples/routing/prod.yaml", "../../examples/routing/staging"} {
		cfg, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		configs[p] = cfg
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			raw, err := json.Marshal(Canonical(cfg))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			tree, err := jsonToNode(dec)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := encodeYAML(&want, tree); err != nil {
				t.Fatal(err)
			}
			got, err := MarshalYAML(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.String(), string(got)); diff != "" {
				t.Errorf("MarshalYAML differs from one-tree encoding (-want +got):\n%s", diff)
			}
			back, err := Parse("x.yaml", got)
			if err != nil {
				t.Fatalf("Parse(MarshalYAML(cfg)): %v", err)
			}
			if diff := cmp.Diff(Canonical(cfg), Canonical(back), cmp.AllowUnexported(Config{}), cmpIgnoreSource); diff != "" {
				t.Errorf("round trip changed the config (-before +after):\n%s", diff)
			}
		})
	}
}

// TestCompileOverflowHysteresis: Desired.Overflow carries every hysteresis field, the
// rule's value when it declares one and the default otherwise (resumeBelow: 80 % of
// maxCapacity, rounded down).
func TestCompileOverflowHysteresis(t *testing.T) {
	tests := []struct {
		name   string
		fields string // YAML members added to the rule
		want   Overflow
	}{
		{name: "defaults", fields: "maxCapacity: 50",
			want: Overflow{MaxCapacity: 50, OverflowAfter: 2, ResumeBelow: 40, ResumeAfter: 3, MinDwellSeconds: 300}},
		{name: "defaults round resumeBelow down", fields: "maxCapacity: 7",
			want: Overflow{MaxCapacity: 7, OverflowAfter: 2, ResumeBelow: 5, ResumeAfter: 3, MinDwellSeconds: 300}},
		{name: "maxCapacity 1 resumes when empty", fields: "maxCapacity: 1",
			want: Overflow{MaxCapacity: 1, OverflowAfter: 2, ResumeBelow: 0, ResumeAfter: 3, MinDwellSeconds: 300}},
		{name: "declared", fields: "maxCapacity: 50, overflowAfter: 1, resumeBelow: 10, resumeAfter: 5, minDwellSeconds: 0",
			want: Overflow{MaxCapacity: 50, OverflowAfter: 1, ResumeBelow: 10, ResumeAfter: 5, MinDwellSeconds: 0}},
		{name: "resumeBelow just below maxCapacity", fields: "maxCapacity: 50, resumeBelow: 49",
			want: Overflow{MaxCapacity: 50, OverflowAfter: 2, ResumeBelow: 49, ResumeAfter: 3, MinDwellSeconds: 300}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("a.yaml", []byte("apiVersion: routekeeper/v1\nqueues: [{name: Q}, {name: O}]\nworktypes: [{name: Claim}]\n"+
				"assignmentRules:\n  - {name: r, worktype: Claim, queue: Q, overflowQueue: O, "+tc.fields+"}\n"))
			if err != nil {
				t.Fatal(err)
			}
			d, err := Compile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.Rule, want.Worktype, want.Queue, want.OverflowQueue = "r", "Claim", "Q", "O"
			if diff := cmp.Diff([]Overflow{want}, d.Overflow); diff != "" {
				t.Errorf("Overflow of a rule with %s (-want +got):\n%s", tc.fields, diff)
			}
		})
	}
}
