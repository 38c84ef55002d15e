// Command routekeeper keeps a Genesys Cloud CX organisation's routing configuration equal
// to what a team declared in git: validate, schema, export, plan, diff, publish, apply,
// status and the local demo. Results go to stdout, diagnostics to stderr, and exit codes
// are documented per command so pipelines can branch on them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// exitInterrupted is the exit status after Ctrl-C or SIGTERM (128 + SIGINT, as shells
// report an interrupted command).
const exitInterrupted = 130

func main() {
	setGCPolicy(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the CLI with args and returns the process exit code. An interrupt (ctx
// cancelled) says "interrupted" and exits exitInterrupted whatever the command was doing;
// commands write files atomically, so none is left half written.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(terraformFlags(args))
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "routekeeper: interrupted")
		return exitInterrupted
	}
	if err == nil {
		return 0
	}
	if ee, ok := errors.AsType[*exitError](err); ok {
		if ee.err != nil {
			fmt.Fprintln(stderr, "routekeeper:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "routekeeper:", err)
	return 1
}

// terraformFlags accepts -out PLANFILE (and -out=PLANFILE) as Terraform users type it,
// as --out: the flag parser would otherwise read it as -o with the value "ut".
func terraformFlags(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "-out" || strings.HasPrefix(a, "-out=") {
			a = "-" + a
		}
		out[i] = a
	}
	return out
}
