package lambdarun

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/build"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// ErrRIENotFound means aws-lambda-rie is neither on PATH nor in GOPATH/bin.
var ErrRIENotFound = errors.New("lambdarun: aws-lambda-rie not found on PATH or in $(go env GOPATH)/bin: run `make tools`")

// ErrTimeout is matched (errors.Is) by the *FunctionError of an invocation
// that ran past the function's timeout.
var ErrTimeout = errors.New("lambdarun: function timed out")

// ErrStopped is returned by Invoke on a stopped Function.
var ErrStopped = errors.New("lambdarun: function stopped")

// Build compiles the main package pkgPath (anything `go build` accepts,
// resolved from the current directory; an import path such as
// github.com/routekeeper/routekeeper/functions/apply works from anywhere in
// the module) for this machine's GOOS/GOARCH with the flags of the Lambda
// build (CGO_ENABLED=0 -tags lambda.norpc -trimpath -ldflags=-s -w), into
// outDir/bootstrap. It returns the absolute path of the bootstrap.
func Build(ctx context.Context, pkgPath, outDir string) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := filepath.Abs(filepath.Join(outDir, "bootstrap"))
	if err != nil {
		return "", fmt.Errorf("lambdarun: build %s: %w", pkgPath, err)
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, pkgPath)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("lambdarun: go build %s: %w\n%s", pkgPath, err, bytes.TrimSpace(msg))
	}
	return out, nil
}

// Options configure a function run by Start.
type Options struct {
	// Bootstrap is the path of the function's executable (see Build). Required.
	Bootstrap string
	// FunctionName is AWS_LAMBDA_FUNCTION_NAME; default: the name of the
	// bootstrap's directory.
	FunctionName string
	// Env is the function's environment (as the template's Environment.Variables),
	// added to the variables Lambda itself sets; it may override those (for
	// example AWS_REGION or credentials).
	Env map[string]string
	// Timeout is the function timeout, rounded up to whole seconds; default 3s
	// (Lambda's default).
	Timeout time.Duration
	// MemoryMB is AWS_LAMBDA_FUNCTION_MEMORY_SIZE; default 128. Not enforced.
	MemoryMB int
	// Logs receives every line the emulator and the function print (stdout and
	// stderr, in order), as CloudWatch Logs would. Written from one goroutine.
	// nil discards them.
	Logs io.Writer
	// RIE is the path of aws-lambda-rie; default: PATH, then $(go env GOPATH)/bin.
	RIE string
	// StartTimeout bounds waiting for the emulator to accept requests; default 30s
	// (it takes milliseconds on an idle machine).
	StartTimeout time.Duration
}

// Report holds the figures of one REPORT line.
type Report struct {
	RequestID       string
	Duration        time.Duration
	BilledDuration  time.Duration
	MemorySizeMB    int
	MaxMemoryUsedMB int
	// RIEInitDuration is the "Init Duration" the emulator prints on the first
	// REPORT. It only measures dispatching the init; see Invocation.Init.
	RIEInitDuration time.Duration
}

// InitReport is one init phase, from rapid's INIT RTDONE and INIT REPORT log
// lines: the time from starting the runtime to its first call for the next
// invocation, as AWS reports Init Duration.
type InitReport struct {
	Duration time.Duration
	Status   string // "success", or what rapid reported (e.g. "error")
}

// Invocation is the outcome of one invoke with its log figures.
type Invocation struct {
	RequestID string
	Payload   []byte
	Report    *Report     // nil if the emulator printed no REPORT line for it
	Init      *InitReport // set when this invocation ran an init (a cold start)
}

// FunctionError is an error raised by the function (its errorMessage and
// errorType), a timeout, or a failed init, as opposed to an emulator or
// transport failure.
type FunctionError struct {
	RequestID string
	Message   string          `json:"errorMessage"`
	Type      string          `json:"errorType"`
	Stack     json.RawMessage `json:"stackTrace,omitempty"`
	Payload   []byte          // the payload as received
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error (%s) in request %s: %s", e.Type, e.RequestID, e.Message)
}

