package main

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

// subcommand returns the root's subcommand name.
func subcommand(t *testing.T, name string) *cobra.Command {
	t.Helper()
	for _, c := range newRootCmd().Commands() {
		if c.Name() == name {
			return c
		}
	}
	t.Fatalf("no command %s", name)
	return nil
}

// TestUsageExit: every command refuses a usage mistake with exit 2 and points at its
// help, writing nothing on stdout (plan, diff and drift also exit 2 for differences,
// which always write a plan or a report).
func TestUsageExit(t *testing.T) {
	tests := []struct {
		command string
		want    int
	}{
		{"validate", 2}, {"schema", 2}, {"export", 2}, {"plan", 2}, {"diff", 2},
		{"publish", 2}, {"apply", 2}, {"status", 2}, {"history", 2}, {"revert", 2}, {"drift", 2},
	}
	for _, tc := range tests {
		t.Run(tc.command, func(t *testing.T) {
			code, stdout, stderr := execute(t, tc.command, "--bogus")
			want := "routekeeper: unknown flag: --bogus (see routekeeper " + tc.command + " --help)\n"
			if code != tc.want || stdout != "" || stderr != want {
				t.Errorf("%s --bogus: exit %d, stdout %q, stderr %q; want %d, nothing, %q", tc.command, code, stdout, stderr, tc.want, want)
			}
			if got := usageExit(subcommand(t, tc.command)); got != tc.want {
				t.Errorf("usageExit(%s) = %d, want %d", tc.command, got, tc.want)
			}
		})
	}
}

// TestFormatFlag: every command refuses a format it does not write while parsing its
// flags, before anything is read, with one wording that lists its formats.
func TestFormatFlag(t *testing.T) {
	tests := []struct {
		command  string
		wantCode int
		formats  string
	}{
		{"validate", 2, "text, json or sarif"},
		{"plan", 2, "text, json or markdown"},
		{"diff", 2, "text, markdown, json or sarif"},
		{"apply", 2, "text or json"},
		{"status", 2, "text or json"},
	}
	for _, tc := range tests {
		t.Run(tc.command, func(t *testing.T) {
			code, _, stderr := execute(t, tc.command, "--format", "xml")
			want := `routekeeper: unknown --format "xml": use ` + tc.formats + " (see routekeeper " + tc.command + " --help)\n"
			if code != tc.wantCode {
				t.Errorf("%s --format xml: exit %d, want %d", tc.command, code, tc.wantCode)
			}
			if diff := cmp.Diff(want, stderr); diff != "" {
				t.Errorf("%s --format xml stderr (-want +got):\n%s", tc.command, diff)
			}
			f := subcommand(t, tc.command).Flags().Lookup("format")
			if f.DefValue != "text" || f.Usage != "output format: "+tc.formats {
				t.Errorf("%s --format: default %q, help %q; want text and the formats %s", tc.command, f.DefValue, f.Usage, tc.formats)
			}
		})
	}
}

// TestSharedFlagsAlike: a flag several commands take has one shorthand, default and help
// (--table and --environment add what the command does with them).
func TestSharedFlagsAlike(t *testing.T) {
	tests := []struct {
		flag       string
		commands   []string
		shorthand  string
		usage      string // the whole help, or its start with wantPrefix
		wantPrefix bool
		suffix     string
	}{
		{flag: "file", commands: []string{"plan", "apply", "publish"}, shorthand: "f", usage: "the routing `CONFIG`, a file or directory (required)"},
		{flag: "env", commands: []string{"export", "plan", "apply"}, usage: "read Genesys credentials of profile `NAME` from ROUTEKEEPER_<NAME>_GENESYS_* (default: GENESYS_*)"},
		{flag: "table", commands: []string{"plan", "apply", "publish", "status"}, usage: "routekeeper table `NAME` ", wantPrefix: true, suffix: " (default $TABLE_NAME)"},
		{flag: "environment", commands: []string{"export", "status"}, usage: "routing environment `ENV` ", wantPrefix: true},
	}
	for _, tc := range tests {
		for _, name := range tc.commands {
			f := subcommand(t, name).Flags().Lookup(tc.flag)
			if f == nil {
				t.Errorf("%s has no --%s", name, tc.flag)
				continue
			}
			okUsage := f.Usage == tc.usage || tc.wantPrefix && strings.HasPrefix(f.Usage, tc.usage)
			if f.Shorthand != tc.shorthand || f.DefValue != "" || !okUsage || !strings.HasSuffix(f.Usage, tc.suffix) {
				t.Errorf("%s --%s: shorthand %q, default %q, help %q; want %q, \"\", %q...%q", name, tc.flag, f.Shorthand, f.DefValue, f.Usage, tc.shorthand, tc.usage, tc.suffix)
			}
		}
	}
}

