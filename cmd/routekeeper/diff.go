package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/owenrumney/go-sarif/v2/sarif"
	"github.com/spf13/cobra"

	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/routing"
)

func newDiffCmd() *cobra.Command {
	var format, leftEnv, rightEnv string
	var onlyDeclared, allFields bool
	cmd := &cobra.Command{
		Use:   "diff [LEFT] [RIGHT]",
		Short: "Report drift between two environments (configs or live orgs), by name",
		Long: `diff compares two environments and writes a drift report. Each side is a routing
config (a file or a directory) or a live org:

  routekeeper diff routing/dev.yaml routing/prod.yaml       two configs
  routekeeper diff --left-env dev --right-env prod          two live orgs
  routekeeper diff routing/prod.yaml --right-env prod       a config against an org

A side given with --left-env/--right-env NAME is read live with the credentials of the
profile NAME (variables ROUTEKEEPER_<NAME>_GENESYS_API_URL or ..._GENESYS_REGION,
..._GENESYS_LOGIN_URL, ..._GENESYS_CLIENT_ID, ..._GENESYS_CLIENT_SECRET); the remaining
positional arguments are the file sides, left first.

Entities are matched by kind and name; org-specific ids play no part. Configs are
compiled first (assignment rules applied to their worktypes) and live orgs are put in
the same canonical form export writes, so an export of prod compares cleanly with prod.

What is compared:
  a config and a live org   what the config declares, as plan compares it: its
                            entities and their declared fields (a field left to
                            Genesys's default, or an entity only in the org, is not
                            drift); --all-fields compares every field and entity
  two configs, two orgs     every field and entity either side has; --only-declared
                            compares only what the left side declares
Division and workbin name lists are compared when both sides have them.

Formats: text, markdown (fit for a pull-request comment), json ("schema":
"routekeeper.diff/v1") and sarif (SARIF 2.1.0; a result per difference). When a side
is a config, every entity and field carries where that config declares it: file:line in
text and markdown, leftAt/rightAt in json, and the file and line region in sarif
(the left side's position, else the right side's; a field the config does not declare
is located at its nearest declared ancestor, often the entity).

Text is one line per entity and per field, coloured on a terminal (not with NO_COLOR set
or --no-color): "<" only on the left, ">" only on the right, "~" different.

Exit status: 0 same, 2 differences, 1 error; a usage mistake also exits 2, with nothing
on stdout.`,
		Example: `  routekeeper diff routing/dev.yaml routing/prod.yaml --format markdown > drift.md
  routekeeper diff --left-env dev --right-env prod --format sarif > drift.sarif`,
		Args: func(cmd *cobra.Command, args []string) error {
			want := 2
			if leftEnv != "" {
				want--
			}
			if rightEnv != "" {
				want--
			}
			if len(args) != want {
				return usageError(cmd, fmt.Errorf("diff needs two sides: got %d file argument(s) %q with %d env flag(s); give LEFT and RIGHT as paths or with --left-env/--right-env",
					len(args), args, 2-want))
			}
			if onlyDeclared && allFields {
				return usageError(cmd, errors.New("--only-declared and --all-fields contradict each other: choose one"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			scope := diffScope{onlyDeclared: onlyDeclared, allFields: allFields}
			return runDiff(cmd, args, leftEnv, rightEnv, format, scope)
		},
	}
	formatFlag(cmd, &format, "text", "markdown", "json", "sarif")
	cmd.Flags().StringVar(&leftEnv, "left-env", "", "read the left side live from profile `NAME` (ROUTEKEEPER_<NAME>_GENESYS_*)")
	cmd.Flags().StringVar(&rightEnv, "right-env", "", "read the right side live from profile `NAME` (ROUTEKEEPER_<NAME>_GENESYS_*)")
	cmd.Flags().BoolVar(&onlyDeclared, "only-declared", false, "compare only the fields (and entities) the left side declares")
	cmd.Flags().BoolVar(&allFields, "all-fields", false, "a config against an org: compare every field and entity, Genesys defaults included")
	return usageExits(2, cmd)
}

// diffScope is what diff compares, from its flags.
type diffScope struct{ onlyDeclared, allFields bool }

// declaring says which side's declarations limit the comparison: the config side of a
// config against an org (unless --all-fields), the left side with --only-declared, else
// none (every field and entity either side has).
func (sc diffScope) declaring(leftLive, rightLive bool) (left, right bool) {
	switch {
	case sc.onlyDeclared:
		return true, false
	case sc.allFields || leftLive == rightLive:
		return false, false
	}
	return rightLive, leftLive
}

func runDiff(cmd *cobra.Command, args []string, leftEnv, rightEnv, format string, scope diffScope) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	files := args
	side := func(env string) (*drift.Side, error) {
		if env != "" {
			return liveSnapshot(cmd.Context(), stderr, env)
		}
		path := files[0]
		files = files[1:]
		return fileSnapshot(path)
	}
	left, err := side(leftEnv)
	if err != nil {
		return exitCode(1, err)
	}
	right, err := side(rightEnv)
	if err != nil {
		return exitCode(1, err)
	}
	var report *drift.Report
	switch byLeft, byRight := scope.declaring(leftEnv != "", rightEnv != ""); {
	case byRight:
		// Compare declares by its left side: compare from the config's side, then
		// turn the report back to the order the user gave.
		report = mirrorReport(drift.Compare(right, left, drift.CompareOptions{OnlyDeclared: true}))
	default:
		report = drift.Compare(left, right, drift.CompareOptions{OnlyDeclared: byLeft})
	}
	pal := paletteFor(cmd, stdout)
	err = writeAs(stdout, format, report, writers{
		"text":     func(w io.Writer) error { return writeDriftText(w, report, pal) },
		"markdown": func(w io.Writer) error { return writeDriftMarkdown(w, report) },
		"sarif":    func(w io.Writer) error { return writeDriftSARIF(w, report, left.File) },
	})
	if err != nil {
		return exitCode(1, fmt.Errorf("write report: %w", err))
	}
	// The text ends with the summary: stderr does not say it again.
	if format != "text" {
		fmt.Fprintf(stderr, "diff: %s\n", driftSummary(report))
	}
	if report.HasDrift() {
		return exitCode(2, nil)
	}
	return nil
}

func fileSnapshot(path string) (*drift.Side, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	d, err := routing.Compile(cfg)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	docs, err := d.Docs()
	if err != nil {
		return nil, err
	}
	s := drift.ConfigSide(path, docs, cfg.Divisions, cfg.Workbins, cfg)
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		s.File = path
	}
	return s, nil
}

func liveSnapshot(ctx context.Context, stderr io.Writer, profile string) (*drift.Side, error) {
	org, _, err := readLive(ctx, stderr, "diff", profile)
	if err != nil {
		return nil, err
	}
	printWarnings(stderr, "diff", org)
	return drift.LiveSide("env:"+profile, org), nil
}

func driftSummary(r *drift.Report) string {
	s := r.Summary
	return fmt.Sprintf("%d different, %d only in %s, %d only in %s, %d same",
		s.Different, s.OnlyLeft, r.Left, s.OnlyRight, r.Right, s.Same)
}

// driftValue renders one side's value of a field difference.
func driftValue(v any, change, side string) string {
	if change == "only-"+otherSide(side) {
		return "(absent)"
	}
	return jsonValue(v, true)
}

func otherSide(side string) string {
	if side == "left" {
		return "right"
	}
	return "left"
}

// mirrorReport swaps the sides of a report: what was left is right.
func mirrorReport(r *drift.Report) *drift.Report {
	swapStatus := map[drift.Status]drift.Status{drift.OnlyLeft: drift.OnlyRight, drift.OnlyRight: drift.OnlyLeft, drift.Different: drift.Different}
	swapChange := map[string]string{"only-left": "only-right", "only-right": "only-left", "changed": "changed"}
	out := *r
	out.Left, out.Right = r.Right, r.Left
	out.Summary.OnlyLeft, out.Summary.OnlyRight = r.Summary.OnlyRight, r.Summary.OnlyLeft
	out.Entities = make([]drift.EntityDiff, len(r.Entities))
	for i, e := range r.Entities {
		e.Status = swapStatus[e.Status]
		e.LeftAt, e.RightAt = e.RightAt, e.LeftAt
		diffs := make([]drift.FieldDiff, len(e.Differences))
		for j, d := range e.Differences {
			d.Left, d.Right = d.Right, d.Left
			d.LeftAt, d.RightAt = d.RightAt, d.LeftAt
			d.Change = swapChange[d.Change]
			diffs[j] = d
		}
		e.Differences = diffs
		out.Entities[i] = e
	}
	return &out
}

// writeDriftText writes the report compactly: one line per entity that differs, then
// one per field, with where the configs declare them.
func writeDriftText(w io.Writer, r *drift.Report, pal palette) error {
	// Streamed: the text of a plan of thousands of creates runs to megabytes.
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "Drift between %s (left) and %s (right)\n\n", r.Left, r.Right)
	if !r.HasDrift() {
		b.WriteString("No differences.\n")
	}
	for _, e := range r.Entities {
		switch e.Status {
		case drift.OnlyLeft:
			fmt.Fprintf(b, "%s%s\n", pal.action(drift.ActionDelete, fmt.Sprintf("< %s %q only in %s", e.Kind, e.Name, r.Left)), atSuffix(e.LeftAt, e.RightAt))
		case drift.OnlyRight:
			fmt.Fprintf(b, "%s%s\n", pal.action(drift.ActionCreate, fmt.Sprintf("> %s %q only in %s", e.Kind, e.Name, r.Right)), atSuffix(e.LeftAt, e.RightAt))
		default:
			fmt.Fprintf(b, "%s%s\n", pal.action(drift.ActionUpdate, fmt.Sprintf("~ %s %q", e.Kind, e.Name)), atSuffix(e.LeftAt, e.RightAt))
			entityAt := atText(e.LeftAt, e.RightAt)
			for _, d := range e.Differences {
				at := atSuffix(d.LeftAt, d.RightAt)
				if atText(d.LeftAt, d.RightAt) == entityAt {
					at = "" // a field the config leaves out is located at its entity: said above
				}
				fmt.Fprintf(b, "    %s: %s | %s%s\n", d.Path, driftValue(d.Left, d.Change, "left"), driftValue(d.Right, d.Change, "right"), at)
			}
		}
	}
	fmt.Fprintf(b, "\nDrift: %s.\n", driftSummary(r))
	return b.Flush()
}

