package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/routekeeper/routekeeper/shared/routing"
)

// exportFiles is the directory layout of `export --out DIR`, in write order.
// Load merges a directory's files, so DIR is itself a valid config path.
var exportFiles = []string{"routekeeper.yaml", "skills.yaml", "queues.yaml", "worktypes.yaml"}

// schemaLine starts every exported YAML file, for editors (yaml-language-server).
const schemaLine = "# yaml-language-server: $schema=" + routing.SchemaURL + "\n"

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
                          queues.yaml and worktypes.yaml; a kind bigger than 8 MiB is
                          split into queues-1.yaml, queues-2.yaml, ... (numbers padded
                          to sort in order) so that plan can read every file (it reads
                          16 MiB from one file at most); the files an earlier
                          export wrote there are replaced, other files are left alone
--out and --environment are checked before the org is read: another extension
(out.txt), a device (/dev/null) or an environment the schema refuses (PROD) is a usage
mistake.

A progress bar goes to stderr when it is a terminal; a summary line always does.
Genesys credentials: see 'routekeeper --help'; --env NAME reads
ROUTEKEEPER_<NAME>_GENESYS_* instead.

Exit status: 0 written, 1 error (also: written, but the config does not validate, which
the diagnostics explain), 2 usage mistake (nothing read or written).`,
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
	// Everything that can be wrong with the arguments is said before the org is read:
	// a read of a big org takes minutes.
	target, err := exportTarget(out)
	if err != nil {
		return usageError(cmd, err)
	}
	if err := checkEnvironment(environment); err != nil {
		return usageError(cmd, err)
	}
	org, client, err := readLive(cmd.Context(), stderr, "export", profile)
	if err != nil {
		return err
	}
	printWarnings(stderr, "export", org)
	cfg, err := routing.Export(environment, org.Divisions, org.Workbins, org.Docs())
	if err != nil {
		return err
	}
	// Written even when it does not validate: the export is the truth about the org,
	// and the diagnostics say what needs fixing (e.g. an unnamed reference). The exit
	// status says it, so that a pipeline does not plan it.
	invalid := cfg.Validate()
	files, err := writeExport(stdout, target, out, cfg)
	if err != nil {
		return err
	}
	dest := out
	switch {
	case target == exportStdout:
		dest = "stdout"
	case len(files) > len(exportFiles):
		dest = fmt.Sprintf("%s (%d files)", out, len(files))
	}
	fmt.Fprintf(stderr, "export: %d skills, %d queues, %d worktypes, %d divisions, %d workbins to %s (%d API requests)\n",
		len(cfg.Skills), len(cfg.Queues), len(cfg.Worktypes), len(cfg.Divisions), len(cfg.Workbins), dest, client.Calls().Requests)
	if (target == exportYAMLFile || target == exportJSONFile) && len(files) == 1 {
		if fi, err := os.Stat(files[0]); err == nil && fi.Size() > int64(loadFileBytes) {
			fmt.Fprintf(stderr, "export: warning: %s is %.1f MiB, more than the %.1f MiB routekeeper reads from one file: export to a directory (--out DIR) to validate and plan it\n",
				files[0], float64(fi.Size())/(1<<20), float64(loadFileBytes)/(1<<20))
		}
	}
	if invalid != nil {
		return fmt.Errorf("the exported config does not validate (it was written: fix the org or the config before planning it):\n%v", invalid)
	}
	return nil
}

// exportTarget is where export --out writes.
type exportTargetKind int

const (
	exportStdout exportTargetKind = iota
	exportYAMLFile
	exportJSONFile
	exportDir
)

// exportTarget says what --out names, or why export cannot write there. It only looks:
// nothing is created before the org has been read.
func exportTarget(out string) (exportTargetKind, error) {
	if out == "" || out == "-" {
		return exportStdout, nil
	}
	fi, statErr := os.Stat(out)
	if statErr != nil && !errors.Is(statErr, os.ErrNotExist) && !errors.Is(statErr, syscall.ENOTDIR) {
		return 0, fmt.Errorf("--out %s: %w", out, statErr)
	}
	exists := statErr == nil
	kind := exportDir
	switch ext := strings.ToLower(filepath.Ext(out)); ext {
	case ".yaml", ".yml":
		kind = exportYAMLFile
	case ".json":
		kind = exportJSONFile
	case "":
	default:
		if !exists || !fi.IsDir() {
			return 0, fmt.Errorf("--out %s: export writes FILE.yaml, FILE.yml, FILE.json or a directory, and will not create a directory named %q: name a file with one of those extensions, or a directory", out, filepath.Base(out))
		}
	}
	switch {
	case kind == exportDir && exists && !fi.IsDir():
		return 0, fmt.Errorf("--out %s is an existing file without a .yaml, .yml or .json extension: name a file with one of those, or a directory", out)
	case kind != exportDir && exists && fi.IsDir():
		return 0, fmt.Errorf("--out %s is a directory: name a file, or give the directory without an extension", out)
	case kind != exportDir && exists && !fi.Mode().IsRegular():
		return 0, fmt.Errorf("--out %s is not a regular file (a device, a pipe, ...): export replaces the file it writes; name a regular file, or leave --out out for stdout", out)
	}
	// The nearest existing ancestor must be a directory: MkdirAll would fail after the read.
	for dir := filepath.Dir(out); ; dir = filepath.Dir(dir) {
		if fi, err := os.Stat(dir); err == nil {
			if !fi.IsDir() {
				return 0, fmt.Errorf("--out %s: %s is not a directory", out, dir)
			}
			break
		}
		if parent := filepath.Dir(dir); parent == dir {
			break
		}
	}
	return kind, nil
}

// checkEnvironment checks an --environment value against the config schema, so that
// export never writes a config that fails validation for its own argument.
func checkEnvironment(env string) error {
	if env == "" {
		return nil
	}
	err := (&routing.Config{APIVersion: routing.APIVersion, Environment: env}).Validate()
	if ve, ok := errors.AsType[*routing.ValidationError](err); ok && len(ve.Diagnostics) > 0 {
		return fmt.Errorf("--environment %q: %s (e.g. %q)", env, ve.Diagnostics[0].Message, strings.ToLower(env))
	}
	return err
}

// exportFileBytes is the size export keeps each file of --out DIR under: half of what
// Load reads, so a file has room to grow by hand. A variable for tests.
var exportFileBytes = routing.MaxFileBytes / 2

// loadFileBytes is the most routekeeper reads from one file (routing.MaxFileBytes). A
// variable for tests.
var loadFileBytes = routing.MaxFileBytes

// writeExport writes cfg to the target and returns the files it wrote.
func writeExport(stdout io.Writer, target exportTargetKind, out string, cfg *routing.Config) ([]string, error) {
	switch target {
	case exportStdout:
		b, err := exportYAML(cfg)
		if err != nil {
			return nil, err
		}
		_, err = stdout.Write(b)
		return nil, err
	case exportJSONFile:
		b, err := routing.MarshalJSON(cfg)
		if err != nil {
			return nil, err
		}
		return []string{out}, writeFileAtomic(out, b)
	case exportYAMLFile:
		b, err := exportYAML(cfg)
		if err != nil {
			return nil, err
		}
		return []string{out}, writeFileAtomic(out, b)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("create export directory: %w", err)
	}
	head := &routing.Config{APIVersion: cfg.APIVersion, Environment: cfg.Environment, Divisions: cfg.Divisions, Workbins: cfg.Workbins}
	written := []string{}
	write := func(name string, b []byte) error {
		p := filepath.Join(out, name)
		written = append(written, p)
		return writeFileAtomic(p, b)
	}
	b, err := exportYAML(head)
	if err != nil {
		return nil, err
	}
	if err := write(exportFiles[0], b); err != nil {
		return nil, err
	}
	lists := []struct {
		n     int
		build func(lo, hi int) *routing.Config
	}{
		{len(cfg.Skills), func(lo, hi int) *routing.Config {
			return &routing.Config{APIVersion: cfg.APIVersion, Skills: cfg.Skills[lo:hi]}
		}},
		{len(cfg.Queues), func(lo, hi int) *routing.Config {
			return &routing.Config{APIVersion: cfg.APIVersion, Queues: cfg.Queues[lo:hi]}
		}},
		{len(cfg.Worktypes), func(lo, hi int) *routing.Config {
			return &routing.Config{APIVersion: cfg.APIVersion, Worktypes: cfg.Worktypes[lo:hi]}
		}},
	}
	for i, l := range lists {
		name := exportFiles[i+1]
		parts, err := exportParts(l.n, l.build, exportFileBytes)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", name, err)
		}
		for j, part := range parts {
			if len(parts) > 1 {
				name = pieceName(exportFiles[i+1], j+1, len(parts))
			}
			if err := write(name, part); err != nil {
				return nil, err
			}
		}
	}
	return written, removeStalePieces(out, written)
}

// exportParts marshals a list of n entities as one file, or as several of at most limit
// bytes each (consecutive runs of the canonical order) when one would be bigger.
func exportParts(n int, build func(lo, hi int) *routing.Config, limit int) ([][]byte, error) {
	whole, err := exportYAML(build(0, n))
	if err != nil || len(whole) <= limit || n < 2 {
		return [][]byte{whole}, err
	}
	// Entities of a kind are about the same size: cut by count, and cut finer if a part
	// still comes out too big.
	per := max(1, int(int64(n)*int64(limit)/int64(len(whole))*9/10))
	for {
		var parts [][]byte
		fits := true
		for lo := 0; lo < n && fits; lo += per {
			b, err := exportYAML(build(lo, min(lo+per, n)))
			if err != nil {
				return nil, err
			}
			fits = len(b) <= limit || per == 1
			parts = append(parts, b)
		}
		if fits {
			return parts, nil
		}
		per = max(1, per/2)
	}
}

// pieceName is the name of piece i of count of an export file: queues.yaml in three
// pieces is queues-1.yaml, queues-2.yaml and queues-3.yaml (zero-padded to sort in order).
func pieceName(file string, i, count int) string {
	ext := filepath.Ext(file)
	width := len(strconv.Itoa(count))
	return fmt.Sprintf("%s-%0*d%s", strings.TrimSuffix(file, ext), width, i, ext)
}

// stalePiece matches the files export writes in a directory, pieces included.
var stalePiece = regexp.MustCompile(`^(skills|queues|worktypes)(-[0-9]+)?\.yaml$`)

// removeStalePieces removes the export files of an earlier export to dir that this one
// did not write (queues-3.yaml of a bigger org, queues.yaml once it is split): left, they
// would declare their entities twice. Other files are left alone.
func removeStalePieces(dir string, written []string) error {
	keep := map[string]bool{}
	for _, p := range written {
		keep[filepath.Base(p)] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("export %s: %w", dir, err)
	}
	for _, e := range entries {
		if name := e.Name(); e.Type().IsRegular() && stalePiece.MatchString(name) && !keep[name] {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("export %s: remove the stale %s: %w", dir, name, err)
			}
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
