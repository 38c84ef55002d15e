package genesys

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRetryAfterIsWaitedExactly(t *testing.T) {
	for _, secs := range []int{1, 7, 30, 180} {
		t.Run(fmt.Sprintf("Retry-After %d", secs), func(t *testing.T) {
			var n atomic.Int64
			org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					w.Header().Set("Retry-After", fmt.Sprint(secs))
					writeError(w, http.StatusTooManyRequests, "too.many.requests.retry.after", "Rate limit exceeded", "corr-429")
					return
				}
				writeJSON(w, 200, map[string]any{"id": "s1", "name": "Billing"})
			}}
			// A real budget (300/min) to show the limiter adds no wait of its own here.
			c, clock := newTestClient(t, org, func(cfg *Config) { cfg.RequestsPerMinute = 300 })
			s, err := c.GetSkill(t.Context(), "s1")
			if err != nil {
				t.Fatalf("GetSkill: %v", err)
			}
			if s.Name != "Billing" {
				t.Errorf("got name %q, want Billing", s.Name)
			}
			if diff := cmp.Diff([]time.Duration{time.Duration(secs) * time.Second}, clock.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			got := c.Calls()
			want := Stats{Requests: 2, RateLimited: 1, Retries: 1, TokenRequests: 1}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Calls() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServerErrorRetries(t *testing.T) {
	tests := []struct {
		name         string
		statuses     []int // answers in order; the last repeats
		retryAfter   string
		maxAttempts  int
		wantErr      int // 0: success
		wantRequests int64
		wantSleeps   []time.Duration
	}{
		{name: "503 then ok", statuses: []int{503, 200}, maxAttempts: 5, wantRequests: 2, wantSleeps: []time.Duration{250 * time.Millisecond}},
		{name: "500 502 504 then ok", statuses: []int{500, 502, 504, 200}, maxAttempts: 5, wantRequests: 4,
			wantSleeps: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}},
		{name: "503 forever gives up", statuses: []int{503}, maxAttempts: 3, wantErr: 503, wantRequests: 3,
			wantSleeps: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}},
		{name: "503 with Retry-After", statuses: []int{503, 200}, retryAfter: "2", maxAttempts: 5, wantRequests: 2, wantSleeps: []time.Duration{2 * time.Second}},
		{name: "501 not retried", statuses: []int{501}, maxAttempts: 5, wantErr: 501, wantRequests: 1},
		{name: "404 not retried", statuses: []int{404}, maxAttempts: 5, wantErr: 404, wantRequests: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				st := tc.statuses[min(i, len(tc.statuses)-1)]
				if st == 200 {
					writeJSON(w, 200, map[string]any{"id": "q1", "name": "Q"})
					return
				}
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				writeError(w, st, "internal.server.error", "boom", fmt.Sprintf("corr-%d", i))
			}}
			c, clock := newTestClient(t, org, func(cfg *Config) { cfg.MaxAttempts = tc.maxAttempts })
			_, err := c.GetQueue(t.Context(), "q1")
			if tc.wantErr == 0 && err != nil {
				t.Fatalf("GetQueue: %v", err)
			}
			if tc.wantErr != 0 {
				ae, ok := errors.AsType[*APIError](err)
				if !ok {
					t.Fatalf("got error %v (%T), want *APIError", err, err)
				}
				if ae.StatusCode != tc.wantErr {
					t.Errorf("got status %d, want %d", ae.StatusCode, tc.wantErr)
				}
			}
			if got := org.apiCalls.Load(); got != tc.wantRequests {
				t.Errorf("got %d requests, want %d", got, tc.wantRequests)
			}
			if diff := cmp.Diff(tc.wantSleeps, clock.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBackoffJitterBounds(t *testing.T) {
	c, err := New(Config{APIURL: "https://api.example.test", ClientID: "x", ClientSecret: "y"})
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 12; attempt++ {
		full := min(backoffBase<<min(attempt-1, 10), backoffMax)
		for range 50 {
			if d := c.backoff(attempt); d < full/2 || d >= full {
				t.Fatalf("attempt %d: got backoff %s, want in [%s, %s)", attempt, d, full/2, full)
			}
		}
	}
}

func TestWaitBeyondDeadlineReturnsAtOnce(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		deadline   time.Duration // 0: none
		wantWait   time.Duration
	}{
		{name: "Retry-After 30 with 5 s left", retryAfter: "30", deadline: 5 * time.Second, wantWait: 30 * time.Second},
		{name: "Retry-After 2 with 1 s left", retryAfter: "2", deadline: time.Second, wantWait: 2 * time.Second},
		{name: "Retry-After above MaxRetryWait, no deadline", retryAfter: "600", wantWait: 600 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", tc.retryAfter)
				w.Header().Set("ININ-Correlation-Id", "corr-limit")
				writeJSON(w, 429, map[string]any{"message": "Rate limit exceeded the maximum", "code": "too.many.requests.retry.after",
					"limit": map[string]any{"key": "client.credentials.token.rate.per.minute", "namespace": "platform.api", "value": 300}})
			}}
			c, clock := newTestClient(t, org)
			ctx := t.Context()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, clock.Now().Add(tc.deadline))
				defer cancel()
			}
			_, err := c.GetQueue(ctx, "q1")
			if !errors.Is(err, ErrRateLimited) {
				t.Fatalf("got %v, want ErrRateLimited", err)
			}
			ae, ok := errors.AsType[*APIError](err)
			if !ok {
				t.Fatalf("got %T, want *APIError", err)
			}
			if ae.RetryAfter != tc.wantWait {
				t.Errorf("got RetryAfter %s, want %s", ae.RetryAfter, tc.wantWait)
			}
			if d, ok := RetryAfter(err); !ok || d != tc.wantWait {
				t.Errorf("RetryAfter(err) = %s, %v; want %s, true", d, ok, tc.wantWait)
			}
			if ae.Limit == nil || ae.Limit.Key != "client.credentials.token.rate.per.minute" || ae.Limit.Value != 300 {
				t.Errorf("got limit %+v, want client.credentials.token.rate.per.minute=300", ae.Limit)
			}
			if s := clock.Sleeps(); len(s) != 0 {
				t.Errorf("slept %v, want no sleep", s)
			}
			if got := org.apiCalls.Load(); got != 1 {
				t.Errorf("got %d requests, want 1", got)
			}
		})
	}
}

