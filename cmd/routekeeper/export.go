package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/routekeeper/routekeeper/shared/routing"
)

// exportFiles is the directory layout of `export --out DIR`, in write order.
// Load merges a directory's files, so DIR is itself a valid config path.
var exportFiles = []string{"routekeeper.yaml", "skills.yaml", "queues.yaml", "worktypes.yaml"}

// schemaLine starts every exported YAML file, for editors (yaml-language-server).
const schemaLine = "# yaml-language-server: $schema=" + routing.SchemaID + "\n"

func newExportCmd() *cobra.Command {
	var out, profile, environment string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the live org's routing configuration as a routekeeper config",
		Long: `export reads the live Genesys org with list endpoints only and writes it as a
routekeeper/v1 config: every skill, queue and worktype (names, not ids; only the fields
routekeeper models, in canonical form with Genesys defaults made explicit), plus the
names of every division and workbin so the config validates on its own. Assignment
rules are not reconstructed: worktypes carry defaultQueue, defaultSkills and
defaultPriority directly.

Output is deterministic: two exports of an unchanged org are byte-identical, and
'routekeeper plan' of an export against the same org shows no changes.

--out selects where it goes:
  (none) or -             YAML on stdout
  FILE.yaml / FILE.yml    one YAML file
  FILE.json               one JSON file
  DIR                     a directory (created if needed) with routekeeper.yaml
                          (apiVersion, environment, divisions, workbins), skills.yaml,
                          queues.yaml and worktypes.yaml; other files are left alone

A progress bar goes to stderr when it is a terminal; a summary line always does.
Genesys credentials: see 'routekeeper --help'; --env NAME reads
ROUTEKEEPER_<NAME>_GENESYS_* instead.

Exit status: 0 written, 1 error.`,
		Example: `  # the prod org as one file
  routekeeper export --env prod --environment prod --out routing/prod.yaml

  # one file per kind
  routekeeper export --out routing/prod/`,
		Args: maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExport(cmd, out, profile, environment)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "output: - (stdout, default), FILE.yaml, FILE.json or DIR")
	profileFlag(cmd, &profile)
	environmentFlag(cmd, &environment, "written into the config (lower-case letters, digits, '-')")
	return usageExits(2, cmd)
}

func runExport(cmd *cobra.Command, out, profile, environment string) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	org, client, err := readLive(cmd.Context(), stderr, "export", profile)
	if err != nil {
		return err
	}
	printWarnings(stderr, "export", org)
	cfg, err := routing.Export(environment, org.Divisions, org.Workbins, org.Docs())
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		// Still write it: the export is the truth about the org, and the
		// diagnostics say what needs fixing (e.g. an unnamed reference).
		fmt.Fprintf(stderr, "export: warning: the exported config does not validate:\n%v\n", err)
	}
	if err := writeExport(stdout, out, cfg); err != nil {
		return err
	}
	dest := out
	if dest == "" || dest == "-" {
		dest = "stdout"
	}
	fmt.Fprintf(stderr, "export: %d skills, %d queues, %d worktypes, %d divisions, %d workbins to %s (%d API requests)\n",
		len(cfg.Skills), len(cfg.Queues), len(cfg.Worktypes), len(cfg.Divisions), len(cfg.Workbins), dest, client.Calls().Requests)
	return nil
}

func writeExport(stdout io.Writer, out string, cfg *routing.Config) error {
	switch ext := strings.ToLower(filepath.Ext(out)); {
	case out == "" || out == "-":
		b, err := exportYAML(cfg)
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	case ext == ".json":
		b, err := routing.MarshalJSON(cfg)
		if err != nil {
			return err
		}
		return writeFileAtomic(out, b)
	case ext == ".yaml" || ext == ".yml":
		b, err := exportYAML(cfg)
		if err != nil {
			return err
		}
		return writeFileAtomic(out, b)
	}
	if fi, err := os.Stat(out); err == nil && !fi.IsDir() {
		return fmt.Errorf("--out %s is an existing file without a .yaml, .yml or .json extension: name a file with one of those, or a directory", out)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create export directory: %w", err)
	}
	parts := []*routing.Config{
		{APIVersion: cfg.APIVersion, Environment: cfg.Environment, Divisions: cfg.Divisions, Workbins: cfg.Workbins},
		{APIVersion: cfg.APIVersion, Skills: cfg.Skills},
		{APIVersion: cfg.APIVersion, Queues: cfg.Queues},
		{APIVersion: cfg.APIVersion, Worktypes: cfg.Worktypes},
	}
	for i, part := range parts {
		b, err := exportYAML(part)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(out, exportFiles[i]), b); err != nil {
			return err
		}
	}
	return nil
}

func exportYAML(cfg *routing.Config) ([]byte, error) {
	b, err := routing.MarshalYAML(cfg)
	if err != nil {
		return nil, err
	}
	return append([]byte(schemaLine), b...), nil
}

// writeFileAtomic writes path through a temporary file in the same directory,
// so a failed export never leaves half a config behind.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
