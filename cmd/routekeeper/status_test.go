package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// TestStatusView: a record names its entity, or (an invalid message) says it names none
// and which environment it was listed under.
func TestStatusView(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name       string
		entity     entity.Key
		op         string
		wantEntity string // changeView.Entity
		wantText   string // in the detail view
	}{
		{"entity", entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Claims"}, "update", "prod/queue/Claims", "entity:     prod/queue/Claims"},
		{"invalid message without entity", entity.Key{Environment: "prod"}, store.OperationInvalid, "", "entity:     (none: invalid message in prod)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &store.Change{ID: "c1", Info: store.ChangeInfo{Entity: tc.entity, Operation: tc.op, RequestedAt: at},
				Status: store.StatusRejected, Result: json.RawMessage(`{"changeId":"c1","status":"REJECTED","reason":"bad"}`), UpdatedAt: at}
			v := viewOf(c)
			if v.Entity != tc.wantEntity || v.Environment != "prod" {
				t.Errorf("viewOf: entity %q, environment %q; want %q, prod", v.Entity, v.Environment, tc.wantEntity)
			}
			var b bytes.Buffer
			if err := writeChangeDetail(&b, v); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tc.wantText) {
				t.Errorf("detail view got:\n%s\nwant a line %q", b.String(), tc.wantText)
			}
		})
	}
}

// TestStatusViewOtherEnvironment: a request for another environment, rejected by this
// stack, is listed under this stack's environment and shows the entity as the request
// named it.
func TestStatusViewOtherEnvironment(t *testing.T) {
	c := &store.Change{ID: "c2", Info: store.ChangeInfo{Entity: entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Claims"}, Operation: "update"},
		Status: store.StatusRejected, Result: json.RawMessage(`{"changeId":"c2","entity":"dev/queue/Claims","status":"REJECTED","reason":"request is for environment \"dev\", but this engine applies \"prod\""}`)}
	v := viewOf(c)
	if v.Environment != "prod" || v.Entity != "dev/queue/Claims" {
		t.Errorf("viewOf: environment %q, entity %q; want prod, dev/queue/Claims", v.Environment, v.Entity)
	}
}

// TestStatusShowsResultSummary: the list's DETAIL and the detail view's result line are
// the result's Summary, what apply prints too; a request not finished shows its last error.
func TestStatusShowsResultSummary(t *testing.T) {
	conflict := `{"changeId":"c3","status":"CONFLICT","reason":"live queue changed since the plan","conflicts":[{"path":"description","base":"a","ours":"b","theirs":"c","reason":"both-changed"}]}`
	tests := []struct {
		name       string
		status     store.Status
		lastError  string
		result     string
		wantDetail string
		wantLines  []string // in the detail view
	}{
		{"applied", store.StatusApplied, "", `{"changeId":"c3","status":"APPLIED","written":["description"],"merged":true}`,
			"wrote description (merged with a concurrent edit)",
			[]string{"  result:     wrote description (merged with a concurrent edit)\n", "  merged:     yes"}},
		{"conflict", store.StatusConflict, "", conflict,
			"conflicts: description; live queue changed since the plan",
			[]string{"  result:     conflicts: description; live queue changed since the plan\n", `  conflict description (both-changed): base "a", ours "b", theirs "c"` + "\n"}},
		{"noop", store.StatusNoop, "", `{"changeId":"c3","status":"NOOP","reason":"live already holds the desired managed fields"}`,
			"live already holds the desired managed fields",
			[]string{"  result:     live already holds the desired managed fields\n"}},
		{"failed", store.StatusFailed, "genesys: 503", "",
			"last error: genesys: 503",
			[]string{"  last error: genesys: 503\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &store.Change{ID: "c3", Info: store.ChangeInfo{Entity: entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Claims"}, Operation: "update"},
				Status: tc.status, LastError: tc.lastError, Result: json.RawMessage(tc.result)}
			v := viewOf(c)
			if diff := cmp.Diff(tc.wantDetail, detail(v)); diff != "" {
				t.Errorf("list detail (-want +got):\n%s", diff)
			}
			var b bytes.Buffer
			if err := writeChangeDetail(&b, v); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.wantLines {
				if !strings.Contains(b.String(), w) {
					t.Errorf("detail view got:\n%s\nwant a line %q", b.String(), w)
				}
			}
		})
	}
}

