package document

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiff(t *testing.T) {
	num := func(s string) json.Number { return json.Number(s) }
	tests := []struct {
		name          string
		desired, live string
		opts          []DiffOption
		want          []Difference
	}{
		{
			name:    "equal declared fields, undeclared live fields ignored",
			desired: `{"name":"Support","skillEvaluationMethod":"BEST"}`,
			live:    `{"name":"Support","skillEvaluationMethod":"BEST","description":"hand made","memberCount":4,"acwSettings":{"wrapupPrompt":"OPTIONAL"}}`,
		},
		{
			name:    "numbers compare by value",
			desired: `{"a":30,"b":25000000,"c":0.8}`,
			live:    `{"a":30.0,"b":2.5e7,"c":0.80}`,
		},
		{
			name:    "changed scalar",
			desired: `{"skillEvaluationMethod":"BEST"}`,
			live:    `{"skillEvaluationMethod":"ALL"}`,
			want:    []Difference{{Path: "skillEvaluationMethod", Desired: "BEST", Live: "ALL", Delta: Changed}},
		},
		{
			name:    "large integers exact",
			desired: `{"defaultPriority":9007199254740993}`,
			live:    `{"defaultPriority":9007199254740992}`,
			want:    []Difference{{Path: "defaultPriority", Desired: num("9007199254740993"), Live: num("9007199254740992"), Delta: Changed}},
		},
		{
			name:    "missing vs changed",
			desired: `{"description":"Tier 1","name":"Support"}`,
			live:    `{"name":"Sales"}`,
			want: []Difference{
				{Path: "description", Desired: "Tier 1", Delta: Missing},
				{Path: "name", Desired: "Support", Live: "Sales", Delta: Changed},
			},
		},
		{
			name:    "nested partial object manages only declared keys",
			desired: `{"mediaSettings":{"message":{"alertingTimeoutSeconds":30}}}`,
			live:    `{"mediaSettings":{"message":{"alertingTimeoutSeconds":45,"serviceLevel":{"percentage":0.8}},"call":{"alertingTimeoutSeconds":8}}}`,
			want:    []Difference{{Path: "mediaSettings.message.alertingTimeoutSeconds", Desired: num("30"), Live: num("45"), Delta: Changed}},
		},
		{
			name:    "nested declared object absent in live",
			desired: `{"mediaSettings":{"message":{"alertingTimeoutSeconds":30}}}`,
			live:    `{"mediaSettings":{"call":{}}}`,
			want:    []Difference{{Path: "mediaSettings.message", Desired: map[string]any{"alertingTimeoutSeconds": num("30")}, Delta: Missing}},
		},
		{
			name:    "object declared where live holds a scalar",
			desired: `{"bullseye":{"rings":[]}}`,
			live:    `{"bullseye":null}`,
			want:    []Difference{{Path: "bullseye", Desired: map[string]any{"rings": []any{}}, Live: nil, Delta: Changed}},
		},
		{
			name:    "arrays compare as whole values",
			desired: `{"defaultSkillIds":["a","b","c"],"rings":[{"expansionTimeoutSeconds":10}]}`,
			live:    `{"defaultSkillIds":["a","b"],"rings":[{"expansionTimeoutSeconds":10,"extra":1}]}`,
			want: []Difference{
				{Path: "defaultSkillIds", Desired: []any{"a", "b", "c"}, Live: []any{"a", "b"}, Delta: Changed},
				{Path: "rings", Desired: []any{map[string]any{"expansionTimeoutSeconds": num("10")}}, Live: []any{map[string]any{"expansionTimeoutSeconds": num("10"), "extra": num("1")}}, Delta: Changed},
			},
		},
		{
			name:    "equal arrays with number spellings",
			desired: `{"a":[1,2.0,{"x":3}]}`,
			live:    `{"a":[1.0,2,{"x":3e0}]}`,
		},
		{
			name:    "declared null means absent or null",
			desired: `{"description":null,"queueFlow":null,"whisperPrompt":null}`,
			live:    `{"queueFlow":null,"whisperPrompt":{"id":"p1"}}`,
			want:    []Difference{{Path: "whisperPrompt", Live: map[string]any{"id": "p1"}, Delta: Changed}},
		},
		{
			name:    "type change",
			desired: `{"a":"30"}`,
			live:    `{"a":30}`,
			want:    []Difference{{Path: "a", Desired: "30", Live: num("30"), Delta: Changed}},
		},
		{
			name:    "keys needing quoting in paths",
			desired: `{"labels":{"a.b":1,"":2,"9x":3}}`,
			live:    `{"labels":{"a.b":2,"":3,"9x":4}}`,
			want: []Difference{
				{Path: `labels[""]`, Desired: num("2"), Live: num("3"), Delta: Changed},
				{Path: `labels["9x"]`, Desired: num("3"), Live: num("4"), Delta: Changed},
				{Path: `labels["a.b"]`, Desired: num("1"), Live: num("2"), Delta: Changed},
			},
		},
		{
			name:    "undeclared reported on request, ordered by path",
			desired: `{"name":"Support","mediaSettings":{"message":{"alertingTimeoutSeconds":30}}}`,
			live:    `{"name":"Support","description":"x","mediaSettings":{"message":{"alertingTimeoutSeconds":30,"enableAutoAnswer":false},"call":{"alertingTimeoutSeconds":8}},"z":[1]}`,
			opts:    []DiffOption{IncludeUndeclared()},
			want: []Difference{
				{Path: "description", Live: "x", Delta: Undeclared},
				{Path: "mediaSettings.call", Live: map[string]any{"alertingTimeoutSeconds": num("8")}, Delta: Undeclared},
				{Path: "mediaSettings.message.enableAutoAnswer", Live: false, Delta: Undeclared},
				{Path: "z", Live: []any{num("1")}, Delta: Undeclared},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Diff(mustDecode(t, tc.desired), mustDecode(t, tc.live), tc.opts...)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Diff(desired %s, live %s) mismatch (-want +got):\n%s", tc.desired, tc.live, d)
			}
		})
	}
}

func TestDiffNilDocuments(t *testing.T) {
	if got := Diff(nil, map[string]any{"a": 1}); len(got) != 0 {
		t.Errorf("Diff(nil desired) = %v, want no differences", got)
	}
	got := Diff(map[string]any{"a": 1}, nil)
	want := []Difference{{Path: "a", Desired: 1, Delta: Missing}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Diff(nil live) mismatch (-want +got):\n%s", d)
	}
}

func TestJoinPath(t *testing.T) {
	tests := []struct {
		segs []string
		want string
	}{
		{nil, ""},
		{[]string{"a"}, "a"},
		{[]string{"a", "b", "c"}, "a.b.c"},
		{[]string{"rings", indexSegment(2), "expansionTimeoutSeconds"}, "rings[2].expansionTimeoutSeconds"},
		{[]string{pathSegment("a b"), pathSegment("_x1")}, `["a b"]._x1`},
	}
	for _, tc := range tests {
		if got := joinPath(tc.segs); got != tc.want {
			t.Errorf("joinPath(%q) = %q, want %q", tc.segs, got, tc.want)
		}
	}
}
