package apply_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/store"
)

func TestResultSummary(t *testing.T) {
	many := make([]document.Conflict, 12)
	for i := range many {
		many[i].Path = fmt.Sprintf("f%d", i)
	}
	tests := []struct {
		name string
		res  apply.Result
		want string
	}{
		{"update", apply.Result{Status: store.StatusApplied, Operation: changes.OpUpdate, Written: []string{"description", "name"}},
			"wrote description, name"},
		{"merged update", apply.Result{Status: store.StatusApplied, Operation: changes.OpUpdate, Written: []string{"description"}, Merged: true},
			"wrote description (merged with a concurrent edit)"},
		{"delete", apply.Result{Status: store.StatusApplied, Operation: changes.OpDelete}, "deleted"},
		{"noop", apply.Result{Status: store.StatusNoop, Operation: changes.OpUpdate, Reason: "live already holds the desired managed fields"},
			"live already holds the desired managed fields"},
		{"noop delete", apply.Result{Status: store.StatusNoop, Operation: changes.OpDelete, Reason: `queue "Q" does not exist`},
			`queue "Q" does not exist`},
		{"conflict", apply.Result{Status: store.StatusConflict, Operation: changes.OpUpdate, Reason: "live queue changed since the plan",
			Conflicts: []document.Conflict{{Path: "description"}, {Path: "mediaSettings.call.alertingTimeoutSeconds"}}},
			"conflicts: description, mediaSettings.call.alertingTimeoutSeconds; live queue changed since the plan"},
		{"whole-entity conflict", apply.Result{Status: store.StatusConflict, Operation: changes.OpDelete, Reason: "it was not deleted",
			Conflicts: []document.Conflict{{Path: ""}}},
			"conflicts: (whole entity); it was not deleted"},
		{"many conflicts", apply.Result{Status: store.StatusConflict, Conflicts: many},
			"conflicts: f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, and 2 more"},
		{"rejected", apply.Result{Status: store.StatusRejected, Reason: "bad request"}, "bad request"},
		{"nothing to say", apply.Result{Status: store.StatusApplied, Operation: changes.OpUpdate}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.res.Summary()); diff != "" {
				t.Errorf("Summary of %+v (-want +got):\n%s", tc.res, diff)
			}
		})
	}
}

// TestResultLogAttrsSummary: the completion log carries the same line as the CLI, and
// leaves it out when there is nothing to say.
func TestResultLogAttrsSummary(t *testing.T) {
	tests := []struct {
		name string
		res  apply.Result
		want map[string]any
	}{
		{"written", apply.Result{Status: store.StatusApplied, EntityID: "q1", Written: []string{"description"}, Merged: true},
			map[string]any{"status": "APPLIED", "entityId": "q1", "summary": "wrote description (merged with a concurrent edit)", "merged": true}},
		{"conflict", apply.Result{Status: store.StatusConflict, EntityID: "q1", Reason: "changed", Conflicts: []document.Conflict{{Path: "name"}}},
			map[string]any{"status": "CONFLICT", "entityId": "q1", "summary": "conflicts: name; changed", "conflicts": float64(1), "reason": "changed"}},
		{"no summary", apply.Result{Status: store.StatusApplied, EntityID: "q1"},
			map[string]any{"status": "APPLIED", "entityId": "q1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("change request completed", tc.res.LogAttrs()...)
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("log line %q: %v", buf.String(), err)
			}
			delete(got, "time")
			delete(got, "level")
			delete(got, "msg")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("log attributes of %+v (-want +got):\n%s", tc.res, diff)
			}
		})
	}
}
