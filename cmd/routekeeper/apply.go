package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/routing"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Exit statuses of apply.
const (
	applyExitOK       = 0 // every change applied, already in place, or enqueued (or nothing to do)
	applyExitError    = 1 // an error, a change apply would refuse (nothing sent), or changes left unapplied by a failure that may pass
	applyExitUsage    = 2
	applyExitConflict = 3 // a change ended CONFLICT or REJECTED (--direct), or the plan holds a conflict
)

type applyFlags struct {
	file, queueURL, table, profile, reason, requestedBy, format string
	direct, prune, autoApprove                                  bool
}

func newApplyCmd() *cobra.Command {
	var f applyFlags
	cmd := &cobra.Command{
		Use:   "apply (-f CONFIG | PLANFILE) (--queue-url URL | --direct)",
		Short: "Apply a config (or a saved plan) to the live org, through the change queue or directly",
		Long: `apply plans a routing config against the live org (as routekeeper plan does), shows the
plan and asks for "yes" on a terminal (--auto-approve skips the question, for CI), and turns
every entity to create, update or delete into a change request (routekeeper.change/v1)
carrying the ETag the entity was planned against.

apply PLANFILE applies a plan saved with routekeeper plan -f CONFIG -out PLANFILE, exactly
as it was reviewed, without asking: it reads the org again and refuses, naming what moved,
when any entity the plan was made against changed since (plan again then).

Before anything is sent, every reference is resolved against the live org (see
routekeeper plan --help); one that does not resolve stops apply with nothing written.

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

Output: one line per entity (status, operation, kind, name, change id, detail) on stdout,
a conflict the plan holds included (status CONFLICT, nothing sent); --format json writes
them as a JSON array ([] when there is nothing to do).

Exit status: 0 everything applied, already in place or enqueued (or nothing to do);
1 error: a reference that does not resolve or a saved plan the org moved away from (nothing
sent), or changes left unapplied by a failure that may pass (Genesys busy or unreachable:
re-run apply); 2 usage (also: no terminal to confirm on and no --auto-approve);
3 (--direct) a change ended CONFLICT or REJECTED, or (both modes) the plan holds a
conflict that needs manual action, such as a skill whose name differs from the live one
only in case (skills cannot be renamed); such an entity is reported and never sent.`,
		Example: `  # review, then apply exactly what was reviewed
  routekeeper plan -f routing/prod.yaml -out prod.plan
  routekeeper apply prod.plan --queue-url "$CHANGE_QUEUE_URL" --table "$TABLE_NAME"

  # CI: plan and enqueue in one step for the apply function
  routekeeper apply -f routing/prod.yaml --auto-approve --queue-url "$CHANGE_QUEUE_URL" --table "$TABLE_NAME"

  # no AWS stack: apply from this machine (shows the plan and asks)
  routekeeper apply -f routing/dev.yaml --direct`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runApply(cmd, f, args) },
	}
	fl := cmd.Flags()
	fileFlag(cmd, &f.file)
	fl.StringVar(&f.queueURL, "queue-url", "", "SQS FIFO change queue `URL` (default $CHANGE_QUEUE_URL)")
	fl.BoolVar(&f.direct, "direct", false, "apply in this process instead of enqueueing")
	tableFlag(cmd, &f.table, "for records and planned-against state")
	profileFlag(cmd, &f.profile)
	fl.BoolVar(&f.prune, "prune", false, "delete live entities the config does not declare (kinds the config declares only)")
	fl.BoolVar(&f.autoApprove, "auto-approve", false, "apply -f without showing the plan and asking for yes (CI)")
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
	Status    string           `json:"status"` // ENQUEUED, NOT_APPLIED, NOT_ENQUEUED, a terminal store status, or CONFLICT for a plan conflict (not sent)
	Error     string           `json:"error,omitempty"`
	Result    *apply.Result    `json:"result,omitempty"`
	Request   *changes.Request `json:"-"`
}

