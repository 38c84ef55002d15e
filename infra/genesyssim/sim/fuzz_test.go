package sim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequestBodies sends arbitrary bodies to every JSON-accepting route: the simulator
// must answer each with a 2xx or a 4xx ErrorBody, never a 5xx or a panic.
func FuzzRequestBodies(f *testing.F) {
	seeds := []string{
		`{"name":"A Queue","mediaSettings":{"call":{"alertingTimeoutSeconds":8}}}`,
		`{"filters":[{"name":"name","type":"String","operator":"EQ","values":["x"]}],"pageSize":10}`,
		`{"filters":[{"name":"queueId","operator":"EQ","values":["q"]}],"select":"Count"}`,
		`{"filter":{"type":"or","predicates":[{"dimension":"queueId","value":"q"}]},"metrics":["oWaiting"]}`,
		`{"defaultPriority":null,"name":"abc"}`, `{"utilization":{"call":{"maximumCapacity":1}}}`,
		`[]`, `null`, `{"after":"e30"}`, `{"bullseye":{"rings":[{"expansionCriteria":[{}]}]},"name":"q"}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	s := New(Options{RequestsPerMinute: -1})
	fx := Generate(GenerateOptions{Queues: 3, Skills: 3, Worktypes: 2, Seed: 1})
	if err := s.Load(fx); err != nil {
		f.Fatal(err)
	}
	s.SetWorkitemCount(str(fx.Queues[0], "id"), 3)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(DefaultClientID, DefaultClientSecret)
	s.ServeHTTP(rec, req)
	var tok map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &tok)
	routes := []struct{ method, path string }{
		{"POST", "/api/v2/routing/queues"},
		{"PUT", "/api/v2/routing/queues/" + str(fx.Queues[1], "id")},
		{"POST", "/api/v2/routing/skills"},
		{"POST", "/api/v2/taskmanagement/worktypes"},
		{"PATCH", "/api/v2/taskmanagement/worktypes/" + str(fx.Worktypes[0], "id")},
		{"POST", "/api/v2/taskmanagement/worktypes/query"},
		{"POST", "/api/v2/taskmanagement/workbins/query"},
		{"POST", "/api/v2/taskmanagement/workitems/query"},
		{"PUT", "/api/v2/routing/utilization"},
		{"POST", "/api/v2/analytics/queues/observations/query"},
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, r := range routes {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(r.method, r.path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
			s.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s with %q: got %d %s", r.method, r.path, body, rec.Code, rec.Body)
			}
			if rec.Code >= 400 {
				var e map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e["code"] == nil || e["status"] != float64(rec.Code) {
					t.Fatalf("%s %s with %q: %d body is not an ErrorBody: %s", r.method, r.path, body, rec.Code, rec.Body)
				}
			}
			if rec.Code != http.StatusNoContent && rec.Code < 300 && !json.Valid(rec.Body.Bytes()) && rec.Body.Len() > 0 {
				t.Fatalf("%s %s: invalid JSON response %s", r.method, r.path, rec.Body)
			}
		}
	})
}
