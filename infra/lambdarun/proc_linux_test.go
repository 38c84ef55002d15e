package lambdarun

import (
	"context"
	"errors"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The kernel's parent-death signal (Pdeathsig) fires when the OS *thread* that forked the
// emulator exits, not the process. Go ends a thread when a goroutine locked to it returns
// (awslocal's moto goroutine does exactly that), so a function started from such a thread
// must keep running after the thread is gone.
func TestFunctionOutlivesTheStartingThread(t *testing.T) {
	requireRIE(t)
	boot := echoBootstrap(t)
	type started struct {
		f   *Function
		tid int
		err error
	}
	ch := make(chan started, 1)
	var start func()
	start = func() {
		runtime.LockOSThread() // never unlocked: the thread exits with this goroutine
		if syscall.Gettid() == os.Getpid() {
			// The main thread is never ended; keep it busy and start from another one.
			done := make(chan struct{})
			go func() { start(); close(done) }()
			<-done
			runtime.UnlockOSThread()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		f, err := Start(ctx, Options{Bootstrap: boot})
		ch <- started{f, syscall.Gettid(), err}
	}
	go start()
	s := <-ch
	if s.err != nil {
		t.Fatal(s.err)
	}
	t.Cleanup(func() {
		if err := s.f.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	task := "/proc/self/task/" + strconv.Itoa(s.tid)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(task); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread %d (process %d) that called Start still exists; cannot check", s.tid, os.Getpid())
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.f.Invoke(ctx, sqsEvent("ok")); err != nil {
		t.Fatalf("Invoke after the thread that started the function exited: %v (the emulator was killed with its thread)", err)
	}
}

// An emulator that does not stop on SIGTERM is killed after the grace period, and the
// runtime it leaves behind is killed too: Stop succeeds and nothing is left running. (Under
// CPU load the real emulator can miss a short grace period; that is not the caller's error.)
func TestStopKillsWhatTheEmulatorLeaves(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fake, err := Build(ctx, "./testdata/fakerie", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func(g time.Duration) { stopGrace = g }(stopGrace)
	stopGrace = 100 * time.Millisecond
	logs := &syncBuffer{}
	f, err := Start(ctx, Options{Bootstrap: echoBootstrap(t), RIE: fake, Logs: logs})
	if err != nil {
		t.Fatalf("Start with the fake emulator: %v\n%s", err, logs)
	}
	child := 0
	for deadline := time.Now().Add(30 * time.Second); child == 0; {
		if m := fakeChildRE.FindStringSubmatch(logs.String()); m != nil {
			child = atoi(t, m[1])
		} else if time.Now().After(deadline) {
			_ = f.Stop()
			t.Fatalf("the fake emulator never reported its child:\n%s", logs)
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := f.Stop(); err != nil {
		t.Errorf("Stop: got %v, want nil (it killed what was left)", err)
	}
	for _, pid := range []int{f.cmd.Process.Pid, child} {
		if _, _, state, ok := readStat(pid); ok && state != "Z" && state != "X" {
			t.Errorf("process %d is still running (state %s) after Stop", pid, state)
		}
	}
}

var fakeChildRE = regexp.MustCompile(`fakerie child=(\d+)`)

// Kill crashes the function mid-invocation: the runtime and the emulator are gone at once
// (no SIGTERM, so the handler cannot finish), the invocation in flight fails, later ones
// are refused, and Stop afterwards has nothing left to do.
func TestKillMidInvocation(t *testing.T) {
	f, logs := startEcho(t, Options{Timeout: time.Minute})
	done := make(chan error, 1)
	go func() {
		_, err := f.Invoke(context.Background(), sqsEvent("hang"))
		done <- err
	}()
	runtimePID := 0
	for deadline := time.Now().Add(30 * time.Second); ; {
		if inits := echoInits(logs.String()); len(inits) > 0 && strings.Contains(logs.String(), `"body":"hang"`) {
			runtimePID = atoi(t, inits[0][1])
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the function never started the hanging record:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	emulatorPID := f.cmd.Process.Pid
	if err := f.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("the invocation in flight: got success, want it to fail with the killed function")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the invocation in flight did not return after Kill")
	}
	for _, pid := range []int{runtimePID, emulatorPID} {
		if _, _, state, ok := readStat(pid); ok && state != "Z" && state != "X" {
			t.Errorf("process %d is still running (state %s) after Kill", pid, state)
		}
	}
	if _, err := f.Invoke(context.Background(), sqsEvent("ok")); !errors.Is(err, ErrStopped) {
		t.Errorf("Invoke after Kill: got %v, want ErrStopped", err)
	}
	if err := f.Kill(); err != nil {
		t.Errorf("a second Kill: got %v, want nil", err)
	}
}
