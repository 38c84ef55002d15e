package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
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

func newPlanCmd() *cobra.Command {
	var file, format, profile, table string
	var prune bool
	cmd := &cobra.Command{
		Use:   "plan -f CONFIG",
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

--format json is the machine plan ("schema": "routekeeper.plan/v1") that apply turns into
change requests: per entity kind, name, id, action, differences, baseEtag (the live ETag
the plan was made against) and desired (the declared fields, names not ids).
--format markdown fits a pull-request comment.

Overflow: while the backlog of an assignment rule's queue is above its maxCapacity, the
occupancy function points the worktype's defaultQueue at the rule's overflowQueue. With
the table (--table, default $TABLE_NAME) plan reads which overflows are active and expects
the overflow queue there: it says "overflow active" instead of proposing a revert. Without
a table it cannot know, and says so for every rule that declares an overflowQueue.

Exit status: 0 no changes, 2 changes, 1 error (invalid config, Genesys unreachable, ...).`,
		Example: `  routekeeper plan -f routing/prod.yaml
  routekeeper plan -f routing/prod/ --env prod --format markdown > plan.md
  routekeeper plan -f routing/prod.yaml --format json --prune > plan.json`,
		Args: maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd, file, format, profile, table, prune)
		},
	}
	fileFlag(cmd, &file)
	formatFlag(cmd, &format, "text", "json", "markdown")
	profileFlag(cmd, &profile)
	tableFlag(cmd, &table, "to read active overflows from")
	cmd.Flags().BoolVar(&prune, "prune", false, "delete live entities the config does not declare (kinds the config declares only)")
	return usageExits(1, cmd)
}

func runPlan(cmd *cobra.Command, file, format, profile, table string, prune bool) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := requireFile(cmd, file); err != nil {
		return err
	}
	lp, err := planConfig(cmd.Context(), stderr, "plan", file, profile, tableName(table), prune)
	if err != nil {
		return exitCode(1, err)
	}
	plan, client := lp.plan, lp.client
	err = writeAs(stdout, format, plan, writers{
		"text":     func(w io.Writer) error { return writePlanText(w, file, plan) },
		"markdown": func(w io.Writer) error { return writePlanMarkdown(w, file, plan) },
	})
	if err != nil {
		return exitCode(1, fmt.Errorf("write plan: %w", err))
	}
	fmt.Fprintf(stderr, "plan: %s (%d API requests)\n", planSummary(plan), client.Calls().Requests)
	if plan.HasChanges() {
		return exitCode(2, nil)
	}
	return nil
}

// loadDesired loads a config and compiles it into the desired state (assignment rules
// applied to their worktypes): what plan, apply and publish start from.
func loadDesired(path string) (*routing.Desired, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	desired, err := routing.Compile(cfg)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return desired, nil
}

// livePlan is a config planned against the live org.
type livePlan struct {
	desired *routing.Desired
	org     *live.Org
	client  *genesys.Client // for its call counts
	plan    *drift.Plan
}

// planConfig loads and compiles the config at path, reads the org of profile (printing
// the read's warnings as cmdName) and the active overflows from table ("": none read)
// and plans the config against them: the sequence plan and apply share.
func planConfig(ctx context.Context, stderr io.Writer, cmdName, path, profile, table string, prune bool) (livePlan, error) {
	desired, err := loadDesired(path)
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
	org, client, err := readLive(ctx, stderr, profile)
	if err != nil {
		return livePlan{}, err
	}
	printWarnings(stderr, cmdName, org)
	plan, err := drift.NewPlan(desired.Environment, docs, org, opts)
	if err != nil {
		return livePlan{}, err
	}
	return livePlan{desired: desired, org: org, client: client, plan: plan}, nil
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
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("aws configuration: %w", err)
	}
	active, err = drift.ActiveOverflow(ctx, store.New(dynamodb.NewFromConfig(awsCfg), table), desired.Environment)
	if err != nil {
		return nil, nil, fmt.Errorf("table %s: %w (check --table or TABLE_NAME and the AWS region; without a table the plan cannot know which overflows are active)", table, err)
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

func writePlanText(w io.Writer, config string, p *drift.Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan for %s against the live org\n", config)
	if len(p.Changes) == 0 && len(p.Conflicts) == 0 {
		b.WriteString("\nNo changes: the org matches the config.\n")
	}
	for _, c := range p.Conflicts {
		fmt.Fprintf(&b, "\n! conflict %s\n", conflictLine(c))
	}
	for _, o := range p.Overflow {
		fmt.Fprintf(&b, "\n%s worktype %q: %s\n", overflowSymbol[o.State], o.Worktype, o.Note)
	}
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "\n%s %s %s %q", actionSymbol[c.Action], c.Action, c.Kind, c.Name)
		if c.ID != "" {
			fmt.Fprintf(&b, " (id %s)", c.ID)
		}
		b.WriteString("\n")
		for _, d := range c.Differences {
			fmt.Fprintf(&b, "    %s: %s -> %s\n", d.Path, jsonValue(d.Live, d.Delta != document.Missing), jsonValue(d.Desired, true))
		}
	}
	if len(p.Unmanaged) > 0 {
		fmt.Fprintf(&b, "\nUnmanaged (live, not in the config; left alone%s): %s\n", pruneHint(p), unmanagedCounts(p))
		for _, kind := range entity.Kinds {
			names := unmanagedNames(p, kind, 5)
			if names != "" {
				fmt.Fprintf(&b, "    %s: %s\n", kind, names)
			}
		}
	}
	fmt.Fprintf(&b, "\nPlan: %s.\n", planSummary(p))
	_, err := io.WriteString(w, b.String())
	return err
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
	var names []string
	more := 0
	for _, u := range p.Unmanaged {
		if u.Kind != kind {
			continue
		}
		if len(names) < limit {
			names = append(names, fmt.Sprintf("%q", u.Name))
		} else {
			more++
		}
	}
	s := strings.Join(names, ", ")
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

func writePlanMarkdown(w io.Writer, config string, p *drift.Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### routekeeper plan: %s\n\n", mdText(config))
	fmt.Fprintf(&b, "**%s.**\n", planSummary(p))
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
