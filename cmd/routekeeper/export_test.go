package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/routing"
)

var smallOrg = sim.GenerateOptions{Queues: 60, Skills: 40, Worktypes: 12, Seed: 5}

func TestExportDeterministic(t *testing.T) {
	clearGenesysEnv(t)
	s := startOrg(t, "", smallOrg)
	code, first, stderr := execute(t, "export")
	if code != 0 {
		t.Fatalf("export: exit %d, stderr %s", code, stderr)
	}
	code, second, _ := execute(t, "export")
	if code != 0 {
		t.Fatalf("second export: exit %d", code)
	}
	if first != second {
		t.Errorf("two exports of an unchanged org differ:\n%s", cmp.Diff(first, second))
	}
	if !strings.HasPrefix(first, schemaLine) {
		t.Errorf("export does not start with the schema line %q", schemaLine)
	}
	cfg, err := routing.Parse("stdout.yaml", []byte(first))
	if err != nil {
		t.Fatalf("exported YAML does not parse and validate: %v", err)
	}
	if len(cfg.Queues) != 60 || len(cfg.Skills) != 40 || len(cfg.Worktypes) != 12 || len(cfg.Divisions) == 0 || len(cfg.Workbins) == 0 {
		t.Errorf("export has %d queues, %d skills, %d worktypes, %d divisions, %d workbins; want 60, 40, 12 and some of each list",
			len(cfg.Queues), len(cfg.Skills), len(cfg.Worktypes), len(cfg.Divisions), len(cfg.Workbins))
	}
	// Names, not ids: no org id appears in the export.
	for _, ref := range []struct{ kind, name string }{
		{"queue", cfg.Queues[0].Name}, {"skill", cfg.Skills[0].Name}, {"worktype", cfg.Worktypes[0].Name},
		{"workbin", cfg.Workbins[0]}, {"division", cfg.Divisions[0]},
	} {
		id, ok := s.IDByName(ref.kind, ref.name)
		if !ok {
			t.Errorf("exported %s %q does not exist in the org", ref.kind, ref.name)
		}
		if strings.Contains(first, id) {
			t.Errorf("export contains the id %s of %s %q; want names only", id, ref.kind, ref.name)
		}
	}
	if strings.Contains(first, "id:") {
		t.Errorf("export holds unresolved id references")
	}
	if !strings.Contains(stderr, "60 queues") || !strings.Contains(stderr, "API requests") {
		t.Errorf("stderr summary = %q, want counts and API requests", stderr)
	}
}

func TestExportOutLayouts(t *testing.T) {
	clearGenesysEnv(t)
	startOrg(t, "", smallOrg)
	dir := t.TempDir()
	tests := []struct {
		name, out string
		files     []string
	}{
		{"yaml file", filepath.Join(dir, "prod.yaml"), []string{"prod.yaml"}},
		{"json file", filepath.Join(dir, "prod.json"), []string{"prod.json"}},
		{"directory", filepath.Join(dir, "prod"), []string{"prod/routekeeper.yaml", "prod/skills.yaml", "prod/queues.yaml", "prod/worktypes.yaml"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := execute(t, "export", "--environment", "prod", "--out", tc.out)
			if code != 0 {
				t.Fatalf("export --out %s: exit %d, stderr %s", tc.out, code, stderr)
			}
			if stdout != "" {
				t.Errorf("export --out wrote %d bytes to stdout, want none", len(stdout))
			}
			for _, f := range tc.files {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("export --out %s: %s missing: %v", tc.out, f, err)
				}
			}
			cfg, err := routing.Load(tc.out)
			if err != nil {
				t.Fatalf("Load(%s): %v", tc.out, err)
			}
			if cfg.Environment != "prod" || len(cfg.Queues) != 60 {
				t.Errorf("Load(%s): environment %q, %d queues; want prod, 60", tc.out, cfg.Environment, len(cfg.Queues))
			}
			// Export -> plan round trip: nothing to change.
			code, stdout, stderr = execute(t, "plan", "-f", tc.out, "--prune")
			if code != 0 {
				t.Errorf("plan -f %s of a fresh export: exit %d, want 0\n%s%s", tc.out, code, stdout, stderr)
			}
			if !strings.Contains(stdout, "No changes") {
				t.Errorf("plan output = %q, want No changes", stdout)
			}
		})
	}
}

