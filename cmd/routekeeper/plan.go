package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/routing"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Exit statuses of plan (as terraform plan -detailed-exitcode, plus 3).
const (
	planExitNone     = 0 // the org matches the config
	planExitError    = 1 // an error, or a change apply would refuse (an unresolved reference)
	planExitChanges  = 2 // changes to make (also a usage mistake: nothing is written to stdout then)
	planExitConflict = 3 // the plan holds a conflict that needs a person
)

type planFlags struct {
	file, format, profile, table, out string
	prune                             bool
}

func newPlanCmd() *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:   "plan -f CONFIG [-out PLANFILE]",
		Short: "Show what applying a config would change in the live org",
		Long: `plan compares a routing config (a file or a directory) with the live org, read with
list endpoints only, and lists what applying it would do:

  create   an entity the config declares that the org lacks
  update   a declared entity whose declared fields differ (field by field: path, live -> desired)
  delete   only with --prune: a live entity the config does not declare

Only declared fields are managed: a field the config leaves out is never compared
or changed. An entity that is live but not in the config is "unmanaged": it is listed
and left alone. --prune turns unmanaged entities into deletes, but only of the kinds the
config declares at least one entity of (a config without worktypes never deletes one).

Every reference of every change is resolved against the live org as apply will resolve
it: divisions, workbins, routing languages, member groups (teams, groups, skill groups),
skills and queues (those the plan creates count). One that does not resolve is an error,
reported as file:line:column: path: message, and the plan exits 1: apply would refuse it.

-out PLANFILE (or --out) saves the plan with the ETag of every entity it was made
against; routekeeper apply PLANFILE applies exactly that plan, and refuses, naming what
moved, when the org changed since.

--format json is the machine plan ("schema": "routekeeper.plan/v1") that apply turns into
change requests: per entity kind, name, id, action, differences, baseEtag (the live ETag
the plan was made against) and desired (the declared fields, names not ids), conflicts,
and problems (references that do not resolve). --format markdown fits a pull-request
comment. Text is coloured on a terminal (not with NO_COLOR set or --no-color).

Overflow: while the backlog of an assignment rule's queue is above its maxCapacity, the
occupancy function points the worktype's defaultQueue at the rule's overflowQueue. With
the table (--table, default $TABLE_NAME) plan reads which overflows are active and expects
the overflow queue there: it says "overflow active" instead of proposing a revert. Without
a table it cannot know, and says so for every rule that declares an overflowQueue.

Exit status: 0 no changes, 2 changes, 3 the plan holds a conflict that needs a person
(e.g. a skill whose name differs from the live one only in case), 1 error (invalid config,
a reference that does not resolve, Genesys unreachable, ...). A usage mistake also exits 2,
with nothing on stdout.`,
		Example: `  routekeeper plan -f routing/prod.yaml
  routekeeper plan -f routing/prod.yaml -out prod.plan && routekeeper apply prod.plan
  routekeeper plan -f routing/prod/ --env prod --format markdown > plan.md
  routekeeper plan -f routing/prod.yaml --format json --prune > plan.json`,
		Args: maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runPlan(cmd, f) },
	}
	fileFlag(cmd, &f.file)
	formatFlag(cmd, &f.format, "text", "json", "markdown")
	profileFlag(cmd, &f.profile)
	tableFlag(cmd, &f.table, "to read active overflows from")
	cmd.Flags().BoolVar(&f.prune, "prune", false, "delete live entities the config does not declare (kinds the config declares only)")
	cmd.Flags().StringVarP(&f.out, "out", "o", "", "save the plan to `PLANFILE` for routekeeper apply PLANFILE (also -out PLANFILE)")
	return usageExits(2, cmd)
}

// planOutput is plan's JSON: the plan and the problems apply would refuse.
type planOutput struct {
	*drift.Plan
	Problems []problemView `json:"problems,omitempty"`
}

