package sim

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	path := "/api/v2/routing/queues"
	tests := []struct {
		name   string
		faults Faults
		check  func(t *testing.T, e *env)
	}{
		{"forced 429s", Faults{Force429: 2, RetryAfterSeconds: 7}, func(t *testing.T, e *env) {
			for i := range 2 {
				st, h, body := e.call(t, "GET", path, nil)
				wantError(t, "forced 429", st, h, body, 429, "too.many.requests.retry.after")
				if h.Get("Retry-After") != "7" {
					t.Errorf("forced 429 #%d: got Retry-After %q, want 7", i, h.Get("Retry-After"))
				}
			}
			if st, _, body := e.call(t, "GET", path, nil); st != 200 {
				t.Errorf("after the burst: got %d %v, want 200", st, body)
			}
		}},
		{"forced 429 default Retry-After", Faults{Force429: 1}, func(t *testing.T, e *env) {
			st, h, _ := e.call(t, "GET", path, nil)
			if st != 429 || h.Get("Retry-After") != "1" {
				t.Errorf("got %d Retry-After %q, want 429 and 1", st, h.Get("Retry-After"))
			}
		}},
		{"always 503", Faults{ServerErrorRate: 1}, func(t *testing.T, e *env) {
			st, h, body := e.call(t, "GET", path, nil)
			wantError(t, "5xx fault", st, h, body, 503, "service.unavailable")
			if st, _, _ := e.tokenRequest(t, DefaultClientID, DefaultClientSecret, "grant_type=client_credentials", true); st != 200 {
				t.Errorf("token endpoint with 5xx faults: got %d, want 200 (faults hit API routes only)", st)
			}
		}},
		{"seeded 5xx rate", Faults{ServerErrorRate: 0.5, Seed: 42}, func(t *testing.T, e *env) {
			fails := 0
			for range 200 {
				if st, _, _ := e.call(t, "GET", "/api/v2/authorization/divisions", nil); st == 503 {
					fails++
				}
			}
			if fails < 60 || fails > 140 {
				t.Errorf("got %d/200 503s at rate 0.5, want about 100", fails)
			}
		}},
		{"dropped connection", Faults{DropConnections: 1}, func(t *testing.T, e *env) {
			req, _ := http.NewRequest("GET", e.ts.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+e.tok)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("got status %d, want a connection error", resp.StatusCode)
			}
			if st, _, body := e.call(t, "GET", path, nil); st != 200 {
				t.Errorf("after the drop: got %d %v, want 200", st, body)
			}
		}},
		{"latency honours the request context", Faults{Latency: time.Hour}, func(t *testing.T, e *env) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+e.tok)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("got status %d, want the context deadline", resp.StatusCode)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v, want context.DeadlineExceeded", err)
			}
			// ts.Close in cleanup blocks until the handler returns: it must not wait an hour.
		}},
		{"small latency still answers", Faults{Latency: time.Millisecond}, func(t *testing.T, e *env) {
			if st, _, body := e.call(t, "GET", path, nil); st != 200 {
				t.Errorf("got %d %v, want 200", st, body)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{RequestsPerMinute: -1}, GenerateOptions{Queues: 2, Seed: 30})
			e.s.SetFaults(tc.faults)
			tc.check(t, e)
			if e.s.Calls()["GET "+path] == 0 && tc.name != "seeded 5xx rate" {
				t.Errorf("faulted requests were not counted: %v", e.s.Calls())
			}
		})
	}
}
