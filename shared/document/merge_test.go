package document

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMerge(t *testing.T) {
	num := func(s string) json.Number { return json.Number(s) }
	tests := []struct {
		name               string
		base, ours, theirs string
		want               string
		wantConflicts      []Conflict
	}{
		{
			name:   "nothing changed",
			base:   `{"name":"Support","a":1}`,
			ours:   `{"name":"Support","a":1}`,
			theirs: `{"name":"Support","a":1.0}`,
			want:   `{"name":"Support","a":1.0}`,
		},
		{
			name:   "disjoint changes merge",
			base:   `{"name":"Support","description":"old","skillEvaluationMethod":"ALL"}`,
			ours:   `{"name":"Support","description":"new","skillEvaluationMethod":"ALL"}`,
			theirs: `{"name":"Support","description":"old","skillEvaluationMethod":"BEST"}`,
			want:   `{"name":"Support","description":"new","skillEvaluationMethod":"BEST"}`,
		},
		{
			name:          "overlapping changes conflict",
			base:          `{"mediaSettings":{"message":{"alertingTimeoutSeconds":30}}}`,
			ours:          `{"mediaSettings":{"message":{"alertingTimeoutSeconds":40}}}`,
			theirs:        `{"mediaSettings":{"message":{"alertingTimeoutSeconds":50}}}`,
			want:          `{"mediaSettings":{"message":{"alertingTimeoutSeconds":50}}}`,
			wantConflicts: []Conflict{{Path: "mediaSettings.message.alertingTimeoutSeconds", Base: num("30"), Ours: num("40"), Theirs: num("50"), Reason: ConflictBothChanged}},
		},
		{
			name:   "both changed to the same value",
			base:   `{"a":1,"b":"x"}`,
			ours:   `{"a":2,"b":"x"}`,
			theirs: `{"a":2.0,"b":"x"}`,
			want:   `{"a":2,"b":"x"}`,
		},
		{
			name:   "nested objects merge key by key",
			base:   `{"mediaSettings":{"call":{"alertingTimeoutSeconds":8},"message":{"alertingTimeoutSeconds":30,"enableAutoAnswer":false}}}`,
			ours:   `{"mediaSettings":{"call":{"alertingTimeoutSeconds":8},"message":{"alertingTimeoutSeconds":45,"enableAutoAnswer":false}}}`,
			theirs: `{"mediaSettings":{"call":{"alertingTimeoutSeconds":10},"message":{"alertingTimeoutSeconds":30,"enableAutoAnswer":true}}}`,
			want:   `{"mediaSettings":{"call":{"alertingTimeoutSeconds":10},"message":{"alertingTimeoutSeconds":45,"enableAutoAnswer":true}}}`,
		},
		{
			name:          "deleted in ours, edited in theirs",
			base:          `{"name":"S","description":"old"}`,
			ours:          `{"name":"S"}`,
			theirs:        `{"name":"S","description":"hand edit"}`,
			want:          `{"name":"S","description":"hand edit"}`,
			wantConflicts: []Conflict{{Path: "description", Base: "old", Theirs: "hand edit", Reason: ConflictOursDeleted}},
		},
		{
			name:          "edited in ours, deleted in theirs",
			base:          `{"name":"S","description":"old"}`,
			ours:          `{"name":"S","description":"new"}`,
			theirs:        `{"name":"S"}`,
			want:          `{"name":"S"}`,
			wantConflicts: []Conflict{{Path: "description", Base: "old", Ours: "new", Reason: ConflictTheirsDeleted}},
		},
		{
			name:   "deleted in ours only",
			base:   `{"name":"S","description":"old"}`,
			ours:   `{"name":"S"}`,
			theirs: `{"name":"S","description":"old"}`,
			want:   `{"name":"S"}`,
		},
		{
			name:   "deleted in theirs only",
			base:   `{"name":"S","description":"old"}`,
			ours:   `{"name":"S","description":"old"}`,
			theirs: `{"name":"S"}`,
			want:   `{"name":"S"}`,
		},
		{
			name:   "deleted in both",
			base:   `{"name":"S","description":"old"}`,
			ours:   `{"name":"S"}`,
			theirs: `{"name":"S"}`,
			want:   `{"name":"S"}`,
		},
		{
			name:          "nested object deleted in ours, nested field edited in theirs",
			base:          `{"acw":{"timeoutMs":1000,"wrapup":"OPTIONAL"}}`,
			ours:          `{}`,
			theirs:        `{"acw":{"timeoutMs":2000,"wrapup":"OPTIONAL"}}`,
			want:          `{"acw":{"timeoutMs":2000,"wrapup":"OPTIONAL"}}`,
			wantConflicts: []Conflict{{Path: "acw", Base: map[string]any{"timeoutMs": num("1000"), "wrapup": "OPTIONAL"}, Theirs: map[string]any{"timeoutMs": num("2000"), "wrapup": "OPTIONAL"}, Reason: ConflictOursDeleted}},
		},
		{
			name:   "added in both, same value",
			base:   `{}`,
			ours:   `{"description":"x"}`,
			theirs: `{"description":"x"}`,
			want:   `{"description":"x"}`,
		},
		{
			name:          "added in both, different values",
			base:          `{}`,
			ours:          `{"description":"x"}`,
			theirs:        `{"description":"y"}`,
			want:          `{"description":"y"}`,
			wantConflicts: []Conflict{{Path: "description", Ours: "x", Theirs: "y", Reason: ConflictBothAdded}},
		},
		{
			name:   "objects added in both merge when their keys are disjoint",
			base:   `{}`,
			ours:   `{"acw":{"timeoutMs":1000}}`,
			theirs: `{"acw":{"wrapup":"MANDATORY"}}`,
			want:   `{"acw":{"timeoutMs":1000,"wrapup":"MANDATORY"}}`,
		},
		{
			name:   "added only in one side",
			base:   `{"a":1}`,
			ours:   `{"a":1,"b":2}`,
			theirs: `{"a":1,"c":3}`,
			want:   `{"a":1,"b":2,"c":3}`,
		},
		{
			name:          "arrays are whole values: disjoint element edits still conflict",
			base:          `{"defaultSkillIds":["a","b"]}`,
			ours:          `{"defaultSkillIds":["a","b","c"]}`,
			theirs:        `{"defaultSkillIds":["b"]}`,
			want:          `{"defaultSkillIds":["b"]}`,
			wantConflicts: []Conflict{{Path: "defaultSkillIds", Base: []any{"a", "b"}, Ours: []any{"a", "b", "c"}, Theirs: []any{"b"}, Reason: ConflictBothChanged}},
		},
		{
			name:   "array changed on one side only",
			base:   `{"defaultSkillIds":["a"],"rings":[{"t":10}]}`,
			ours:   `{"defaultSkillIds":["a","b"],"rings":[{"t":10}]}`,
			theirs: `{"defaultSkillIds":["a"],"rings":[{"t":20}]}`,
			want:   `{"defaultSkillIds":["a","b"],"rings":[{"t":20}]}`,
		},
		{
			name:          "object replaced by scalar on one side, edited on the other",
			base:          `{"queueFlow":{"id":"f1","name":"Flow"}}`,
			ours:          `{"queueFlow":null}`,
			theirs:        `{"queueFlow":{"id":"f2","name":"Flow"}}`,
			want:          `{"queueFlow":{"id":"f2","name":"Flow"}}`,
			wantConflicts: []Conflict{{Path: "queueFlow", Base: map[string]any{"id": "f1", "name": "Flow"}, Ours: nil, Theirs: map[string]any{"id": "f2", "name": "Flow"}, Reason: ConflictBothChanged}},
		},
		{
			name:   "several conflicts ordered by path",
			base:   `{"b":1,"a":{"y":1,"x":1}}`,
			ours:   `{"b":2,"a":{"y":2,"x":2}}`,
			theirs: `{"b":3,"a":{"y":3,"x":3}}`,
			want:   `{"b":3,"a":{"y":3,"x":3}}`,
			wantConflicts: []Conflict{
				{Path: "a.x", Base: num("1"), Ours: num("2"), Theirs: num("3"), Reason: ConflictBothChanged},
				{Path: "a.y", Base: num("1"), Ours: num("2"), Theirs: num("3"), Reason: ConflictBothChanged},
				{Path: "b", Base: num("1"), Ours: num("2"), Theirs: num("3"), Reason: ConflictBothChanged},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, ours, theirs := mustDecode(t, tc.base), mustDecode(t, tc.ours), mustDecode(t, tc.theirs)
			got, conflicts := Merge(base, ours, theirs)
			if !Equal(got, mustDecode(t, tc.want)) {
				gotJSON, _ := CanonicalJSON(got)
				t.Errorf("Merge(base %s, ours %s, theirs %s)\n got %s\nwant %s", tc.base, tc.ours, tc.theirs, gotJSON, tc.want)
			}
			if d := cmp.Diff(tc.wantConflicts, conflicts); d != "" {
				t.Errorf("Merge(base %s, ours %s, theirs %s) conflicts mismatch (-want +got):\n%s", tc.base, tc.ours, tc.theirs, d)
			}
			// Merge must not modify its inputs.
			for _, in := range []struct {
				name, orig string
				doc        map[string]any
			}{{"base", tc.base, base}, {"ours", tc.ours, ours}, {"theirs", tc.theirs, theirs}} {
				if d := cmp.Diff(mustDecode(t, in.orig), in.doc); d != "" {
					t.Errorf("Merge modified %s (-before +after):\n%s", in.name, d)
				}
			}
		})
	}
}

