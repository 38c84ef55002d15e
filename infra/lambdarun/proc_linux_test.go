package lambdarun

import (
	"context"
	"os"
	"runtime"
	"strconv"
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
