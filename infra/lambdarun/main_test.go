package lambdarun

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/infra/awslocal"
)

// The echo function is built once per test binary.
var echo struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := awslocal.RunTests(m)
	if echo.dir != "" {
		os.RemoveAll(echo.dir)
	}
	os.Exit(code)
}

// echoBootstrap builds testdata/echofn for the host and returns its bootstrap.
func echoBootstrap(t testing.TB) string {
	t.Helper()
	echo.once.Do(func() {
		echo.dir, echo.err = os.MkdirTemp("", "lambdarun-echofn-")
		if echo.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		echo.path, echo.err = Build(ctx, "./testdata/echofn", echo.dir)
	})
	if echo.err != nil {
		t.Fatalf("build echofn: %v", echo.err)
	}
	return echo.path
}

// requireRIE fails the test with the instruction to install the emulator.
func requireRIE(t testing.TB) {
	t.Helper()
	if _, err := FindRIE(); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is an io.Writer for Options.Logs that tests can read while the
// function runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var initLineRE = regexp.MustCompile(`echofn init pid=(\d+) function=(\S*) memory=(\S*) timeout=(\S*) region=(\S*) custom=(\S*) leaked=("[^"]*")`)

// echoInits returns the init lines echofn printed, as submatches.
func echoInits(logs string) [][]string { return initLineRE.FindAllStringSubmatch(logs, -1) }

// startEcho starts echofn under the RIE and stops it when the test ends.
func startEcho(t *testing.T, opts Options) (*Function, *syncBuffer) {
	t.Helper()
	requireRIE(t)
	logs := &syncBuffer{}
	opts.Bootstrap = echoBootstrap(t)
	opts.Logs = logs
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v\nlogs:\n%s", err, logs)
	}
	t.Cleanup(func() {
		if err := f.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return f, logs
}

// pidAlive reports whether a process with that pid exists.
func pidAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
