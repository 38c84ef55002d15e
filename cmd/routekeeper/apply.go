package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os/user"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Exit statuses of apply.
const (
	applyExitOK       = 0 // every change applied, already in place, or enqueued (or nothing to do)
	applyExitError    = 1 // an error, or changes left unapplied (re-run apply)
	applyExitUsage    = 2
	applyExitConflict = 3 // --direct: a change ended CONFLICT or REJECTED; or the plan holds a conflict
)

type applyFlags struct {
	file, queueURL, table, profile, reason, requestedBy, format string
	direct, prune                                               bool
}

func newApplyCmd() *cobra.Command {
	var f applyFlags
	cmd := &cobra.Command{
		Use:   "apply -f CONFIG (--queue-url URL | --direct)",
		Short: "Plan a config against the live org and apply it, through the change queue or directly",
		Long: `apply plans a routing config against the live org (as routekeeper plan does) and turns
every entity to create, update or delete into a change request (routekeeper.change/v1)
carrying the ETag the entity was planned against.

With --queue-url (default $CHANGE_QUEUE_URL) the requests go to the stack's SQS FIFO change
queue and the apply function writes them to Genesys; follow them with routekeeper status.
With --direct they are applied here, in order, by the same engine and with the same
guarantees: each request is claimed once, the entity is re-read just before the write,
a concurrent edit is merged when it touches other fields and is a CONFLICT (nothing
written) when it touches the same ones, and every outcome is recorded.

Records go to the table --table (default $TABLE_NAME) when one is given. apply also stores
the live state each change was planned against there, which the apply function needs to
merge a concurrent edit (without it such an edit is a conflict), and reads the active
overflows from it: a worktype whose overflow is active keeps its overflow queue as
defaultQueue (see routekeeper plan --help). --direct without a table
keeps records in memory for this run only: for users without the AWS stack.

Output: one line per entity (status, operation, kind, name, change id, detail) on stdout;
--format json writes them as JSON.

Exit status: 0 everything applied, already in place or enqueued (or nothing to do);
1 error, or changes left unapplied (a retryable failure: re-run apply);
2 usage; 3 (--direct) a change ended CONFLICT or REJECTED, or (both modes) the plan holds
a conflict that needs manual action, such as a skill whose name differs from the live one
only in case (skills cannot be renamed); such an entity is reported and never sent.`,
		Example: `  # CI: enqueue for the apply function
  routekeeper apply -f routing/prod.yaml --queue-url "$CHANGE_QUEUE_URL" --table "$TABLE_NAME"

  # no AWS stack: apply from this machine
  routekeeper apply -f routing/dev.yaml --direct`,
		Args: maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runApply(cmd, f) },
	}
	fl := cmd.Flags()
	fileFlag(cmd, &f.file)
	fl.StringVar(&f.queueURL, "queue-url", "", "SQS FIFO change queue `URL` (default $CHANGE_QUEUE_URL)")
	fl.BoolVar(&f.direct, "direct", false, "apply in this process instead of enqueueing")
	tableFlag(cmd, &f.table, "for records and planned-against state")
	profileFlag(cmd, &f.profile)
	fl.BoolVar(&f.prune, "prune", false, "delete live entities the config does not declare (kinds the config declares only)")
	fl.StringVar(&f.reason, "reason", "", "why the change is made (default: routekeeper apply of CONFIG)")
	fl.StringVar(&f.requestedBy, "requested-by", "", "who asks (default $GITHUB_ACTOR or the OS user)")
	formatFlag(cmd, &f.format, "text", "json")
	return usageExits(applyExitUsage, cmd)
}

// applyLine is the outcome of one planned entity change.
type applyLine struct {
	ChangeID  string           `json:"changeId"`
	Kind      entity.Kind      `json:"kind"`
	Name      string           `json:"name"`
	Operation string           `json:"operation"`
	Status    string           `json:"status"` // ENQUEUED, NOT_APPLIED, NOT_ENQUEUED or a terminal store status
	Error     string           `json:"error,omitempty"`
	Result    *apply.Result    `json:"result,omitempty"`
	Request   *changes.Request `json:"-"`
}