func TestBudgetWaitBeyondDeadline(t *testing.T) {
	org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]any{"id": "q"}) }}
	// 60/min: burst 2, then one request every 60/58 s.
	c, clock := newTestClient(t, org, func(cfg *Config) { cfg.RequestsPerMinute = 60 })
	ctx, cancel := context.WithDeadline(t.Context(), clock.Now().Add(500*time.Millisecond))
	defer cancel()
	for i := range 2 {
		if _, err := c.GetQueue(ctx, "q"); err != nil {
			t.Fatalf("request %d within burst: %v", i+1, err)
		}
	}
	_, err := c.GetQueue(ctx, "q")
	be, ok := errors.AsType[*BudgetError](err)
	if !ok {
		t.Fatalf("got %v (%T), want *BudgetError", err, err)
	}
	if !errors.Is(err, ErrRateLimited) {
		t.Errorf("errors.Is(%v, ErrRateLimited) = false, want true", err)
	}
	if want := time.Minute / 58; be.Wait < want-time.Millisecond || be.Wait > want+time.Millisecond {
		t.Errorf("got wait %s, want about %s", be.Wait, want)
	}
	if got := org.apiCalls.Load(); got != 2 {
		t.Errorf("got %d requests sent, want 2 (the third must not be sent)", got)
	}
	// The cancelled reservation gave its token back: without a deadline the
	// next request waits one interval, not two.
	if _, err := c.GetQueue(t.Context(), "q"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]time.Duration{be.Wait}, clock.Sleeps()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

