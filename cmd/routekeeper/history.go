package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/history"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Exit statuses of history.
const (
	historyExitOK    = 0
	historyExitError = 1 // an error, or an entity routekeeper has never seen
	historyExitUsage = 2
)

type historyFlags struct {
	table, env, since, format string
	limit                     int
}

func newHistoryCmd() *cobra.Command {
	var f historyFlags
	cmd := &cobra.Command{
		Use:   "history [KIND NAME] [--environment ENV] [--since DURATION|TIME]",
		Short: "Show what happened to an entity (who changed what, when), or an environment's latest events",
		Long: `history reads the routekeeper table and shows the timeline of one entity (KIND is
queue, skill or worktype; NAME its exact Genesys name), oldest step first:

  observed  routekeeper saw a new state: source plan (routekeeper plan/apply), apply (read
            back after a write), webhook (a Genesys audit event: with the user and OAuth
            client who made the edit) or scan (the drift scan); its ETag and the managed
            fields that changed since the state before;
  change    a change request and its outcome (APPLIED, NOOP, CONFLICT, ...), who requested
            it, the fields it wrote, and the reverts that link to it;
  drift     the entity's drift state changed (IN_SYNC, MODIFIED, DELETED, ...);
  overflow  an overflow of the worktype started or ended.

Without KIND NAME it lists the most recent steps of every entity of the environment,
newest first (at most --limit).

Steps are kept as long as the snapshots (the stack's SnapshotRetentionDays, 30 days by
default). The table is --table or $TABLE_NAME, the environment --environment or
$ROUTEKEEPER_ENVIRONMENT; AWS configuration comes from the standard chain.

Exit status: 0 shown (also when no step matches --since), 1 error (an entity routekeeper
has never seen, AWS unreachable), 2 usage.`,
		Example: `  # what happened to a queue in the last day
  routekeeper history queue "Claims Tasks" --environment prod --since 24h

  # everything kept about a skill, as JSON for a ticket
  routekeeper history skill French --environment prod --format json

  # the latest 20 events across prod, as a Markdown table for the incident channel
  routekeeper history --environment prod --limit 20 --format markdown`,
		Args: maxArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return runHistory(cmd, args, f) },
	}
	tableFlag(cmd, &f.table, "holding the history")
	environmentFlag(cmd, &f.env, "to read (default $ROUTEKEEPER_ENVIRONMENT)")
	cmd.Flags().StringVar(&f.since, "since", "", "only steps from `DURATION|TIME` on: 90m, 24h, 7d ago, or a time (2026-03-14, 2026-03-14T09:30:00Z)")
	cmd.Flags().IntVar(&f.limit, "limit", 50, "without KIND NAME: how many steps to list, newest first")
	formatFlag(cmd, &f.format, "text", "json", "markdown")
	return usageExits(historyExitUsage, cmd)
}

func runHistory(cmd *cobra.Command, args []string, f historyFlags) error {
	ctx, stdout := cmd.Context(), cmd.OutOrStdout()
	if len(args) == 1 {
		return usageError(cmd, fmt.Errorf("history takes KIND NAME (e.g. queue \"Claims Tasks\"), or nothing for the environment's latest events; got %q", args))
	}
	table, err := requireTable(cmd, f.table)
	if err != nil {
		return err
	}
	env := environmentName(f.env)
	if env == "" {
		return usageError(cmd, errors.New("no environment given: pass --environment ENV or set "+environmentEnv))
	}
	if f.limit <= 0 {
		return usageError(cmd, fmt.Errorf("--limit %d: want a positive number", f.limit))
	}
	since, err := parseWhen(f.since, time.Now())
	if err != nil {
		return usageError(cmd, fmt.Errorf("--since: %w", err))
	}
	var k entity.Key
	if len(args) == 2 {
		kind, err := entity.ParseKind(args[0])
		if err != nil {
			return usageError(cmd, err)
		}
		k = entity.Key{Environment: env, Kind: kind, Name: args[1]}
	}
	aws, err := loadAWS(ctx)
	if err != nil {
		return exitCode(historyExitError, err)
	}
	st := store.New(aws.dynamo, table)
	var r *history.Report
	if len(args) == 2 {
		r, err = history.Timeline(ctx, st, k, since)
	} else {
		r, err = history.Recent(ctx, st, env, since, f.limit)
	}
	if err != nil {
		return exitCode(historyExitError, fmt.Errorf("table %s: %w", table, err))
	}
	err = writeAs(stdout, f.format, r, writers{
		"text":     func(w io.Writer) error { return writeTimelineText(w, r) },
		"markdown": func(w io.Writer) error { return writeTimelineMarkdown(w, r) },
	})
	if err != nil {
		return exitCode(historyExitError, err)
	}
	return nil
}

