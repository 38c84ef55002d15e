package genesys

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func makeQueues(n int) []map[string]any {
	qs := make([]map[string]any, n)
	for i := range qs {
		qs[i] = map[string]any{"id": fmt.Sprintf("q%04d", i), "name": fmt.Sprintf("Queue %d", i)}
	}
	return qs
}

// queueListHandler serves entities pageNumber-paged like GET /api/v2/routing/queues.
// omit lists envelope members to leave out (to test fallbacks).
func queueListHandler(entities []map[string]any, omit map[string]bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		size, _ := strconv.Atoi(r.URL.Query().Get("pageSize"))
		num, _ := strconv.Atoi(r.URL.Query().Get("pageNumber"))
		if size < 1 || num < 1 {
			writeError(w, 400, "bad.request", "pageSize and pageNumber required", "corr-page")
			return
		}
		lo := min((num-1)*size, len(entities))
		hi := min(lo+size, len(entities))
		page := map[string]any{
			"entities": entities[lo:hi], "pageSize": size, "pageNumber": num,
			"total": len(entities), "pageCount": (len(entities) + size - 1) / size,
		}
		for k := range omit {
			delete(page, k)
		}
		writeJSON(w, 200, page)
	}
}

func TestListQueuesPaging(t *testing.T) {
	tests := []struct {
		name      string
		queues    int
		pageSize  int
		omit      map[string]bool
		wantCalls int64
	}{
		{name: "empty org", queues: 0, pageSize: 500, wantCalls: 1},
		{name: "one page", queues: 3, pageSize: 500, wantCalls: 1},
		{name: "exactly full pages", queues: 10, pageSize: 5, wantCalls: 2},
		{name: "many pages", queues: 1234, pageSize: 25, wantCalls: 50},
		{name: "no pageCount, total only", queues: 23, pageSize: 5, omit: map[string]bool{"pageCount": true}, wantCalls: 5},
		{name: "no pageCount, no total", queues: 23, pageSize: 5, omit: map[string]bool{"pageCount": true, "total": true}, wantCalls: 5},
		{name: "no pageCount, no total, ends on full page", queues: 20, pageSize: 5, omit: map[string]bool{"pageCount": true, "total": true}, wantCalls: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := makeQueues(tc.queues)
			org := &fakeOrg{handler: queueListHandler(want, tc.omit)}
			c, _ := newTestClient(t, org, func(cfg *Config) { cfg.PageSize = tc.pageSize })
			got, err := c.ListQueues(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs, wantIDs []string
			for _, q := range got {
				gotIDs = append(gotIDs, q.ID)
			}
			for _, q := range want {
				wantIDs = append(wantIDs, q["id"].(string))
			}
			if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
				t.Errorf("queue ids (-want +got):\n%s", diff)
			}
			if got := org.apiCalls.Load(); got != tc.wantCalls {
				t.Errorf("got %d requests, want %d", got, tc.wantCalls)
			}
		})
	}
}

func TestListDeduplicatesShiftedPages(t *testing.T) {
	// Page 2 repeats the last entity of page 1, as happens when an entity is
	// created between the two requests.
	org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("pageNumber") {
		case "1":
			writeJSON(w, 200, map[string]any{"entities": []any{map[string]any{"id": "a"}, map[string]any{"id": "b"}}, "pageCount": 2})
		default:
			writeJSON(w, 200, map[string]any{"entities": []any{map[string]any{"id": "b"}, map[string]any{"id": "c"}}, "pageCount": 2})
		}
	}}
	c, _ := newTestClient(t, org, func(cfg *Config) { cfg.PageSize = 2 })
	got, err := c.ListSkills(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, ids); diff != "" {
		t.Errorf("skill ids (-want +got):\n%s", diff)
	}
}

func TestListPageErrorIsReturned(t *testing.T) {
	org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("pageNumber") == "3" {
			writeError(w, 403, "missing.permissions", "routing:queue:view", "corr-p3")
			return
		}
		queueListHandler(makeQueues(10), nil)(w, r)
	}}
	c, _ := newTestClient(t, org, func(cfg *Config) { cfg.PageSize = 2 })
	_, err := c.ListQueues(t.Context())
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("got %v, want ErrForbidden", err)
	}
	if !strings.Contains(err.Error(), "page 3") || !strings.Contains(err.Error(), "corr-p3") {
		t.Errorf("error %q does not name page 3 and its correlation id", err)
	}
}