func runPlan(cmd *cobra.Command, f planFlags) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := requireFile(cmd, f.file); err != nil {
		return err
	}
	if f.out != "" {
		if err := checkOutFile(f.out); err != nil {
			return usageError(cmd, fmt.Errorf("-out %w", err))
		}
	}
	lp, err := planConfig(cmd.Context(), stderr, "plan", f.file, f.profile, tableName(f.table), f.prune)
	if err != nil {
		return exitCode(planExitError, err)
	}
	plan := lp.plan
	problems := lp.problemViews()
	pal := paletteFor(cmd, stdout)
	err = writeAs(stdout, f.format, planOutput{Plan: plan, Problems: problems}, writers{
		"text":     func(w io.Writer) error { return writePlanText(w, f.file, plan, pal) },
		"markdown": func(w io.Writer) error { return writePlanMarkdown(w, f.file, plan, problems) },
	})
	if err != nil {
		return exitCode(planExitError, fmt.Errorf("write plan: %w", err))
	}
	// The text ends with the summary: stderr does not say it again.
	if f.format == "text" {
		fmt.Fprintf(stderr, "plan: %d Genesys API requests\n", lp.client.Calls().Requests)
	} else {
		fmt.Fprintf(stderr, "plan: %s (%d Genesys API requests)\n", planSummary(plan), lp.client.Calls().Requests)
	}
	if len(problems) > 0 {
		printProblems(stderr, problems)
		what := "the plan was not saved"
		if f.out == "" {
			what = "nothing can be applied until they are fixed"
		}
		return exitCode(planExitError, fmt.Errorf("%s that apply would refuse: %s (fix the config or the org, then plan again)", plural(len(problems), "problem"), what))
	}
	if f.out != "" {
		if err := saveVerifiedPlan(f.out, f.file, f.profile, lp); err != nil {
			return exitCode(planExitError, err)
		}
		fmt.Fprintf(stderr, "plan: saved to %s; apply exactly this plan with: routekeeper apply %s\n", f.out, f.out)
	}
	return planExit(plan)
}

// planExit is the exit status of a plan without problems.
func planExit(p *drift.Plan) error {
	switch {
	case len(p.Conflicts) > 0:
		return exitCode(planExitConflict, nil)
	case p.HasChanges():
		return exitCode(planExitChanges, nil)
	}
	return nil
}

// loadDesired loads a config and compiles it into the desired state (assignment rules
// applied to their worktypes): what plan, apply and publish start from.
func loadDesired(path string) (*routing.Desired, error) {
	_, desired, err := loadCompiled(path)
	return desired, err
}

// loadCompiled is loadDesired that also returns the loaded config (where each entity
// and field is declared).
func loadCompiled(path string) (*routing.Config, *routing.Desired, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	desired, err := routing.Compile(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, desired, nil
}

// livePlan is a config planned against the live org.
type livePlan struct {
	cfg      *routing.Config // where the config declares things
	desired  *routing.Desired
	org      *live.Org
	client   *genesys.Client // for its call counts
	plan     *drift.Plan
	problems []drift.Problem // what apply would refuse (drift.Preflight)
}

// planConfig loads and compiles the config at path, reads the org of profile (printing
// the read's warnings as cmdName) and the active overflows from table ("": none read),
// plans the config against them and checks the plan as apply will build its requests
// (drift.Preflight): the sequence plan and apply share.
func planConfig(ctx context.Context, stderr io.Writer, cmdName, path, profile, table string, prune bool) (livePlan, error) {
	cfg, desired, err := loadCompiled(path)
	if err != nil {
		return livePlan{}, err
	}
	docs, err := desired.Docs()
	if err != nil {
		return livePlan{}, err
	}
	opts := drift.PlanOptions{Prune: prune}
	if opts.Overflow, opts.OverflowUnknown, err = planOverflow(ctx, desired, table); err != nil {
		return livePlan{}, err
	}
	org, client, err := readLive(ctx, stderr, cmdName, profile)
	if err != nil {
		return livePlan{}, err
	}
	printWarnings(stderr, cmdName, org)
	plan, err := drift.NewPlan(desired.Environment, docs, org, opts)
	if err != nil {
		return livePlan{}, err
	}
	return livePlan{cfg: cfg, desired: desired, org: org, client: client, plan: plan, problems: drift.Preflight(plan, org)}, nil
}

// problemView is a drift.Problem with where the config declares it.
type problemView struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	drift.Problem
}

// String formats the problem as validate formats a diagnostic:
// file:line:column: kind "name": path: message.
func (p problemView) String() string {
	d := routing.Diagnostic{File: p.File, Line: p.Line, Column: p.Column, Message: p.Problem.Error()}
	return d.String()
}

// problemViews locates every problem of the plan in the config.
func (lp livePlan) problemViews() []problemView {
	out := make([]problemView, len(lp.problems))
	for i, p := range lp.problems {
		out[i] = problemView{Problem: p}
		if lp.cfg != nil {
			if file, line, col, ok := lp.cfg.ReferencePosition(string(p.Kind), p.Name, p.Path, p.Ref); ok {
				out[i].File, out[i].Line, out[i].Column = file, line, col
			}
		}
	}
	return out
}