// Is makes errors.Is(err, ErrTimeout) true for timeouts.
func (e *FunctionError) Is(target error) bool {
	return target == ErrTimeout && e.Type == timeoutErrorType
}

// timeoutErrorType is the errorType AWS uses for a timed-out invocation.
const timeoutErrorType = "Sandbox.Timedout"

// Function is a function running under aws-lambda-rie. Invoke calls are
// served one at a time, as by one Lambda execution environment.
type Function struct {
	name       string
	url        string
	httpClient *http.Client

	cmd      *exec.Cmd
	exited   chan struct{} // closed when the emulator process has exited
	logsDone chan struct{} // closed when every writer of the log pipe is gone

	invokeMu sync.Mutex // one invocation at a time

	mu      sync.Mutex
	current string                  // request id between START and REPORT
	early   *InitReport             // an init reported before its request's START
	inits   []InitReport            // every init, in order
	pending map[string]*InitReport  // init seen during a request, until its REPORT
	reports map[string]*Report      // REPORT lines not yet collected by their invoker
	waiters map[string]chan *Report // invokers waiting for a REPORT
	stopped bool
}

// Start runs aws-lambda-rie with opts.Bootstrap on free loopback ports and
// returns once it accepts invocations. The function itself starts on the
// first Invoke (as in Lambda, init happens with the first request). ctx bounds
// the start only; call Stop to end the function.
func Start(ctx context.Context, opts Options) (*Function, error) {
	if opts.Bootstrap == "" {
		return nil, errors.New("lambdarun: Options.Bootstrap is required (see Build)")
	}
	boot, err := filepath.Abs(opts.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: bootstrap %s: %w", opts.Bootstrap, err)
	}
	if fi, err := os.Stat(boot); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("lambdarun: bootstrap %s is not an executable file (build it with lambdarun.Build)", boot)
	}
	rie := opts.RIE
	if rie == "" {
		if rie, err = FindRIE(); err != nil {
			return nil, err
		}
	}
	if opts.FunctionName == "" {
		opts.FunctionName = filepath.Base(filepath.Dir(boot))
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Second
	}
	if opts.MemoryMB <= 0 {
		opts.MemoryMB = 128
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	// A free port can be taken by someone else between our probe and the
	// emulator's bind; the emulator then exits and we try other ports.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		f, err := start(ctx, rie, boot, opts)
		if err == nil {
			return f, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// FindRIE returns the path of aws-lambda-rie on PATH or in $(go env GOPATH)/bin, or
// ErrRIENotFound.
func FindRIE() (string, error) {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "aws-lambda-rie")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", ErrRIENotFound
}

// functionEnv is the environment of the emulator, which hands it on to the
// function: what Lambda sets for a provided.al2023 function, then opts.Env.
func functionEnv(boot string, opts Options) []string {
	secs := int(math.Ceil(opts.Timeout.Seconds()))
	env := map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
		"LAMBDA_TASK_ROOT":                filepath.Dir(boot),
		"LAMBDA_RUNTIME_DIR":              filepath.Dir(boot),
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_LAMBDA_FUNCTION_NAME":        opts.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(opts.MemoryMB),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(secs),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + opts.FunctionName,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "local/[$LATEST]" + opts.FunctionName,
		// Local test credentials (moto accepts any); never the caller's.
		"AWS_ACCESS_KEY_ID":     "test",
		"AWS_SECRET_ACCESS_KEY": "test",
		"AWS_SESSION_TOKEN":     "test",
	}
	for k, v := range opts.Env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func start(ctx context.Context, rie, boot string, opts Options) (*Function, error) {
	invokeAddr, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("lambdarun: find a free port: %w", err)
	}
	runtimeAddr, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("lambdarun: find a free port: %w", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("lambdarun: log pipe: %w", err)
	}
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", runtimeAddr,
		"--log-level", "info", // info carries rapid's INIT REPORT line
		boot)
	cmd.Dir = filepath.Dir(boot)
	cmd.Env = functionEnv(boot, opts)
	cmd.Stdout = pw // one pipe for both, so lines keep their real order
	cmd.Stderr = pw
	cmd.SysProcAttr = sysProcAttr()
	// Start and wait on one goroutine locked to its OS thread: the parent-death signal
	// (sysProcAttr) fires when the *thread* that forked exits, and Go ends a thread when a
	// goroutine locked to it returns. A locked thread lives until this goroutine returns,
	// which is after the emulator has exited.
	exited := make(chan struct{})
	startErr := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			startErr <- err
			return
		}
		startErr <- nil
		_ = cmd.Wait() // exit status is reported through readiness and Stop
		close(exited)
	}()
	if err := <-startErr; err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("lambdarun: start %s: %w", rie, err)
	}
	pw.Close() // the emulator and its runtime hold the write end now

	f := &Function{
		name:     opts.FunctionName,
		url:      "http://" + invokeAddr + "/2015-03-31/functions/function/invocations",
		cmd:      cmd,
		exited:   exited,
		logsDone: make(chan struct{}),
		pending:  map[string]*InitReport{},
		reports:  map[string]*Report{},
		waiters:  map[string]chan *Report{},
		// The emulator enforces the function timeout; this bound only catches
		// an emulator that stopped answering.
		httpClient: &http.Client{Timeout: opts.Timeout + 30*time.Second},
	}
	logs := opts.Logs
	if logs == nil {
		logs = io.Discard
	}
	go f.readLogs(pr, logs)

	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := net.DialTimeout("tcp", invokeAddr, time.Second)
		if err == nil {
			conn.Close()
			return f, nil
		}
		select {
		case <-f.exited:
			<-f.logsDone
			return nil, fmt.Errorf("lambdarun: aws-lambda-rie exited during start (%v); its output went to Options.Logs", cmd.ProcessState)
		case <-ctx.Done():
			_ = f.Stop()
			return nil, fmt.Errorf("lambdarun: aws-lambda-rie did not accept requests on %s: %w", invokeAddr, ctx.Err())
		case <-tick.C:
		}
	}
}

