package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/lambdarun"
	"github.com/routekeeper/routekeeper/shared/genesys"
)

// ModulePath is routekeeper's Go module; functions are built as ModulePath/functions/<dir>.
const ModulePath = "github.com/routekeeper/routekeeper"

// Built bootstraps are shared by the functions of one process (tests start a function per
// test; building takes seconds, starting milliseconds).
var (
	buildMu sync.Mutex
	built   = map[string]string{} // dir -> bootstrap path
)

// BuildFunction builds the function in functions/<dir> for this machine (lambdarun.Build:
// the Lambda build flags, host GOOS/GOARCH) into buildRoot/<dir>/bootstrap, once per
// process, and returns the bootstrap's path.
func BuildFunction(ctx context.Context, dir, buildRoot string) (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	key := filepath.Join(buildRoot, dir)
	if p, ok := built[key]; ok {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := lambdarun.Build(ctx, ModulePath+"/functions/"+dir, key)
	if err != nil {
		return "", fmt.Errorf("build function %s: %w", dir, err)
	}
	built[key] = p
	return p, nil
}

// FunctionOptions configure StartFunction.
type FunctionOptions struct {
	// BuildRoot is where bootstraps are built (BuildRoot/<dir>/bootstrap). Required.
	BuildRoot string
	// Logs receives the function's and the emulator's log lines; nil discards them.
	Logs io.Writer
	// Env is added to (and overrides) the environment FunctionEnv gives the function.
	Env map[string]string
	// Genesys, when set, is the org the function talks to instead of the simulator (a
	// sandbox org: `make invoke` with GENESYS_* set): its APIURL, LoginURL, ClientID,
	// ClientSecret and RequestsPerMinute become the function's GENESYS_* variables, and
	// GENESYS_CREDENTIALS_SECRET is removed. Required on a stack started
	// WithoutSimulator.
	Genesys *genesys.Config
}

// StartFunction builds the function whose folder is dir (functions/<dir>) for this machine
// and runs its bootstrap under aws-lambda-rie with the timeout, memory and environment the
// template gives it, pointed at this stack (or at the org of FunctionOptions.Genesys).
// Stop the returned function when done.
func (s *Stack) StartFunction(ctx context.Context, dir string, opts FunctionOptions) (*lambdarun.Function, error) {
	f, ok := s.Template.Function(dir)
	if !ok {
		return nil, fmt.Errorf("function %q: %s declares no function for functions/%s (declared: %v)", dir, s.Template.Path, dir, s.Template.Dirs())
	}
	if opts.BuildRoot == "" {
		return nil, fmt.Errorf("function %q: FunctionOptions.BuildRoot is empty", dir)
	}
	env := s.FunctionEnv(f)
	switch {
	case opts.Genesys != nil:
		if err := orgEnv(env, *opts.Genesys); err != nil {
			return nil, fmt.Errorf("function %q: FunctionOptions.Genesys: %w", dir, err)
		}
	case s.Sim == nil:
		return nil, fmt.Errorf("function %q: the stack runs no Genesys simulator (Options.WithoutSimulator); set FunctionOptions.Genesys to the org the function talks to", dir)
	}
	maps.Copy(env, opts.Env)
	bootstrap, err := BuildFunction(ctx, dir, opts.BuildRoot)
	if err != nil {
		return nil, err
	}
	return lambdarun.Start(ctx, lambdarun.Options{
		Bootstrap:    bootstrap,
		FunctionName: f.LogicalID,
		Env:          env,
		Timeout:      f.Timeout,
		MemoryMB:     f.MemoryMB,
		Logs:         opts.Logs,
	})
}

// Pollers returns one event source mapping emulator (lambdarun.Poller) for each SQS event
// of the function in folder dir, configured from the template (queue, BatchSize), feeding
// fn. Run or Drain them. Each keeps one batch in flight, so ScalingConfig's
// MaximumConcurrency (parallelism across message groups in AWS) is not emulated; order
// within a message group, which is what routekeeper relies on, is the same.
func (s *Stack) Pollers(ctx context.Context, dir string, fn lambdarun.Invoker, logger *slog.Logger) ([]*lambdarun.Poller, error) {
	return s.PollersWith(ctx, dir, fn, PollOptions{Logger: logger})
}

// PollOptions configure PollersWith beyond what the template gives.
type PollOptions struct {
	// Client is the SQS client the pollers receive and delete with; nil: one of the
	// stack's AWS configuration.
	Client lambdarun.SQSAPI
	// WaitTime is each receive's long-poll wait; 0: Lambda's 20 s.
	WaitTime time.Duration
	Logger   *slog.Logger
}

// PollersWith is Pollers with opts: several pollers of one function emulate its
// concurrency, and sharing a client that receives one call at a time keeps moto's FIFO
// message-group locking right (see infra/chaos).
func (s *Stack) PollersWith(ctx context.Context, dir string, fn lambdarun.Invoker, opts PollOptions) ([]*lambdarun.Poller, error) {
	f, ok := s.Template.Function(dir)
	if !ok {
		return nil, fmt.Errorf("function %q: not declared in %s", dir, s.Template.Path)
	}
	var out []*lambdarun.Poller
	for _, e := range f.SQSEvents {
		q, ok := s.Template.QueueByARN(e.QueueARN)
		if !ok {
			return nil, fmt.Errorf("%s.Events.%s: queue %s is not an AWS::SQS::Queue of %s", f.LogicalID, e.Name, e.QueueARN, s.Template.Path)
		}
		if !e.ReportBatchItemFailures {
			// The poller always honours batchItemFailures; without the setting Lambda
			// ignores them and retries the whole batch. routekeeper never wants that.
			return nil, fmt.Errorf("%s.Events.%s: FunctionResponseTypes lacks ReportBatchItemFailures; the local poller (and routekeeper's functions) rely on partial batch responses", f.LogicalID, e.Name)
		}
		client := opts.Client
		if client == nil {
			client = sqs.NewFromConfig(s.AWS)
		}
		p, err := lambdarun.NewPoller(ctx, client, q.URL, fn, lambdarun.PollerOptions{
			BatchSize: e.BatchSize,
			WaitTime:  opts.WaitTime,
			Logger:    opts.Logger,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// CheckTools reports every program the local stack runs that is missing (moto_server,
// aws-lambda-rie), each error saying to run `make tools`, so a command fails before it
// starts anything.
func CheckTools() error {
	_, moto := awslocal.FindMoto()
	_, rie := lambdarun.FindRIE()
	return errors.Join(moto, rie)
}
