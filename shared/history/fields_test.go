package history

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/document"
)

// TestFieldsOf: the managed fields to put back are the values at the paths, null for a
// field that was absent (cleared), and a whole value where a path goes through one that is
// not an object.
func TestFieldsOf(t *testing.T) {
	doc, err := document.Decode([]byte(`{"description":"d","acwSettings":{"wrapupPrompt":"MANDATORY","timeoutMs":30000},
		"skills":["a","b"],"labels":{"a.b":1},"name":"Q"}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		paths []string
		want  string
	}{
		{"top-level", []string{"description"}, `{"description":"d"}`},
		{"nested, siblings left out", []string{"acwSettings.timeoutMs"}, `{"acwSettings":{"timeoutMs":30000}}`},
		{"two of one object", []string{"acwSettings.timeoutMs", "acwSettings.wrapupPrompt"}, `{"acwSettings":{"timeoutMs":30000,"wrapupPrompt":"MANDATORY"}}`},
		{"absent then: cleared", []string{"mediaSettings.call.alertingTimeoutSeconds", "enableTranscription"}, `{"enableTranscription":null,"mediaSettings":null}`},
		{"absent inside an object that was there", []string{"acwSettings.other"}, `{"acwSettings":{"other":null}}`},
		{"through a non-object", []string{"skills.x"}, `{"skills":["a","b"]}`},
		{"quoted key", []string{`labels["a.b"]`}, `{"labels":{"a.b":1}}`},
		{"whole value, then inside it", []string{"acwSettings", "acwSettings.timeoutMs"}, `{"acwSettings":{"timeoutMs":30000,"wrapupPrompt":"MANDATORY"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fieldsOf(doc, tc.paths)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := document.Decode([]byte(tc.want))
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("fieldsOf(%q) (-want +got):\n%s", tc.paths, d)
			}
		})
	}
	for _, bad := range []string{"", "skills[0]", "a..b"} {
		if _, err := fieldsOf(doc, []string{bad}); err == nil {
			t.Errorf("fieldsOf(%q): no error", bad)
		}
	}
}
