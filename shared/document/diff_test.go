package drift

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
			want:    []Difference{{Path: "skillEvaluationMethod", Desired: "BEST", Live: "ALL", Change: ChangeChanged}},
		},
		{
			name:    "large integers exact",
			desired: `{"defaultPriority":9007199254740993}`,
			live:    `{"defaultPriority":9007199254740992}`,
			want:    []Difference{{Path: "defaultPriority", Desired: num("9007199254740993"), Live: num("9007199254740992"), Change: ChangeChanged}},
		},
		{
			name:    "missing vs changed",
			desired: `{"description":"Tier 1","name":"Support"}`,
			live:    `{"name":"Sales"}`,
			want: []Difference{
				{Path: "description", Desired: "Tier 1", Change: ChangeMissing},
				{Path: "name", Desired: "Support", Live: "Sales", Change: ChangeChanged},
			},
		},
		{
			name:    "nested partial object manages only declared keys",
			desired: `{"mediaSettings":{"message":{"alertingTimeoutSeconds":30}}}`,
			live:    `{"mediaSettings":{"message":{"alertingTimeoutSeconds":45,"serviceLevel":{"percentage":0.8}},"call":{"alertingTimeoutSeconds":8}}}`,
			want:    []Difference{{Path: "mediaSettings.message.alertingTimeoutSeconds", Desired: num("30"), Live: num("45"), Change: ChangeChanged}},
		},
		{
			name:    "nested declared object absent in live",
			desired: `{"mediaSettings":{"message":{"alertingTimeoutSeconds":30}}}`,
			live:    `{"mediaSettings":{"call":{}}}`,
			want:    []Difference{{Path: "mediaSettings.message", Desired: map[string]any{"alertingTimeoutSeconds": num("30")}, Change: ChangeMissing}},
		},
		{
			name:    "object declared where live holds a scalar",
			desired: `{"bullseye":{"rings":[]}}`,
			live:    `{"bullseye":null}`,
			want:    []Difference{{Path: "bullseye", Desired: map[string]any{"rings": []any{}}, Live: nil, Change: ChangeChanged}},
		},
		{
			name:    "arrays compare as whole values",
			desired: `{"defaultSkillIds":["a","b","c"],"rings":[{"expansionTimeoutSeconds":10}]}`,
			live:    `{"defaultSkillIds":["a","b"],"rings":[{"expansionTimeoutSeconds":10,"extra":1}]}`,
			want: []Difference{
				{Path: "defaultSkillIds", Desired: []any{"a", "b", "c"}, Live: []any{"a", "b"}, Change: ChangeChanged},
				{Path: "rings", Desired: []any{map[string]any{"expansionTimeoutSeconds": num("10")}}, Live: []any{map[string]any{"expansionTimeoutSeconds": num("10"), "extra": num("1")}}, Change: ChangeChanged},
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
			want:    []Difference{{Path: "whisperPrompt", Live: map[string]any{"id": "p1"}, Change: ChangeChanged}},
		},
		{
			name:    "type change",
			desired: `{"a":"30"}`,
			live:    `{"a":30}`,
			want:    []Difference{{Path: "a", Desired: "30", Live: num("30"), Change: ChangeChanged}},
		},
		{
			name:    "keys needing quoting in paths",
			desired: `{"labels":{"a.b":1,"":2,"9x":3}}`,
			live:    `{"labels":{"a.b":2,"":3,"9x":4}}`,
			want: []Difference{
				{Path: `labels[""]`, Desired: num("2"), Live: num("3"), Change: ChangeChanged},
				{Path: `labels["9x"]`, Desired: num("3"), Live: num("4"), Change: ChangeChanged},
				{Path: `labels["a.b"]`, Desired: num("1"), Live: num("2"), Change: ChangeChanged},
			},
		},
		{
			name:    "undeclared reported on request, ordered by path",
			desired: `{"name":"Support","mediaSettings":{"message":{"alertingTimeoutSeconds":30}}}`,
			live:    `{"name":"Support","description":"x","mediaSettings":{"message":{"alertingTimeoutSeconds":30,"enableAutoAnswer":false},"call":{"alertingTimeoutSeconds":8}},"z":[1]}`,
			opts:    []DiffOption{IncludeUndeclared()},
			want: []Difference{
				{Path: "description", Live: "x", Change: ChangeUndeclared},
				{Path: "mediaSettings.call", Live: map[string]any{"alertingTimeoutSeconds": num("8")}, Change: ChangeUndeclared},
				{Path: "mediaSettings.message.enableAutoAnswer", Live: false, Change: ChangeUndeclared},
				{Path: "z", Live: []any{num("1")}, Change: ChangeUndeclared},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.want {
				tc.want[i].Kind, tc.want[i].Name = "queue", "Support"
			}
			got := Diff("queue", "Support", mustDecode(t, tc.desired), mustDecode(t, tc.live), tc.opts...)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Diff(desired %s, live %s) mismatch (-want +got):\n%s", tc.desired, tc.live, d)
			}
		})
	}
}

func TestDiffNilDocuments(t *testing.T) {
	if got := Diff("skill", "x", nil, map[string]any{"a": 1}); len(got) != 0 {
		t.Errorf("Diff(nil desired) = %v, want no differences", got)
	}
	got := Diff("skill", "x", map[string]any{"a": 1}, nil)
	want := []Difference{{Kind: "skill", Name: "x", Path: "a", Desired: 1, Change: ChangeMissing}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Diff(nil live) mismatch (-want +got):\n%s", d)
	}
}

func TestPlan(t *testing.T) {
	desired := map[string]any{"name": "Billing", "description": "x"}
	tests := []struct {
		name          string
		desired, live map[string]any
		want          EntityChange
	}{
		{"create", desired, nil, EntityChange{Kind: "skill", Name: "Billing", Action: ActionCreate, Differences: []Difference{
			{Kind: "skill", Name: "Billing", Path: "description", Desired: "x", Change: ChangeMissing},
			{Kind: "skill", Name: "Billing", Path: "name", Desired: "Billing", Change: ChangeMissing},
		}}},
		{"update", desired, map[string]any{"name": "Billing", "description": "y", "id": "s1"}, EntityChange{Kind: "skill", Name: "Billing", Action: ActionUpdate, Differences: []Difference{
			{Kind: "skill", Name: "Billing", Path: "description", Desired: "x", Live: "y", Change: ChangeChanged},
		}}},
		{"noop", desired, map[string]any{"name": "Billing", "description": "x", "id": "s1"}, EntityChange{Kind: "skill", Name: "Billing", Action: ActionNoop}},
		{"delete", nil, map[string]any{"name": "Billing"}, EntityChange{Kind: "skill", Name: "Billing", Action: ActionDelete}},
		{"neither exists", nil, nil, EntityChange{Kind: "skill", Name: "Billing", Action: ActionNoop}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Plan("skill", "Billing", tc.desired, tc.live)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Plan(%v, %v) mismatch (-want +got):\n%s", tc.desired, tc.live, d)
			}
		})
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