func runApply(cmd *cobra.Command, f applyFlags, args []string) error {
	ctx, stdout, stderr := cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	planFile := ""
	if len(args) == 1 {
		planFile = args[0]
	}
	switch {
	case planFile != "" && f.file != "":
		return usageError(cmd, errors.New("give a saved plan (PLANFILE) or a config (-f CONFIG), not both"))
	case planFile != "" && f.prune:
		return usageError(cmd, errors.New("--prune is decided when the plan is made: routekeeper plan -f CONFIG --prune -out PLANFILE"))
	case planFile == "":
		if err := requireFile(cmd, f.file); err != nil {
			return err
		}
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
	confirm := planFile == "" && !f.autoApprove
	if confirm && !inputIsTerminal(cmd) {
		return usageError(cmd, fmt.Errorf("apply -f shows the plan and asks for yes, but stdin is not a terminal: pass --auto-approve (CI), or review a saved plan first: routekeeper plan -f %s -out PLANFILE, then routekeeper apply PLANFILE", f.file))
	}
	table := tableName(f.table)

	var lp livePlan
	var err error
	source := f.file
	if planFile != "" {
		lp, err = savedLivePlan(ctx, cmd, stderr, planFile, f.profile)
		source = planFile
	} else {
		lp, err = planConfig(ctx, stderr, "apply", f.file, f.profile, table, f.prune)
	}
	if err != nil {
		return exitCode(applyExitError, err)
	}
	client, plan := lp.client, lp.plan
	if problems := lp.problemViews(); len(problems) > 0 {
		printProblems(stderr, problems)
		return exitCode(applyExitError, fmt.Errorf("%s that Genesys would refuse: nothing was sent (fix the config or the org, then plan again)", plural(len(problems), "problem")))
	}
	// An active overflow is planned at its overflow queue (never reverted); without a
	// table apply cannot tell, and says so before it sends anything.
	for _, o := range plan.Overflow {
		fmt.Fprintf(stderr, "apply: worktype %q: %s\n", o.Worktype, o.Note)
	}
	// A plan conflict (e.g. a skill whose name differs from the live one only in case:
	// skills cannot be renamed) is never sent; it is reported and makes apply exit 3.
	var conflictLines []applyLine
	for _, c := range plan.Conflicts {
		fmt.Fprintf(stderr, "apply: CONFLICT (not sent) %s\n", conflictLine(c))
		conflictLines = append(conflictLines, applyLine{Kind: c.Kind, Name: c.Name, Status: string(store.StatusConflict), Error: "not sent: " + c.Reason})
	}
	if len(plan.Changes) == 0 {
		if err := writeApplyLines(stdout, f.format, conflictLines); err != nil {
			return exitCode(applyExitError, err)
		}
		fmt.Fprintf(stderr, "apply: nothing to change (%s)\n", planSummary(plan))
		if len(plan.Conflicts) > 0 {
			return exitCode(applyExitConflict, nil)
		}
		return nil
	}
	if confirm {
		ok, err := confirmPlan(cmd, source, plan, f.direct)
		if err != nil {
			return exitCode(applyExitError, err)
		}
		if !ok {
			return exitCode(applyExitError, errors.New("apply cancelled: nothing was changed (only \"yes\" applies the plan)"))
		}
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

	planner := drift.Planner{
		Reason:      firstNonEmpty(f.reason, "routekeeper apply of "+source),
		RequestedBy: firstNonEmpty(f.requestedBy, getenv("GITHUB_ACTOR"), osUser(), "routekeeper"),
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
			return exitCode(applyExitError, fmt.Errorf("table %s: %w; nothing was %s (check --table or TABLE_NAME, and the AWS region)", table, awsError(err), what))
		}
		return exitCode(applyExitError, fmt.Errorf("%w; nothing was %s", err, what))
	}
	lines = append(lines, conflictLines...)
	if err := writeApplyLines(stdout, f.format, lines); err != nil {
		return exitCode(applyExitError, err)
	}
	fmt.Fprintf(stderr, "apply: %s; %d Genesys API requests\n", applySummary(lines), client.Calls().Requests)
	if len(plan.Conflicts) > 0 {
		code = applyExitConflict // a conflict needs a person, whatever else happened
	}
	if code != applyExitOK || runErr != nil {
		return exitCode(code, runErr)
	}
	return nil
}

// writeApplyLines writes apply's result: a line per entity, or the JSON array of them.
func writeApplyLines(w io.Writer, format string, lines []applyLine) error {
	if lines == nil {
		lines = []applyLine{}
	}
	return writeAs(w, format, lines, writers{"text": func(w io.Writer) error { return writeApplyText(w, lines) }})
}

// savedLivePlan reads the plan file path and the org it was planned against (the
// profile it was saved with; --env may only repeat it), and refuses a plan the org moved
// away from.
func savedLivePlan(ctx context.Context, cmd *cobra.Command, stderr io.Writer, path, profile string) (livePlan, error) {
	sp, err := readSavedPlan(path)
	if err != nil {
		return livePlan{}, err
	}
	if profile != "" && profile != sp.Profile {
		return livePlan{}, usageError(cmd, fmt.Errorf("the plan %s was made against %s, not --env %s: apply it without --env, or plan again", path, profileText(sp.Profile), profile))
	}
	org, client, err := readLive(ctx, stderr, "apply", sp.Profile)
	if err != nil {
		return livePlan{}, err
	}
	if moved := sp.moved(org); len(moved) > 0 {
		const limit = 20
		lines := moved[:min(len(moved), limit)]
		if len(moved) > limit {
			lines = append(lines, fmt.Sprintf("and %d more", len(moved)-limit))
		}
		return livePlan{}, fmt.Errorf("the org changed since the plan %s was saved (%s ago), so it no longer says what applying it would do; nothing was sent:\n  %s\nplan again: routekeeper plan -f %s -out %s",
			path, time.Since(sp.CreatedAt).Round(time.Second), strings.Join(lines, "\n  "), sp.Config, path)
	}
	lp := livePlan{org: org, client: client, plan: sp.Plan, problems: drift.Preflight(sp.Plan, org)}
	if cfg, err := routing.Load(sp.Config); err == nil {
		lp.cfg = cfg // where the config declares what a problem names, if it still loads
	}
	return lp, nil
}

// profileText names a Genesys profile for a message.
func profileText(profile string) string {
	if profile == "" {
		return "the GENESYS_* org"
	}
	return "profile " + profile
}

// confirmPlan shows the plan on stderr and asks for "yes" on stdin.
func confirmPlan(cmd *cobra.Command, config string, plan *drift.Plan, direct bool) (bool, error) {
	stderr := cmd.ErrOrStderr()
	if err := writePlanText(stderr, config, plan, paletteFor(cmd, stderr)); err != nil {
		return false, err
	}
	target := "send these changes to the change queue"
	if direct {
		target = "apply these changes to the org now"
	}
	env := plan.Environment
	if env == "" {
		env = "(no environment)"
	}
	fmt.Fprintf(stderr, "\nDo you want to %s (environment %s)?\n  Only 'yes' will be accepted.\n\n  Enter a value: ", target, env)
	answer, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read the answer: %w", err)
	}
	fmt.Fprintln(stderr)
	return strings.TrimSpace(answer) == "yes", nil
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
	cfg, err := awsConfig(ctx)
	if err != nil {
		return awsClients{}, err
	}
	return awsClients{dynamo: dynamodb.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg)}, nil
}