// printProblems writes one line per problem to stderr, as validate writes diagnostics.
func printProblems(w io.Writer, problems []problemView) {
	for _, p := range problems {
		fmt.Fprintln(w, p.String()) // not %s: the embedded Problem's Error would win
	}
}

// planOverflow says how a plan treats the config's overflowing assignment rules: with a
// table, the active overflows of the config's environment (the plan expects their
// overflow queue); without one (or without an environment to read them for), every rule
// that declares an overflowQueue, whose state the plan cannot know.
func planOverflow(ctx context.Context, desired *routing.Desired, table string) (active, unknown map[string]string, err error) {
	if len(desired.Overflow) == 0 {
		return nil, nil, nil
	}
	if table == "" || desired.Environment == "" {
		unknown = map[string]string{}
		for _, o := range desired.Overflow {
			unknown[o.Worktype] = o.OverflowQueue
		}
		return nil, unknown, nil
	}
	awsCfg, err := awsConfig(ctx)
	if err != nil {
		return nil, nil, err
	}
	active, err = drift.ActiveOverflow(ctx, store.New(dynamodb.NewFromConfig(awsCfg), table), desired.Environment)
	if err != nil {
		return nil, nil, fmt.Errorf("table %s: %w (check --table or TABLE_NAME and the AWS region; without a table the plan cannot know which overflows are active)", table, awsError(err))
	}
	return active, nil, nil
}

// loadConfig loads a config, turning validation errors into a readable list.
func loadConfig(path string) (*routing.Config, error) {
	cfg, err := routing.Load(path)
	var ve *routing.ValidationError
	if errors.As(err, &ve) {
		lines := make([]string, len(ve.Diagnostics))
		for i, d := range ve.Diagnostics {
			lines[i] = "  " + d.String()
		}
		return nil, fmt.Errorf("config %s is invalid (run routekeeper validate %s):\n%s", path, path, strings.Join(lines, "\n"))
	}
	if err != nil {
		return nil, err // routing.Load names the config and what went wrong
	}
	return cfg, nil
}

func planSummary(p *drift.Plan) string {
	s := p.Summary
	out := fmt.Sprintf("%d to create, %d to update, %d to delete, %d unchanged, %d unmanaged",
		s.Create, s.Update, s.Delete, s.Unchanged, s.Unmanaged)
	if n := len(p.Conflicts); n > 0 {
		out += fmt.Sprintf(", %d in conflict (manual action needed)", n)
	}
	return out
}

// conflictLine describes a plan conflict: an entity routekeeper cannot reconcile by itself.
func conflictLine(c drift.PlanConflict) string {
	s := fmt.Sprintf("%s %q: live %q", c.Kind, c.Name, c.LiveName)
	if c.ID != "" {
		s += " (id " + c.ID + ")"
	}
	return s + ": " + c.Reason
}

// jsonValue renders a field value compactly and canonically; absent is "(absent)".
func jsonValue(v any, present bool) string {
	if !present {
		return "(absent)"
	}
	b, err := document.CanonicalJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

var actionSymbol = map[drift.Action]string{drift.ActionCreate: "+", drift.ActionUpdate: "~", drift.ActionDelete: "-"}

// overflowSymbol marks a worktype's overflow line: expected at the overflow queue, or unknown.
var overflowSymbol = map[string]string{drift.OverflowActive: "=", drift.OverflowUnknown: "?"}

func writePlanText(w io.Writer, config string, p *drift.Plan, pal palette) error {
	// Streamed: the text of a plan of thousands of creates runs to megabytes.
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "Plan for %s against the live org\n", config)
	if len(p.Changes) == 0 && len(p.Conflicts) == 0 {
		b.WriteString("\nNo changes: the org matches the config.\n")
	}
	for _, c := range p.Conflicts {
		fmt.Fprintf(b, "\n%s\n", pal.conflict("! conflict "+conflictLine(c)))
	}
	for _, o := range p.Overflow {
		fmt.Fprintf(b, "\n%s worktype %q: %s\n", overflowSymbol[o.State], o.Worktype, o.Note)
	}
	for _, c := range p.Changes {
		head := fmt.Sprintf("%s %s %s %q", actionSymbol[c.Action], c.Action, c.Kind, c.Name)
		if c.ID != "" {
			head += fmt.Sprintf(" (id %s)", c.ID)
		}
		fmt.Fprintf(b, "\n%s\n", pal.action(c.Action, head))
		for _, d := range c.Differences {
			fmt.Fprintf(b, "    %s: %s -> %s\n", d.Path, jsonValue(d.Live, d.Delta != document.Missing), jsonValue(d.Desired, true))
		}
	}
	if len(p.Unmanaged) > 0 {
		fmt.Fprintf(b, "\nUnmanaged (live, not in the config; left alone%s): %s\n", pruneHint(p), unmanagedCounts(p))
		for _, kind := range entity.Kinds {
			names := unmanagedNames(p, kind, 5)
			if names != "" {
				fmt.Fprintf(b, "    %s: %s\n", kind, names)
			}
		}
	}
	fmt.Fprintf(b, "\nPlan: %s.\n", planSummary(p))
	return b.Flush()
}