// Name is the function's name (AWS_LAMBDA_FUNCTION_NAME).
func (f *Function) Name() string { return f.name }

// URL is the emulator's invoke endpoint.
func (f *Function) URL() string { return f.url }

// Inits returns every init so far (one per cold start), in order.
func (f *Function) Inits() []InitReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.inits)
}

// Invoke invokes the function synchronously with event and returns its
// response payload. A function error or timeout is a *FunctionError (timeouts
// match ErrTimeout); any other error means the invocation did not happen or
// its outcome is unknown.
func (f *Function) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	inv, err := f.InvokeDetailed(ctx, event)
	if err != nil {
		return nil, err
	}
	return inv.Payload, nil
}

// InvokeDetailed is Invoke returning the invocation's REPORT and, on a cold
// start, its init figures. On a function error it returns both the
// Invocation and the *FunctionError.
//
// If ctx ends first, the call returns but the emulator finishes the
// invocation (up to the function timeout), as Lambda does; an Invoke made
// meanwhile is refused by the emulator with an error.
func (f *Function) InvokeDetailed(ctx context.Context, event []byte) (*Invocation, error) {
	f.invokeMu.Lock()
	defer f.invokeMu.Unlock()
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return nil, ErrStopped
	}
	id := uuid.NewString()
	wait := make(chan *Report, 1)
	f.waiters[id] = wait
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.waiters, id)
		delete(f.reports, id)
		f.mu.Unlock()
	}()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(event))
	if err != nil {
		return nil, fmt.Errorf("lambdarun: invoke %s: %w", f.name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amzn-RequestId", id)
	resp, err := f.httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: invoke %s (request %s): %w", f.name, id, err)
	}
	defer resp.Body.Close()
	payload, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: invoke %s (request %s): read response: %w", f.name, id, err)
	}

	inv := &Invocation{RequestID: id, Payload: payload}
	// The emulator prints REPORT (after INIT REPORT on a cold start) before it
	// answers, so the line is in the pipe; on a loaded machine the log reader may
	// take a while to get to it. The bound covers error paths that print none.
	reportWait := 10 * time.Second
	if resp.StatusCode/100 != 2 {
		reportWait = 2 * time.Second
	}
	timer := time.NewTimer(reportWait)
	defer timer.Stop()
	select {
	case r := <-wait:
		inv.Report = r
	case <-timer.C:
	case <-ctx.Done():
	}
	f.mu.Lock()
	inv.Init = f.pending[id]
	delete(f.pending, id)
	f.mu.Unlock()

	if resp.StatusCode/100 != 2 {
		if fe := functionError(id, payload); fe != nil {
			return inv, fe // e.g. a failed init: 502 with the runtime's error
		}
		return nil, fmt.Errorf("lambdarun: invoke %s (request %s): emulator answered %s: %s",
			f.name, id, resp.Status, truncate(string(payload), 300))
	}
	if bytes.HasPrefix(payload, []byte("Task timed out after ")) {
		return inv, &FunctionError{RequestID: id, Type: timeoutErrorType, Message: string(payload), Payload: payload}
	}
	if fe := functionError(id, payload); fe != nil {
		return inv, fe
	}
	return inv, nil
}

