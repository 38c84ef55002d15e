package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// via serves the env's simulator under label on a server of its own.
func (e *env) via(t *testing.T, label string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(e.s.Via(label))
	t.Cleanup(ts.Close)
	return ts
}

// callAt is call against another server of the same simulator (a Via).
func (e *env) callAt(t testing.TB, ts *httptest.Server, method, path string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	saved := e.ts
	e.ts = ts
	defer func() { e.ts = saved }()
	return e.call(t, method, path, body)
}

// queueBody is the stored queue as a PUT body with fn applied.
func queueBody(t testing.TB, e *env, id string, fn func(q map[string]any)) map[string]any {
	t.Helper()
	q, ok := e.s.Queue(id)
	if !ok {
		t.Fatalf("queue %s not found", id)
	}
	fn(q)
	return q
}

func TestWriteLog(t *testing.T) {
	e := newEnv(t, Options{RequestsPerMinute: -1}, GenerateOptions{Queues: 2, Skills: 2, Worktypes: 1, Seed: 60})
	f := Generate(GenerateOptions{Queues: 2, Skills: 2, Worktypes: 1, Seed: 60})
	apply := e.via(t, "apply")
	qid, wid := str(f.Queues[0], "id"), str(f.Worktypes[0], "id")

	put := queueBody(t, e, qid, func(q map[string]any) { q["description"] = "by apply" })
	if st, _, body := e.callAt(t, apply, "PUT", "/api/v2/routing/queues/"+qid, put); st != 200 {
		t.Fatalf("PUT queue: got %d %v", st, body)
	}
	// The same full replace again: applied, nothing changed, the body still logged.
	if st, _, body := e.callAt(t, apply, "PUT", "/api/v2/routing/queues/"+qid, put); st != 200 {
		t.Fatalf("PUT queue again: got %d %v", st, body)
	}
	if st, _, body := e.call(t, "PATCH", "/api/v2/taskmanagement/worktypes/"+wid, map[string]any{"defaultPriority": 7}); st != 200 {
		t.Fatalf("PATCH worktype: got %d %v", st, body)
	}
	st, _, created := e.call(t, "POST", "/api/v2/routing/skills", map[string]any{"name": "Chaos Skill"})
	if st != 200 {
		t.Fatalf("POST skill: got %d %v", st, created)
	}
	if st, _, _ := e.call(t, "DELETE", "/api/v2/routing/skills/"+created["id"].(string), nil); st != 200 {
		t.Fatalf("DELETE skill: got %d", st)
	}
	// Refused writes are not logged.
	if st, _, _ := e.call(t, "PUT", "/api/v2/routing/queues/nope", put); st != 404 {
		t.Fatalf("PUT unknown queue: got %d, want 404", st)
	}
	if st, _, _ := e.call(t, "PATCH", "/api/v2/taskmanagement/worktypes/"+wid, map[string]any{"nope": 1}); st != 400 {
		t.Fatalf("PATCH unknown key: got %d, want 400", st)
	}
	edit, err := e.s.Edit("queue", qid, func(q map[string]any) { q["description"] = "by admin" })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Edit("division", qid, func(map[string]any) {}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Edit of a division: got %v, want ErrInvalid", err)
	}
	if err := e.s.Delete("queue", qid); err != nil {
		t.Fatal(err)
	}

	type row struct {
		Seq                  int
		Via, Method, Kind    string
		Action               string
		OutOfBand, Client    bool
		Changes              []string
		SentDescription      string
		Answer               int
		UserIsAdmin, HasName bool
	}
	var got []row
	for _, w := range e.s.Writes() {
		r := row{Seq: w.Seq, Via: w.Via, Method: w.Method, Kind: w.Kind, Action: w.Action, OutOfBand: w.OutOfBand,
			Client: w.ClientID == DefaultClientID, SentDescription: w.Sent["description"], Answer: w.Answer,
			UserIsAdmin: w.UserID == adminUserID, HasName: w.Name != "" && w.ID != ""}
		for _, c := range w.Changes {
			r.Changes = append(r.Changes, c.Path)
		}
		got = append(got, r)
	}
	want := []row{
		{Seq: 1, Via: "apply", Method: "PUT", Kind: "queue", Action: "Update", Client: true, Changes: []string{"description"}, SentDescription: "by apply", Answer: 200, HasName: true},
		{Seq: 2, Via: "apply", Method: "PUT", Kind: "queue", Action: "Update", Client: true, SentDescription: "by apply", Answer: 200, HasName: true},
		{Seq: 3, Method: "PATCH", Kind: "worktype", Action: "Update", Client: true, Changes: []string{"defaultPriority"}, Answer: 200, HasName: true},
		{Seq: 4, Method: "POST", Kind: "skill", Action: "Create", Client: true, Changes: []string{"name", "state"}, Answer: 200, HasName: true},
		{Seq: 5, Method: "DELETE", Kind: "skill", Action: "Delete", Client: true, Changes: []string{"name", "state"}, Answer: 200, HasName: true},
		{Seq: 6, Kind: "queue", Action: "Update", OutOfBand: true, Changes: []string{"description"}, UserIsAdmin: true, HasName: true},
		{Seq: 7, Kind: "queue", Action: "Delete", OutOfBand: true, UserIsAdmin: true, HasName: true},
	}
	// A deleted queue changes every field it had: compare only the first few.
	if len(got) == len(want) {
		got[6].Changes = nil
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("write log (-want +got):\n%s", diff)
	}
	if edit.Seq != 6 || !edit.OutOfBand {
		t.Errorf("Edit returned %+v, want the out-of-band write 6", edit)
	}
	w := e.s.Writes()[0]
	if c, ok := w.Changed("description"); !ok || c.New != "by apply" || !c.Had || !c.Has || c.Old == "" {
		t.Errorf("Changed(description) of write 1: got %+v %v, want the old description and %q", c, ok, "by apply")
	}
	if _, ok := w.Changed("mediaSettings"); ok {
		t.Errorf("Changed(mediaSettings) of a description change: got a change, want none")
	}
	if c, ok := e.s.Writes()[2].Changed("defaultPriority"); !ok || c.New != "7" {
		t.Errorf("Changed(defaultPriority) of the PATCH: got %+v %v, want new value 7", c, ok)
	}

	e.s.ResetWrites()
	if n := len(e.s.Writes()); n != 0 {
		t.Errorf("after ResetWrites: got %d writes, want 0", n)
	}
	if w, err := e.s.Edit("worktype", wid, func(w map[string]any) { w["description"] = "x" }); err != nil || w.Seq != 8 {
		t.Errorf("first write after ResetWrites: got Seq %d (%v), want 8: the numbering goes on", w.Seq, err)
	}
}