func runApply(cmd *cobra.Command, f applyFlags) error {
	ctx, stdout, stderr := cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := requireFile(cmd, f.file); err != nil {
		return err
	}
	queueURL := firstNonEmpty(f.queueURL, getenv("CHANGE_QUEUE_URL"))
	if (f.direct && f.queueURL != "") || (!f.direct && queueURL == "") {
		return usageError(cmd, errors.New("choose one: --queue-url URL (or $CHANGE_QUEUE_URL) to enqueue for the apply function, or --direct to apply here"))
	}
	if !f.direct {
		if err := checkQueueURL(queueURL); err != nil {
			return usageError(cmd, err)
		}
	}
	table := tableName(f.table)

	lp, err := planConfig(ctx, stderr, "apply", f.file, f.profile, table, f.prune)
	if err != nil {
		return exitCode(applyExitError, err)
	}
	client, plan := lp.client, lp.plan
	// An active overflow is planned at its overflow queue (never reverted); without a
	// table apply cannot tell, and says so before it sends anything.
	for _, o := range plan.Overflow {
		fmt.Fprintf(stderr, "apply: worktype %q: %s\n", o.Worktype, o.Note)
	}
	planner := drift.Planner{
		Reason:      firstNonEmpty(f.reason, "routekeeper apply of "+f.file),
		RequestedBy: firstNonEmpty(f.requestedBy, getenv("GITHUB_ACTOR"), osUser(), "routekeeper"),
	}
	// A plan conflict (e.g. a skill whose name differs from the live one only in case:
	// skills cannot be renamed) is never sent; it is reported and makes apply exit 3.
	for _, c := range plan.Conflicts {
		fmt.Fprintf(stderr, "apply: CONFLICT (not sent) %s\n", conflictLine(c))
	}
	if len(plan.Changes) == 0 {
		fmt.Fprintf(stderr, "apply: nothing to change (%s)\n", planSummary(plan))
		if len(plan.Conflicts) > 0 {
			return exitCode(applyExitConflict, nil)
		}
		return nil
	}

	var awsCfg awsClients
	if table != "" || !f.direct {
		if awsCfg, err = loadAWS(ctx); err != nil {
			return exitCode(applyExitError, err)
		}
	}
	var st apply.Store = store.NewMemory(nil)
	if table != "" {
		st = store.New(awsCfg.dynamo, table)
	} else if !f.direct {
		fmt.Fprintln(stderr, "apply: warning: no --table: the apply function will not find the state these changes were planned against, so an entity edited meanwhile ends as CONFLICT instead of being merged")
	}

	var lines []applyLine
	code := applyExitOK
	var runErr error
	send := func(ctx context.Context, reqs []*changes.Request) error {
		lines = make([]applyLine, len(reqs))
		for i, r := range reqs {
			lines[i] = applyLine{ChangeID: r.ChangeID, Kind: r.Entity.Type, Name: r.Entity.Name, Operation: string(r.Operation), Request: r}
		}
		if f.direct {
			code, runErr = applyDirect(ctx, apply.New(client, st, apply.Options{Environment: reqs[0].Environment}), lines)
		} else {
			code, runErr = enqueue(ctx, changes.NewPublisher(awsCfg.sqs, queueURL, changes.PublisherOptions{}), lines)
		}
		return nil
	}
	if _, err := drift.Submit(ctx, plan, lp.org, planner, st, send); err != nil {
		what := "enqueued"
		if f.direct {
			what = "applied"
		}
		if _, ok := errors.AsType[*drift.RecordError](err); ok && table != "" {
			return exitCode(applyExitError, fmt.Errorf("table %s: %w; nothing was %s (check --table or TABLE_NAME, and the AWS region)", table, err, what))
		}
		return exitCode(applyExitError, fmt.Errorf("%w; nothing was %s", err, what))
	}
	err = writeAs(stdout, f.format, lines, writers{"text": func(w io.Writer) error { return writeApplyText(w, lines) }})
	if err != nil {
		return exitCode(applyExitError, err)
	}
	fmt.Fprintf(stderr, "apply: %s; %d Genesys API requests\n", applySummary(lines), client.Calls().Requests)
	if code != applyExitOK || runErr != nil {
		return exitCode(code, runErr)
	}
	if len(plan.Conflicts) > 0 {
		return exitCode(applyExitConflict, nil)
	}
	return nil
}

