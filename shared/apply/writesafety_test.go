package apply_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// onWrite is a transport that calls hook for each queue PUT or worktype PATCH before
// sending it; hook returns the answer to give instead of Genesys's (nil: Genesys's), and
// may let the write through first (send).
type onWrite struct {
	next http.RoundTripper
	mu   sync.Mutex
	hook func(n int, send func() (*http.Response, error)) (*http.Response, error)
	n    int
}

func (o *onWrite) RoundTrip(r *http.Request) (*http.Response, error) {
	isWrite := (r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/routing/queues/")) ||
		(r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/taskmanagement/worktypes/"))
	if !isWrite || o.hook == nil {
		return o.next.RoundTrip(r)
	}
	o.mu.Lock()
	o.n++
	n := o.n
	o.mu.Unlock()
	return o.hook(n, func() (*http.Response, error) { return o.next.RoundTrip(r) })
}

func answer(r *http.Request, status int, retryAfter string) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	return &http.Response{StatusCode: status, Header: h, Request: r,
		Body: io.NopCloser(bytes.NewReader(fmt.Appendf(nil, `{"message":"injected","code":"injected","status":%d}`, status)))}
}

func writeEnv(t *testing.T, hook func(env *applytest.Env, n int, send func() (*http.Response, error)) (*http.Response, error)) (*applytest.Env, string, string) {
	t.Helper()
	w := &onWrite{}
	env, qName, wName, _ := newEnv(t, applytest.Options{FakeClock: true, Transport: func(next http.RoundTripper) http.RoundTripper {
		w.next = next
		return w
	}})
	w.hook = func(n int, send func() (*http.Response, error)) (*http.Response, error) { return hook(env, n, send) }
	return env, qName, wName
}

// A write Genesys applied but answered 503: not resent; the engine reads again, finds the
// change there and records APPLIED; Genesys saw one write.
func TestAmbiguousWriteIsNotResent(t *testing.T) {
	var sent atomic.Int64
	env, qName, _ := writeEnv(t, func(_ *applytest.Env, n int, send func() (*http.Response, error)) (*http.Response, error) {
		sent.Add(1)
		resp, err := send()
		if n == 1 && err == nil {
			resp.Body.Close()
			return answer(resp.Request, http.StatusServiceUnavailable, ""), nil
		}
		return resp, err
	})
	req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"ambiguous"}`))
	res := applyOK(t, env, req)
	if res.Status != store.StatusApplied || !strings.Contains(res.Reason, "unanswered") || res.WriteAttempts != 1 {
		t.Fatalf("got %s (%q), %d writes; want APPLIED after one unanswered write", res.Status, res.Reason, res.WriteAttempts)
	}
	if sent.Load() != 1 {
		t.Errorf("%d PUTs sent, want 1: an unanswered write must not be resent as it was", sent.Load())
	}
	if got := env.Raw(t, entity.Queue, env.ID(t, entity.Queue, qName))["description"]; got != "ambiguous" {
		t.Errorf("description %v, want the change", got)
	}
}

// A write refused with 429: the engine waits Retry-After, reads again, and an admin's edit
// of the same field made meanwhile ends the change CONFLICT, not overwritten. The window
// was recorded open before the read and closed after each write.
func TestThrottledWriteReadsAgain(t *testing.T) {
	const admin = "edited by an admin during the wait"
	var qid string
	env, qName, _ := writeEnv(t, func(env *applytest.Env, n int, send func() (*http.Response, error)) (*http.Response, error) {
		if n == 1 {
			if err := env.Sim.EditQueue(qid, func(q map[string]any) { q["description"] = admin }); err != nil {
				t.Error(err)
			}
			return answer(nil, http.StatusTooManyRequests, "4"), nil
		}
		return send()
	})
	qid = env.ID(t, entity.Queue, qName)
	req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"routekeeper's"}`))
	start := env.Clock.Now()
	res := applyOK(t, env, req)
	if res.Status != store.StatusConflict {
		t.Fatalf("got %s (%q), want CONFLICT: the admin's edit must not be overwritten", res.Status, res.Reason)
	}
	if got := env.Raw(t, entity.Queue, env.ID(t, entity.Queue, qName))["description"]; got != admin {
		t.Errorf("description %v, want the admin's", got)
	}
	if waited := env.Clock.Now().Sub(start); waited < 4*time.Second {
		t.Errorf("the engine waited %s before reading again, want the 4 s Retry-After", waited)
	}
	ws, err := env.Table.ListWriteWindows(context.Background(), req.Key(), start.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0].Open() || ws[1].Open() || len(ws[0].Written) != 0 || len(ws[1].Written) != 0 {
		t.Errorf("windows %+v, want two closed windows with nothing written (a 429 applies nothing; the CONFLICT writes nothing)", ws)
	}
}