func TestHook(t *testing.T) {
	e := newEnv(t, Options{RequestsPerMinute: -1}, GenerateOptions{Queues: 2, Worktypes: 1, Seed: 61})
	f := Generate(GenerateOptions{Queues: 2, Worktypes: 1, Seed: 61})
	apply := e.via(t, "apply")
	qid := str(f.Queues[0], "id")

	var mu sync.Mutex
	var seen []EntityRequest
	// The admin edits the queue between the client's read and its write: the hook runs
	// just before the PUT is applied, and outside the simulator's lock (Edit takes it).
	var admin Write
	e.s.SetHook(func(ctx context.Context, r EntityRequest) {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		if r.Method == "PUT" {
			r.Body["description"] = "changed by the hook" // a copy: the write is unaffected
			var err error
			if admin, err = e.s.Edit("queue", r.ID, func(q map[string]any) { q["callingPartyName"] = "Admin Co" }); err != nil {
				t.Errorf("edit from the hook: %v", err)
			}
		}
	})
	if st, _, _ := e.callAt(t, apply, "GET", "/api/v2/routing/queues/"+qid, nil); st != 200 {
		t.Fatalf("GET queue: %d", st)
	}
	put := queueBody(t, e, qid, func(q map[string]any) { q["description"] = "by apply"; delete(q, "callingPartyName") })
	if st, _, _ := e.callAt(t, apply, "PUT", "/api/v2/routing/queues/"+qid, put); st != 200 {
		t.Fatalf("PUT queue: %d", st)
	}
	if st, _, _ := e.call(t, "GET", "/api/v2/authorization/divisions/"+str(f.Divisions[0], "id"), nil); st != 200 {
		t.Fatalf("GET division: %d", st)
	}
	if st, _, _ := e.call(t, "POST", "/api/v2/routing/skills", map[string]any{"name": "Hooked"}); st != 200 {
		t.Fatalf("POST skill: %d", st)
	}
	if st, _, _ := e.call(t, "DELETE", "/api/v2/taskmanagement/worktypes/"+str(f.Worktypes[0], "id"), nil); st != 204 {
		t.Fatalf("DELETE worktype: %d", st)
	}

	type call struct{ Via, Method, Kind, ID, Description string }
	var got []call
	for _, r := range seen {
		c := call{Via: r.Via, Method: r.Method, Kind: r.Kind, ID: r.ID}
		if r.Body != nil {
			c.Description, _ = r.Body["description"].(string)
		}
		got = append(got, c)
	}
	want := []call{
		{Via: "apply", Method: "GET", Kind: "queue", ID: qid},
		{Via: "apply", Method: "PUT", Kind: "queue", ID: qid, Description: "changed by the hook"},
		{Method: "POST", Kind: "skill"},
		{Method: "DELETE", Kind: "worktype", ID: str(f.Worktypes[0], "id")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hook calls (-want +got); no call for a division:\n%s", diff)
	}
	q, _ := e.s.Queue(qid)
	if q["description"] != "by apply" {
		t.Errorf("description after the PUT: got %v, want the PUT's (the hook changed only its copy)", q["description"])
	}
	if _, ok := q["callingPartyName"]; ok {
		t.Errorf("callingPartyName after the PUT: got %v, want it gone: the full replace landed after the admin's edit", q["callingPartyName"])
	}
	writes := e.s.Writes()
	i := slices.IndexFunc(writes, func(w Write) bool { return w.Method == "PUT" })
	if i < 0 || writes[i].Seq != admin.Seq+1 {
		t.Errorf("the PUT is write %v, the admin's edit %d: want the PUT right after the edit", writes, admin.Seq)
	}
	e.s.SetHook(nil)
	if st, _, _ := e.call(t, "GET", "/api/v2/routing/queues/"+qid, nil); st != 200 || len(seen) != 4 {
		t.Errorf("after SetHook(nil): got %d hook calls, want still 4", len(seen))
	}
}

func TestFaultsAfterWrite(t *testing.T) {
	tests := []struct {
		name       string
		faults     Faults
		wantAnswer int
		counts     FaultCounts
	}{
		{"503 after the write", Faults{ServerErrorRate: 1, ServerErrorAfterWrite: 1}, http.StatusServiceUnavailable,
			FaultCounts{ServerErrors: 1, ServerErrorsAfterWrite: 1}},
		{"dropped after the write", Faults{DropRate: 1, DropAfterWrite: 1}, AnswerDropped,
			FaultCounts{Drops: 1, DropsAfterWrite: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{RequestsPerMinute: -1}, GenerateOptions{Queues: 1, Seed: 62})
			qid := str(Generate(GenerateOptions{Queues: 1, Seed: 62}).Queues[0], "id")
			put := queueBody(t, e, qid, func(q map[string]any) { q["description"] = "applied anyway" })
			bad := queueBody(t, e, qid, func(q map[string]any) { q["skillEvaluationMethod"] = "SOME" })
			e.s.SetFaults(tc.faults)

			// A read is faulted before it is handled: 503 or a dropped connection.
			req, _ := http.NewRequest("GET", e.ts.URL+"/api/v2/routing/queues/"+qid, nil)
			req.Header.Set("Authorization", "Bearer "+e.tok)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode != 503 {
					t.Errorf("GET: got %d, want 503 or a dropped connection", resp.StatusCode)
				}
			}
			// A write the simulator refuses gets its real answer.
			if st, _, body := e.call(t, "PUT", "/api/v2/routing/queues/"+qid, bad); st != 400 {
				t.Errorf("invalid PUT: got %d %v, want its 400", st, body)
			}
			// A write is applied, then answered with the fault.
			req, _ = http.NewRequest("PUT", e.ts.URL+"/api/v2/routing/queues/"+qid, jsonBody(t, put))
			req.Header.Set("Authorization", "Bearer "+e.tok)
			resp, err := http.DefaultClient.Do(req)
			switch {
			case tc.wantAnswer == AnswerDropped && err == nil:
				resp.Body.Close()
				t.Errorf("PUT: got %d, want a dropped connection", resp.StatusCode)
			case tc.wantAnswer != AnswerDropped && err != nil:
				t.Errorf("PUT: got %v, want %d", err, tc.wantAnswer)
			case err == nil:
				resp.Body.Close()
				if resp.StatusCode != tc.wantAnswer {
					t.Errorf("PUT: got %d, want %d", resp.StatusCode, tc.wantAnswer)
				}
			}
			if q, _ := e.s.Queue(qid); q["description"] != "applied anyway" {
				t.Errorf("description after the faulted PUT: got %v, want it applied", q["description"])
			}
			writes := e.s.Writes()
			if len(writes) != 1 || writes[0].Answer != tc.wantAnswer {
				t.Errorf("write log: got %+v, want one write answered %d", writes, tc.wantAnswer)
			}
			// The GET and the PUT were faulted; the refused PUT is not counted as a fault.
			if got := e.s.InjectedFaults(); got != tc.counts {
				t.Errorf("InjectedFaults: got %+v, want %+v", got, tc.counts)
			}
		})
	}
}