func TestConcurrentPagesStayWithinBudget(t *testing.T) {
	const (
		rpm    = 60
		queues = 150
	)
	org := &fakeOrg{handler: queueListHandler(makeQueues(queues), nil)}
	var mu sync.Mutex
	var sent []time.Time
	c, clock := newTestClient(t, org, func(cfg *Config) {
		cfg.RequestsPerMinute = rpm
		cfg.PageSize = 1
		cfg.PageConcurrency = 8
	})
	c.onSend = func(at time.Time) {
		mu.Lock()
		sent = append(sent, at)
		mu.Unlock()
	}
	start := clock.Now()
	got, err := c.ListQueues(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != queues {
		t.Fatalf("got %d queues, want %d", len(got), queues)
	}
	if n := org.apiCalls.Load(); n != queues || int64(len(sent)) != n || c.Calls().Requests != n {
		t.Fatalf("got %d API requests, %d budget grants, Calls().Requests %d; want %d each", n, len(sent), c.Calls().Requests, queues)
	}
	slices.SortFunc(sent, time.Time.Compare)
	// At most rpm requests in any 60-second window.
	for i := 0; i+rpm < len(sent); i++ {
		if w := sent[i+rpm].Sub(sent[i]); w < time.Minute {
			t.Fatalf("requests %d..%d granted within %s: more than %d in a minute", i, i+rpm, w, rpm)
		}
	}
	// And the client really waited: 150 requests at 58/min after a burst of 2.
	if elapsed, want := clock.Now().Sub(start), time.Duration(queues-2)*time.Minute/58; elapsed < want-time.Second {
		t.Errorf("virtual time elapsed %s, want at least %s", elapsed, want)
	}
}

func TestTokenRefreshOn401(t *testing.T) {
	tests := []struct {
		name         string
		revokeEvery  bool // every API call revokes tokens (a second 401 follows the refresh)
		wantErr      error
		wantAPICalls int64
		wantTokens   int64
	}{
		{name: "expired token refreshed once", wantAPICalls: 2, wantTokens: 2},
		{name: "second 401 is returned", revokeEvery: true, wantErr: ErrUnauthorized, wantAPICalls: 2, wantTokens: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			org := &fakeOrg{}
			org.handler = func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]any{"id": "q1"}) }
			c, _ := newTestClient(t, org)
			if _, err := c.GetQueue(t.Context(), "q1"); err != nil { // caches token 1
				t.Fatal(err)
			}
			org.apiCalls.Store(0)
			org.tokenCalls.Store(0)
			org.revoke()
			if tc.revokeEvery {
				org.handler = func(w http.ResponseWriter, r *http.Request) {
					org.revoke()
					writeError(w, 401, "bad.credentials", "Invalid login credentials.", "corr-401b")
				}
			}
			_, err := c.GetQueue(t.Context(), "q1")
			if tc.wantErr == nil && err != nil {
				t.Fatalf("GetQueue: %v", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			if got := org.apiCalls.Load(); got != tc.wantAPICalls {
				t.Errorf("got %d API calls, want %d", got, tc.wantAPICalls)
			}
			if got := org.tokenCalls.Load(); got != tc.wantTokens-1 {
				t.Errorf("got %d token requests after the first, want %d", got, tc.wantTokens-1)
			}
		})
	}
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	org := &fakeOrg{expiresIn: 300, handler: func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]any{"id": "q1"}) }}
	c, clock := newTestClient(t, org)
	steps := []struct {
		advance    time.Duration
		wantTokens int64
	}{
		{0, 1},
		{200 * time.Second, 1}, // 100 s left: still valid
		{39 * time.Second, 1},  // 61 s left
		{2 * time.Second, 2},   // 59 s left: refreshed early, like the SDK
		{100 * time.Second, 2}, // new token good for 300 s
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if _, err := c.GetQueue(t.Context(), "q1"); err != nil {
			t.Fatal(err)
		}
		if got := org.tokenCalls.Load(); got != s.wantTokens {
			t.Errorf("step %d (+%s): got %d token requests, want %d", i, s.advance, got, s.wantTokens)
		}
	}
}