// TestExportChecksArgumentsFirst: what is wrong with --out or --environment is a usage
// mistake said before the org is read (no Genesys request) and nothing is written.
func TestExportChecksArgumentsFirst(t *testing.T) {
	clearGenesysEnv(t)
	s := startOrg(t, "", applyOrg)
	dir := t.TempDir()
	file := writeConfig(t, "routing", "x")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown extension", []string{"--out", filepath.Join(dir, "out.txt")}, `will not create a directory named "out.txt"`},
		{"device", []string{"--out", os.DevNull}, "/dev/null is an existing file without a .yaml"},
		{"device with an extension", []string{"--out", filepath.Join(dir, "dev.yaml")}, "is not a regular file"},
		{"directory named as a file", []string{"--out", filepath.Join(dir, "d.yaml")}, "is a directory"},
		{"existing file as a directory", []string{"--out", file}, "is an existing file without a .yaml"},
		{"parent is a file", []string{"--out", filepath.Join(file, "prod.yaml")}, "is not a directory"},
		{"environment the schema refuses", []string{"--environment", "PROD"}, `--environment "PROD": "PROD" does not match the pattern`},
	}
	if err := os.Symlink(os.DevNull, filepath.Join(dir, "dev.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.ResetCalls()
			code, stdout, stderr := execute(t, append([]string{"export"}, tc.args...)...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "(see routekeeper export --help)") {
				t.Errorf("export %v: exit %d, stdout %d bytes, stderr %q; want 2, nothing, %q", tc.args, code, len(stdout), stderr, tc.want)
			}
			if n := len(s.Calls()); n != 0 {
				t.Errorf("export %v sent %d Genesys requests before refusing; want none", tc.args, n)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "out.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("export --out out.txt created it (%v)", err)
	}
}

// TestExportSplitsLargeKinds: --out DIR cuts a kind bigger than the file limit into
// pieces that each fit (so that any export can be planned), and an export of a smaller
// org to the same directory removes the pieces it no longer writes.
func TestExportSplitsLargeKinds(t *testing.T) {
	clearGenesysEnv(t)
	startOrg(t, "", smallOrg)
	old := exportFileBytes
	exportFileBytes = 24 << 10
	t.Cleanup(func() { exportFileBytes = old })
	dir := filepath.Join(t.TempDir(), "prod")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "README.md")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, _, stderr := execute(t, "export", "--environment", "prod", "--out", dir)
	if code != 0 {
		t.Fatalf("export --out DIR: exit %d\n%s", code, stderr)
	}
	pieces, _ := filepath.Glob(filepath.Join(dir, "queues-*.yaml"))
	if len(pieces) < 3 {
		t.Fatalf("export of 60 queues with a 24 KiB limit wrote %d queue pieces, want several", len(pieces))
	}
	if _, err := os.Stat(filepath.Join(dir, "queues.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("queues.yaml exists beside its pieces (%v)", err)
	}
	for _, p := range pieces {
		if fi, err := os.Stat(p); err != nil || fi.Size() > int64(exportFileBytes) {
			t.Errorf("piece %s: %v, %d bytes; want at most %d", p, err, fi.Size(), exportFileBytes)
		}
	}
	if !strings.Contains(stderr, " files) (") {
		t.Errorf("export summary does not count the files: %q", stderr)
	}
	cfg, err := routing.Load(dir)
	if err != nil || len(cfg.Queues) != smallOrg.Queues {
		t.Fatalf("Load(%s): %v; want %d queues", dir, err, smallOrg.Queues)
	}
	if code, stdout, stderr := execute(t, "plan", "-f", dir, "--prune"); code != 0 || !strings.Contains(stdout, "No changes") {
		t.Errorf("plan -f DIR of a split export: exit %d, want 0 and no changes\n%s%s", code, stdout, stderr)
	}

	// One file bigger than Load reads is written, with a warning that says what to do.
	oldLoad := loadFileBytes
	loadFileBytes = 24 << 10
	t.Cleanup(func() { loadFileBytes = oldLoad })
	big := filepath.Join(t.TempDir(), "prod.yaml")
	if code, _, stderr := execute(t, "export", "--out", big); code != 0 || !strings.Contains(stderr, "export: warning: "+big+" is ") ||
		!strings.Contains(stderr, "more than the 0.0 MiB routekeeper reads from one file: export to a directory (--out DIR)") {
		t.Errorf("export of one file bigger than Load reads: exit %d, stderr %q; want 0 and a warning", code, stderr)
	}
	loadFileBytes = oldLoad

	exportFileBytes = old
	if code, _, stderr := execute(t, "export", "--environment", "prod", "--out", dir); code != 0 {
		t.Fatalf("export again: exit %d\n%s", code, stderr)
	}
	if pieces, _ := filepath.Glob(filepath.Join(dir, "queues-*.yaml")); len(pieces) != 0 {
		t.Errorf("export left the stale pieces %v", pieces)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("export removed a file it does not write: %v", err)
	}
	if code, stdout, stderr := execute(t, "plan", "-f", dir, "--prune"); code != 0 {
		t.Errorf("plan -f DIR after the second export: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestExportInvalidOrg: an org whose export does not validate is still written (the
// truth about the org), and export exits 1 with the diagnostics, so a pipeline does not
// go on to plan it.
func TestExportInvalidOrg(t *testing.T) {
	clearGenesysEnv(t)
	s := startOrg(t, "", applyOrg)
	_, cfg := exportTo(t)
	id, _ := s.IDByName("queue", cfg.Queues[0].Name)
	if err := s.EditQueue(id, func(m map[string]any) { m["skillEvaluationMethod"] = "SOMETIMES" }); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "prod.yaml")
	code, _, stderr := execute(t, "export", "--out", out)
	if code != 1 || !strings.Contains(stderr, "the exported config does not validate (it was written") || !strings.Contains(stderr, "skillEvaluationMethod") {
		t.Errorf("export of an org that does not validate: exit %d, stderr %q; want 1 and the diagnostics", code, stderr)
	}
	if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), "SOMETIMES") {
		t.Errorf("export did not write the org as it is: %v", err)
	}
}
