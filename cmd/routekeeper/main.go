// Command routekeeper keeps a Genesys Cloud CX organisation's routing configuration equal
// to what a team declared in git: validate, schema, export, plan, diff, publish, apply,
// status and the local demo. Results go to stdout, diagnostics to stderr, and exit codes
// are documented per command so pipelines can branch on them.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes the CLI with args and returns the process exit code.
func run(ctx context.Context, args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "routekeeper:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "routekeeper:", err)
	return 1
}