func TestConnectionErrors(t *testing.T) {
	tests := []struct {
		name      string
		call      func(ctx context.Context, c *Client) error
		wantCalls int64
		wantErr   bool
	}{
		{name: "GET is resent", call: func(ctx context.Context, c *Client) error { _, err := c.GetQueue(ctx, "q1"); return err }, wantCalls: 2},
		{name: "create is not resent once it may have arrived", call: func(ctx context.Context, c *Client) error {
			_, err := c.CreateQueue(ctx, map[string]any{"name": "New"})
			return err
		}, wantCalls: 1, wantErr: true},
	}
	// Both faults are transport failures: the connection closed before any
	// answer, or after the status line with the body cut short (the request
	// reached the server either way, so a create is not resent).
	faults := map[string]string{
		"closed":   "",
		"body cut": "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":",
	}
	for _, tc := range tests {
		for fault, partial := range faults {
			t.Run(fault+"/"+tc.name, func(t *testing.T) {
				var n atomic.Int64
				org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
					if n.Add(1) == 1 {
						conn, buf, err := http.NewResponseController(w).Hijack()
						if err == nil {
							buf.WriteString(partial)
							buf.Flush()
							conn.Close()
						}
						return
					}
					writeJSON(w, 200, map[string]any{"id": "q1"})
				}}
				c, _ := newTestClient(t, org)
				err := tc.call(t.Context(), c)
				if (err != nil) != tc.wantErr {
					t.Fatalf("got error %v, want error %v", err, tc.wantErr)
				}
				if got := n.Load(); got != tc.wantCalls {
					t.Errorf("got %d calls, want %d", got, tc.wantCalls)
				}
			})
		}
	}
}

func TestAPIErrorIs(t *testing.T) {
	tests := []struct {
		status  int
		message string
		want    error
	}{
		{404, "queue not found", ErrNotFound},
		{409, "conflict", ErrConflict},
		{400, "The version 3 does not match the current version 4", ErrConflict},
		{429, "slow down", ErrRateLimited},
		{401, "bad credentials", ErrUnauthorized},
		{403, "missing permission routing:queue:edit", ErrForbidden},
		{400, "bad request", nil},
		{500, "boom", nil},
	}
	sentinels := []error{ErrNotFound, ErrConflict, ErrRateLimited, ErrUnauthorized, ErrForbidden}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.message), func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", &APIError{StatusCode: tc.status, Message: tc.message})
			for _, s := range sentinels {
				if got, want := errors.Is(err, s), s == tc.want; got != want {
					t.Errorf("errors.Is(%d %q, %v) = %v, want %v", tc.status, tc.message, s, got, want)
				}
			}
		})
	}
}