// functionError recognises the runtime's error payload (see the package doc).
func functionError(id string, payload []byte) *FunctionError {
	var keys map[string]json.RawMessage
	if json.Unmarshal(payload, &keys) != nil {
		return nil
	}
	if _, ok := keys["errorMessage"]; !ok {
		return nil
	}
	if _, ok := keys["errorType"]; !ok {
		return nil
	}
	for k := range keys {
		switch k {
		case "errorMessage", "errorType", "stackTrace", "cause":
		default:
			return nil
		}
	}
	fe := &FunctionError{RequestID: id, Payload: payload}
	if json.Unmarshal(payload, fe) != nil {
		return nil // errorMessage or errorType not strings: not the runtime's shape
	}
	return fe
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

var (
	startRE      = regexp.MustCompile(`^START RequestId: (\S+)`)
	reportRE     = regexp.MustCompile(`^REPORT RequestId: (\S+)`)
	fieldRE      = regexp.MustCompile(`(Init Duration|Billed Duration|Duration|Memory Size|Max Memory Used): ([0-9.]+) (ms|MB)`)
	initReportRE = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	initDoneRE   = regexp.MustCompile(`INIT RTDONE\(status: ([^),]+)`)
)

// readLogs copies the emulator's output to w line by line and parses the
// lines that carry figures.
func (f *Function) readLogs(r io.ReadCloser, w io.Writer) {
	defer close(f.logsDone)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	status := "success"
	for sc.Scan() {
		line := sc.Text()
		_, _ = io.WriteString(w, line+"\n")
		switch {
		case startRE.MatchString(line):
			f.mu.Lock()
			f.current = startRE.FindStringSubmatch(line)[1]
			if f.early != nil {
				f.pending[f.current] = f.early
				f.early = nil
			}
			f.mu.Unlock()
		case initDoneRE.MatchString(line):
			status = initDoneRE.FindStringSubmatch(line)[1]
		case initReportRE.MatchString(line):
			ms, _ := strconv.ParseFloat(initReportRE.FindStringSubmatch(line)[1], 64)
			ir := InitReport{Duration: millis(ms), Status: status}
			status = "success"
			f.mu.Lock()
			f.inits = append(f.inits, ir)
			if f.current != "" {
				f.pending[f.current] = &ir
			} else {
				// The emulator starts the init and prints START concurrently;
				// the init belongs to the request that starts next.
				f.early = &ir
			}
			f.mu.Unlock()
		case reportRE.MatchString(line):
			rep := parseReport(line)
			f.mu.Lock()
			if f.current == rep.RequestID {
				f.current = ""
			}
			if ch, ok := f.waiters[rep.RequestID]; ok {
				ch <- rep // buffered, one REPORT per request
			}
			f.mu.Unlock()
		}
	}
}

func parseReport(line string) *Report {
	rep := &Report{RequestID: reportRE.FindStringSubmatch(line)[1]}
	for _, m := range fieldRE.FindAllStringSubmatch(line, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		switch m[1] {
		case "Init Duration":
			rep.RIEInitDuration = millis(v)
		case "Duration":
			rep.Duration = millis(v)
		case "Billed Duration":
			rep.BilledDuration = millis(v)
		case "Memory Size":
			rep.MemorySizeMB = int(v)
		case "Max Memory Used":
			rep.MaxMemoryUsedMB = int(v)
		}
	}
	return rep
}

func millis(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// stopGrace is how long Stop waits for the emulator to stop its runtime and exit after
// SIGTERM (it gives the runtime up to 2 s itself) before it kills both. Generous, because
// a loaded machine is slow to stop, and free when the emulator stops at once; tests
// shorten it.
var stopGrace = 10 * time.Second

// stopBound bounds waiting for killed processes to go and for their output to end.
const stopBound = 10 * time.Second

// Stop ends the emulator and every process it started (the runtime runs in a process
// group of its own): SIGTERM first, which makes the emulator stop the runtime and exit,
// then SIGKILL to whatever is left after stopGrace, the runtime included. It returns once
// the processes are gone and their output is read; an error means something could not be
// stopped. Safe to call more than once.
func (f *Function) Stop() error { return f.end(false) }

// Kill ends the function at once, as a crash of its execution environment would: SIGKILL
// to the emulator and to the runtime, with no SIGTERM and no grace, so the function cannot
// finish or record anything. An invocation in flight fails (a transport error, or the
// emulator's report of the runtime's exit if it came first), its outcome unknown as after a
// Lambda sandbox crash; later ones return ErrStopped. It returns once the processes are
// gone. Safe to call more than once, and with Stop.
func (f *Function) Kill() error { return f.end(true) }

func (f *Function) end(kill bool) error {
	f.mu.Lock()
	already := f.stopped
	f.stopped = true
	f.mu.Unlock()
	if already {
		<-f.exited
		return nil
	}
	pid := f.cmd.Process.Pid
	children := childProcesses(pid) // before they are reparented

	if kill {
		// The runtime first: with the emulator gone first it would be reparented, and
		// could run on for a moment.
		for _, c := range children {
			_ = syscall.Kill(-c.pid, syscall.SIGKILL)
			_ = syscall.Kill(c.pid, syscall.SIGKILL)
		}
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-f.exited
	} else {
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		grace := time.NewTimer(stopGrace)
		defer grace.Stop()
		select {
		case <-f.exited:
		case <-grace.C:
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-f.exited
		}
	}
	// The emulator stops its runtime before it exits; one it could not stop in time (it was
	// killed, or is slow) is killed here, with its process group.
	for _, c := range children {
		if c.alive() {
			_ = syscall.Kill(-c.pid, syscall.SIGKILL)
			_ = syscall.Kill(c.pid, syscall.SIGKILL)
		}
	}
	bound := time.NewTimer(stopBound)
	defer bound.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var left []string
		for _, c := range children {
			if c.alive() {
				left = append(left, strconv.Itoa(c.pid))
			}
		}
		if len(left) == 0 {
			break
		}
		select {
		case <-tick.C:
		case <-bound.C:
			return fmt.Errorf("lambdarun: stop %s: process(es) %s still running %s after SIGKILL", f.name, strings.Join(left, ", "), stopBound)
		}
	}
	select {
	case <-f.logsDone:
	case <-bound.C:
		return fmt.Errorf("lambdarun: stop %s: output pipe still open %s after the emulator and its runtime were stopped (a process the runtime started is still running)", f.name, stopBound)
	}
	return nil
}
