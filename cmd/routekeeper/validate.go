package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/owenrumney/go-sarif/v2/sarif"
	"github.com/spf13/cobra"

	"github.com/routekeeper/routekeeper/shared/routing"
)

// defaultConfigPath is validated when no PATH is given.
const defaultConfigPath = "routing"

func newValidateCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Check routing configs against the schema and the routing rules",
		Long: `validate checks routing configs without talking to Genesys: YAML syntax, the
routekeeper/v1 JSON Schema (unknown fields, types, exact enum values, bounds), then the
semantic rules: unique names, references that resolve, ACW timeouts only with timeout
prompts, overflow queues that exist and differ from the rule's queue, one assignment rule
per worktype, and rules that agree with their worktype.

Each PATH is one config: a file, or a directory whose .yaml/.yml/.json files are merged.
With no PATH, ./routing is validated. Every problem is reported, not only the first, as
file:line: path: message. A summary goes to stderr.

Exit status: 0 all valid, 1 a config is invalid, 2 usage or I/O error.`,
		Example: `  # validate the prod config and the staging directory
  routekeeper validate routing/prod.yaml routing/staging/

  # machine-readable results for a script
  routekeeper validate --format json routing/prod.yaml | jq -r '.configs[].diagnostics[] | "\(.file):\(.line) \(.path)"'

  # SARIF 2.1.0 for GitHub code scanning (upload with github/codeql-action/upload-sarif)
  routekeeper validate --format sarif routing/ > routekeeper.sarif`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd.OutOrStdout(), cmd.ErrOrStderr(), format, args)
		},
	}
	formatFlag(cmd, &format, "text", "json", "sarif")
	return usageExits(2, cmd)
}

// configResult is the outcome of validating one PATH.
type configResult struct {
	Path        string               `json:"path"`
	Valid       bool                 `json:"valid"`
	Error       string               `json:"error,omitempty"` // I/O or usage problem: the config could not be read
	Diagnostics []routing.Diagnostic `json:"diagnostics"`
	cfg         *routing.Config
}

func runValidate(stdout, stderr io.Writer, format string, paths []string) error {
	if len(paths) == 0 {
		if _, err := os.Stat(defaultConfigPath); err != nil {
			return exitCode(2, fmt.Errorf("no PATH given and ./%s does not exist: pass a config file or directory, e.g. routekeeper validate routing/prod.yaml", defaultConfigPath))
		}
		paths = []string{defaultConfigPath}
	}

	results := make([]configResult, 0, len(paths))
	var ioErrs []error
	for _, p := range paths {
		r := configResult{Path: p, Diagnostics: []routing.Diagnostic{}}
		cfg, err := routing.Load(p)
		var ve *routing.ValidationError
		switch {
		case err == nil:
			r.Valid, r.cfg = true, cfg
		case errors.As(err, &ve):
			r.Diagnostics = ve.Diagnostics
		default:
			r.Error = err.Error()
			ioErrs = append(ioErrs, err)
		}
		results = append(results, r)
	}

	err := writeAs(stdout, format, validateReport(results), writers{
		"text":  func(w io.Writer) error { return writeText(w, results) },
		"sarif": func(w io.Writer) error { return writeSARIF(w, results) },
	})
	if err != nil {
		return exitCode(2, fmt.Errorf("write results: %w", err))
	}

	fmt.Fprintln(stderr, summary(results))
	switch {
	case len(ioErrs) > 0:
		return exitCode(2, errors.Join(ioErrs...))
	case countDiagnostics(results) > 0:
		return exitCode(1, nil)
	}
	return nil
}

func countDiagnostics(results []configResult) int {
	n := 0
	for _, r := range results {
		n += len(r.Diagnostics)
	}
	return n
}

func summary(results []configResult) string {
	var valid, invalid, unread int
	var skills, queues, worktypes, rules int
	for _, r := range results {
		switch {
		case r.Error != "":
			unread++
		case r.Valid:
			valid++
			skills += len(r.cfg.Skills)
			queues += len(r.cfg.Queues)
			worktypes += len(r.cfg.Worktypes)
			rules += len(r.cfg.AssignmentRules)
		default:
			invalid++
		}
	}
	if invalid == 0 && unread == 0 {
		return fmt.Sprintf("validate: %s valid (%d skills, %d queues, %d worktypes, %d assignment rules)",
			plural(valid, "config"), skills, queues, worktypes, rules)
	}
	parts := []string{fmt.Sprintf("%d valid", valid)}
	if invalid > 0 {
		parts = append(parts, fmt.Sprintf("%d invalid with %s", invalid, plural(countDiagnostics(results), "problem")))
	}
	if unread > 0 {
		parts = append(parts, fmt.Sprintf("%d unreadable", unread))
	}
	return fmt.Sprintf("validate: %s: %s", plural(len(results), "config"), strings.Join(parts, ", "))
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func writeText(w io.Writer, results []configResult) error {
	for _, r := range results {
		for _, d := range r.Diagnostics {
			if _, err := fmt.Fprintln(w, d.String()); err != nil {
				return err
			}
		}
	}
	return nil
}

// validationReport is validate's JSON output.
type validationReport struct {
	Valid   bool           `json:"valid"`
	Configs []configResult `json:"configs"`
}

func validateReport(results []configResult) validationReport {
	out := validationReport{Valid: true, Configs: results}
	for _, r := range results {
		out.Valid = out.Valid && r.Valid
	}
	return out
}

// sarifURI is a diagnostic file as a SARIF artifact URI: relative paths stay relative
// (code scanning resolves them against the repository root), absolute ones become file URIs.
func sarifURI(file string) string {
	if filepath.IsAbs(file) {
		return "file://" + filepath.ToSlash(file)
	}
	return filepath.ToSlash(filepath.Clean(file))
}

func writeSARIF(w io.Writer, results []configResult) error {
	report, err := sarif.New(sarif.Version210)
	if err != nil {
		return err
	}
	run := sarif.NewRunWithInformationURI("routekeeper", "https://github.com/routekeeper/routekeeper")
	for _, rule := range routing.Rules() {
		run.AddRule(string(rule)).WithDescription(rule.Description()).WithName(string(rule))
	}
	for _, r := range results {
		for _, d := range r.Diagnostics {
			msg := d.Message
			if d.Path != "" {
				msg = d.Path + ": " + d.Message
			}
			region := sarif.NewRegion().WithStartLine(max(d.Line, 1))
			if d.Column > 0 {
				region.WithStartColumn(d.Column)
			}
			uri := sarifURI(d.File)
			run.AddDistinctArtifact(uri)
			run.CreateResultForRule(string(d.Rule)).
				WithLevel("error").
				WithMessage(sarif.NewTextMessage(msg)).
				AddLocation(sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
					WithArtifactLocation(sarif.NewSimpleArtifactLocation(uri)).
					WithRegion(region)))
		}
	}
	report.AddRun(run)
	return report.PrettyWrite(w)
}