func TestTableAndEnvironmentFallback(t *testing.T) {
	tests := []struct {
		name                    string
		flag, envVar            string
		wantTable               string
		wantErr                 string
		environmentFlag, envEnv string
		wantEnvironment         string
	}{
		{name: "flags win", flag: "t1", envVar: "t2", wantTable: "t1", environmentFlag: "prod", envEnv: "dev", wantEnvironment: "prod"},
		{name: "variables", envVar: "t2", wantTable: "t2", envEnv: "dev", wantEnvironment: "dev"},
		{name: "neither", wantErr: "no table given: pass --table NAME or set TABLE_NAME to the stack's Table output (see routekeeper status --help)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TABLE_NAME", tc.envVar)
			t.Setenv("ROUTEKEEPER_ENVIRONMENT", tc.envEnv)
			if got := tableName(tc.flag); got != tc.wantTable {
				t.Errorf("tableName(%q) with TABLE_NAME=%q = %q, want %q", tc.flag, tc.envVar, got, tc.wantTable)
			}
			got, err := requireTable(subcommand(t, "status"), tc.flag)
			var ee *exitError
			switch {
			case tc.wantErr == "" && (err != nil || got != tc.wantTable):
				t.Errorf("requireTable(%q) = %q, %v; want %q", tc.flag, got, err, tc.wantTable)
			case tc.wantErr != "" && (!errors.As(err, &ee) || ee.code != 2 || err.Error() != tc.wantErr):
				t.Errorf("requireTable(%q) error %v; want exit 2 with %q", tc.flag, err, tc.wantErr)
			}
			if got := environmentName(tc.environmentFlag); got != tc.wantEnvironment {
				t.Errorf("environmentName(%q) with ROUTEKEEPER_ENVIRONMENT=%q = %q, want %q", tc.environmentFlag, tc.envEnv, got, tc.wantEnvironment)
			}
		})
	}
}

func TestRequireFileAndMaxArgs(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantCode int
		want     string
	}{
		{"plan without -f", requireFile(subcommand(t, "plan"), ""), 2, "no config given: pass -f FILE or -f DIR (see routekeeper plan --help)"},
		{"publish without -f", requireFile(subcommand(t, "publish"), ""), 2, "no config given: pass -f FILE or -f DIR (see routekeeper publish --help)"},
		{"argument to a command with -f", maxArgs(0)(subcommand(t, "apply"), []string{"x.yaml"}), 2, `apply takes no arguments, got ["x.yaml"]: the config goes in -f (see routekeeper apply --help)`},
		{"argument to a command without -f", maxArgs(0)(subcommand(t, "export"), []string{"x"}), 2, `export takes no arguments, got ["x"] (see routekeeper export --help)`},
		{"too many arguments", maxArgs(1)(subcommand(t, "status"), []string{"a", "b"}), 2, `status takes at most 1 argument(s), got ["a" "b"] (see routekeeper status --help)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ee *exitError
			if !errors.As(tc.err, &ee) || ee.code != tc.wantCode || tc.err.Error() != tc.want {
				t.Errorf("got %v, want exit %d with %q", tc.err, tc.wantCode, tc.want)
			}
		})
	}
	if err := requireFile(subcommand(t, "plan"), "routing/"); err != nil {
		t.Errorf("requireFile(routing/) = %v, want nil", err)
	}
	if err := maxArgs(1)(subcommand(t, "status"), []string{"a"}); err != nil {
		t.Errorf("maxArgs(1) of one argument = %v, want nil", err)
	}
}

func TestOrList(t *testing.T) {
	tests := []struct {
		words []string
		want  string
	}{
		{[]string{"text"}, "text"},
		{[]string{"text", "json"}, "text or json"},
		{[]string{"text", "markdown", "json", "sarif"}, "text, markdown, json or sarif"},
	}
	for _, tc := range tests {
		if got := orList(tc.words); got != tc.want {
			t.Errorf("orList(%q) = %q, want %q", tc.words, got, tc.want)
		}
	}
}

func TestWriteAs(t *testing.T) {
	v := map[string]any{"name": "Claims <Tasks>", "n": 1}
	text := writers{"text": func(w io.Writer) error { _, err := io.WriteString(w, "text of v\n"); return err }}
	tests := []struct {
		format  string
		want    string
		wantErr bool
	}{
		{"json", "{\n  \"n\": 1,\n  \"name\": \"Claims \\u003cTasks\\u003e\"\n}\n", false},
		{"text", "text of v\n", false},
		{"markdown", "", true}, // the command declared a format it has no writer for
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			var b bytes.Buffer
			err := writeAs(&b, tc.format, v, text)
			if (err != nil) != tc.wantErr {
				t.Fatalf("writeAs(%s): error %v, want error %v", tc.format, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("writeAs(%s) (-want +got):\n%s", tc.format, diff)
			}
		})
	}
}

// TestRootUsage: the root command refuses an unknown flag or command with exit 2 and the
// pointer to its help, like every subcommand; the exit codes are documented in its help.
func TestRootUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "routekeeper: unknown flag: --bogus (see routekeeper --help)\n"},
		{[]string{"plna"}, "routekeeper: unknown command \"plna\": did you mean plan? (see routekeeper --help)\n"},
	} {
		code, stdout, stderr := execute(t, tc.args...)
		if code != 2 || stdout != "" || stderr != tc.want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2, nothing, %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
	_, help, _ := execute(t, "--help")
	for _, want := range []string{"Exit statuses", "3    plan: the plan holds a conflict", "130  interrupted"} {
		if !strings.Contains(help, want) {
			t.Errorf("routekeeper --help lacks %q", want)
		}
	}
}

// TestSummaryOnce: plan's text ends with its summary, so stderr does not repeat it; with
// --format json, whose reader may not see the text, stderr has it.
func TestSummaryOnce(t *testing.T) {
	clearGenesysEnv(t)
	startOrg(t, "", applyOrg)
	path, _ := exportEnv(t, "dev")
	_, stdout, stderr := execute(t, "plan", "-f", path)
	if n := strings.Count(stdout+stderr, "0 to create"); n != 1 || !strings.Contains(stdout, "Plan: 0 to create") {
		t.Errorf("plan text: the summary appears %d times in stdout and stderr, want once, in stdout:\n%s%s", n, stdout, stderr)
	}
	_, stdout, stderr = execute(t, "plan", "-f", path, "--format", "json")
	if !strings.Contains(stderr, "0 to create") || strings.Contains(stdout, "0 to create") {
		t.Errorf("plan --format json: summary on stderr %q; want it there, once", stderr)
	}
}