func TestFaultsRateLimitBurstsAndVia(t *testing.T) {
	e := newEnv(t, Options{RequestsPerMinute: -1}, GenerateOptions{Queues: 1, Seed: 63})
	faulted, other := e.via(t, "apply"), e.via(t, "webhook")
	path := "/api/v2/routing/queues"
	e.s.SetFaults(Faults{RateLimitRate: 1, RateLimitBurst: 3, RetryAfterSeconds: 2, Via: []string{"apply"}})
	for i := range 4 {
		st, h, _ := e.callAt(t, faulted, "GET", path, nil)
		if st != 429 || h.Get("Retry-After") != "2" {
			t.Errorf("request %d through the faulted Via: got %d Retry-After %q, want 429 and 2", i, st, h.Get("Retry-After"))
		}
		if st, _, _ := e.callAt(t, other, "GET", path, nil); st != 200 {
			t.Errorf("request %d through another Via: got %d, want 200 (not faulted)", i, st)
		}
		if st, _, _ := e.call(t, "GET", path, nil); st != 200 {
			t.Errorf("request %d to the simulator itself: got %d, want 200 (not faulted)", i, st)
		}
	}
	// The first and the fourth request started a burst of three.
	if got, want := e.s.InjectedFaults(), (FaultCounts{RateLimited: 4, Bursts: 2}); got != want {
		t.Errorf("InjectedFaults: got %+v, want %+v", got, want)
	}
	e.s.SetFaults(Faults{})
	if got := e.s.InjectedFaults(); got != (FaultCounts{}) {
		t.Errorf("InjectedFaults after SetFaults: got %+v, want zero", got)
	}
}

