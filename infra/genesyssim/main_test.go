package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
)

// startRun runs the command in-process and returns its URL and a stop function that
// cancels it (as SIGINT does) and returns run's error.
func startRun(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, pw, io.Discard)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	go io.Copy(io.Discard, pr)
	if err != nil {
		cancel()
		t.Fatalf("reading the first stdout line: %v (run: %v)", err, <-done)
	}
	const prefix = "genesyssim listening on "
	if !strings.HasPrefix(line, prefix) {
		cancel()
		t.Fatalf("first line: got %q, want %q + URL", line, prefix)
	}
	u := strings.TrimSpace(strings.TrimPrefix(line, prefix))
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return within 10s of cancellation")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return u, stop
}

func token(t *testing.T, base, id, secret string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 200 {
		t.Fatalf("token: got %d %v", resp.StatusCode, body)
	}
	return body["access_token"].(string)
}

func getTotal(t *testing.T, base, tok, path string) float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: got %d %v", path, resp.StatusCode, body)
	}
	return body["total"].(float64)
}

func TestCommand(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		id, secret string
		wantQueues float64
	}{
		{"generated org", []string{"--addr", "127.0.0.1:0", "--seed", "3", "--queues", "30", "--skills", "5", "--worktypes", "4"},
			sim.DefaultClientID, sim.DefaultClientSecret, 30},
		{"fixture and custom client", []string{"--fixture", filepath.Join("fixtures", "org.json"), "--client-id", "ci", "--client-secret", "s3cret", "--rpm", "-1"},
			"ci", "s3cret", 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, stop := startRun(t, tc.args...)
			if !strings.HasPrefix(base, "http://127.0.0.1:") {
				t.Fatalf("got URL %q, want http://127.0.0.1:PORT", base)
			}
			tok := token(t, base, tc.id, tc.secret)
			if got := getTotal(t, base, tok, "/api/v2/routing/queues"); got != tc.wantQueues {
				t.Errorf("queues total: got %v, want %v", got, tc.wantQueues)
			}
			if err := stop(); err != nil {
				t.Fatalf("run after cancellation: got %v, want nil (clean stop)", err)
			}
			if _, err := http.Get(base + "/api/v2/routing/queues"); err == nil {
				t.Errorf("server still answers after stop")
			}
		})
	}
}

func TestCommandErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing fixture", []string{"--fixture", "no/such/file.json"}, "no/such/file.json"},
		{"bad flag", []string{"--nope"}, "flag provided but not defined"},
		{"stray argument", []string{"serve"}, "unexpected arguments"},
		{"bad address", []string{"--addr", "256.0.0.1:99999"}, "listen on"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), tc.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q): got %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestWriteFixture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "org.json")
	if err := run(context.Background(), []string{"--seed", "7", "--queues", "12", "--skills", "10", "--worktypes", "5", "--divisions", "3", "--write-fixture", path}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("fixtures", "org.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("--write-fixture output differs from fixtures/org.json; regenerate the fixture with: go run ./infra/genesyssim --seed 7 --queues 12 --skills 10 --worktypes 5 --divisions 3 --write-fixture infra/genesyssim/fixtures/org.json")
	}
}
