package lambdarun

import (
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

func TestBuild(t *testing.T) {
	path := echoBootstrap(t)
	if filepath.Base(path) != "bootstrap" || !filepath.IsAbs(path) {
		t.Errorf("Build returned %q, want an absolute path ending in /bootstrap", path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&0o111 == 0 {
		t.Errorf("bootstrap mode %v is not executable", fi.Mode())
	}
	if runtime.GOOS != "linux" {
		return
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("bootstrap is not an ELF file: %v", err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[runtime.GOARCH]
	if want != 0 && f.Machine != want {
		t.Errorf("bootstrap machine = %v, want %v (the host's GOARCH %s)", f.Machine, want, runtime.GOARCH)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("bootstrap has a dynamic loader (PT_INTERP): want a static binary (CGO_ENABLED=0)")
		}
	}
	if s := f.Section(".symtab"); s != nil {
		t.Errorf("bootstrap has a symbol table: want it stripped (-ldflags=-s -w)")
	}
}

func TestBuildError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Build(ctx, "./testdata/no-such-function", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no-such-function") {
		t.Errorf("Build of a missing package: got %v, want an error naming it", err)
	}
}

func sqsEvent(bodies ...string) []byte {
	ev := events.SQSEvent{}
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: "m" + string(rune('0'+i)), Body: b, EventSource: "aws:sqs"})
	}
	out, _ := json.Marshal(ev)
	return out
}

func TestFunctionInvoke(t *testing.T) {
	t.Setenv("LAMBDARUN_TEST_HOST_ONLY", "host secret")
	f, logs := startEcho(t, Options{FunctionName: "echofn-test", MemoryMB: 256, Timeout: 2500 * time.Millisecond,
		Env: map[string]string{"ECHOFN_CUSTOM": "yes", "AWS_REGION": "eu-west-1"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	first, err := f.InvokeDetailed(ctx, sqsEvent("ok", "fail", "ok"))
	if err != nil {
		t.Fatalf("Invoke: %v\nlogs:\n%s", err, logs)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(first.Payload, &resp); err != nil {
		t.Fatalf("response %s: %v", first.Payload, err)
	}
	if diff := cmp.Diff(events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "m1"}}}, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if first.Init == nil || first.Init.Duration <= 0 || first.Init.Status != "success" {
		t.Errorf("first invocation Init = %+v, want a successful init with a duration", first.Init)
	} else {
		t.Logf("INIT REPORT duration %v (RIE's own Init Duration %v)", first.Init.Duration, first.Report.RIEInitDuration)
	}
	if first.Report == nil || first.Report.RequestID != first.RequestID || first.Report.Duration <= 0 || first.Report.MemorySizeMB != 256 {
		t.Errorf("first Report = %+v, want request %s, a duration and 256 MB", first.Report, first.RequestID)
	}

	second, err := f.InvokeDetailed(ctx, sqsEvent("ok"))
	if err != nil {
		t.Fatalf("second Invoke: %v", err)
	}
	if second.Init != nil {
		t.Errorf("warm invocation Init = %+v, want nil", second.Init)
	}
	if got := len(f.Inits()); got != 1 {
		t.Errorf("Inits() has %d entries, want 1", got)
	}

	// A function error is a *FunctionError, not a transport error.
	_, err = f.Invoke(ctx, sqsEvent("error"))
	var fe *FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("Invoke of a failing handler: got %v, want a *FunctionError", err)
	}
	if fe.Message != "echofn: asked to fail the invocation" || fe.Type != "errorString" || errors.Is(err, ErrTimeout) {
		t.Errorf("FunctionError = %+v, want echofn's message and type errorString, not a timeout", fe)
	}

	// The environment: Lambda's variables, Options.Env, nothing of the host's.
	inits := echoInits(logs.String())
	if len(inits) != 1 {
		t.Fatalf("echofn printed %d init lines, want 1:\n%s", len(inits), logs)
	}
	got := inits[0][2:]
	if diff := cmp.Diff([]string{"echofn-test", "256", "3", "eu-west-1", "yes", `""`}, got); diff != "" {
		t.Errorf("function env: name, memory, timeout, region, custom, leaked host var (-want +got):\n%s", diff)
	}
	for _, want := range []string{"START RequestId: " + first.RequestID, "REPORT RequestId: " + second.RequestID, "INIT REPORT(durationMs:"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q", want)
		}
	}

	// Stop leaves nothing running.
	pid := atoi(t, inits[0][1])
	if !pidAlive(pid) {
		t.Fatalf("runtime pid %d not running before Stop", pid)
	}
	riePid := f.cmd.Process.Pid
	if err := f.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	for _, p := range []int{pid, riePid} {
		if pidAlive(p) {
			t.Errorf("process %d still exists after Stop", p)
		}
	}
	if _, err := f.Invoke(ctx, sqsEvent("ok")); !errors.Is(err, ErrStopped) {
		t.Errorf("Invoke after Stop: got %v, want ErrStopped", err)
	}
}

