package awslocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Local AWS identity. moto accepts any credentials; its resources live in this account.
const (
	Region    = "us-east-1"
	AccountID = "123456789012"
)

// ErrMotoNotFound means moto_server is not on PATH.
var ErrMotoNotFound = errors.New("awslocal: moto_server not found on PATH: run `make tools` (installs moto[server])")

// Startup and shutdown bounds. A cold moto_server (Python imports) is ready in about a
// second on a laptop; the deadline is generous for loaded CI machines.
const (
	defaultStartTimeout = 60 * time.Second
	pollInterval        = 25 * time.Millisecond
	stopGrace           = 5 * time.Second
	startAttempts       = 3 // the free port we picked may be taken before moto binds it
)

// Moto is a running moto_server process bound to 127.0.0.1.
type Moto struct {
	Endpoint string // http://127.0.0.1:PORT

	cmd     *exec.Cmd
	output  *tailBuffer
	exited  chan struct{} // closed when the process has been waited for
	waitMu  sync.Mutex
	err     error // result of cmd.Wait, valid after exited is closed
	stop    sync.Once
	stopErr error
}

// StartMoto starts moto_server from PATH on a free loopback port and returns once it
// answers HTTP. Without a deadline on ctx it waits at most 60 seconds. The server runs in
// its own process group; call Stop to end it.
func StartMoto(ctx context.Context) (*Moto, error) {
	bin, err := FindMoto()
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	var lastErr error
	for range startAttempts {
		m, err := startOnce(ctx, bin)
		if err == nil {
			return m, nil
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

var errPortTaken = errors.New("port taken")

// FindMoto returns the path of moto_server on PATH, or ErrMotoNotFound.
func FindMoto() (string, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return "", ErrMotoNotFound
	}
	return bin, nil
}

func startOnce(ctx context.Context, bin string) (*Moto, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("awslocal: find a free loopback port: %w", err)
	}
	m := &Moto{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		output:   &tailBuffer{max: 8 << 10},
		exited:   make(chan struct{}),
	}
	// Not exec.CommandContext: the server must outlive the start context.
	m.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	m.cmd.Stdout = m.output
	m.cmd.Stderr = m.output
	m.cmd.SysProcAttr = sysProcAttr()
	// Start and wait on one goroutine locked to its OS thread: the kernel's parent-death
	// signal (sysProcAttr) fires when the *thread* that forked exits, and a locked thread
	// lives until this goroutine returns, which is after moto has exited.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := m.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		err := m.cmd.Wait()
		m.waitMu.Lock()
		m.err = err
		m.waitMu.Unlock()
		close(m.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("awslocal: start %s: %w", bin, err)
	}
	if err := m.waitReady(ctx); err != nil {
		_ = m.Stop()
		return nil, err
	}
	return m, nil
}

// waitReady polls the endpoint until moto answers, the process exits, or ctx ends.
func (m *Moto) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.Endpoint+"/moto-api/", nil)
		if err != nil {
			return fmt.Errorf("awslocal: build readiness request: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-m.exited:
			out := m.output.String()
			if strings.Contains(out, "Address already in use") {
				return fmt.Errorf("awslocal: moto_server on %s: %w", m.Endpoint, errPortTaken)
			}
			if notInstalled(out, m.waitErr()) {
				// A pyenv or pipx shim on PATH whose Python has no moto.
				return fmt.Errorf("awslocal: %s is on PATH but cannot run moto (%v): %w; its output:\n%s", m.cmd.Path, m.waitErr(), ErrMotoNotFound, out)
			}
			return fmt.Errorf("awslocal: moto_server exited before it was ready (%v); its output:\n%s", m.waitErr(), out)
		case <-ctx.Done():
			return fmt.Errorf("awslocal: moto_server on %s not ready: %w; its output so far:\n%s", m.Endpoint, ctx.Err(), m.output.String())
		case <-ticker.C:
		}
	}
}

// notInstalled reports whether moto_server's exit says moto is not installed: a shell's
// or shim's "command not found" (exit status 127) or Python's missing module.
func notInstalled(output string, waitErr error) bool {
	var exit *exec.ExitError
	if errors.As(waitErr, &exit) && exit.ExitCode() == 127 {
		return true
	}
	return strings.Contains(output, "command not found") || strings.Contains(output, "No module named")
}

func (m *Moto) waitErr() error {
	m.waitMu.Lock()
	defer m.waitMu.Unlock()
	return m.err
}

// Stop ends moto_server and everything it started (SIGTERM to its process group, SIGKILL
// after a grace period) and waits for it to exit. It is safe to call more than once.
func (m *Moto) Stop() error {
	m.stop.Do(func() { m.stopErr = m.terminate() })
	return m.stopErr
}

func (m *Moto) terminate() error {
	select {
	case <-m.exited:
		return nil // already gone
	default:
	}
	pid := m.cmd.Process.Pid
	// The process leads its own group (Setpgid), so -pid reaches the pyenv shim, Python and
	// any worker it forked.
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("awslocal: stop moto_server (pid %d): %w", pid, err)
	}
	timer := time.NewTimer(stopGrace)
	defer timer.Stop()
	select {
	case <-m.exited:
	case <-timer.C:
		if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("awslocal: kill moto_server (pid %d): %w", pid, err)
		}
		<-m.exited
	}
	// Members of the group that outlived the leader would be leftovers: kill them too.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	return nil
}

// AWSConfig returns an aws-sdk-go-v2 configuration that reaches this moto: region
// us-east-1, static test credentials, BaseEndpoint = m.Endpoint. It reads no environment
// variables or shared config files, so a developer's AWS profile can never be used by a
// test by accident.
func (m *Moto) AWSConfig(ctx context.Context) (aws.Config, error) {
	if err := ctx.Err(); err != nil {
		return aws.Config{}, err
	}
	return aws.Config{
		Region:       Region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("testing", "testing", "")),
		BaseEndpoint: aws.String(m.Endpoint),
	}, nil
}

// Env returns the environment variables that point an AWS SDK in another process (a
// function's bootstrap under the Lambda RIE, the CLI) at this moto, with test credentials.
func (m *Moto) Env() map[string]string { return EndpointEnv(m.Endpoint) }

// EndpointEnv returns the environment variables that point an AWS SDK in another process
// at the local AWS endpoint (AWS_ENDPOINT_URL), in Region, with moto's test credentials.
func EndpointEnv(endpoint string) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":      endpoint,
		"AWS_REGION":            Region,
		"AWS_DEFAULT_REGION":    Region,
		"AWS_ACCESS_KEY_ID":     "testing",
		"AWS_SECRET_ACCESS_KEY": "testing",
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