func TestListLanguages(t *testing.T) {
	// Real-shaped pages: the LanguageEntityListing envelope, a member the model
	// does not know (kept), and a language on two pages (the list shifted).
	langs := []map[string]any{
		{"id": "l-en", "name": "English", "state": "active", "version": "3", "dateModified": "2026-01-05T10:00:00.000Z", "selfUri": "/api/v2/routing/languages/l-en"},
		{"id": "l-fr", "name": "French", "state": "active", "version": "1", "selfUri": "/api/v2/routing/languages/l-fr", "future": map[string]any{"x": 1.0}},
		{"id": "l-de", "name": "German", "state": "deleted", "version": "2", "selfUri": "/api/v2/routing/languages/l-de"},
		{"id": "l-es", "name": "Spanish", "state": "active", "version": "1", "selfUri": "/api/v2/routing/languages/l-es"},
		{"id": "l-it", "name": "Italian", "state": "active", "version": "1", "selfUri": "/api/v2/routing/languages/l-it"},
	}
	var paths []string
	var mu sync.Mutex
	org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		queueListHandler(langs, nil)(w, r)
	}}
	c, _ := newTestClient(t, org, func(cfg *Config) { cfg.PageSize = 2 })
	got, err := c.ListLanguages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids, names, states []string
	for _, l := range got {
		ids, names, states = append(ids, l.ID), append(names, l.Name), append(states, l.State)
	}
	if diff := cmp.Diff([]string{"l-en", "l-fr", "l-de", "l-es", "l-it"}, ids); diff != "" {
		t.Errorf("language ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"English", "French", "German", "Spanish", "Italian"}, names); diff != "" {
		t.Errorf("language names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"active", "active", "deleted", "active", "active"}, states); diff != "" {
		t.Errorf("language states (-want +got):\n%s", diff)
	}
	if got[0].Version != "3" || got[0].DateModified != "2026-01-05T10:00:00.000Z" || got[0].SelfURI != "/api/v2/routing/languages/l-en" {
		t.Errorf("got English %+v, want version 3, dateModified and selfUri decoded", got[0])
	}
	if b, _ := json.Marshal(got[1]); !strings.Contains(string(b), `"future"`) {
		t.Errorf("French re-encoded as %s, want the unmodelled member future kept", b)
	}
	for _, p := range paths {
		if p != "/api/v2/routing/languages" {
			t.Errorf("got request to %s, want /api/v2/routing/languages only", p)
		}
	}
	if len(paths) != 3 {
		t.Errorf("got %d requests for 5 languages at pageSize 2, want 3", len(paths))
	}
}

// queueStore serves one queue for GET and records the PUT body.
type queueStore struct {
	mu  sync.Mutex
	doc []byte
	put []byte
}

func (s *queueStore) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		w.Write(s.doc)
	case http.MethodPut:
		b, _ := io.ReadAll(r.Body)
		s.put = b
		s.doc = b
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	default:
		writeError(w, 405, "method.not.allowed", r.Method, "corr-405")
	}
}

const liveQueueJSON = `{
  "id": "q1", "name": "Billing", "description": "old",
  "division": {"id": "d1", "name": "Home", "selfUri": "/api/v2/authorization/divisions/d1"},
  "dateModified": "2026-05-01T10:00:00.000Z", "memberCount": 4, "modifiedBy": "u1",
  "mediaSettings": {
    "call": {"alertingTimeoutSeconds": 8, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}, "enableAutoAnswer": false, "futureCallKnob": {"x": 1}},
    "message": {"alertingTimeoutSeconds": 30, "subTypeSettings": {"web": {"enableAutoAnswer": true}}}
  },
  "acwSettings": {"wrapupPrompt": "OPTIONAL", "timeoutMs": null},
  "skillEvaluationMethod": "ALL",
  "bullseye": {"rings": [{"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 15}]}]},
  "defaultMediaLanguage": {"id": "lang-fr"},
  "cannedResponseLibraries": {"mode": "SelectedOnly", "libraryIds": ["lib1"]},
  "enableTranscription": false,
  "selfUri": "/api/v2/routing/queues/q1"
}`

