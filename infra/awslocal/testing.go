package awslocal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The shared moto of a test binary: started by the first ForTest, stopped by RunTests.
var shared struct {
	mu      sync.Mutex
	running bool // inside RunTests
	moto    *Moto
	err     error // a failed start is not retried: every test reports it
}

var prefixSeq atomic.Int64

// forTestTimeout bounds starting moto and creating one test's resources.
const forTestTimeout = 90 * time.Second

// RunTests runs the tests of m and stops the shared moto afterwards, if a test started it.
// Use it in TestMain: os.Exit(awslocal.RunTests(m)).
func RunTests(m *testing.M) int {
	shared.mu.Lock()
	shared.running = true
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.running = false
	if shared.moto != nil {
		if err := shared.moto.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "awslocal: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
		shared.moto = nil
	}
	return code
}

// ForTest returns an AWS configuration for the test binary's shared moto (started on first
// use) and resources from the repository's template.yaml under a prefix unique to this
// test. It fails the test when moto_server is missing (run `make tools`) or when TestMain
// does not use RunTests (the server would have no owner to stop it).
func ForTest(t testing.TB) (aws.Config, *Resources) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), forTestTimeout)
	defer cancel()

	m, err := sharedMoto(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := m.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	path, err := TemplatePath()
	if err != nil {
		t.Fatal(err)
	}
	res, err := CreateResources(ctx, cfg, path, testPrefix(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, res
}

func sharedMoto(ctx context.Context) (*Moto, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.running {
		return nil, fmt.Errorf("awslocal: ForTest needs TestMain to call awslocal.RunTests: func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }")
	}
	if shared.moto == nil && shared.err == nil {
		shared.moto, shared.err = StartMoto(ctx)
	}
	return shared.moto, shared.err
}

// testPrefix makes a resource prefix from a test name: readable in moto's state, unique
// within the binary, short enough for SQS queue names (80 characters with ".fifo").
func testPrefix(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if s := b.String(); s != "" && !strings.HasSuffix(s, "-") {
				b.WriteByte('-')
			}
		}
		if b.Len() >= 24 {
			break
		}
	}
	base := strings.Trim(b.String(), "-")
	if base == "" {
		base = "test"
	}
	return fmt.Sprintf("t%d-%s", prefixSeq.Add(1), base)
}

// TemplatePath returns the path of the repository's template.yaml, found from this
// source file's location (tests run with the package directory as working directory, so
// a relative path would depend on which package calls).
func TemplatePath() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if ok {
		p := filepath.Join(filepath.Dir(file), "..", "..", "template.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	// Built with -trimpath: walk up from the working directory to go.mod.
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("awslocal: find template.yaml: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "template.yaml")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("awslocal: find template.yaml: %w", err)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("awslocal: find template.yaml: no go.mod above the working directory")
		}
		dir = parent
	}
}
