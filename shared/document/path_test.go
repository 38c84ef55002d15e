package document

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		path    string
		want    []string
		wantErr bool
	}{
		{path: "", want: nil},
		{path: "description", want: []string{"description"}},
		{path: "mediaSettings.message.alertingTimeoutSeconds", want: []string{"mediaSettings", "message", "alertingTimeoutSeconds"}},
		{path: `labels["a.b"]`, want: []string{"labels", "a.b"}},
		{path: `["x[y]"]["say \"hi\""].z`, want: []string{"x[y]", `say "hi"`, "z"}},
		{path: `["ü"]`, want: []string{"ü"}},
		{path: "skills[2]", wantErr: true},
		{path: "a..b", wantErr: true},
		{path: ".a", wantErr: true},
		{path: "a.", wantErr: true},
		{path: "a b", wantErr: true},
		{path: `["unterminated`, wantErr: true},
		{path: `["a"`, wantErr: true},
		{path: `["a"]b`, wantErr: true},
		{path: "a.[\"b\"]", wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParsePath(tc.path)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParsePath(%q): error %v, want error %v", tc.path, err, tc.wantErr)
			continue
		}
		if d := cmp.Diff(tc.want, got); !tc.wantErr && d != "" {
			t.Errorf("ParsePath(%q) (-want +got):\n%s", tc.path, d)
		}
	}
}

// FuzzParsePath: every path Diff writes, for any keys, parses back to those keys.
func FuzzParsePath(f *testing.F) {
	f.Add("description", "timeoutMs")
	f.Add("a.b", `q"[`)
	f.Add("", "ü\x00")
	f.Fuzz(func(t *testing.T, outer, inner string) {
		desired := map[string]any{outer: map[string]any{inner: "x"}}
		diffs := Diff(desired, map[string]any{outer: map[string]any{inner: "y"}})
		if len(diffs) != 1 {
			t.Fatalf("Diff of %q.%q: %d differences, want 1", outer, inner, len(diffs))
		}
		keys, err := ParsePath(diffs[0].Path)
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", diffs[0].Path, err)
		}
		want := []string{sanitise(outer), sanitise(inner)}
		if !slices.Equal(keys, want) && !slices.Equal(keys, []string{outer, inner}) {
			t.Errorf("ParsePath(%q) = %q, want %q", diffs[0].Path, keys, []string{outer, inner})
		}
	})
}
