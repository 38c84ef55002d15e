package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/owenrumney/go-sarif/v2/sarif"
	"github.com/spf13/cobra"

	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/routing"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Exit statuses of drift.
const (
	driftExitInSync = 0 // the report finds every declared entity as declared
	driftExitError  = 1 // an error, or an incomplete report without drift
	driftExitDrift  = 2 // a declared entity is modified, missing or deleted
	driftExitUsage  = 2 // a usage mistake, as every command (nothing on stdout; drift writes its report)
)

type driftFlags struct {
	file, environment, table, format, profile, eventBus string
	history, scan                                       bool
	limit                                               int
}

func newDriftCmd() *cobra.Command {
	var f driftFlags
	cmd := &cobra.Command{
		Use:   "drift [--environment ENV] [--table NAME] [--format FORMAT] [-f CONFIG] [--history | --scan]",
		Short: "Show the drift scan's latest report: what in the org differs from git, who changed it and when",
		Long: `drift shows the latest drift report of an environment, as the drift scan function stores
it in the routekeeper table every DriftScanSchedule (15 minutes by default). The scan reads
the whole org with list endpoints and gives every entity a state:

  IN_SYNC    declared, and Genesys holds every declared field
  MODIFIED   declared, and Genesys differs in declared fields (path: declared -> live)
  MISSING    declared, and not in the org
  DELETED    declared, seen deleted by the webhook, and still not in the org
  UNMANAGED  in the org, not declared (left alone)

Where known it says who changed an entity and when: the audit event the webhook recorded
(user, OAuth client, time), else what Genesys itself says (dateModified, modifiedBy), and
whether the entity changed since routekeeper last observed it. A worktype pointed at its
overflow queue while the occupancy function's overflow is active is in sync.

Formats: text (Terraform-like), markdown (for a pull-request or issue comment), json
("schema": "routekeeper.driftreport/v1": the summary, routekeeper.driftscan/v1, and
every entity not in sync) and sarif (SARIF 2.1.0: a result per modified field and per
missing or deleted entity). With -f CONFIG, text, markdown and sarif give the file:line
where the config declares each drifted entity and field.

--history lists the past scans (newest first, --limit of them): when, complete or not and
why, the counts, the Genesys calls and DynamoDB writes each cost.

--scan runs the same scan engine now, from this machine, with the Genesys credentials of
--env (default GENESYS_*): no Lambda needed. With a table (--table or $TABLE_NAME) it
compares with the desired state published there, records what it observes and stores its
report as the function would; with a bus (--event-bus or $EVENT_BUS_NAME) it also moves
the drift states and puts the events (without one the states stay for the function, which
publishes their changes). Without a table it compares with -f CONFIG (every entity
unmanaged without one) and stores nothing; without a table it cannot know which
overflows are active.

The environment is --environment, else $ROUTEKEEPER_ENVIRONMENT, else the config's.

Exit status: 0 in sync, 2 drift (a declared entity modified, missing or deleted; the
report is on stdout), 1 error (no report yet, or an incomplete report that found no
drift: what it did not read may have drifted), 2 a usage mistake (nothing on stdout, the
mistake on stderr), as every command.`,
		Example: `  routekeeper drift --environment prod --table "$TABLE_NAME"
  routekeeper drift --environment prod --format markdown -f routing/prod.yaml > drift.md
  routekeeper drift --environment prod --format sarif -f routing/prod.yaml > drift.sarif
  routekeeper drift --environment prod --history --limit 10
  routekeeper drift --scan -f routing/dev.yaml --env dev`,
		Args: maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runDrift(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "file", "f", "", "the routing `CONFIG` git declares: where entities and fields are declared (file:line), and the desired state of --scan without a table")
	environmentFlag(cmd, &f.environment, "whose report to show (default $ROUTEKEEPER_ENVIRONMENT, else the config's)")
	tableFlag(cmd, &f.table, "holding the drift reports")
	formatFlag(cmd, &f.format, "text", "markdown", "json", "sarif")
	profileFlag(cmd, &f.profile)
	fl.BoolVar(&f.history, "history", false, "list past scans instead of showing the latest report")
	fl.IntVar(&f.limit, "limit", 20, "how many scans --history lists, newest first")
	fl.BoolVar(&f.scan, "scan", false, "run a scan now with this machine's Genesys credentials, and show its report")
	fl.StringVar(&f.eventBus, "event-bus", "", "with --scan and a table: routekeeper's bus `NAME`, to move drift states and put their events (default $EVENT_BUS_NAME)")
	return usageExits(driftExitUsage, cmd)
}

func runDrift(cmd *cobra.Command, f driftFlags) error {
	ctx, stdout, stderr := cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	switch {
	case f.history && f.scan:
		return usageError(cmd, errors.New("choose one: --history lists past scans, --scan runs one now"))
	case f.history && f.format == "sarif":
		return usageError(cmd, errors.New("--history writes text, markdown or json"))
	case f.limit < 1:
		return usageError(cmd, fmt.Errorf("--limit %d: want at least 1", f.limit))
	}
	var cfg *routing.Config
	var desired *routing.Desired
	if f.file != "" {
		var err error
		if cfg, err = loadConfig(f.file); err != nil {
			return exitCode(driftExitError, err)
		}
		if desired, err = routing.Compile(cfg); err != nil {
			return exitCode(driftExitError, fmt.Errorf("config %s: %w", f.file, err))
		}
	}
	env := environmentName(f.environment)
	if env == "" && desired != nil {
		env = desired.Environment
	}
	table := tableName(f.table)
	if env == "" && (table != "" || !f.scan) {
		return usageError(cmd, errors.New("no environment given: pass --environment ENV, set "+environmentEnv+", or give a config (-f) that names one"))
	}
	if table == "" && !f.scan {
		return usageError(cmd, errors.New("no table given: pass --table NAME or set "+tableEnv+" to the stack's Table output (or run a scan here with --scan)"))
	}
	var st *store.Store
	var events *bus.Publisher
	if table != "" {
		c, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return exitCode(driftExitError, fmt.Errorf("aws configuration: %w", err))
		}
		st = store.New(dynamodb.NewFromConfig(c), table)
		if name := firstNonEmpty(f.eventBus, getenv("EVENT_BUS_NAME")); f.scan && name != "" {
			events = bus.NewPublisher(eventbridge.NewFromConfig(c), name)
		}
		if f.history {
			return driftHistory(ctx, stdout, st, env, f)
		}
	}

	var report *drift.ScanReport
	if f.scan {
		var err error
		if report, err = driftScan(ctx, stderr, st, events, env, desired, f); err != nil {
			return exitCode(driftExitError, err)
		}
	} else {
		stored, err := st.LatestDriftReport(ctx, env)
		if errors.Is(err, store.ErrNotFound) {
			return exitCode(driftExitError, fmt.Errorf("no drift report of %s in table %s yet: the drift scan function stores one every DriftScanSchedule (or run one now with --scan)", env, table))
		}
		if err != nil {
			return exitCode(driftExitError, fmt.Errorf("table %s: %w (check --table or TABLE_NAME and the AWS region)", table, err))
		}
		if report, err = drift.ReportOf(stored); err != nil {
			return exitCode(driftExitError, err)
		}
	}
	var at drift.Locator
	if cfg != nil {
		at = cfg
	}
	err := writeAs(stdout, f.format, report, writers{
		"text":     func(w io.Writer) error { return writeScanText(w, report, at) },
		"markdown": func(w io.Writer) error { return writeScanMarkdown(w, report, at) },
		"sarif":    func(w io.Writer) error { return writeScanSARIF(w, report, at, f.file) },
	})
	if err != nil {
		return exitCode(driftExitError, fmt.Errorf("write report: %w", err))
	}
	fmt.Fprintf(stderr, "drift: %s\n", scanLine(report.Summary))
	switch {
	case report.HasDrift():
		return exitCode(driftExitDrift, nil)
	case !report.Summary.Complete:
		return exitCode(driftExitError, fmt.Errorf("the report is incomplete (%s): nothing is known of what it did not read", report.Summary.Reason))
	}
	return nil
}