func TestErrorTextAndRedaction(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// An API that echoes the request's Authorization header and the secret in its error body.
	org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
		writeError(w, 400, "bad.request", "echo "+r.Header.Get("Authorization")+" and "+testClientSecret, "corr-abc-123")
	}}
	c, _ := newTestClient(t, org, func(cfg *Config) { cfg.Logger = logger })
	_, apiErr := c.GetQueue(t.Context(), "q-42")
	if apiErr == nil {
		t.Fatal("got nil error, want a 400")
	}
	for _, want := range []string{"GET", "/api/v2/routing/queues/q-42", "corr-abc-123", "400"} {
		if !strings.Contains(apiErr.Error(), want) {
			t.Errorf("error %q does not name %q", apiErr, want)
		}
	}

	// A token endpoint whose error body echoes the secret (oauth2's own error embeds the body).
	org2 := &fakeOrg{tokenFail: 401, tokenFailBody: `{"error":"invalid_client","error_description":"bad secret ` + testClientSecret + `","echo":"Basic ` + testClientSecret + `"}`}
	c2, _ := newTestClient(t, org2, func(cfg *Config) { cfg.Logger = logger })
	_, authErr := c2.GetQueue(t.Context(), "q-1")
	if !errors.Is(authErr, ErrUnauthorized) {
		t.Errorf("got %v, want ErrUnauthorized", authErr)
	}
	if ae, ok := errors.AsType[*AuthError](authErr); !ok || ae.Code != "invalid_client" || ae.CorrelationID != "corr-token" {
		t.Errorf("got %#v, want *AuthError invalid_client with correlation id corr-token", authErr)
	}

	// A transport error.
	c3, err := New(Config{APIURL: "http://127.0.0.1:1", LoginURL: "http://127.0.0.1:1", ClientID: testClientID, ClientSecret: testClientSecret,
		Logger: logger, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, netErr := c3.GetQueue(t.Context(), "q-1")
	if netErr == nil {
		t.Fatal("got nil error from a closed port")
	}

	for _, s := range []string{apiErr.Error(), authErr.Error(), netErr.Error(), logs.String()} {
		basic := base64.StdEncoding.EncodeToString([]byte(testClientID + ":" + testClientSecret))
		for _, bad := range []string{testClientSecret, "token-1-abcdef", basic} {
			if strings.Contains(s, bad) {
				t.Errorf("%q leaks %q", s, bad)
			}
		}
	}
	if !strings.Contains(logs.String(), "corr-abc-123") {
		t.Errorf("logs do not carry the correlation id: %s", logs.String())
	}
}

// TestLongPauseIsNotSleptByLaterCalls: a 429 whose Retry-After exceeds
// MaxRetryWait pauses the whole client, and a later call without a deadline
// must return at once with the wait (not sleep through the pause).
func TestLongPauseIsNotSleptByLaterCalls(t *testing.T) {
	var n atomic.Int64
	org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "3600")
			writeError(w, http.StatusTooManyRequests, "too.many.requests.retry.after", "Rate limit exceeded", "corr-429")
			return
		}
		writeJSON(w, 200, map[string]any{"id": "q1"})
	}}
	c, clock := newTestClient(t, org)
	if _, err := c.GetQueue(t.Context(), "q1"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("first call: got %v, want ErrRateLimited", err)
	}
	clock.Advance(10 * time.Second)
	_, err := c.GetQueue(t.Context(), "q1")
	be, ok := errors.AsType[*BudgetError](err)
	if !ok {
		t.Fatalf("second call: got %v (%T), want *BudgetError", err, err)
	}
	if want := 3590 * time.Second; be.Wait != want {
		t.Errorf("got wait %s, want %s", be.Wait, want)
	}
	if d, ok := RetryAfter(err); !ok || d != 3590*time.Second {
		t.Errorf("RetryAfter(err) = %s, %v; want 3590s, true", d, ok)
	}
	if s := clock.Sleeps(); len(s) != 0 {
		t.Errorf("slept %v, want no sleep", s)
	}
	if got := org.apiCalls.Load(); got != 1 {
		t.Errorf("got %d requests, want 1 (the paused call must not be sent)", got)
	}
	// Once the pause is over the client works again.
	clock.Advance(3590 * time.Second)
	if _, err := c.GetQueue(t.Context(), "q1"); err != nil {
		t.Fatalf("after the pause: %v", err)
	}
}

// TestTokenEndpointTransientFailuresAreRetried: a 503 or 429 from the login
// host is as transient as one from the API and is retried under the same
// policy (Retry-After honoured); a 401 invalid_client is not.
func TestTokenEndpointTransientFailuresAreRetried(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		wantErr    error
		wantSleeps []time.Duration
		wantTokens int64
	}{
		{name: "503 then token", status: 503, wantSleeps: []time.Duration{250 * time.Millisecond}, wantTokens: 2},
		{name: "429 with Retry-After then token", status: 429, retryAfter: "4", wantSleeps: []time.Duration{4 * time.Second}, wantTokens: 2},
		{name: "401 is final", status: 401, wantErr: ErrUnauthorized, wantTokens: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]any{"id": "q1"}) }}
			var failed atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/oauth/token" && !failed.Swap(true) {
					org.tokenCalls.Add(1)
					if tc.retryAfter != "" {
						w.Header().Set("Retry-After", tc.retryAfter)
					}
					writeJSON(w, tc.status, map[string]any{"error": "temporarily_unavailable", "description": "try again", "error_description": "try again"})
					return
				}
				org.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			clock := newFakeClock()
			c, err := New(Config{APIURL: srv.URL, LoginURL: srv.URL, ClientID: testClientID, ClientSecret: testClientSecret,
				RequestsPerMinute: -1, Now: clock.Now, Sleep: clock.Sleep, Jitter: func(time.Duration) time.Duration { return 0 }})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetQueue(t.Context(), "q1")
			if tc.wantErr == nil && err != nil {
				t.Fatalf("GetQueue: %v", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantSleeps, clock.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if got := org.tokenCalls.Load(); got != tc.wantTokens {
				t.Errorf("got %d token requests, want %d", got, tc.wantTokens)
			}
		})
	}
}
