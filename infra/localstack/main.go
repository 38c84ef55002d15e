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
// the response on stdout and the function's logs on stderr, and stops everything. With
// --config it first publishes that config's desired state to the local table (as
// `routekeeper publish` does) and runs the function for the config's environment; with
// GENESYS_API_URL (or GENESYS_REGION), GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET set it
// points the function at that org (a sandbox) and starts no simulator.
//
// events regenerates the sample events of every function registered in stack.Functions.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

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
  invoke --fn <function folder> --event <file> [--config <path>]
        invoke one function once with an event (make invoke FN=... EVENT=... [CONFIG=path]);
        --config publishes that routing config to the local table first (version "local")
        and runs the function for its environment; with GENESYS_API_URL (or GENESYS_REGION),
        GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET set (GENESYS_LOGIN_URL optional), the
        function talks to that org instead of the bundled simulator
  demo [--cli .build/routekeeper]
        the guided local walk-through (make demo)
  events
        regenerate events/<function>/*.json of every registered function from the seeded org
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "invoke":
		return invokeCmd(ctx, args[1:], os.Getenv, stack.Options{}, stdout, stderr)
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
