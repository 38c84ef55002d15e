package sim

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestOAuthToken(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 1, Seed: 1})
	tests := []struct {
		name, id, secret, form string
		basic                  bool
		wantStatus             int
		wantError              string
	}{
		{"valid client", DefaultClientID, DefaultClientSecret, "grant_type=client_credentials", true, 200, ""},
		{"wrong secret", DefaultClientID, "nope", "grant_type=client_credentials", true, 401, "invalid_client"},
		{"unknown client", "someone", DefaultClientSecret, "grant_type=client_credentials", true, 401, "invalid_client"},
		{"no basic auth", "", "", "grant_type=client_credentials", false, 400, "invalid_request"},
		{"missing grant type", DefaultClientID, DefaultClientSecret, "", true, 400, "invalid_request"},
		{"password grant", DefaultClientID, DefaultClientSecret, "grant_type=password", true, 400, "unsupported_grant_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, h, body := e.tokenRequest(t, tc.id, tc.secret, tc.form, tc.basic)
			if st != tc.wantStatus {
				t.Fatalf("got status %d body %v, want %d", st, body, tc.wantStatus)
			}
			if h.Get("ININ-Correlation-Id") == "" {
				t.Errorf("no ININ-Correlation-Id header")
			}
			if tc.wantError == "" {
				if body["token_type"] != "bearer" || body["expires_in"] != float64(86400) || body["access_token"] == "" {
					t.Errorf("got token response %v, want access_token, token_type bearer, expires_in 86400", body)
				}
				return
			}
			if body["error"] != tc.wantError {
				t.Errorf("got error %v, want %s", body["error"], tc.wantError)
			}
			if d, _ := body["description"].(string); d == "" || body["error_description"] != d {
				t.Errorf("got description %v error_description %v, want both set and equal", body["description"], body["error_description"])
			}
		})
	}
	if n := e.s.TotalCalls(); n != 0 {
		t.Errorf("got TotalCalls %d after only token requests, want 0", n)
	}
}

func TestAPIAuthentication(t *testing.T) {
	e := newEnv(t, Options{TokenTTL: time.Hour}, GenerateOptions{Queues: 1, Seed: 1})
	path := "/api/v2/routing/queues"
	if st, _, body := e.call(t, "GET", path, nil); st != 200 {
		t.Fatalf("valid token: got %d %v, want 200", st, body)
	}
	tests := []struct {
		name  string
		setup func() string // returns the token to use
	}{
		{"missing token", func() string { return "" }},
		{"unknown token", func() string { return "not-a-token" }},
		{"expired by clock", func() string {
			tok := e.token(t)
			e.clock.Advance(time.Hour)
			return tok
		}},
		{"ExpireTokens", func() string {
			tok := e.token(t)
			e.s.ExpireTokens()
			return tok
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, h, body := e.callWith(t, tc.setup(), "GET", path, nil)
			wantError(t, "GET "+path, st, h, body, http.StatusUnauthorized, "bad.credentials")
		})
	}
	// A fresh token works again after expiry.
	if st, _, body := e.callWith(t, e.token(t), "GET", path, nil); st != 200 {
		t.Fatalf("new token after expiry: got %d %v, want 200", st, body)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Options{RequestsPerMinute: 3}, GenerateOptions{Queues: 2, Seed: 1})
	path := "/api/v2/routing/skills"
	for i := 1; i <= 3; i++ {
		st, h, body := e.call(t, "GET", path, nil)
		if st != 200 {
			t.Fatalf("request %d: got %d %v, want 200", i, st, body)
		}
		if got := h.Get("inin-ratelimit-count"); got != itoa(i) {
			t.Errorf("request %d: got inin-ratelimit-count %q, want %d", i, got, i)
		}
		if got := h.Get("inin-ratelimit-allowed"); got != "3" {
			t.Errorf("request %d: got inin-ratelimit-allowed %q, want 3", i, got)
		}
		if got := h.Get("inin-ratelimit-reset"); got != "60" {
			t.Errorf("request %d: got inin-ratelimit-reset %q, want 60 (frozen clock)", i, got)
		}
	}
	steps := []struct {
		advance    time.Duration
		wantStatus int
		wantRetry  string
	}{
		{0, 429, "60"},
		{30 * time.Second, 429, "30"},
		{29500 * time.Millisecond, 429, "1"},
		{500 * time.Millisecond, 200, ""},
	}
	for _, st := range steps {
		e.clock.Advance(st.advance)
		code, h, body := e.call(t, "GET", path, nil)
		if code != st.wantStatus {
			t.Fatalf("after +%v: got %d %v, want %d", st.advance, code, body, st.wantStatus)
		}
		if st.wantStatus == 429 {
			wantError(t, "rate limited", code, h, body, 429, "too.many.requests.retry.after")
			if got := h.Get("Retry-After"); got != st.wantRetry {
				t.Errorf("after +%v: got Retry-After %q, want %s", st.advance, got, st.wantRetry)
			}
			if lim, _ := body["limit"].(map[string]any); lim["value"] != float64(3) || lim["key"] == "" {
				t.Errorf("got limit %v, want {key, namespace, value: 3}", body["limit"])
			}
		}
	}
	// Another token has its own budget.
	if code, _, body := e.callWith(t, e.token(t), "GET", path, nil); code != 200 {
		t.Errorf("second token: got %d %v, want 200", code, body)
	}
}

func TestRateLimitDisabled(t *testing.T) {
	e := newEnv(t, Options{RequestsPerMinute: -1}, GenerateOptions{Seed: 1})
	for i := range 400 {
		if st, _, body := e.call(t, "GET", "/api/v2/authorization/divisions", nil); st != 200 {
			t.Fatalf("request %d: got %d %v, want 200 with the limit disabled", i, st, body)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