func TestFaultsDropRate(t *testing.T) {
	e := newEnv(t, Options{RequestsPerMinute: -1}, GenerateOptions{Queues: 1, Seed: 64})
	e.s.SetFaults(Faults{DropRate: 0.5, Seed: 9})
	drops := 0
	for range 100 {
		req, _ := http.NewRequest("GET", e.ts.URL+"/api/v2/routing/queues", nil)
		req.Header.Set("Authorization", "Bearer "+e.tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			drops++
			continue
		}
		resp.Body.Close()
	}
	if got := e.s.InjectedFaults().Drops; got != drops || drops < 25 || drops > 75 {
		t.Errorf("got %d dropped connections (counted %d) at rate 0.5, want about 50, all counted", drops, got)
	}
}

func jsonBody(t testing.TB, v any) io.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

func TestControlPlaneWritesAndFaults(t *testing.T) {
	e := newEnv(t, Options{RequestsPerMinute: -1}, GenerateOptions{Queues: 1, Seed: 65})
	qid := str(Generate(GenerateOptions{Queues: 1, Seed: 65}).Queues[0], "id")
	control := func(method, path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
		st, _, out := send(t, req)
		if st/100 != 2 {
			t.Fatalf("%s %s: got %d %v", method, path, st, out)
		}
		return out
	}
	control("PUT", "/_sim/faults", `{"serverErrorRate":1,"serverErrorAfterWrite":1,"via":["apply"]}`)
	if st, _, _ := e.call(t, "GET", "/api/v2/routing/queues", nil); st != 200 {
		t.Errorf("a request outside the faults' Via: got %d, want 200", st)
	}
	if st, _, _ := e.callAt(t, e.via(t, "apply"), "GET", "/api/v2/routing/queues", nil); st != 503 {
		t.Errorf("a request through the faults' Via: got %d, want 503", st)
	}
	if got := control("GET", "/_sim/faults", ""); got["serverErrors"] != 1.0 {
		t.Errorf("GET /_sim/faults: got %v, want serverErrors 1", got)
	}
	control("PATCH", "/_sim/queues/"+qid, `{"description":"hand edit"}`)
	writes, _ := control("GET", "/_sim/writes", "")["writes"].([]any)
	if len(writes) != 1 {
		t.Fatalf("GET /_sim/writes: got %v, want the one out-of-band edit", writes)
	}
	w := writes[0].(map[string]any)
	if w["outOfBand"] != true || w["id"] != qid || w["changes"].([]any)[0].(map[string]any)["new"] != "hand edit" {
		t.Errorf("GET /_sim/writes: got %v, want the out-of-band edit of the description", w)
	}
}

// A target slower than the audit timeout fails the delivery; a longer timeout lets it
// through.
func TestSetAuditTimeout(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 1, Seed: 66})
	qid := str(Generate(GenerateOptions{Queues: 1, Seed: 66}).Queues[0], "id")
	release := make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	t.Cleanup(target.Close)
	t.Cleanup(func() { close(release) })
	e.s.SetAuditTarget(target.URL)
	e.s.SetAuditTimeout(time.Millisecond)
	if err := e.s.EditQueue(qid, func(q map[string]any) { q["description"] = "slow" }); err != nil {
		t.Fatal(err)
	}
	if err := e.s.FlushAudit(ctxT(t)); err == nil {
		t.Errorf("FlushAudit with a target that never answers and a 1 ms timeout: got nil, want the delivery's timeout")
	}
}