// atText renders the config positions of an entity or field: "dev.yaml:12",
// "dev.yaml:12 | prod.yaml:9" when both sides are configs, "" when neither is.
func atText(left, right *drift.Location) string {
	var parts []string
	for _, l := range []*drift.Location{left, right} {
		if l != nil {
			parts = append(parts, l.String())
		}
	}
	return strings.Join(parts, " | ")
}

// atSuffix is atText as a "  (file:line)" suffix, or "".
func atSuffix(left, right *drift.Location) string {
	if s := atText(left, right); s != "" {
		return "  (" + s + ")"
	}
	return ""
}

func writeDriftMarkdown(w io.Writer, r *drift.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### routekeeper drift: %s vs %s\n\n", mdText(r.Left), mdText(r.Right))
	fmt.Fprintf(&b, "**%s.**\n", mdText(driftSummary(r)))
	if !r.HasDrift() {
		b.WriteString("\nNo differences.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	// The "Declared at" column only when a side is a config file.
	located := false
	for _, e := range r.Entities {
		located = located || e.LeftAt != nil || e.RightAt != nil
	}
	at := func(left, right *drift.Location) string {
		if !located {
			return ""
		}
		if s := atText(left, right); s != "" {
			return " " + mdCell(s) + " |"
		}
		return "  |"
	}
	atHead, atRule := "", ""
	if located {
		atHead, atRule = " Declared at |", "---|"
	}
	fmt.Fprintf(&b, "\n| Kind | Name | Status | Fields |%s\n|---|---|---|---|%s\n", atHead, atRule)
	for _, e := range r.Entities {
		status := string(e.Status)
		switch e.Status {
		case drift.OnlyLeft:
			status = "only in " + mdText(r.Left)
		case drift.OnlyRight:
			status = "only in " + mdText(r.Right)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d |%s\n", e.Kind, mdText(e.Name), status, len(e.Differences), at(e.LeftAt, e.RightAt))
	}
	for _, e := range r.Entities {
		if len(e.Differences) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n<details><summary>%s %s</summary>\n\n", e.Kind, mdText(e.Name))
		fmt.Fprintf(&b, "| Path | %s | %s |%s\n|---|---|---|%s\n", mdText(r.Left), mdText(r.Right), atHead, atRule)
		for _, d := range e.Differences {
			fmt.Fprintf(&b, "| %s | %s | %s |%s\n", mdCell(d.Path), mdCell(driftValue(d.Left, d.Change, "left")), mdCell(driftValue(d.Right, d.Change, "right")), at(d.LeftAt, d.RightAt))
		}
		b.WriteString("\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// driftRules are the SARIF rules of a drift report.
var driftRules = []sarifRule{
	{"entity-only-left", "An entity exists only in the left environment."},
	{"entity-only-right", "An entity exists only in the right environment."},
	{"field-changed", "A field has different values in the two environments."},
	{"field-only-left", "A field is set only in the left environment."},
	{"field-only-right", "A field is set only in the right environment."},
}

func writeDriftSARIF(w io.Writer, r *drift.Report, leftFile string) error {
	report, err := sarif.New(sarif.Version210)
	if err != nil {
		return err
	}
	run := newSARIFRun(driftRules, leftFile)
	// add locates a result at the left side's declaration, else the right
	// side's, else (no position known) the left file without a region.
	add := func(ruleID, msg string, kind entity.Kind, name, path string, leftAt, rightAt *drift.Location) {
		f, line := leftFile, 0
		if at := cmp.Or(leftAt, rightAt); at != nil {
			f, line = at.File, at.Line
		}
		addEntityResult(run, "warning", ruleID, msg, kind, name, path, f, line)
	}
	for _, e := range r.Entities {
		switch e.Status {
		case drift.OnlyLeft:
			add("entity-only-left", fmt.Sprintf("%s %q exists in %s but not in %s", e.Kind, e.Name, r.Left, r.Right), e.Kind, e.Name, "", e.LeftAt, e.RightAt)
		case drift.OnlyRight:
			add("entity-only-right", fmt.Sprintf("%s %q exists in %s but not in %s", e.Kind, e.Name, r.Right, r.Left), e.Kind, e.Name, "", e.LeftAt, e.RightAt)
		default:
			for _, d := range e.Differences {
				msg := fmt.Sprintf("%s %q %s: %s in %s, %s in %s", e.Kind, e.Name, d.Path,
					driftValue(d.Left, d.Change, "left"), r.Left, driftValue(d.Right, d.Change, "right"), r.Right)
				add("field-"+d.Change, msg, e.Kind, e.Name, d.Path, d.LeftAt, d.RightAt)
			}
		}
	}
	report.AddRun(run)
	return report.PrettyWrite(w)
}
