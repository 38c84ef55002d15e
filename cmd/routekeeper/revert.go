package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/history"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Exit statuses of revert: apply's.
const (
	revertExitOK       = applyExitOK       // applied, enqueued, planned (--dry-run), or nothing to revert
	revertExitError    = applyExitError    // an error: not found, cannot be reverted, AWS or Genesys failed
	revertExitUsage    = applyExitUsage    //
	revertExitConflict = applyExitConflict // --direct: the revert ended CONFLICT (nothing written) or REJECTED
)

// RevertSchema is the schema of revert's JSON result.
const RevertSchema = "routekeeper.revert/v1"

type revertFlags struct {
	queueURL, table, profile, to, env, reason, requestedBy, format string
	direct, dryRun, autoApprove                                    bool
}

func newRevertCmd() *cobra.Command {
	var f revertFlags
	cmd := &cobra.Command{
		Use:   "revert (CHANGE_ID | --to TIME KIND NAME) (--queue-url URL | --direct | --dry-run) [--auto-approve]",
		Short: "Undo an applied change, or put an entity back as it was at a time, through the change pipeline",
		Long: `revert builds the change request that undoes a change and sends it through the same
pipeline as apply: the stack's change queue (--queue-url, default $CHANGE_QUEUE_URL) or
the apply engine in this process (--direct). Its reason is "revert of CHANGE_ID", and the
two change records link to each other (routekeeper history shows both).

revert CHANGE_ID undoes an APPLIED change from the snapshot of the state it was planned
against (its baseEtag), for the fields it wrote only:
  update  the fields it wrote get their earlier values back;
  create  the entity it created is deleted;
  delete  the entity is re-created from the snapshot: it gets a new Genesys id, and what
          referred to the old id does not come back (for a skill: the agents who had it).
The revert is planned against the ETag the change produced. If the entity changed since,
the engine merges as always: an edit of other fields is kept and the revert applies; an
edit of a field the revert sets is a CONFLICT, and nothing is written.

revert --to TIME KIND NAME restores the entity's managed fields as routekeeper observed
them at TIME (a time, or a duration ago): the fields that differ from the last-known state
are put back, planned against its ETag; an entity gone since is re-created, one that did
not exist then is deleted.

Like apply, revert shows the change and asks for "yes" on a terminal; --auto-approve
skips the question (CI, runbooks), and --dry-run only shows it and sends nothing.

Both need the table (--table or $TABLE_NAME): change records are kept 30 days, snapshots
and history for the stack's SnapshotRetentionDays (30 by default). --direct needs Genesys
credentials (GENESYS_*, or --env NAME).

Output: the change request's line (status, operation, kind, name, change id, detail) and
notes; --dry-run: the change as a plan shows it; --format json writes a
routekeeper.revert/v1 document (with the change requests sent). Through the queue the
line says ENQUEUED: the apply function decides the outcome, which routekeeper status
REVERT_ID shows once it ran (with "revert of CHANGE_ID"; status CHANGE_ID says "reverted
by REVERT_ID").

Exit status: 0 applied, enqueued, shown (--dry-run) or nothing to revert; 1 error (no such
change, one that cannot be reverted, a snapshot no longer kept, AWS or Genesys failed, or
the question not answered yes); 2 usage (also: no terminal to confirm on and no
--auto-approve); 3 (--direct) the revert ended CONFLICT (nothing written) or REJECTED.`,
		Example: `  # see what undoing a change would send
  routekeeper revert chg-0190b6d4-7c4e-7a51-9d7e-6b2f0c1d2e3f --dry-run

  # undo it through the stack's change queue (shows it and asks for yes)
  routekeeper revert chg-0190b6d4-7c4e-7a51-9d7e-6b2f0c1d2e3f --queue-url "$CHANGE_QUEUE_URL"

  # put a queue back as it was before the incident, applied from this machine
  routekeeper revert --to 2026-03-14T09:00:00Z queue "Claims Tasks" --environment prod --direct

  # ... as it was two hours ago, from a runbook (no question)
  routekeeper revert --to 2h queue "Claims Tasks" --environment prod --direct --auto-approve`,
		Args: maxArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return runRevert(cmd, args, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.queueURL, "queue-url", "", "SQS FIFO change queue `URL` (default $CHANGE_QUEUE_URL)")
	fl.BoolVar(&f.direct, "direct", false, "apply the revert in this process instead of enqueueing it")
	fl.BoolVar(&f.dryRun, "dry-run", false, "show the revert's change and send nothing")
	fl.BoolVar(&f.autoApprove, "auto-approve", false, "send the revert without showing it and asking for yes (CI, runbooks)")
	fl.StringVar(&f.to, "to", "", "restore KIND NAME as observed at `TIME`: a time (2026-03-14T09:00:00Z, 2026-03-14) or a duration ago (90m, 2h, 1d)")
	tableFlag(cmd, &f.table, "holding the change records, snapshots and history")
	environmentFlag(cmd, &f.env, "of KIND NAME with --to (default $ROUTEKEEPER_ENVIRONMENT)")
	profileFlag(cmd, &f.profile)
	fl.StringVar(&f.reason, "reason", "", "why, added to the reason \"revert of CHANGE_ID\"")
	fl.StringVar(&f.requestedBy, "requested-by", "", "who asks (default $GITHUB_ACTOR or the OS user)")
	formatFlag(cmd, &f.format, "text", "json")
	return usageExits(revertExitUsage, cmd)
}

// revertResult is revert's result (--format json).
type revertResult struct {
	Schema   string      `json:"schema"`
	RevertOf string      `json:"revertOf,omitempty"`
	To       *time.Time  `json:"to,omitempty"`
	Entity   string      `json:"entity"`
	Nothing  string      `json:"nothing,omitempty"`
	Notes    []string    `json:"notes,omitempty"`
	Changes  []applyLine `json:"changes"`
	// Requests are the change requests sent (or, --dry-run, that would be).
	Requests []*changes.Request `json:"requests"`
}

func runRevert(cmd *cobra.Command, args []string, f revertFlags) error {
	ctx, stdout, stderr := cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	var changeID string
	var k entity.Key
	var at time.Time
	switch {
	case f.to == "" && len(args) == 1:
		changeID = args[0]
	case f.to == "":
		return usageError(cmd, fmt.Errorf("give the CHANGE_ID to revert, or --to TIME KIND NAME; got %q", args))
	case len(args) != 2:
		return usageError(cmd, fmt.Errorf("--to TIME takes KIND NAME (e.g. queue \"Claims Tasks\"); got %q", args))
	default:
		kind, err := entity.ParseKind(args[0])
		if err != nil {
			return usageError(cmd, err)
		}
		env := environmentName(f.env)
		if env == "" {
			return usageError(cmd, errors.New("no environment given for --to: pass --environment ENV or set "+environmentEnv))
		}
		if at, err = parseWhen(f.to, time.Now()); err != nil {
			return usageError(cmd, fmt.Errorf("--to: %w", err))
		}
		k = entity.Key{Environment: env, Kind: kind, Name: args[1]}
	}
	queueURL := firstNonEmpty(f.queueURL, getenv("CHANGE_QUEUE_URL"))
	switch {
	case f.dryRun && (f.direct || f.queueURL != ""):
		return usageError(cmd, errors.New("--dry-run sends nothing: leave out --direct and --queue-url"))
	case f.dryRun:
	case f.direct && f.queueURL != "", !f.direct && queueURL == "":
		return usageError(cmd, errors.New("choose one: --queue-url URL (or $CHANGE_QUEUE_URL) to enqueue the revert for the apply function, --direct to apply it here, or --dry-run to only show it"))
	case !f.direct:
		if err := checkQueueURL(queueURL); err != nil {
			return usageError(cmd, err)
		}
	}
	confirm := !f.dryRun && !f.autoApprove
	if confirm && !inputIsTerminal(cmd) {
		return usageError(cmd, errors.New("revert shows the change and asks for yes, but stdin is not a terminal: pass --auto-approve (CI, runbooks), or look first with --dry-run"))
	}
	table, err := requireTable(cmd, f.table)
	if err != nil {
		return err
	}
	aws, err := loadAWS(ctx)
	if err != nil {
		return exitCode(revertExitError, err)
	}
	st := store.New(aws.dynamo, table)

	var r *history.Revert
	if changeID != "" {
		r, err = history.Inverse(ctx, st, changeID)
	} else {
		r, err = history.Restore(ctx, st, k, at)
	}
	if err != nil {
		if errors.Is(err, history.ErrNotRevertible) || errors.Is(err, store.ErrNotFound) {
			return exitCode(revertExitError, err)
		}
		return exitCode(revertExitError, fmt.Errorf("table %s: %w", table, err))
	}
	out := revertResult{Schema: RevertSchema, RevertOf: r.Of, To: r.To, Entity: r.Key.String(), Nothing: r.Nothing, Notes: r.Notes, Changes: []applyLine{}, Requests: []*changes.Request{}}
	if r.Nothing != "" {
		fmt.Fprintf(stderr, "revert: nothing to revert: %s\n", r.Nothing)
		return writeRevert(stdout, f.format, out)
	}

	reason := "revert of " + r.Of
	if r.Of == "" {
		reason = fmt.Sprintf("revert of %s to %s", r.Key, r.To.Format(time.RFC3339Nano))
	}
	if f.reason != "" {
		reason += ": " + f.reason
	}
	planner := drift.Planner{Reason: reason, RequestedBy: firstNonEmpty(f.requestedBy, getenv("GITHUB_ACTOR"), osUser(), "routekeeper")}
	if confirm {
		for _, n := range r.Notes {
			fmt.Fprintf(stderr, "note: %s\n", n)
		}
		ok, err := confirmPlan(cmd, reason, r.Plan(), f.direct)
		if err != nil {
			return exitCode(revertExitError, err)
		}
		if !ok {
			return exitCode(revertExitError, errors.New("revert cancelled: nothing was sent (only \"yes\" sends it)"))
		}
	}
	if f.dryRun {
		reqs, err := planner.Requests(r.Plan())
		if err != nil {
			return exitCode(revertExitError, err)
		}
		for _, req := range reqs {
			out.Changes = append(out.Changes, applyLine{ChangeID: req.ChangeID, Kind: req.Entity.Type, Name: req.Entity.Name,
				Operation: string(req.Operation), Status: "PLANNED", Request: req})
			out.Requests = append(out.Requests, req)
		}
		return writeAs(stdout, f.format, out, writers{"text": func(w io.Writer) error {
			if err := writePlanText(w, reason, r.Plan(), paletteFor(cmd, w)); err != nil {
				return err
			}
			return writeNotes(w, out.Notes)
		}})
	}

	var eng *apply.Engine
	if f.direct {
		client, err := newGenesysClient(f.profile)
		if err != nil {
			return exitCode(revertExitError, err)
		}
		eng = apply.New(client, st, apply.Options{Environment: r.Key.Environment})
	}
	code := revertExitOK
	var runErr error
	send := func(ctx context.Context, reqs []*changes.Request) error {
		for _, req := range reqs {
			out.Changes = append(out.Changes, applyLine{ChangeID: req.ChangeID, Kind: req.Entity.Type, Name: req.Entity.Name,
				Operation: string(req.Operation), Request: req})
			out.Requests = append(out.Requests, req)
		}
		if f.direct {
			code, runErr = applyDirect(ctx, eng, out.Changes)
		} else {
			code, runErr = enqueue(ctx, changes.NewPublisher(aws.sqs, queueURL, changes.PublisherOptions{}), out.Changes)
		}
		return nil
	}
	// The state the revert is planned against is stored already (the snapshot of the
	// change's ETag, or of the last-known state): nothing to record.
	if _, err := drift.Submit(ctx, r.Plan(), nil, planner, nil, send); err != nil {
		return exitCode(revertExitError, fmt.Errorf("%w; nothing was sent", err))
	}
	if r.Of != "" {
		for _, l := range out.Changes {
			if l.Status != "ENQUEUED" && l.Result == nil {
				continue // not sent, or it failed before an outcome: no revert to link
			}
			if err := st.LinkRevert(ctx, l.ChangeID, r.Of); err != nil {
				runErr = errors.Join(runErr, fmt.Errorf("revert %s was sent, but its link to %s could not be recorded: %w", l.ChangeID, r.Of, err))
				code = max(code, revertExitError)
			}
		}
	}
	if err := writeRevert(stdout, f.format, out); err != nil {
		return exitCode(revertExitError, err)
	}
	if code != revertExitOK || runErr != nil {
		return exitCode(code, runErr)
	}
	return nil
}

// writeRevert writes revert's result: the change's line and the notes, or the JSON
// document.
func writeRevert(w io.Writer, format string, r revertResult) error {
	return writeAs(w, format, r, writers{"text": func(w io.Writer) error {
		if r.Nothing != "" {
			_, err := fmt.Fprintf(w, "nothing to revert: %s\n", r.Nothing)
			return err
		}
		if err := writeApplyText(w, r.Changes); err != nil {
			return err
		}
		return writeNotes(w, r.Notes)
	}})
}

func writeNotes(w io.Writer, notes []string) error {
	var b strings.Builder
	for _, n := range notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
