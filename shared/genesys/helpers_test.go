package genesys

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testClientID     = "test-client-id"
	testClientSecret = "s3cr3t-value-that-must-never-leak"
)

// fakeClock is an injected clock whose Sleep advances time instead of waiting.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.t = f.t.Add(d)
	return nil
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// fakeOrg is a small Genesys stand-in: a token endpoint checking Basic auth
// and an API that checks the bearer token before calling handler.
type fakeOrg struct {
	mu        sync.Mutex
	issued    int
	valid     map[string]bool
	expiresIn int
	// tokenFail, when non-zero, makes the token endpoint answer this status with tokenFailBody.
	tokenFail     int
	tokenFailBody string

	tokenCalls atomic.Int64
	apiCalls   atomic.Int64
	handler    http.HandlerFunc
}

func (f *fakeOrg) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth/token" {
		f.tokenCalls.Add(1)
		id, secret, ok := r.BasicAuth()
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.tokenFail != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("ININ-Correlation-Id", "corr-token")
			w.WriteHeader(f.tokenFail)
			fmt.Fprint(w, f.tokenFailBody)
			return
		}
		if !ok || id != testClientID || secret != testClientSecret {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","description":"client not found","error_description":"client not found"}`)
			return
		}
		f.issued++
		tok := fmt.Sprintf("token-%d-abcdef", f.issued)
		if f.valid == nil {
			f.valid = map[string]bool{}
		}
		f.valid[tok] = true
		exp := f.expiresIn
		if exp == 0 {
			exp = 86400
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": exp})
		return
	}
	f.apiCalls.Add(1)
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	ok := f.valid[tok]
	f.mu.Unlock()
	if !ok {
		writeError(w, http.StatusUnauthorized, "bad.credentials", "Invalid login credentials.", "corr-401")
		return
	}
	f.handler(w, r)
}

// revoke invalidates every token issued so far (the next API call gets a 401).
func (f *fakeOrg) revoke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.valid)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg, corr string) {
	w.Header().Set("ININ-Correlation-Id", corr)
	writeJSON(w, status, map[string]any{"message": msg, "code": code, "status": status, "contextId": "ctx-" + corr})
}

// newTestClient starts org on loopback and returns a client for it using an
// injected clock (no real sleeping), zero jitter and a generous budget.
func newTestClient(t *testing.T, org *fakeOrg, mods ...func(*Config)) (*Client, *fakeClock) {
	t.Helper()
	srv := httptest.NewServer(org)
	t.Cleanup(srv.Close)
	clock := newFakeClock()
	cfg := Config{
		APIURL: srv.URL, LoginURL: srv.URL,
		ClientID: testClientID, ClientSecret: testClientSecret,
		RequestsPerMinute: -1,
		Now:               clock.Now,
		Sleep:             clock.Sleep,
		Jitter:            func(time.Duration) time.Duration { return 0 },
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, clock
}

// jsonEqual reports whether two JSON documents are equal as values.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("unmarshal %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func mapsKeys[M ~map[K]V, K comparable, V any](m M) iter.Seq[K] { return maps.Keys(m) }