// checkQueueURL refuses what cannot be the change queue before anything is read or sent:
// the queue is SQS FIFO (per-entity order, deduplication by change id), whose name ends
// in .fifo.
func checkQueueURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("--queue-url %q is not a queue URL: want https://sqs.<region>.amazonaws.com/<account>/<name>.fifo (the stack's ChangeQueueUrl output)", raw)
	}
	if !strings.HasSuffix(u.Path, ".fifo") {
		return fmt.Errorf("--queue-url %q is not a FIFO queue (its name must end in .fifo): use the stack's ChangeQueueUrl output", raw)
	}
	return nil
}

type awsClients struct {
	dynamo *dynamodb.Client
	sqs    *sqs.Client
}

func loadAWS(ctx context.Context) (awsClients, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return awsClients{}, fmt.Errorf("aws configuration: %w", err)
	}
	return awsClients{dynamo: dynamodb.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg)}, nil
}

// applyDirect applies the requests in order; the first retryable failure stops the run.
func applyDirect(ctx context.Context, eng *apply.Engine, lines []applyLine) (int, error) {
	code := applyExitOK
	for i := range lines {
		res, err := eng.Apply(ctx, lines[i].Request)
		if err != nil {
			lines[i].Status, lines[i].Error = "NOT_APPLIED", err.Error()
			for j := i + 1; j < len(lines); j++ {
				lines[j].Status, lines[j].Error = "NOT_APPLIED", "not attempted after the failure of "+lines[i].ChangeID
			}
			return applyExitError, fmt.Errorf("%s %s: %w (changes before it are done; re-run apply to continue)", lines[i].Kind, lines[i].Name, err)
		}
		lines[i].Status, lines[i].Result = string(res.Status), &res
		if res.Status == store.StatusConflict || res.Status == store.StatusRejected {
			code = applyExitConflict
		}
	}
	return code, nil
}

// enqueue publishes the requests to the change queue.
func enqueue(ctx context.Context, p *changes.Publisher, lines []applyLine) (int, error) {
	reqs := make([]*changes.Request, len(lines))
	for i := range lines {
		reqs[i] = lines[i].Request
		lines[i].Status = "ENQUEUED"
	}
	_, err := p.Publish(ctx, reqs)
	var pe *changes.PublishError
	if errors.As(err, &pe) {
		failed := map[string]string{}
		for _, f := range pe.Failed {
			failed[f.ChangeID] = f.Err.Error()
		}
		for i := range lines {
			if msg, ok := failed[lines[i].ChangeID]; ok {
				lines[i].Status, lines[i].Error = "NOT_ENQUEUED", msg
			}
		}
		return applyExitError, fmt.Errorf("%d of %d change requests not enqueued (re-run apply; a resent request is deduplicated by its change id)", len(pe.Failed), len(lines))
	}
	if err != nil {
		for i := range lines {
			lines[i].Status, lines[i].Error = "NOT_ENQUEUED", err.Error()
		}
		return applyExitError, err
	}
	return applyExitOK, nil
}

// writeApplyText writes a line per entity (status, operation, kind, name, change id and
// the error or the result's summary) and, under it, each field in conflict.
func writeApplyText(w io.Writer, lines []applyLine) error {
	var b strings.Builder
	for _, l := range lines {
		d := l.Error
		if d == "" && l.Result != nil {
			d = l.Result.Summary()
		}
		fmt.Fprintf(&b, "%-12s %-6s %-8s %q  %s", l.Status, l.Operation, l.Kind, l.Name, l.ChangeID)
		if d != "" {
			fmt.Fprintf(&b, "  %s", d)
		}
		b.WriteString("\n")
		if l.Result != nil {
			for _, c := range l.Result.Conflicts {
				fmt.Fprintf(&b, "    %s\n", conflictText(c))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func applySummary(lines []applyLine) string {
	counts := map[string]int{}
	var order []string
	for _, l := range lines {
		if counts[l.Status] == 0 {
			order = append(order, l.Status)
		}
		counts[l.Status]++
	}
	parts := make([]string, len(order))
	for i, s := range order {
		parts[i] = fmt.Sprintf("%d %s", counts[s], s)
	}
	return strings.Join(parts, ", ")
}

func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
