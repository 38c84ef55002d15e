package sim

import (
	"net/http"
	"strings"
	"testing"
)

func TestAdminControlPlane(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 3, Worktypes: 1, Seed: 50})
	f := Generate(GenerateOptions{Queues: 3, Worktypes: 1, Seed: 50})
	qid := str(f.Queues[0], "id")
	admin := func(method, path, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		method, path, body string
		want               int
	}{
		{"PUT", "/_sim/observations", `{"queueId":"` + qid + `","metric":"oWaiting","value":5}`, 204},
		{"PUT", "/_sim/workitem-counts", `{"queueId":"` + qid + `","count":9}`, 204},
		{"PATCH", "/_sim/queues/" + qid, `{"description":"hand edit","enableTranscription":null}`, 204},
		{"PATCH", "/_sim/queues/nope", `{}`, 404},
		{"PATCH", "/_sim/queues/" + qid, `{"name":""}`, 400},
		{"PATCH", "/_sim/users/x", `{}`, 404},
		{"PUT", "/_sim/faults", `{"force429":1,"retryAfterSeconds":3}`, 204},
		{"PUT", "/_sim/faults", `{"force429":"x"}`, 400},
		{"GET", "/_sim/calls", ``, 200},
	}
	for _, tc := range tests {
		if got := admin(tc.method, tc.path, tc.body); got != tc.want {
			t.Errorf("%s %s %s: got %d, want %d", tc.method, tc.path, tc.body, got, tc.want)
		}
	}
	q, _ := e.s.Queue(qid)
	if q["description"] != "hand edit" || q["enableTranscription"] != nil || q["modifiedBy"] != adminUserID {
		t.Errorf("after PATCH /_sim/queues: got description %v enableTranscription %v modifiedBy %v", q["description"], q["enableTranscription"], q["modifiedBy"])
	}
	if st, h, _ := e.call(t, "GET", "/api/v2/routing/queues", nil); st != 429 || h.Get("Retry-After") != "3" {
		t.Errorf("after PUT /_sim/faults force429: got %d Retry-After %q, want 429 and 3", st, h.Get("Retry-After"))
	}
	_, _, got := e.call(t, "POST", "/api/v2/taskmanagement/workitems/query", map[string]any{
		"filters": []any{map[string]any{"name": "queueId", "operator": "EQ", "values": []string{qid}}}, "select": "Count"})
	if got["count"] != 9.0 {
		t.Errorf("workitem count after PUT /_sim/workitem-counts: got %v, want 9", got["count"])
	}
	if n := e.s.TotalCalls(); n != 2 {
		t.Errorf("TotalCalls: got %d, want 2 (control plane calls are not counted)", n)
	}
}
