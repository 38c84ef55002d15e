package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/shared/genesys"
)

// fakeClock is the clock of the CLI and of every Genesys client it builds in a test: it
// moves only when the client waits, so a minute's Retry-After passes at once.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return nil
}

// useFakeClock puts the CLI and its Genesys clients on a fake clock for this test.
func useFakeClock(t *testing.T) *fakeClock {
	t.Helper()
	c := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	oldHook, oldNow := clientHook, now
	clientHook = func(cfg *genesys.Config) { cfg.Now, cfg.Sleep = c.Now, c.Sleep }
	now = c.Now
	t.Cleanup(func() { clientHook, now = oldHook, oldNow })
	return c
}

// rateLimitedOnce answers the first skills list with a 429 asking to wait a minute, as
// Genesys does when the OAuth client's rate limit is spent.
func rateLimitedOnce(next http.Handler) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limited := false
		if r.Method == http.MethodGet && r.URL.Path == "/api/v2/routing/skills" {
			once.Do(func() { limited = true })
		}
		if limited {
			w.Header().Set("Retry-After", "60")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message":"Rate limit exceeded","status":429}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// TestReadSaysWhyItWaits: without a terminal, a read that waits says why on stderr, one
// line per wait: a Retry-After Genesys asked for, the request budget's pacing, and a
// periodic line saying how far it is.
func TestReadSaysWhyItWaits(t *testing.T) {
	tests := []struct {
		name string
		rpm  string
		via  func(http.Handler) http.Handler
		want []string
	}{
		{name: "retry-after", rpm: "-1", via: rateLimitedOnce,
			want: []string{"export: reading the org: Genesys asked to wait 1m0s (Retry-After: its rate limit for this OAuth client)\n"}},
		{name: "request budget", rpm: "6",
			want: []string{"export: reading the org: request budget: waiting 12s (GENESYS_REQUESTS_PER_MINUTE, default 300 a minute, Genesys's own limit)\n",
				"export: reading the org: lists 1 of 5\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearGenesysEnv(t)
			startOrgVia(t, "", applyOrg, tc.via)
			t.Setenv("GENESYS_REQUESTS_PER_MINUTE", tc.rpm)
			useFakeClock(t)
			code, stdout, stderr := execute(t, "export")
			if code != 0 || !strings.Contains(stdout, "queues:") {
				t.Fatalf("export: exit %d, want 0 and the config\n%s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("export stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestInterruptLeavesNoFile: Ctrl-C during a read says "interrupted", exits 130 and
// leaves neither the file nor a temporary one.
func TestInterruptLeavesNoFile(t *testing.T) {
	clearGenesysEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// The interrupt arrives while Genesys is answering the queue list.
	startOrgVia(t, "", applyOrg, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v2/routing/queues" {
				cancel()
				<-r.Context().Done()
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	dir := t.TempDir()
	out := filepath.Join(dir, "prod.yaml")
	code, stdout, stderr := executeIn(t, ctx, strings.NewReader(""), "export", "--out", out)
	if code != exitInterrupted || !strings.HasSuffix(stderr, "routekeeper: interrupted\n") || stdout != "" {
		t.Errorf("interrupted export: exit %d, stdout %q, stderr %q; want %d and \"interrupted\"", code, stdout, stderr, exitInterrupted)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("interrupted export left %v in %s; want nothing", entries, dir)
	}
}

// TestUnreachableAPIFailsFast: a URL nothing listens at fails on the first connection,
// naming the URL and the variables to check, without the client's retries.
func TestUnreachableAPIFailsFast(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close() // nothing listens there now
	tests := []struct {
		name    string
		profile string
		args    []string
		want    string
	}{
		{name: "plain variables", args: []string{"export"},
			want: "cannot reach Genesys at " + url + ": connection refused: check GENESYS_API_URL (or GENESYS_REGION)"},
		{name: "profile", profile: "prod", args: []string{"plan", "-f", exampleProd, "--env", "prod"},
			want: "check ROUTEKEEPER_PROD_GENESYS_API_URL (or ROUTEKEEPER_PROD_GENESYS_REGION)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix, _ := profilePrefix(tc.profile)
			clearGenesysEnv(t, prefix)
			for k, v := range map[string]string{"GENESYS_API_URL": url, "GENESYS_LOGIN_URL": url, "GENESYS_CLIENT_ID": "id", "GENESYS_CLIENT_SECRET": "secret"} {
				t.Setenv(prefix+k, v)
			}
			clock := useFakeClock(t)
			start := clock.Now()
			code, _, stderr := execute(t, tc.args...)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("%v against %s: exit %d, stderr %q; want 1 and %q", tc.args, url, code, stderr, tc.want)
			}
			if waited := clock.Now().Sub(start); waited != 0 {
				t.Errorf("%v waited %s on the client's clock before failing; want no retries", tc.args, waited)
			}
		})
	}
}
