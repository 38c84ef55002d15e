package main

import (
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

func TestExportOutExistingFileWithoutExtension(t *testing.T) {
	clearGenesysEnv(t)
	startOrg(t, "", smallOrg)
	p := writeConfig(t, "routing", "x")
	code, _, stderr := execute(t, "export", "--out", p)
	if code != 1 || !strings.Contains(stderr, "existing file") {
		t.Errorf("export --out <file without extension>: exit %d, stderr %q; want 1 and a message", code, stderr)
	}
}