// An applied update leaves a closed window naming what it wrote, and its read-to-write
// window in the result.
func TestWriteWindowRecorded(t *testing.T) {
	env, qName, _ := writeEnv(t, func(_ *applytest.Env, _ int, send func() (*http.Response, error)) (*http.Response, error) {
		return send()
	})
	req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"windowed"}`))
	before := env.Clock.Now()
	res := applyOK(t, env, req)
	if res.Status != store.StatusApplied || res.WriteAttempts != 1 {
		t.Fatalf("got %s, %d writes", res.Status, res.WriteAttempts)
	}
	ws, err := env.Table.ListWriteWindows(context.Background(), req.Key(), before.Add(-time.Second))
	if err != nil || len(ws) != 1 {
		t.Fatalf("windows %+v, %v; want one", ws, err)
	}
	w := ws[0]
	if w.ChangeID != req.ChangeID || w.Open() || w.Start.Before(before) || w.End.Before(w.Start) || w.ETag != res.ETag ||
		len(w.Written) != 1 || w.Written[0] != "description" {
		t.Errorf("window %+v, want closed, from before the read, naming description and the new ETag", w)
	}
	if want := w.Start.Add(2*time.Minute + 30*time.Second); !w.Until.Equal(want) {
		t.Errorf("window until %v, want %v (the claim's end: LockDuration and ClockSkew after the start)", w.Until, want)
	}
}

// A delivery cut off right after its write still stores the last-known state (the merge
// base of the next change).
func TestObservationSurvivesACutOff(t *testing.T) {
	var cancel context.CancelFunc
	env, qName, _ := writeEnv(t, func(_ *applytest.Env, _ int, send func() (*http.Response, error)) (*http.Response, error) {
		resp, err := send()
		if err == nil { // the invocation's deadline passes once the answer is read
			resp.Body = cancelOnClose{resp.Body, cancel}
		}
		return resp, err
	})
	req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"cut off"}`))
	var ctx context.Context
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	_, _ = env.Engine.Apply(ctx, req)
	obs, err := env.Table.GetObservation(context.Background(), req.Key())
	if err != nil || !strings.Contains(string(obs.Config), "cut off") {
		t.Errorf("last-known state after the cut-off: %s, %v; want the written state", obs.Config, err)
	}
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// everyRequest is a transport that calls before and after around each request.
type everyRequest struct {
	next          http.RoundTripper
	before, after func(r *http.Request)
}

func (e *everyRequest) RoundTrip(r *http.Request) (*http.Response, error) {
	e.before(r)
	resp, err := e.next.RoundTrip(r)
	if err == nil {
		e.after(r)
	}
	return resp, err
}