// applyDirect applies the requests in order; the first failure that may pass (a
// *apply.RetryError) stops the run. A change that ended CONFLICT or REJECTED makes the
// status applyExitConflict, even when a later one stopped the run: it needs a person,
// which re-running cannot replace.
func applyDirect(ctx context.Context, eng *apply.Engine, lines []applyLine) (int, error) {
	code := applyExitOK
	for i := range lines {
		res, err := eng.Apply(ctx, lines[i].Request)
		if err != nil {
			lines[i].Status, lines[i].Error = "NOT_APPLIED", err.Error()
			for j := i + 1; j < len(lines); j++ {
				lines[j].Status, lines[j].Error = "NOT_APPLIED", "not attempted after the failure of "+lines[i].ChangeID
			}
			if code == applyExitOK {
				code = applyExitError
			}
			return code, fmt.Errorf("%s %s: %w (changes before it are done; %s)", lines[i].Kind, lines[i].Name, err, retryAdvice(err))
		}
		lines[i].Status, lines[i].Result = string(res.Status), &res
		if res.Status == store.StatusConflict || res.Status == store.StatusRejected {
			code = applyExitConflict
		}
	}
	return code, nil
}

// retryAdvice says what to do after a change failed in a way that may pass: re-running
// helps only once Genesys answers again, so it says when.
func retryAdvice(err error) string {
	if re, ok := errors.AsType[*apply.RetryError](err); ok && re.RetryAfter > 0 {
		return fmt.Sprintf("Genesys asked to wait %s: re-run apply after that", re.RetryAfter.Round(time.Second))
	}
	if ae, ok := errors.AsType[*genesys.APIError](err); ok && ae.StatusCode < 500 && ae.StatusCode != 429 && ae.StatusCode != 408 {
		return "re-running cannot help until that is fixed: fix it, then plan again"
	}
	return "re-run apply once Genesys answers again; the changes already made are found done"
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
		return applyExitError, fmt.Errorf("%d of %d change requests not enqueued (re-run apply once the queue answers: what was enqueued is applied, and its re-planned copy finds it done)", len(pe.Failed), len(lines))
	}
	if err != nil {
		err = awsError(err)
		for i := range lines {
			lines[i].Status, lines[i].Error = "NOT_ENQUEUED", err.Error()
		}
		return applyExitError, err
	}
	return applyExitOK, nil
}

// writeApplyText writes a line per entity (status, operation, kind, name, change id and
// the error or the result's summary) in aligned columns and, under it, each field in
// conflict.
func writeApplyText(w io.Writer, lines []applyLine) error {
	var cols strings.Builder
	tw := tabwriter.NewWriter(&cols, 0, 0, 2, ' ', 0)
	for _, l := range lines {
		d := l.Error
		if d == "" && l.Result != nil {
			d = l.Result.Summary()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%q\t%s\t%s\n", l.Status, cmp.Or(l.Operation, "-"), l.Kind, l.Name, cmp.Or(l.ChangeID, "-"), d)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// The conflict lines go under their entity's line, outside the columns.
	var b strings.Builder
	i := 0
	for line := range strings.Lines(cols.String()) {
		b.WriteString(strings.TrimRight(line, " \n") + "\n")
		if r := lines[i].Result; r != nil {
			for _, c := range r.Conflicts {
				fmt.Fprintf(&b, "    %s\n", conflictText(c))
			}
		}
		i++
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