// driftScan runs the scan engine here: against the table's desired state with a table,
// else against the config (nil: nothing declared).
func driftScan(ctx context.Context, stderr io.Writer, st *store.Store, events *bus.Publisher, env string, desired *routing.Desired, f driftFlags) (*drift.ScanReport, error) {
	client, err := newGenesysClient(f.profile)
	if err != nil {
		return nil, err
	}
	s := &drift.Scanner{Environment: firstNonEmpty(env, "cli"), Genesys: client}
	switch {
	case st != nil:
		s.Store = st
		if desired != nil && desired.Environment != "" && desired.Environment != env {
			fmt.Fprintf(stderr, "drift: warning: %s declares environment %q; the scan compares %s with the desired state published for it\n", f.file, desired.Environment, env)
		}
		if events != nil {
			s.Bus = events
		}
	case desired != nil:
		if s.Declared, err = desired.Docs(); err != nil {
			return nil, err
		}
	}
	r, err := s.Scan(ctx)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func driftHistory(ctx context.Context, w io.Writer, st *store.Store, env string, f driftFlags) error {
	reports, err := st.ListDriftReports(ctx, env, f.limit)
	if err != nil {
		return exitCode(driftExitError, err)
	}
	sums := make([]drift.ScanSummary, 0, len(reports))
	for _, r := range reports {
		rep, err := drift.ReportOf(r)
		if err != nil {
			return exitCode(driftExitError, err)
		}
		sums = append(sums, rep.Summary)
	}
	err = writeAs(w, f.format, sums, writers{
		"text":     func(w io.Writer) error { return writeHistoryText(w, env, sums) },
		"markdown": func(w io.Writer) error { return writeHistoryMarkdown(w, env, sums) },
	})
	if err != nil {
		return exitCode(driftExitError, fmt.Errorf("write history: %w", err))
	}
	return nil
}

// scanLine sums a scan up in one line.
func scanLine(s drift.ScanSummary) string {
	c := s.Entities
	out := fmt.Sprintf("%d modified, %d missing", c.Modified, c.Missing)
	if c.Deleted > 0 {
		out += fmt.Sprintf(", %d deleted", c.Deleted)
	}
	out += fmt.Sprintf(", %d unmanaged, %d in sync; coverage %.1f%%", c.Unmanaged, c.InSync, 100*s.Coverage)
	if c.NotAssessed > 0 {
		out += fmt.Sprintf("; %d declared entities not assessed", c.NotAssessed)
	}
	if !s.Complete {
		out += " (incomplete)"
	}
	return out
}

// scanHeader says which scan a report is and what it cost.
func scanHeader(s drift.ScanSummary) string {
	state := "complete"
	if !s.Complete {
		state = "INCOMPLETE: " + s.Reason
	}
	return fmt.Sprintf("Drift report of %s, scanned %s (%s): %d entities read with %d Genesys calls in %s",
		s.Environment, s.GeneratedAt.Format(time.RFC3339), state, s.Entities.Read, s.GenesysCalls, (time.Duration(s.DurationMs) * time.Millisecond).String())
}

var stateSymbol = map[drift.State]string{drift.Modified: "~", drift.Missing: "-", drift.Deleted: "-", drift.Unmanaged: "?"}

// who says who changed an entity and when, as far as anyone knows.
func who(e drift.ScanEntity) string {
	var parts []string
	if lk := e.LastKnown; lk != nil && lk.Cause != nil && !lk.Changed {
		c := lk.Cause
		s := "changed"
		if c.UserID != "" {
			s += " by user " + c.UserID
		}
		if c.ClientID != "" {
			s += " with OAuth client " + c.ClientID
		}
		if !c.EventTime.IsZero() {
			s += " at " + c.EventTime.Format(time.RFC3339)
		}
		if c.EventID != "" {
			s += " (audit event " + c.EventID + ")"
		}
		parts = append(parts, s)
	} else if e.ModifiedBy != "" || !e.ModifiedAt.IsZero() {
		s := "Genesys says last modified"
		if !e.ModifiedAt.IsZero() {
			s += " at " + e.ModifiedAt.Format(time.RFC3339)
		}
		if e.ModifiedBy != "" {
			s += " by user " + e.ModifiedBy
		}
		parts = append(parts, s)
	}
	if lk := e.LastKnown; lk != nil && lk.Changed {
		parts = append(parts, fmt.Sprintf("changed since routekeeper last observed it (%s, %s), unseen by the webhook", lk.ObservedAt.Format(time.RFC3339), lk.Source))
	}
	return strings.Join(parts, "; ")
}

// located is " (file:line)" where the config declares kind/name/path, or "".
func located(at drift.Locator, kind entity.Kind, name, path string) string {
	if at == nil {
		return ""
	}
	if file, line, ok := at.Position(string(kind), name, path); ok {
		return fmt.Sprintf("  (%s:%d)", file, line)
	}
	return ""
}

// deviationValue renders one side of a difference; absent is "(absent)".
func deviationValue(v any) string { return jsonValue(v, v != nil) }

func writeScanText(w io.Writer, r *drift.ScanReport, at drift.Locator) error {
	var b strings.Builder
	b.WriteString(scanHeader(r.Summary) + "\n")
	if len(r.Summary.NotRead) > 0 {
		fmt.Fprintf(&b, "\nNot read (nothing is known of them): %s\n", kindList(r.Summary.NotRead))
	}
	drifted := 0
	for _, e := range r.Entities {
		if !e.State.Drifted() {
			continue
		}
		if drifted == 0 {
			b.WriteString("\nDeclared entities that differ from git (declared -> live):\n")
		}
		drifted++
		fmt.Fprintf(&b, "\n  %s %s %q", stateSymbol[e.State], e.Kind, e.Name)
		if e.ID != "" {
			fmt.Fprintf(&b, " (id %s)", e.ID)
		}
		fmt.Fprintf(&b, " %s", e.State)
		if !e.Since.IsZero() {
			fmt.Fprintf(&b, " since %s", e.Since.Format(time.RFC3339))
		}
		b.WriteString(located(at, e.Kind, e.Name, "") + "\n")
		switch e.State {
		case drift.Missing:
			b.WriteString("      declared, not in the org\n")
		case drift.Deleted:
			b.WriteString("      declared, deleted in Genesys (seen by the webhook)\n")
		}
		if s := who(e); s != "" {
			fmt.Fprintf(&b, "      # %s\n", s)
		}
		for _, d := range e.Differences {
			fmt.Fprintf(&b, "      ~ %s: %s -> %s%s\n", d.Path, deviationValue(d.Expected), deviationValue(d.Actual), located(at, e.Kind, e.Name, d.Path))
		}
		if rv := e.Revert; rv != nil {
			if rv.Status == drift.RevertRequested {
				fmt.Fprintf(&b, "      revert requested: change %s\n", rv.ChangeID)
			} else {
				fmt.Fprintf(&b, "      revert skipped: %s\n", rv.Reason)
			}
		}
	}
	if drifted == 0 {
		b.WriteString("\nNo drift: every declared entity read is as git declares it.\n")
	}
	if n := r.Summary.Entities.Unmanaged; n > 0 {
		fmt.Fprintf(&b, "\nUnmanaged (in the org, not declared; left alone): %d\n", n)
		for _, k := range entity.Kinds {
			if names := scanNames(r, k, drift.Unmanaged, 5); names != "" {
				fmt.Fprintf(&b, "    %s: %s\n", k, names)
			}
		}
	}
	fmt.Fprintf(&b, "\nDrift: %s.\n", scanLine(r.Summary))
	_, err := io.WriteString(w, b.String())
	return err
}

func kindList(kinds []entity.Kind) string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k) + "s"
	}
	return strings.Join(out, ", ")
}

