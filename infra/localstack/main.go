// Command localstack runs routekeeper on one machine, without Docker, AWS or a Genesys org:
// moto with the resources of template.yaml, the Genesys simulator seeded with the org of
// examples/routing/prod.yaml, and each function's real bootstrap under aws-lambda-rie
// (package infra/localstack/stack).
//
//	go run ./infra/localstack invoke --fn apply --event events/apply/batch.json   # make invoke
//	go run ./infra/localstack demo --cli .build/routekeeper                        # make demo
//	go run ./infra/localstack events                                               # regenerate events/
//
// invoke is `sam local invoke -e` for the local stack: it starts the stack, builds and
// starts the function with the environment the template gives it, posts the event, prints
// the response on stdout and the function's logs on stderr, and stops everything.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/localstack/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if ctx.Err() != nil { // SIGINT/SIGTERM: run has stopped everything it started
			fmt.Fprintln(os.Stderr, "localstack: interrupted; everything it started is stopped")
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "localstack:", err)
		os.Exit(1)
	}
}

const usage = `usage: localstack <command> [flags]

commands:
  invoke --fn <function folder> --event <file>   invoke one function once with an event (make invoke)
  demo [--cli .build/routekeeper]                 the guided local walk-through (make demo)
  events                                          regenerate events/<function>/*.json from the seeded org
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "invoke":
		return invokeCmd(ctx, args[1:], stdout, stderr)
	case "demo":
		return demoCmd(ctx, args[1:], stdout, stderr)
	case "events":
		return eventsCmd(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func invokeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("invoke", stderr)
	fn := fs.String("fn", "", "function folder under functions/, e.g. apply")
	eventPath := fs.String("event", "", "event JSON file, e.g. events/apply/batch.json")
	buildRoot := fs.String("build-dir", filepath.Join(".build", "host"), "where host bootstraps are built")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fn == "" || *eventPath == "" {
		return errors.New("invoke: --fn and --event are required, e.g. --fn apply --event events/apply/batch.json")
	}
	event, err := os.ReadFile(*eventPath)
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	if !json.Valid(event) {
		return fmt.Errorf("invoke: %s is not valid JSON", *eventPath)
	}
	if err := stack.CheckTools(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	fmt.Fprintln(stderr, "localstack: starting moto, the template's resources and the Genesys simulator")
	s, err := stack.Start(ctx, stack.Options{})
	if err != nil {
		return err
	}
	defer stopping(stderr, "the local stack", s.Stop)
	fmt.Fprintf(stderr, "localstack: building functions/%s for this machine and starting it under aws-lambda-rie\n", *fn)
	f, err := s.StartFunction(ctx, *fn, stack.FunctionOptions{BuildRoot: *buildRoot, Logs: prefixWriter(stderr, "  | ")})
	if err != nil {
		return err
	}
	defer f.Stop()
	inv, invErr := f.InvokeDetailed(ctx, event)
	if err := f.Stop(); err != nil {
		fmt.Fprintln(stderr, "localstack: stop function:", err)
	}
	if inv != nil {
		var pretty any
		if json.Unmarshal(inv.Payload, &pretty) == nil {
			b, _ := json.MarshalIndent(pretty, "", "  ")
			fmt.Fprintln(stdout, string(b))
		} else {
			fmt.Fprintln(stdout, string(inv.Payload))
		}
		if inv.Init != nil {
			fmt.Fprintf(stderr, "localstack: INIT %s (%s)\n", inv.Init.Duration.Round(time.Microsecond), inv.Init.Status)
		}
		if inv.Report != nil {
			fmt.Fprintf(stderr, "localstack: REPORT duration %s, max memory %d MB\n", inv.Report.Duration.Round(time.Microsecond), inv.Report.MaxMemoryUsedMB)
		}
	}
	return invErr
}

func eventsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("events", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := awslocal.FindMoto(); err != nil {
		return err
	}
	dir, err := stack.EventsDir()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, stack.Options{})
	if err != nil {
		return err
	}
	defer stopping(stderr, "the local stack", s.Stop)
	evs, err := stack.GenerateApplyEvents(ctx, s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "apply"), 0o755); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(evs)) {
		p := filepath.Join(dir, "apply", name+".json")
		if err := os.WriteFile(p, evs[name], 0o644); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "wrote", p)
	}
	return nil
}

// flags returns the flag set of a command; its usage and errors go to stderr.
func flags(command string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// stopping stops something a command started (deferred) and reports a failure to stop on
// stderr: the command's own result stays what it was.
func stopping(stderr io.Writer, what string, stop func() error) {
	if err := stop(); err != nil {
		fmt.Fprintf(stderr, "localstack: stop %s: %v\n", what, err)
	}
}
