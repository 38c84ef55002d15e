package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersion: --version prints the module version and the VCS revision Go stamps into
// the binary, and says when the tree was modified or the build has no information.
func TestVersion(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "245bf15428"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"go install of a tag", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}, Settings: rev}, true,
			"v1.2.3, revision 245bf15428 of 2026-12-01T10:00:00Z, go1.26.0"},
		{"modified working tree", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
			Settings: append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"})}, true,
			"(devel), revision 245bf15428 (modified) of 2026-12-01T10:00:00Z, go1.26.0"},
		{"built with -buildvcs=false", &debug.BuildInfo{GoVersion: "go1.26.0"}, true, "(devel), go1.26.0"},
		{"no build information", nil, false, "(unknown: built without module information)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionOf(tc.bi, tc.ok); got != tc.want {
				t.Errorf("versionOf = %q, want %q", got, tc.want)
			}
		})
	}
	code, stdout, _ := execute(t, "--version")
	if code != 0 || stdout != "routekeeper "+version()+"\n" || !strings.Contains(stdout, "go1.") {
		t.Errorf("routekeeper --version: exit %d, %q; want 0 and routekeeper %s", code, stdout, version())
	}
}

// TestColour: plan and diff text is coloured on a terminal, and not with NO_COLOR set,
// with --no-color, or when stdout is not a terminal.
func TestColour(t *testing.T) {
	clearGenesysEnv(t)
	startOrg(t, "", applyOrg)
	path, cfg := exportEnv(t, "dev")
	desc := "coloured"
	cfg.Queues[0].Description = &desc
	saveConfig(t, path, cfg)
	other := writeConfig(t, "other.yaml", "apiVersion: routekeeper/v1\nskills: [{name: Only Here}]\n")
	const yellow = "\x1b[33m"
	tests := []struct {
		name     string
		args     []string
		noColor  string
		terminal bool
		want     bool
	}{
		{"plan on a terminal", []string{"plan", "-f", path}, "", true, true},
		{"diff on a terminal", []string{"diff", path, other}, "", true, true},
		{"plan with NO_COLOR", []string{"plan", "-f", path}, "1", true, false},
		{"diff with --no-color", []string{"diff", "--no-color", path, other}, "", true, false},
		{"plan with --no-color", []string{"--no-color", "plan", "-f", path}, "", true, false},
		{"plan to a pipe", []string{"plan", "-f", path}, "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", tc.noColor)
			var out string
			if tc.terminal {
				master, tty := openPTY(t)
				done := ptyOutput(master)
				code := run(t.Context(), tc.args, strings.NewReader(""), tty, new(strings.Builder))
				tty.Close()
				out = done()
				if code != 2 {
					t.Errorf("%v: exit %d, want 2 (changes)", tc.args, code)
				}
			} else {
				_, out, _ = execute(t, tc.args...)
			}
			if got := strings.Contains(out, yellow) || strings.Contains(out, "\x1b[3"); got != tc.want {
				t.Errorf("%v (NO_COLOR=%q, terminal %v): coloured %v, want %v:\n%q", tc.args, tc.noColor, tc.terminal, got, tc.want, out)
			}
			if !strings.Contains(out, "~ ") && !strings.Contains(out, "< ") && !strings.Contains(out, "> ") {
				t.Errorf("%v: no plan or report in the output:\n%q", tc.args, out)
			}
		})
	}
}