// TestStatusShowsPossibleOverwrites: a POSSIBLE_OVERWRITE change says so in the list and
// names each edit, what it lost and what was put back, in the detail view.
func TestStatusShowsPossibleOverwrites(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	c := &store.Change{ID: "c4", Info: store.ChangeInfo{Entity: entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Claims"}, Operation: "update"},
		Status: store.StatusPossibleOverwrite, Result: json.RawMessage(`{"changeId":"c4","status":"APPLIED","written":["description"]}`),
		Overwrites: []store.Overwrite{
			{EventID: "ev-1", EventTime: at, UserID: "admin-1", Paths: []string{"description"}, Overwritten: []string{"description"}},
			{EventID: "ev-2", EventTime: at, UserID: "admin-1", Paths: []string{"mediaSettings.call.alertingTimeoutSeconds"}, Restored: []string{"mediaSettings.call.alertingTimeoutSeconds"}},
		}}
	v := viewOf(c)
	if d := detail(v); d != "wrote description; 2 edit(s) by others inside its write window" {
		t.Errorf("list detail %q", d)
	}
	var b bytes.Buffer
	if err := writeChangeDetail(&b, v); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"  status:     POSSIBLE_OVERWRITE\n",
		"  possible overwrite: an edit by admin-1 at 2026-12-01T10:00:00Z (audit event ev-1) landed inside this change's write\n",
		"    overwritten by this change: description (their value is lost; decide which stands)\n",
		"    reverted by this change's full replace and put back: mediaSettings.call.alertingTimeoutSeconds\n",
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("detail view got:\n%s\nwant a line %q", b.String(), w)
		}
	}
	if got, _ := json.Marshal(v); !strings.Contains(string(got), `"overwrites":[{"eventId":"ev-1"`) {
		t.Errorf("JSON view %s, want the overwrites", got)
	}
}

// TestStatusListAttempts: ATTEMPTS counts every time the apply function took a change
// up, the successful one included (an APPLIED change applied at once has 1, not 0), and
// the columns line up whatever the widths of the values.
func TestStatusListAttempts(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	key := entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Claims"}
	tests := []struct {
		name             string
		status           store.Status
		claims, failed   int
		result           string
		wantAttempts     string
		wantDetailLine   string
		wantFailedInJSON int
	}{
		{"applied at once", store.StatusApplied, 1, 0, `{"changeId":"a","status":"APPLIED","written":["description"]}`, "1", "  attempts:   1 (0 failed)\n", 0},
		{"applied after two failures", store.StatusApplied, 3, 2, `{"changeId":"b","status":"APPLIED","written":["description"]}`, "3", "  attempts:   3 (2 failed)\n", 2},
		{"failed three times", store.StatusFailed, 3, 3, "", "3", "  attempts:   3 (3 failed)\n", 3},
	}
	var views []changeView
	for _, tc := range tests {
		c := &store.Change{ID: "change-" + strings.ReplaceAll(tc.name, " ", "-"), Info: store.ChangeInfo{Entity: key, Operation: "update", RequestedAt: at},
			Status: tc.status, Claims: tc.claims, Attempts: tc.failed, Result: json.RawMessage(tc.result), UpdatedAt: at}
		v := viewOf(c)
		views = append(views, v)
		var b bytes.Buffer
		if err := writeChangeDetail(&b, v); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.wantDetailLine) || v.FailedAttempts != tc.wantFailedInJSON {
			t.Errorf("%s: detail view lacks %q (failed %d, want %d):\n%s", tc.name, tc.wantDetailLine, v.FailedAttempts, tc.wantFailedInJSON, b.String())
		}
	}
	var b bytes.Buffer
	if err := writeChangeList(&b, "prod", views); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	col := strings.Index(lines[0], "ATTEMPTS")
	id := strings.Index(lines[0], "CHANGE ID")
	for i, tc := range tests {
		line := lines[i+1]
		if got := strings.TrimSpace(line[col:id]); got != tc.wantAttempts {
			t.Errorf("%s: ATTEMPTS %q, want %s:\n%s", tc.name, got, tc.wantAttempts, b.String())
		}
		if !strings.HasPrefix(line[id:], "change-") {
			t.Errorf("%s: CHANGE ID column not aligned with its header:\n%s", tc.name, b.String())
		}
	}
}