func TestFunctionTimeout(t *testing.T) {
	f, logs := startEcho(t, Options{Timeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := f.Invoke(ctx, sqsEvent("hang"))
	var fe *FunctionError
	if !errors.Is(err, ErrTimeout) || !errors.As(err, &fe) || !strings.Contains(fe.Message, "Task timed out after 1.00 seconds") {
		t.Fatalf("Invoke past the timeout: got %v, want a *FunctionError matching ErrTimeout", err)
	}
	// The emulator replaces the runtime: the next invocation is a cold start.
	inv, err := f.InvokeDetailed(ctx, sqsEvent("ok"))
	if err != nil {
		t.Fatalf("Invoke after a timeout: %v\nlogs:\n%s", err, logs)
	}
	if inv.Init == nil {
		t.Errorf("invocation after a timeout has no Init, want a new init")
	}
	if got := len(echoInits(logs.String())); got != 2 {
		t.Errorf("echofn started %d times, want 2 (the timed-out runtime is replaced)", got)
	}
}

func TestStartErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Start(ctx, Options{}); err == nil || !strings.Contains(err.Error(), "Bootstrap is required") {
		t.Errorf("Start without a bootstrap: got %v", err)
	}
	if _, err := Start(ctx, Options{Bootstrap: filepath.Join(t.TempDir(), "bootstrap")}); err == nil || !strings.Contains(err.Error(), "not an executable file") {
		t.Errorf("Start with a missing bootstrap: got %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	t.Setenv("GOPATH", t.TempDir())
	_, err := Start(ctx, Options{Bootstrap: echoBootstrap(t)})
	if !errors.Is(err, ErrRIENotFound) || !strings.Contains(err.Error(), "make tools") {
		t.Errorf("Start without aws-lambda-rie: got %v, want ErrRIENotFound telling to run make tools", err)
	}
}

func TestFunctionErrorPayload(t *testing.T) {
	tests := []struct {
		payload string
		want    bool
	}{
		{`{"errorMessage":"boom","errorType":"errorString"}`, true},
		{`{"errorMessage":"boom","errorType":"runtime.Error","stackTrace":[{"path":"x"}]}`, true},
		{`{"batchItemFailures":[]}`, false},
		{`{"errorMessage":"boom"}`, false},
		{`{"errorMessage":"boom","errorType":"x","result":1}`, false},
		{`{"errorMessage":1,"errorType":"x"}`, false},
		{`"errorMessage"`, false},
		{``, false},
	}
	for _, tc := range tests {
		if got := functionError("id", []byte(tc.payload)) != nil; got != tc.want {
			t.Errorf("functionError(%s) recognised = %v, want %v", tc.payload, got, tc.want)
		}
	}
}

func TestParseReport(t *testing.T) {
	line := "REPORT RequestId: 9db9a878-d0f1\tInit Duration: 0.02 ms\tDuration: 5.82 ms\tBilled Duration: 6 ms\tMemory Size: 3008 MB\tMax Memory Used: 3008 MB\t"
	got := parseReport(line)
	want := &Report{RequestID: "9db9a878-d0f1", RIEInitDuration: 20 * time.Microsecond, Duration: 5820 * time.Microsecond,
		BilledDuration: 6 * time.Millisecond, MemorySizeMB: 3008, MaxMemoryUsedMB: 3008}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseReport (-want +got):\n%s", diff)
	}
}