// scanNames lists up to limit names of the entities of kind in state, quoted.
func scanNames(r *drift.ScanReport, kind entity.Kind, state drift.State, limit int) string {
	return quotedNames(func(yield func(string) bool) {
		for _, e := range r.Entities {
			if e.Kind == kind && e.State == state && !yield(e.Name) {
				return
			}
		}
	}, limit)
}

func writeScanMarkdown(w io.Writer, r *drift.ScanReport, at drift.Locator) error {
	var b strings.Builder
	s := r.Summary
	fmt.Fprintf(&b, "### routekeeper drift: %s\n\n", mdText(s.Environment))
	fmt.Fprintf(&b, "Scan of %s", s.GeneratedAt.Format(time.RFC3339))
	if s.Complete {
		b.WriteString(" (complete)")
	} else {
		fmt.Fprintf(&b, " (**incomplete**: %s)", mdText(s.Reason))
	}
	fmt.Fprintf(&b, ". **%s.**\n", mdText(scanLine(s)))
	declaredAt := func(kind entity.Kind, name, path string) string { // a table cell, when -f was given
		if at == nil {
			return ""
		}
		if file, line, ok := at.Position(string(kind), name, path); ok {
			return fmt.Sprintf(" %s |", mdCell(fmt.Sprintf("%s:%d", file, line)))
		}
		return "  |"
	}
	atHead, atRule := "", ""
	if at != nil {
		atHead, atRule = " Declared at |", "---|"
	}
	var drifted []drift.ScanEntity
	for _, e := range r.Entities {
		if e.State.Drifted() {
			drifted = append(drifted, e)
		}
	}
	if len(drifted) == 0 {
		b.WriteString("\nNo drift: every declared entity read is as git declares it.\n")
	} else {
		fmt.Fprintf(&b, "\n| Kind | Name | State | Fields | Who and when |%s\n|---|---|---|---|---|%s\n", atHead, atRule)
		for _, e := range drifted {
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %s |%s\n", e.Kind, mdText(e.Name), e.State, len(e.Differences), mdText(who(e)), declaredAt(e.Kind, e.Name, ""))
		}
		for _, e := range drifted {
			if len(e.Differences) == 0 {
				continue
			}
			fmt.Fprintf(&b, "\n<details><summary>%s %s</summary>\n\n", e.Kind, mdText(e.Name))
			fmt.Fprintf(&b, "| Path | Declared | Live |%s\n|---|---|---|%s\n", atHead, atRule)
			for _, d := range e.Differences {
				fmt.Fprintf(&b, "| %s | %s | %s |%s\n", mdCell(d.Path), mdCell(deviationValue(d.Expected)), mdCell(deviationValue(d.Actual)), declaredAt(e.Kind, e.Name, d.Path))
			}
			b.WriteString("\n</details>\n")
		}
	}
	if n := s.Entities.Unmanaged; n > 0 {
		fmt.Fprintf(&b, "\nUnmanaged (in the org, not declared; left alone): %d.\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// scanRules are the SARIF rules of a drift report.
var scanRules = []sarifRule{
	{"drift-field-modified", "A declared field holds another value in Genesys than git declares."},
	{"drift-entity-missing", "A declared entity is not in the org."},
	{"drift-entity-deleted", "A declared entity was deleted in Genesys."},
}

func writeScanSARIF(w io.Writer, r *drift.ScanReport, at drift.Locator, file string) error {
	report, err := sarif.New(sarif.Version210)
	if err != nil {
		return err
	}
	run := newSARIFRun(scanRules, file)
	add := func(ruleID, msg string, kind entity.Kind, name, path string) {
		f, line := file, 0
		if at != nil {
			if pf, pl, ok := at.Position(string(kind), name, path); ok {
				f, line = pf, pl
			}
		}
		addEntityResult(run, "error", ruleID, msg, kind, name, path, f, line)
	}
	for _, e := range r.Entities {
		suffix := ""
		if s := who(e); s != "" {
			suffix = " (" + s + ")"
		}
		switch e.State {
		case drift.Modified:
			for _, d := range e.Differences {
				add("drift-field-modified", fmt.Sprintf("%s %q %s: git declares %s, Genesys holds %s%s", e.Kind, e.Name, d.Path,
					deviationValue(d.Expected), deviationValue(d.Actual), suffix), e.Kind, e.Name, d.Path)
			}
		case drift.Missing:
			add("drift-entity-missing", fmt.Sprintf("%s %q is declared but not in the org of %s", e.Kind, e.Name, r.Summary.Environment), e.Kind, e.Name, "")
		case drift.Deleted:
			add("drift-entity-deleted", fmt.Sprintf("%s %q is declared but was deleted in Genesys%s", e.Kind, e.Name, suffix), e.Kind, e.Name, "")
		}
	}
	report.AddRun(run)
	return report.PrettyWrite(w)
}

func writeHistoryText(w io.Writer, env string, sums []drift.ScanSummary) error {
	if len(sums) == 0 {
		_, err := fmt.Fprintf(w, "No drift scans of %s are stored.\n", env)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCANNED\tCOMPLETE\tREAD\tMODIFIED\tMISSING\tUNMANAGED\tIN SYNC\tCOVERAGE\tCALLS\tWRITES\tMS\tNOTE")
	for _, s := range sums {
		c := s.Entities
		note := s.Reason
		if s.Reverts.Requested+s.Reverts.Skipped > 0 {
			note = strings.TrimPrefix(note+fmt.Sprintf("; %d reverts requested, %d skipped", s.Reverts.Requested, s.Reverts.Skipped), "; ")
		}
		fmt.Fprintf(tw, "%s\t%v\t%d\t%d\t%d\t%d\t%d\t%.1f%%\t%d\t%d\t%d\t%s\n", s.GeneratedAt.Format(time.RFC3339), s.Complete, c.Read,
			c.Modified, c.Missing+c.Deleted, c.Unmanaged, c.InSync, 100*s.Coverage, s.GenesysCalls, s.DynamoDBWrites, s.DurationMs, note)
	}
	return tw.Flush()
}

func writeHistoryMarkdown(w io.Writer, env string, sums []drift.ScanSummary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### routekeeper drift scans: %s\n\n", mdText(env))
	if len(sums) == 0 {
		b.WriteString("No drift scans are stored.\n")
	} else {
		b.WriteString("| Scanned | Complete | Modified | Missing | Unmanaged | In sync | Coverage | Calls | Note |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range sums {
			c := s.Entities
			fmt.Fprintf(&b, "| %s | %v | %d | %d | %d | %d | %.1f%% | %d | %s |\n", s.GeneratedAt.Format(time.RFC3339), s.Complete,
				c.Modified, c.Missing+c.Deleted, c.Unmanaged, c.InSync, 100*s.Coverage, s.GenesysCalls, mdText(s.Reason))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
