package genesys

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// A SendOnce write is sent once whatever Genesys answers, and its failure carries the wait
// Genesys asked for; a 401 still refreshes the token and resends (Genesys refused it
// unread).
func TestSendOnce(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		header    string
		wantCalls int64
		wantWait  time.Duration
	}{
		{"429", http.StatusTooManyRequests, "30", 1, 30 * time.Second},
		{"503 with Retry-After", http.StatusServiceUnavailable, "7", 1, 7 * time.Second},
		{"502", http.StatusBadGateway, "", 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
				if tc.header != "" {
					w.Header().Set("Retry-After", tc.header)
				}
				writeError(w, tc.status, "x", "fault", "corr-1")
			}}
			c, clock := newTestClient(t, org)
			_, err := c.UpdateQueueRaw(SendOnce(t.Context()), "q1", map[string]any{"id": "q1", "name": "Q"})
			ae, ok := errors.AsType[*APIError](err)
			if !ok || ae.StatusCode != tc.status {
				t.Fatalf("got %v, want the %d", err, tc.status)
			}
			if got := org.apiCalls.Load(); got != tc.wantCalls {
				t.Errorf("%d requests sent, want %d", got, tc.wantCalls)
			}
			if tc.wantWait > 0 && ae.RetryAfter != tc.wantWait {
				t.Errorf("RetryAfter %s, want %s", ae.RetryAfter, tc.wantWait)
			}
			if tc.wantWait == 0 && ae.RetryAfter <= 0 {
				t.Errorf("RetryAfter %s, want the backoff the client would have waited", ae.RetryAfter)
			}
			if s := clock.Sleeps(); len(s) != 0 {
				t.Errorf("slept %v before returning, want no sleep", s)
			}
		})
	}
	t.Run("401 resent once after a refresh", func(t *testing.T) {
		var n atomic.Int64
		org := &fakeOrg{}
		org.handler = func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				writeError(w, http.StatusUnauthorized, "bad.credentials", "expired", "corr-401")
				return
			}
			writeJSON(w, 200, map[string]any{"id": "q1", "name": "Q"})
		}
		c, _ := newTestClient(t, org)
		if _, err := c.UpdateQueueRaw(SendOnce(t.Context()), "q1", map[string]any{"id": "q1", "name": "Q"}); err != nil {
			t.Fatal(err)
		}
		if got := org.apiCalls.Load(); got != 2 {
			t.Errorf("%d requests, want 2 (refused unread, then sent)", got)
		}
	})
	t.Run("without SendOnce a 503 is retried", func(t *testing.T) {
		var n atomic.Int64
		org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				writeError(w, http.StatusServiceUnavailable, "x", "fault", "corr-1")
				return
			}
			writeJSON(w, 200, map[string]any{"id": "q1", "name": "Q"})
		}}
		c, _ := newTestClient(t, org)
		if _, err := c.GetQueue(t.Context(), "q1"); err != nil || org.apiCalls.Load() != 2 {
			t.Errorf("read: %v after %d requests, want success after 2", err, org.apiCalls.Load())
		}
	})
}

// Prepay: the read pays for the write, so the write goes out without waiting for the
// budget; a 429 pause since is returned, not waited out.
func TestPrepay(t *testing.T) {
	org := &fakeOrg{handler: func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"id": "q1", "name": "Q"})
	}}
	// 60/min: burst 2, then one request every 60/58 s.
	c, clock := newTestClient(t, org, func(cfg *Config) { cfg.RequestsPerMinute = 60 })
	for range 2 { // use up the burst
		if _, err := c.GetQueue(t.Context(), "q1"); err != nil {
			t.Fatal(err)
		}
	}
	ctx := Prepay(t.Context(), 2)
	if _, err := c.GetQueue(ctx, "q1"); err != nil {
		t.Fatal(err)
	}
	slept := clock.Sleeps()
	if len(slept) != 1 {
		t.Fatalf("the prepaying read slept %v, want one wait for two requests' budget", slept)
	}
	if _, err := c.UpdateQueueRaw(ctx, "q1", map[string]any{"id": "q1", "name": "Q"}); err != nil {
		t.Fatal(err)
	}
	if got := clock.Sleeps(); len(got) != 1 {
		t.Errorf("the prepaid write waited: sleeps %v", got)
	}
	// A third request of the context pays again.
	if _, err := c.GetQueue(ctx, "q1"); err != nil {
		t.Fatal(err)
	}
	if got := clock.Sleeps(); len(got) != 2 {
		t.Errorf("sleeps %v, want the third request to wait for its own budget", got)
	}

	// A pause imposed between the read and the write: the write is not sent.
	ctx = Prepay(context.Background(), 2)
	if _, err := c.GetQueue(ctx, "q1"); err != nil {
		t.Fatal(err)
	}
	c.pause(time.Minute)
	sent := org.apiCalls.Load()
	_, err := c.UpdateQueueRaw(ctx, "q1", map[string]any{"id": "q1", "name": "Q"})
	if be, ok := errors.AsType[*BudgetError](err); !ok || be.Wait <= 0 || org.apiCalls.Load() != sent {
		t.Errorf("write under a pause: %v, %d sent; want a BudgetError and nothing sent", err, org.apiCalls.Load()-sent)
	}
}