func pruneHint(p *drift.Plan) string {
	if p.Summary.Delete > 0 {
		return ""
	}
	return "; --prune deletes those of declared kinds"
}

func unmanagedCounts(p *drift.Plan) string {
	var parts []string
	for _, kind := range entity.Kinds {
		n := 0
		for _, u := range p.Unmanaged {
			if u.Kind == kind {
				n++
			}
		}
		if n > 0 {
			parts = append(parts, plural(n, string(kind)))
		}
	}
	return strings.Join(parts, ", ")
}

// unmanagedNames lists up to limit unmanaged names of kind, quoted.
func unmanagedNames(p *drift.Plan, kind entity.Kind, limit int) string {
	return quotedNames(func(yield func(string) bool) {
		for _, u := range p.Unmanaged {
			if u.Kind == kind && !yield(u.Name) {
				return
			}
		}
	}, limit)
}

// quotedNames joins up to limit of names, quoted, and says how many more there are.
func quotedNames(names iter.Seq[string], limit int) string {
	var out []string
	more := 0
	for n := range names {
		if len(out) < limit {
			out = append(out, strconv.Quote(n))
		} else {
			more++
		}
	}
	s := strings.Join(out, ", ")
	if more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

// lineBreaks turns line breaks into spaces: a Markdown table row is one line.
var lineBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

// mdCell escapes a value for a Markdown table cell as inline code.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = lineBreaks.Replace(s)
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// mdText escapes plain text for Markdown (names can hold *, _, | ...).
func mdText(s string) string {
	r := strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", `\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`)
	return r.Replace(s)
}

func writePlanMarkdown(w io.Writer, config string, p *drift.Plan, problems []problemView) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### routekeeper plan: %s\n\n", mdText(config))
	fmt.Fprintf(&b, "**%s.**\n", planSummary(p))
	if len(problems) > 0 {
		b.WriteString("\nProblems (apply would refuse these; fix them and plan again):\n\n")
		for _, pr := range problems {
			fmt.Fprintf(&b, "- %s\n", mdText(pr.String()))
		}
	}
	if len(p.Conflicts) > 0 {
		b.WriteString("\nConflicts (manual action needed):\n\n")
		for _, c := range p.Conflicts {
			fmt.Fprintf(&b, "- %s\n", mdText(conflictLine(c)))
		}
	}
	if len(p.Overflow) > 0 {
		b.WriteString("\nOverflow:\n\n")
		for _, o := range p.Overflow {
			fmt.Fprintf(&b, "- worktype %s: %s\n", mdText(o.Worktype), mdText(o.Note))
		}
	}
	if len(p.Changes) == 0 && len(p.Conflicts) == 0 {
		b.WriteString("\nNo changes: the org matches the config.\n")
	} else if len(p.Changes) > 0 {
		b.WriteString("\n| | Action | Kind | Name | Fields |\n|---|---|---|---|---|\n")
		for _, c := range p.Changes {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %d |\n", actionSymbol[c.Action], c.Action, c.Kind, mdText(c.Name), len(c.Differences))
		}
		for _, c := range p.Changes {
			if len(c.Differences) == 0 {
				continue
			}
			fmt.Fprintf(&b, "\n<details><summary>%s %s %s</summary>\n\n", c.Action, c.Kind, mdText(c.Name))
			b.WriteString("| Path | Live | Desired |\n|---|---|---|\n")
			for _, d := range c.Differences {
				fmt.Fprintf(&b, "| %s | %s | %s |\n", mdCell(d.Path), mdCell(jsonValue(d.Live, d.Delta != document.Missing)), mdCell(jsonValue(d.Desired, true)))
			}
			b.WriteString("\n</details>\n")
		}
	}
	if len(p.Unmanaged) > 0 {
		fmt.Fprintf(&b, "\nUnmanaged (live, not in the config; left alone%s): %s.\n", pruneHint(p), unmanagedCounts(p))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