// The read-to-write window runs from the read's answer to the write's request: time spent
// after the GET's answer arrived and before the PUT went out is in it; time before the
// GET was sent and after the PUT's answer is not.
func TestWindowIsReadAnswerToWriteRequest(t *testing.T) {
	var env *applytest.Env
	var qid string
	tr := &everyRequest{}
	env, qName, _, _ := newEnv(t, applytest.Options{FakeClock: true, Transport: func(next http.RoundTripper) http.RoundTripper {
		tr.next = next
		return tr
	}})
	qid = env.ID(t, entity.Queue, qName)
	entityPath := "/api/v2/routing/queues/" + qid
	tr.before = func(r *http.Request) {
		switch {
		case r.URL.Path == entityPath && r.Method == http.MethodGet:
			env.Clock.Advance(8 * time.Second) // before the read: outside
		case r.URL.Path == entityPath && r.Method == http.MethodPut:
			env.Clock.Advance(2 * time.Second) // before the write's request: inside
		}
	}
	tr.after = func(r *http.Request) {
		switch {
		case r.URL.Path == entityPath && r.Method == http.MethodGet:
			env.Clock.Advance(time.Second) // after the read's answer: inside
		case r.URL.Path == entityPath && r.Method == http.MethodPut:
			env.Clock.Advance(4 * time.Second) // after the write's answer: outside
		}
	}
	req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"timed"}`))
	res := applyOK(t, env, req)
	if res.Status != store.StatusApplied || res.WriteAttempts != 1 {
		t.Fatalf("got %s (%q), %d writes; want APPLIED with one write", res.Status, res.Reason, res.WriteAttempts)
	}
	if res.WindowMs != 3000 {
		t.Errorf("WindowMs %v, want 3000 (1 s after the read's answer + 2 s before the write's request)", res.WindowMs)
	}
}

// When the live ETag differs from the plan's, what a merge needs (the names refreshed, the
// plan's base read from the table) is fetched before the entity is read again, so nothing
// but the merge lies between the read the write is built on and the write: no Genesys
// request between that GET and the PUT.
func TestMergeReadsAgainAfterItsLookups(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	tr := &everyRequest{after: func(*http.Request) {}}
	tr.before = func(r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		mu.Unlock()
	}
	env, qName, _, _ := newEnv(t, applytest.Options{FakeClock: true, Transport: func(next http.RoundTripper) http.RoundTripper {
		tr.next = next
		return tr
	}})
	qid := env.ID(t, entity.Queue, qName)
	req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"ours"}`))
	if err := env.Sim.EditQueue(qid, func(q map[string]any) { q["skillEvaluationMethod"] = "BEST" }); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	calls = nil
	mu.Unlock()
	res := applyOK(t, env, req)
	if res.Status != store.StatusApplied || !res.Merged {
		t.Fatalf("got %s merged=%v (%q), want APPLIED merged", res.Status, res.Merged, res.Reason)
	}
	mu.Lock()
	defer mu.Unlock()
	get, put := "GET /api/v2/routing/queues/"+qid, "PUT /api/v2/routing/queues/"+qid
	last := -1
	for i, c := range calls {
		if c == get {
			last = i
		}
	}
	if last < 0 || last+1 >= len(calls) || calls[last+1] != put {
		t.Errorf("Genesys requests %q: want the PUT right after the last GET of the queue", calls)
	}
	if lists := slices.IndexFunc(calls, func(c string) bool { return !strings.HasSuffix(c, "/"+qid) && !strings.Contains(c, "/oauth/") }); lists < 0 {
		t.Errorf("Genesys requests %q: want the names refreshed (a merge after an ETag change), else this test proves nothing", calls)
	}
}

// A worktype PATCH sends only what the change changes: a managed field the change leaves
// as it was read, sent all the same, would revert an admin's save landing inside the
// window (seen under chaos: an admin's defaultPriority put back to the value read).
func TestWorktypePatchSendsOnlyTheChange(t *testing.T) {
	var wid string
	env, _, wName := writeEnv(t, func(env *applytest.Env, _ int, send func() (*http.Response, error)) (*http.Response, error) {
		if err := env.Sim.EditWorktype(wid, func(w map[string]any) { w["defaultPriority"] = 7 }); err != nil {
			t.Error(err)
		}
		return send()
	})
	wid = env.ID(t, entity.Worktype, wName)
	desired := document.Clone(env.Live(t, entity.Worktype, wid).Canonical).(map[string]any)
	desired["description"] = "patched alone"
	req := env.Plan(t, changes.OpUpdate, entity.Worktype, wName, desired)
	res := applyOK(t, env, req)
	if res.Status != store.StatusApplied {
		t.Fatalf("got %s (%q), want APPLIED", res.Status, res.Reason)
	}
	raw := env.Raw(t, entity.Worktype, wid)
	if fmt.Sprint(raw["defaultPriority"]) != "7" || raw["description"] != "patched alone" {
		t.Errorf("defaultPriority %v, description %v; want the admin's 7 kept and the change's description", raw["defaultPriority"], raw["description"])
	}
	ws := env.Sim.Writes()
	if sent := ws[len(ws)-1].Sent; len(sent) != 1 || sent["description"] != "patched alone" {
		t.Errorf("the PATCH sent %v, want only the description", sent)
	}
}