func TestQueueUnknownFieldsSurviveGetEditPut(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, c *Client) error
		want func(doc map[string]any)
	}{
		{
			name: "typed",
			edit: func(t *testing.T, c *Client) error {
				q, err := c.GetQueue(t.Context(), "q1")
				if err != nil {
					return err
				}
				q.Description = "new"
				q.MediaSettings.Call.AlertingTimeoutSeconds = 12
				q.SkillEvaluationMethod = "BEST"
				_, err = c.UpdateQueue(t.Context(), q)
				return err
			},
			want: func(doc map[string]any) {
				doc["description"] = "new"
				doc["mediaSettings"].(map[string]any)["call"].(map[string]any)["alertingTimeoutSeconds"] = 12.0
				doc["skillEvaluationMethod"] = "BEST"
			},
		},
		{
			name: "raw",
			edit: func(t *testing.T, c *Client) error {
				q, err := c.GetQueueRaw(t.Context(), "q1")
				if err != nil {
					return err
				}
				q["description"] = "new"
				q["mediaSettings"].(map[string]any)["call"].(map[string]any)["alertingTimeoutSeconds"] = 12
				_, err = c.UpdateQueueRaw(t.Context(), "q1", q)
				return err
			},
			want: func(doc map[string]any) {
				doc["description"] = "new"
				doc["mediaSettings"].(map[string]any)["call"].(map[string]any)["alertingTimeoutSeconds"] = 12.0
			},
		},
		{
			name: "typed, clearing a received member sends the empty value",
			edit: func(t *testing.T, c *Client) error {
				q, err := c.GetQueue(t.Context(), "q1")
				if err != nil {
					return err
				}
				q.Description = ""
				_, err = c.UpdateQueue(t.Context(), q)
				return err
			},
			want: func(doc map[string]any) { doc["description"] = "" },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := &queueStore{doc: []byte(liveQueueJSON)}
			org := &fakeOrg{handler: store.handle}
			c, _ := newTestClient(t, org)
			if err := tc.edit(t, c); err != nil {
				t.Fatal(err)
			}
			var want, got map[string]any
			if err := json.Unmarshal([]byte(liveQueueJSON), &want); err != nil {
				t.Fatal(err)
			}
			tc.want(want)
			if err := json.Unmarshal(store.put, &got); err != nil {
				t.Fatalf("PUT body %s: %v", store.put, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("PUT body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWorktypePatchSendsNull(t *testing.T) {
	var gotBody map[string]any
	var gotMethod, gotPath string
	org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
		gotMethod, gotPath = r.Method, r.URL.Path
		json.NewDecoder(r.Body).Decode(&gotBody)
		writeJSON(w, 200, map[string]any{"id": "wt1", "name": "Claims", "defaultPriority": 0})
	}}
	c, _ := newTestClient(t, org)
	w, err := c.PatchWorktype(t.Context(), "wt1", map[string]any{"defaultQueueId": nil, "defaultPriority": 0, "defaultSkillIds": []string{"s1"}})
	if err != nil {
		t.Fatal(err)
	}
	if gotMethod != http.MethodPatch || gotPath != "/api/v2/taskmanagement/worktypes/wt1" {
		t.Errorf("got %s %s, want PATCH /api/v2/taskmanagement/worktypes/wt1", gotMethod, gotPath)
	}
	want := map[string]any{"defaultQueueId": nil, "defaultPriority": 0.0, "defaultSkillIds": []any{"s1"}}
	if diff := cmp.Diff(want, gotBody); diff != "" {
		t.Errorf("PATCH body (-want +got):\n%s", diff)
	}
	if w.DefaultPriority == nil || *w.DefaultPriority != 0 {
		t.Errorf("got defaultPriority %v, want pointer to 0", w.DefaultPriority)
	}
}

func TestCursorQueries(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		list  func(c *Client) (int, error)
		path  string
		calls int64
	}{
		{name: "worktypes", n: 450, path: "/api/v2/taskmanagement/worktypes/query", calls: 3,
			list: func(c *Client) (int, error) { w, err := c.ListWorktypes(t.Context()); return len(w), err }},
		{name: "workbins", n: 200, path: "/api/v2/taskmanagement/workbins/query", calls: 2,
			list: func(c *Client) (int, error) { w, err := c.ListWorkbins(t.Context()); return len(w), err }},
		{name: "workbins empty", n: 0, path: "/api/v2/taskmanagement/workbins/query", calls: 1,
			list: func(c *Client) (int, error) { w, err := c.ListWorkbins(t.Context()); return len(w), err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var bodies []map[string]any
			org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != tc.path {
					writeError(w, 404, "not.found", r.Method+" "+r.URL.Path, "corr-404")
					return
				}
				var b map[string]any
				json.NewDecoder(r.Body).Decode(&b)
				bodies = append(bodies, b)
				start := 0
				if a, ok := b["after"].(string); ok {
					start, _ = strconv.Atoi(a)
				}
				size := int(b["pageSize"].(float64))
				end := min(start+size, tc.n)
				ents := []any{}
				for i := start; i < end; i++ {
					ents = append(ents, map[string]any{"id": fmt.Sprintf("e%d", i), "name": fmt.Sprintf("E %d", i)})
				}
				resp := map[string]any{"entities": ents}
				if end < tc.n || (end == tc.n && end-start == size) {
					resp["after"] = strconv.Itoa(end) // real servers may hand out a cursor for an empty last page
				}
				writeJSON(w, 200, resp)
			}}
			c, _ := newTestClient(t, org)
			n, err := tc.list(c)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.n {
				t.Errorf("got %d entities, want %d", n, tc.n)
			}
			if got := org.apiCalls.Load(); got != tc.calls {
				t.Errorf("got %d requests, want %d", got, tc.calls)
			}
			if _, ok := bodies[0]["after"]; ok {
				t.Errorf("first query carries after: %v", bodies[0])
			}
			if got := bodies[0]["pageSize"]; got != 200.0 {
				t.Errorf("got pageSize %v, want 200", got)
			}
		})
	}
}

