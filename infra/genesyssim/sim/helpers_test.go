package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injected clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	s     *Server
	ts    *httptest.Server
	clock *fakeClock
	tok   string
}

// newEnv starts a simulator on loopback with a fake clock, an org from Generate and a token.
func newEnv(t testing.TB, opts Options, g GenerateOptions) *env {
	t.Helper()
	clock := newClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	s := New(opts)
	if err := s.Load(Generate(g)); err != nil {
		t.Fatalf("Load(Generate(%+v)): %v", g, err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	e := &env{s: s, ts: ts, clock: clock}
	e.tok = e.token(t)
	return e
}

func (e *env) token(t testing.TB) string {
	t.Helper()
	st, _, body := e.tokenRequest(t, DefaultClientID, DefaultClientSecret, "grant_type=client_credentials", true)
	if st != http.StatusOK {
		t.Fatalf("POST /oauth/token: got status %d body %v, want 200", st, body)
	}
	return body["access_token"].(string)
}

func (e *env) tokenRequest(t testing.TB, id, secret, form string, basic bool) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+"/oauth/token", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(id, secret)
	}
	return send(t, req)
}

// call sends an API request with the env token. body may be nil, a string (raw JSON) or a value.
func (e *env) call(t testing.TB, method, path string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	return e.callWith(t, e.tok, method, path, body)
}

func (e *env) callWith(t testing.TB, tok, method, path string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return send(t, req)
}

func send(t testing.TB, req *http.Request) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %q", req.Method, req.URL.Path, raw)
		}
	}
	return resp.StatusCode, resp.Header, m
}

// wantError checks a Genesys ErrorBody.
func wantError(t testing.TB, what string, st int, h http.Header, body map[string]any, wantStatus int, wantCode string) {
	t.Helper()
	if st != wantStatus {
		t.Fatalf("%s: got status %d body %v, want %d", what, st, body, wantStatus)
	}
	if got := body["code"]; got != wantCode {
		t.Errorf("%s: got code %v, want %s (body %v)", what, got, wantCode, body)
	}
	if got := body["status"]; got != float64(wantStatus) {
		t.Errorf("%s: got body status %v, want %d", what, got, wantStatus)
	}
	if msg, _ := body["message"].(string); msg == "" {
		t.Errorf("%s: body has no message: %v", what, body)
	}
	if cid := h.Get("ININ-Correlation-Id"); cid == "" || body["contextId"] != cid {
		t.Errorf("%s: got contextId %v, want the ININ-Correlation-Id header %q", what, body["contextId"], cid)
	}
	for _, k := range []string{"details", "errors"} {
		if _, ok := body[k].([]any); !ok {
			t.Errorf("%s: body has no %s array: %v", what, k, body)
		}
	}
}

func entities(t testing.TB, body map[string]any) []map[string]any {
	t.Helper()
	raw, ok := body["entities"].([]any)
	if !ok {
		t.Fatalf("body has no entities array: %v", body)
	}
	out := make([]map[string]any, len(raw))
	for i, e := range raw {
		out[i] = e.(map[string]any)
	}
	return out
}

func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return "?" + v.Encode()
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