var daysAgo = regexp.MustCompile(`^([0-9]+)d$`)

// parseWhen reads a point in time: "" (none: the zero time), a duration before now
// (90m, 24h, 7d) or a time (RFC 3339, with or without fractional seconds, or a date,
// taken as midnight UTC).
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if m := daysAgo.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err == nil && n <= 100*365 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("%q: a duration counts back from now, so it must not be negative", s)
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (90m, 24h, 7d) nor a time (2026-03-14, 2026-03-14T09:30:00Z)", s)
}

// historyTime is how steps show their time: UTC to the millisecond, so steps that
// follow each other within a second stay apart.
func historyTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// shortETag is the start of an ETag's hex digits, enough to tell a timeline's steps apart.
func shortETag(etag string) string {
	h := strings.TrimPrefix(etag, "sha256:")
	if h == "" {
		return "-"
	}
	return h[:min(12, len(h))]
}

// stepWhat is a step's summary with the fields it changed where the summary does not name
// them, or why they are unknown.
func stepWhat(s history.Step) string {
	what := s.Summary
	if s.Type == store.HistoryDrift && len(s.Fields) > 0 {
		what += ": " + strings.Join(s.Fields, ", ")
	}
	if s.FieldsUnknown != "" {
		what += " (fields unknown: " + s.FieldsUnknown + ")"
	}
	return what
}

func stepSource(s history.Step) string {
	if s.Source != "" {
		return string(s.Source)
	}
	return "-"
}

func stepWho(s history.Step) string {
	if w := s.By.String(); w != "" {
		return w
	}
	return "-"
}

func timelineTitle(r *history.Report) string {
	if r.Entity != nil {
		return fmt.Sprintf("%s %q in %s", r.Entity.Kind, r.Entity.Name, r.Environment)
	}
	return "environment " + r.Environment
}

func writeTimelineText(w io.Writer, r *history.Report) error {
	order := "oldest first"
	if r.Entity == nil {
		order = "newest first"
	}
	since := ""
	if r.Since != nil {
		since = ", since " + historyTime(*r.Since)
	}
	fmt.Fprintf(w, "History of %s (%s%s)\n", timelineTitle(r), order, since)
	if len(r.Steps) == 0 {
		fmt.Fprintln(w, "no steps recorded in that time")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		head := "TIME\tSTEP\tSOURCE\tETAG\tWHO\tWHAT"
		if r.Entity == nil {
			head = "TIME\tENTITY\tSTEP\tSOURCE\tETAG\tWHO\tWHAT"
		}
		fmt.Fprintln(tw, head)
		for _, s := range r.Steps {
			ent := ""
			if r.Entity == nil {
				ent = fmt.Sprintf("%s %q\t", s.Kind, s.Name)
			}
			fmt.Fprintf(tw, "%s\t%s%s\t%s\t%s\t%s\t%s\n", historyTime(s.At), ent, s.Type, stepSource(s), shortETag(s.ETag), stepWho(s), oneLine(stepWhat(s), 200))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if lk := r.LastKnown; lk != nil {
		state := "ETag " + lk.ETag
		if lk.Deleted {
			state = "deleted"
		}
		fmt.Fprintf(w, "Last known: %s (%s, %s)\n", state, lk.Source, historyTime(lk.ObservedAt))
	}
	return nil
}

func writeTimelineMarkdown(w io.Writer, r *history.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### routekeeper history: %s\n\n", mdText(timelineTitle(r)))
	if len(r.Steps) == 0 {
		b.WriteString("No steps recorded in that time.\n")
	} else {
		if r.Entity == nil {
			b.WriteString("| time | entity | step | source | ETag | who | what |\n|---|---|---|---|---|---|---|\n")
		} else {
			b.WriteString("| time | step | source | ETag | who | what |\n|---|---|---|---|---|---|\n")
		}
		for _, s := range r.Steps {
			fmt.Fprintf(&b, "| %s |", historyTime(s.At))
			if r.Entity == nil {
				fmt.Fprintf(&b, " %s %s |", s.Kind, mdCell(s.Name))
			}
			fmt.Fprintf(&b, " %s | %s | %s | %s | %s |\n", s.Type, stepSource(s), mdCell(shortETag(s.ETag)), mdText(stepWho(s)), mdText(oneLine(stepWhat(s), 300)))
		}
	}
	if lk := r.LastKnown; lk != nil {
		state := "ETag `" + lk.ETag + "`"
		if lk.Deleted {
			state = "deleted"
		}
		fmt.Fprintf(&b, "\nLast known: %s (%s, %s).\n", state, lk.Source, historyTime(lk.ObservedAt))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
