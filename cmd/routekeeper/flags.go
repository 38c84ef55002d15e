package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// Flags several commands take, and usage mistakes.
//
// Each shared flag (-f/--file, --env, --environment, --table, --format) is declared by
// one function here, so its name, help text, default and fallback variable read the same
// on every command; a command calls the declaring function, and the checking one when the
// value is required. A usage mistake exits with the command's usage status (usageExits).

// Variables the shared flags fall back to.
const (
	tableEnv       = "TABLE_NAME"
	environmentEnv = "ROUTEKEEPER_ENVIRONMENT"
)

// usageExitKey is the annotation holding a command's usage exit status.
const usageExitKey = "routekeeper.usage-exit"

// usageExits makes a usage mistake on cmd (an unknown flag, a bad --format, an extra
// argument, a missing -f ...) exit with code, and returns cmd. Every command uses 2 (plan
// and diff too, whose 2 also means "differences found": a usage mistake writes nothing to
// stdout, and a plan or a report always writes something).
func usageExits(code int, cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[usageExitKey] = strconv.Itoa(code)
	cmd.SetFlagErrorFunc(usageError)
	return cmd
}

// usageExit is the exit status of a usage mistake on cmd: what usageExits set, else 2.
func usageExit(cmd *cobra.Command) int {
	if code, err := strconv.Atoi(cmd.Annotations[usageExitKey]); err == nil {
		return code
	}
	return 2
}

// usageError is the error of a usage mistake on cmd: err and where to read how the
// command is used, exiting with usageExit(cmd). It is every command's flag-error handler.
func usageError(cmd *cobra.Command, err error) error {
	// A bad --format is refused while the flags are parsed; the parser's prefix
	// (invalid argument "x" for "--format" flag) would say it twice.
	if fe, ok := errors.AsType[*formatError](err); ok {
		err = fe
	}
	return exitCode(usageExit(cmd), fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath()))
}

// maxArgs accepts at most n positional arguments; more is a usage mistake.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) <= n:
			return nil
		case n > 0:
			return usageError(cmd, fmt.Errorf("%s takes at most %d argument(s), got %q", cmd.Name(), n, args))
		case cmd.Flags().Lookup("file") != nil:
			return usageError(cmd, fmt.Errorf("%s takes no arguments, got %q: the config goes in -f", cmd.Name(), args))
		}
		return usageError(cmd, fmt.Errorf("%s takes no arguments, got %q", cmd.Name(), args))
	}
}

// fileFlag declares -f/--file CONFIG, the routing config of plan, apply and publish.
func fileFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "file", "f", "", "the routing `CONFIG`, a file or directory (required)")
}

// requireFile refuses an empty -f.
func requireFile(cmd *cobra.Command, file string) error {
	if file == "" {
		return usageError(cmd, errors.New("no config given: pass -f FILE or -f DIR"))
	}
	return nil
}

// profileFlag declares --env NAME, the Genesys credentials profile (genesysConfig): not
// to be confused with --environment, a routing environment.
func profileFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "env", "", "read Genesys credentials of profile `NAME` from ROUTEKEEPER_<NAME>_GENESYS_* (default: GENESYS_*)")
}

// environmentFlag declares --environment ENV, a routing environment (a config's
// "environment:"); purpose says what the command does with it.
func environmentFlag(cmd *cobra.Command, p *string, purpose string) {
	cmd.Flags().StringVar(p, "environment", "", "routing environment `ENV` "+purpose)
}

// environmentName is --environment, else $ROUTEKEEPER_ENVIRONMENT.
func environmentName(flag string) string { return firstNonEmpty(flag, getenv(environmentEnv)) }

// tableFlag declares --table NAME, the routekeeper DynamoDB table; purpose says what the
// command keeps there.
func tableFlag(cmd *cobra.Command, p *string, purpose string) {
	cmd.Flags().StringVar(p, "table", "", "routekeeper table `NAME` "+purpose+" (default $"+tableEnv+")")
}

// tableName is --table, else $TABLE_NAME; "" when neither is set.
func tableName(flag string) string { return firstNonEmpty(flag, getenv(tableEnv)) }

// requireTable is tableName, refusing "".
func requireTable(cmd *cobra.Command, flag string) (string, error) {
	table := tableName(flag)
	if table == "" {
		return "", usageError(cmd, errors.New("no table given: pass --table NAME or set "+tableEnv+" to the stack's Table output"))
	}
	return table, nil
}

// formatFlag declares --format, defaulting to the first of formats. Another value is
// refused while the flags are parsed, with the same message on every command.
func formatFlag(cmd *cobra.Command, p *string, formats ...string) {
	*p = formats[0]
	cmd.Flags().Var(&formatValue{p: p, formats: formats}, "format", "output format: "+orList(formats))
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
}

// formatValue is a --format value restricted to formats.
type formatValue struct {
	p       *string
	formats []string
}

func (f *formatValue) String() string { return *f.p }
func (f *formatValue) Type() string   { return "FORMAT" }

func (f *formatValue) Set(v string) error {
	if !slices.Contains(f.formats, v) {
		return &formatError{value: v, formats: f.formats}
	}
	*f.p = v
	return nil
}

// formatError is a --format value the command does not write.
type formatError struct {
	value   string
	formats []string
}

func (e *formatError) Error() string {
	return fmt.Sprintf("unknown --format %q: use %s", e.value, orList(e.formats))
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// firstNonEmpty returns the first non-empty string.
func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