func TestQueueObservationsSplitAndSum(t *testing.T) {
	ids := make([]string, 250)
	for i := range ids {
		ids[i] = fmt.Sprintf("q%d", i)
	}
	var mu sync.Mutex
	var predicateCounts []int
	org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Filter struct {
				Type       string `json:"type"`
				Predicates []struct {
					Type, Dimension, Operator, Value string
				} `json:"predicates"`
			} `json:"filter"`
			Metrics []string `json:"metrics"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		predicateCounts = append(predicateCounts, len(body.Filter.Predicates))
		mu.Unlock()
		var results []any
		for _, p := range body.Filter.Predicates {
			if p.Dimension != "queueId" || p.Operator != "matches" || p.Type != "dimension" || body.Filter.Type != "or" {
				writeError(w, 400, "bad.request", "bad predicate", "corr-pred")
				return
			}
			if p.Value == "q7" {
				results = append(results,
					map[string]any{"group": map[string]any{"queueId": "q7", "mediaType": "call"},
						"data": []any{map[string]any{"metric": "oWaiting", "stats": map[string]any{"count": 3}}}},
					map[string]any{"group": map[string]any{"queueId": "q7", "mediaType": "message"},
						"data": []any{map[string]any{"metric": "oWaiting", "stats": map[string]any{"count": 2}}}},
					map[string]any{"group": map[string]any{"queueId": "q7"},
						"data": []any{
							map[string]any{"metric": "oOnQueueUsers", "qualifier": "IDLE", "stats": map[string]any{"count": 4}},
							map[string]any{"metric": "oOnQueueUsers", "qualifier": "INTERACTING", "stats": map[string]any{"count": 1}},
							map[string]any{"metric": "oMemberUsers", "stats": map[string]any{"count": 9}},
						}})
			}
		}
		writeJSON(w, 200, map[string]any{"results": results})
	}}
	c, _ := newTestClient(t, org)
	loads, err := c.QueueLoads(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(loads) != 250 {
		t.Errorf("got %d queues, want 250", len(loads))
	}
	want := QueueLoad{"oWaiting": 5, "oInteracting": 0, "oOnQueueUsers": 5, "oMemberUsers": 9, "oActiveUsers": 0}
	if diff := cmp.Diff(want, loads["q7"]); diff != "" {
		t.Errorf("q7 load (-want +got):\n%s", diff)
	}
	total := 0
	for _, n := range predicateCounts {
		if n > ObservationQueueLimit {
			t.Errorf("a query carried %d queue ids, want at most %d", n, ObservationQueueLimit)
		}
		total += n
	}
	if len(predicateCounts) != 3 || total != 250 {
		t.Errorf("got queries with %v queue ids, want 3 queries covering 250", predicateCounts)
	}
}

func TestCountWorkitems(t *testing.T) {
	var body map[string]any
	org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&body)
		writeJSON(w, 200, map[string]any{"entities": []any{}, "count": 17})
	}}
	c, _ := newTestClient(t, org)
	n, err := c.CountWorkitems(t.Context(), "q1")
	if err != nil {
		t.Fatal(err)
	}
	if n != 17 {
		t.Errorf("got %d, want 17", n)
	}
	want := map[string]any{"select": "Count", "filters": []any{map[string]any{"name": "queueId", "type": "String", "operator": "EQ", "values": []any{"q1"}}}}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("query body (-want +got):\n%s", diff)
	}
}

func TestEndpointRequests(t *testing.T) {
	tests := []struct {
		name       string
		call       func(c *Client) error
		wantMethod string
		wantURI    string
		wantBody   string // JSON, "" for none
		respond    any
	}{
		{name: "delete queue forced", call: func(c *Client) error { return c.DeleteQueue(t.Context(), "q 1", true) },
			wantMethod: "DELETE", wantURI: "/api/v2/routing/queues/q%201?forceDelete=true"},
		{name: "delete queue", call: func(c *Client) error { return c.DeleteQueue(t.Context(), "q1", false) },
			wantMethod: "DELETE", wantURI: "/api/v2/routing/queues/q1?forceDelete=false"},
		{name: "create queue", call: func(c *Client) error {
			_, err := c.CreateQueue(t.Context(), map[string]any{"name": "New", "division": map[string]any{"id": "d1"}})
			return err
		}, wantMethod: "POST", wantURI: "/api/v2/routing/queues", wantBody: `{"name":"New","division":{"id":"d1"}}`, respond: map[string]any{"id": "q9"}},
		{name: "create skill", call: func(c *Client) error { _, err := c.CreateSkill(t.Context(), "French"); return err },
			wantMethod: "POST", wantURI: "/api/v2/routing/skills", wantBody: `{"name":"French"}`, respond: map[string]any{"id": "s9"}},
		{name: "delete skill", call: func(c *Client) error { return c.DeleteSkill(t.Context(), "s1") },
			wantMethod: "DELETE", wantURI: "/api/v2/routing/skills/s1"},
		{name: "get worktype", call: func(c *Client) error { _, err := c.GetWorktype(t.Context(), "w1"); return err },
			wantMethod: "GET", wantURI: "/api/v2/taskmanagement/worktypes/w1", respond: map[string]any{"id": "w1"}},
		{name: "create worktype", call: func(c *Client) error {
			_, err := c.CreateWorktype(t.Context(), map[string]any{"name": "Claims", "defaultWorkbinId": "wb1"})
			return err
		}, wantMethod: "POST", wantURI: "/api/v2/taskmanagement/worktypes", wantBody: `{"name":"Claims","defaultWorkbinId":"wb1"}`, respond: map[string]any{"id": "w9"}},
		{name: "delete worktype", call: func(c *Client) error { return c.DeleteWorktype(t.Context(), "w1") },
			wantMethod: "DELETE", wantURI: "/api/v2/taskmanagement/worktypes/w1"},
		{name: "list divisions", call: func(c *Client) error { _, err := c.ListDivisions(t.Context()); return err },
			wantMethod: "GET", wantURI: "/api/v2/authorization/divisions?pageNumber=1&pageSize=500", respond: map[string]any{"entities": []any{}, "pageCount": 1}},
		{name: "list languages", call: func(c *Client) error { _, err := c.ListLanguages(t.Context()); return err },
			wantMethod: "GET", wantURI: "/api/v2/routing/languages?pageNumber=1&pageSize=500", respond: map[string]any{"entities": []any{}, "pageCount": 1}},
		{name: "get utilization", call: func(c *Client) error { _, err := c.GetUtilization(t.Context()); return err },
			wantMethod: "GET", wantURI: "/api/v2/routing/utilization", respond: map[string]any{"utilization": map[string]any{}}},
		{name: "put utilization", call: func(c *Client) error {
			u := &Utilization{Utilization: map[string]MediaUtilization{"call": {MaximumCapacity: 1}}}
			_, err := c.UpdateUtilization(t.Context(), u)
			return err
		}, wantMethod: "PUT", wantURI: "/api/v2/routing/utilization", wantBody: `{"utilization":{"call":{"maximumCapacity":1}}}`, respond: map[string]any{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var method, uri string
			var body []byte
			org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
				method, uri = r.Method, r.URL.RequestURI()
				body, _ = io.ReadAll(r.Body)
				if tc.respond == nil {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				writeJSON(w, 200, tc.respond)
			}}
			c, _ := newTestClient(t, org)
			if err := tc.call(c); err != nil {
				t.Fatal(err)
			}
			if method != tc.wantMethod || uri != tc.wantURI {
				t.Errorf("got %s %s, want %s %s", method, uri, tc.wantMethod, tc.wantURI)
			}
			if tc.wantBody == "" && len(body) != 0 {
				t.Errorf("got body %s, want none", body)
			}
			if tc.wantBody != "" && !jsonEqual(t, []byte(tc.wantBody), body) {
				t.Errorf("got body %s, want %s", body, tc.wantBody)
			}
		})
	}
}

func TestUtilizationRoundTrip(t *testing.T) {
	const live = `{"utilization":{"call":{"maximumCapacity":1,"interruptableMediaTypes":[],"includeNonAcd":false},"workitem":{"maximumCapacity":3,"futureFlag":true}},"labelUtilizations":{"l1":{"maximumCapacity":2,"interruptingLabelIds":["l2"],"labelName":"VIP"}},"maxInboundCalls":4}`
	var put []byte
	org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			put, _ = io.ReadAll(r.Body)
			w.Write(put)
			return
		}
		w.Write([]byte(live))
	}}
	c, _ := newTestClient(t, org)
	u, err := c.GetUtilization(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	mu := u.Utilization["call"]
	mu.MaximumCapacity = 2
	u.Utilization["call"] = mu
	if _, err := c.UpdateUtilization(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	want := `{"utilization":{"call":{"maximumCapacity":2,"interruptableMediaTypes":[],"includeNonAcd":false},"workitem":{"maximumCapacity":3,"futureFlag":true}},"labelUtilizations":{"l1":{"maximumCapacity":2,"interruptingLabelIds":["l2"],"labelName":"VIP"}},"maxInboundCalls":4}`
	if !jsonEqual(t, []byte(want), put) {
		t.Errorf("got PUT body %s, want %s", put, want)
	}
}

// TestCursorQueryFollowsShortAndEmptyPages: the SDK documents that a query
// page need not be filled and that an `after` in the response means more may
// exist, so neither a short nor an empty page ends the listing; only a
// missing (or repeated) cursor does.
func TestCursorQueryFollowsShortAndEmptyPages(t *testing.T) {
	pages := []struct {
		ids   []string
		after string
	}{
		{ids: []string{"w1", "w2"}, after: "c1"},
		{ids: nil, after: "c2"},
		{ids: []string{"w3"}, after: "c3"},
		{ids: []string{"w4"}, after: ""},
	}
	var n atomic.Int64
	org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		if want := []any{nil, "c1", "c2", "c3"}[i]; b["after"] != want {
			writeError(w, 400, "bad.request", fmt.Sprintf("query %d: got after %v, want %v", i+1, b["after"], want), "corr-after")
			return
		}
		ents := []any{}
		for _, id := range pages[i].ids {
			ents = append(ents, map[string]any{"id": id})
		}
		resp := map[string]any{"entities": ents}
		if pages[i].after != "" {
			resp["after"] = pages[i].after
		}
		writeJSON(w, 200, resp)
	}}
	c, _ := newTestClient(t, org)
	got, err := c.ListWorktypes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, w := range got {
		ids = append(ids, w.ID)
	}
	if diff := cmp.Diff([]string{"w1", "w2", "w3", "w4"}, ids); diff != "" {
		t.Errorf("worktype ids (-want +got):\n%s", diff)
	}
	if got := n.Load(); got != 4 {
		t.Errorf("got %d queries, want 4", got)
	}
}

// mutatingList serves ids pageNumber-paged like GET /api/v2/routing/queues,
// with the envelope's pageSize capped at maxSize; change, when set, runs
// once before the first request for a page other than 1 of each reading.
type mutatingList struct {
	mu      sync.Mutex
	ids     []string
	maxSize int
	change  func(ids []string) []string
	changes int // how many readings change (-1: every one)
	changed int
	done    bool // change already applied in the current reading
	total   func(n int) int
	bare    bool // envelope without total and pageCount
	reqs    int
}

func (m *mutatingList) handle(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reqs++
	size, _ := strconv.Atoi(r.URL.Query().Get("pageSize"))
	num, _ := strconv.Atoi(r.URL.Query().Get("pageNumber"))
	if m.maxSize > 0 && size > m.maxSize {
		size = m.maxSize
	}
	if num == 1 {
		m.done = false
	} else if m.change != nil && !m.done && (m.changes < 0 || m.changed < m.changes) {
		m.ids = m.change(m.ids)
		m.changed++
		m.done = true
	}
	lo := min((num-1)*size, len(m.ids))
	hi := min(lo+size, len(m.ids))
	ents := []any{}
	for _, id := range m.ids[lo:hi] {
		ents = append(ents, map[string]any{"id": id, "name": id})
	}
	total := len(m.ids)
	if m.total != nil {
		total = m.total(total)
	}
	page := map[string]any{"entities": ents, "pageSize": size, "pageNumber": num,
		"total": total, "pageCount": (total + size - 1) / size}
	if m.bare {
		delete(page, "total")
		delete(page, "pageCount")
	}
	writeJSON(w, 200, page)
}

func TestListSurvivesCappedAndChangingPages(t *testing.T) {
	ids := func(s string) []string { return strings.Fields(s) }
	tests := []struct {
		name     string
		list     *mutatingList
		pageSize int
		want     []string
		wantErr  string
		wantReqs int
	}{
		{name: "server caps pageSize, no total or pageCount", list: &mutatingList{ids: ids("a b c d e f g h i j"), maxSize: 3, bare: true},
			pageSize: 5, want: ids("a b c d e f g h i j"), wantReqs: 4},
		{name: "deleted from page 1 after it was read", pageSize: 2,
			list: &mutatingList{ids: ids("a b c d e f"), changes: 1, change: func(s []string) []string { return s[1:] }},
			want: ids("b c d e f"), wantReqs: 3 + 3},
		{name: "renamed to sort first after page 1 was read", pageSize: 2,
			list: &mutatingList{ids: ids("a b c d e f"), changes: 1, change: func(s []string) []string { return append([]string{"f"}, s[:5]...) }},
			want: ids("f a b c d e"), wantReqs: 3 + 3},
		{name: "keeps changing", pageSize: 2,
			list:    &mutatingList{ids: ids("a b c d e f"), changes: -1, change: func(s []string) []string { return append(s, fmt.Sprint("n", len(s))) }},
			wantErr: "changed while it was being read", wantReqs: 3 + 4 + 4}, // 6, 7, 8 entities
		{name: "total never matches the entities, alike twice", pageSize: 2,
			list: &mutatingList{ids: ids("a b c d"), total: func(n int) int { return n + 1 }},
			want: ids("a b c d"), wantReqs: 3 + 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			org := &fakeOrg{handler: tc.list.handle}
			c, _ := newTestClient(t, org, func(cfg *Config) { cfg.PageSize = tc.pageSize; cfg.PageConcurrency = 1 })
			got, err := c.ListQueues(t.Context())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				var gotIDs []string
				for _, q := range got {
					gotIDs = append(gotIDs, q.ID)
				}
				if diff := cmp.Diff(tc.want, gotIDs); diff != "" {
					t.Errorf("queue ids (-want +got):\n%s", diff)
				}
			}
			if tc.list.reqs != tc.wantReqs {
				t.Errorf("got %d requests, want %d", tc.list.reqs, tc.wantReqs)
			}
		})
	}
}