func TestMergeResultSharesNothing(t *testing.T) {
	theirs := mustDecode(t, `{"a":{"b":[1]},"c":{"d":1}}`)
	ours := mustDecode(t, `{"a":{"b":[1]},"c":{"d":2}}`)
	merged, conflicts := Merge(nil, ours, theirs)
	if len(conflicts) != 1 {
		t.Fatalf("Merge(nil, ...) conflicts = %v, want one (c.d added in both)", conflicts)
	}
	merged["a"].(map[string]any)["b"].([]any)[0] = "changed"
	if got := theirs["a"].(map[string]any)["b"].([]any)[0]; got != json.Number("1") {
		t.Errorf("editing the merged document changed theirs: a.b[0] = %v, want 1", got)
	}
}

func TestMergeNilDocuments(t *testing.T) {
	merged, conflicts := Merge(nil, map[string]any{"name": "S"}, nil)
	if d := cmp.Diff(map[string]any{"name": "S"}, merged); d != "" || conflicts != nil {
		t.Errorf("Merge(nil, {name}, nil) = %v, %v; want {name: S}, no conflicts (%s)", merged, conflicts, d)
	}
}

func TestOverlay(t *testing.T) {
	tests := []struct {
		name, doc, managed, want string
	}{
		{"scalar replaced, others kept", `{"name":"S","description":"old","id":"q1"}`, `{"description":"new"}`, `{"name":"S","description":"new","id":"q1"}`},
		{"nested object managed key by key", `{"ms":{"message":{"t":30,"sl":{"p":0.8}},"call":{"t":8}}}`, `{"ms":{"message":{"t":45}}}`, `{"ms":{"message":{"t":45,"sl":{"p":0.8}},"call":{"t":8}}}`},
		{"null removes", `{"name":"S","description":"old","ms":{"a":1,"b":2}}`, `{"description":null,"ms":{"a":null}}`, `{"name":"S","ms":{"b":2}}`},
		{"null for an absent key", `{"name":"S"}`, `{"description":null}`, `{"name":"S"}`},
		{"object onto absent key drops its nulls", `{}`, `{"ms":{"a":1,"b":null}}`, `{"ms":{"a":1}}`},
		{"object onto scalar replaces it", `{"ms":5}`, `{"ms":{"a":1}}`, `{"ms":{"a":1}}`},
		{"array replaced whole", `{"ids":["a","b","c"]}`, `{"ids":["b"]}`, `{"ids":["b"]}`},
		{"scalar onto object replaces it", `{"ms":{"a":1}}`, `{"ms":"x"}`, `{"ms":"x"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, managed := mustDecode(t, tc.doc), mustDecode(t, tc.managed)
			got := Overlay(doc, managed)
			if d := cmp.Diff(mustDecode(t, tc.want), got); d != "" {
				t.Errorf("Overlay(%s, %s) mismatch (-want +got):\n%s", tc.doc, tc.managed, d)
			}
			if d := Diff(managed, got); len(d) != 0 {
				t.Errorf("Diff(managed %s, Overlay result) = %v, want none", tc.managed, d)
			}
			if d := cmp.Diff(mustDecode(t, tc.doc), doc); d != "" {
				t.Errorf("Overlay modified doc (-before +after):\n%s", d)
			}
		})
	}
}
