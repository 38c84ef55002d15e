package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/store"
)

func newStatusCmd() *cobra.Command {
	var table, env, format string
	var limit int
	cmd := &cobra.Command{
		Use:   "status [CHANGE_ID] [--table NAME] [--environment ENV]",
		Short: "Show change requests: status, attempts, last error, conflicts",
		Long: `status reads change-request records from the routekeeper table.

With CHANGE_ID it shows that request: status (INPROGRESS, FAILED, APPLIED, NOOP, CONFLICT,
REJECTED), entity, operation, attempts and last error of failed attempts, and its result:
the fields written, or for a CONFLICT every field with its base, ours and theirs value.
Without it, it lists the newest --limit requests of the environment --environment (default
$ROUTEKEEPER_ENVIRONMENT). A FAILED request whose message reached the dead-letter queue
stays FAILED with its last error.

The table is --table or $TABLE_NAME; AWS configuration comes from the standard chain.

Exit status: 0 shown, 1 error (not found, AWS unreachable), 2 usage.`,
		Example: `  routekeeper status --environment prod
  routekeeper status chg-0190b6d4-7c4e-7a51-9d7e-6b2f0c1d2e3f --format json`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := ""
			if len(args) == 1 {
				id = args[0]
			}
			return runStatus(cmd, id, table, env, format, limit)
		},
	}
	tableFlag(cmd, &table, "holding the change records")
	environmentFlag(cmd, &env, "whose requests to list (default $ROUTEKEEPER_ENVIRONMENT)")
	formatFlag(cmd, &format, "text", "json")
	cmd.Flags().IntVar(&limit, "limit", 20, "how many requests to list, newest first")
	return usageExits(2, cmd)
}

// changeView is a change record as status shows it.
type changeView struct {
	ChangeID    string       `json:"changeId"`
	Status      store.Status `json:"status"`
	Environment string       `json:"environment"`
	Entity      string       `json:"entity"` // "" for an invalid message that names no entity
	Operation   string       `json:"operation"`
	RequestedBy string       `json:"requestedBy,omitempty"`
	RequestedAt time.Time    `json:"requestedAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
	// Attempts is how many times the apply function took the change up (its claims: an
	// APPLIED change applied at the first try has 1); FailedAttempts how many of those
	// ended with an error recorded.
	Attempts       int           `json:"attempts"`
	FailedAttempts int           `json:"failedAttempts"`
	LastError      string        `json:"lastError,omitempty"`
	Result         *apply.Result `json:"result,omitempty"`
	// Overwrites are the other edits seen inside the change's write window
	// (POSSIBLE_OVERWRITE).
	Overwrites []store.Overwrite `json:"overwrites,omitempty"`
	// RevertOf is the change this one reverts, RevertedBy the reverts requested of it
	// (routekeeper revert links both records).
	RevertOf   string   `json:"revertOf,omitempty"`
	RevertedBy []string `json:"revertedBy,omitempty"`
}

func viewOf(c *store.Change) changeView {
	v := changeView{ChangeID: c.ID, Status: c.Status, Environment: c.Info.Entity.Environment, Operation: c.Info.Operation,
		RequestedBy: c.Info.RequestedBy, RequestedAt: c.Info.RequestedAt, UpdatedAt: c.UpdatedAt,
		Attempts: max(c.Claims, c.Attempts), FailedAttempts: c.Attempts, LastError: c.LastError, Overwrites: c.Overwrites, RevertOf: c.RevertOf, RevertedBy: c.RevertedBy}
	if c.Info.HasEntity() {
		v.Entity = c.Info.Entity.String()
	}
	if len(c.Result) > 0 {
		var r apply.Result
		if json.Unmarshal(c.Result, &r) == nil {
			v.Result = &r
			// The entity as the request named it: a request for another environment is
			// listed under the environment of the stack that rejected it (Environment),
			// while its entity keeps the request's environment.
			if r.Entity != "" {
				v.Entity = r.Entity
			}
		}
	}
	return v
}

func runStatus(cmd *cobra.Command, id, table, env, format string, limit int) error {
	ctx, stdout := cmd.Context(), cmd.OutOrStdout()
	table, err := requireTable(cmd, table)
	if err != nil {
		return err
	}
	env = environmentName(env)
	if id == "" && env == "" {
		return usageError(cmd, errors.New("pass a CHANGE_ID, or --environment ENV (or ROUTEKEEPER_ENVIRONMENT) to list an environment's requests"))
	}
	if limit <= 0 {
		return usageError(cmd, fmt.Errorf("--limit %d: want a positive number", limit))
	}
	awsCfg, err := awsConfig(ctx)
	if err != nil {
		return exitCode(1, err)
	}
	st := store.New(dynamodb.NewFromConfig(awsCfg), table)
	if id != "" {
		c, err := st.GetChange(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return exitCode(1, fmt.Errorf("no change request %s in table %s (records expire after 30 days; check the id)", id, table))
		}
		if err != nil {
			return exitCode(1, fmt.Errorf("table %s: %w", table, awsError(err)))
		}
		v := viewOf(c)
		return writeAs(stdout, format, v, writers{"text": func(w io.Writer) error { return writeChangeDetail(w, v) }})
	}
	list, err := st.ListChanges(ctx, env, limit)
	if err != nil {
		return exitCode(1, fmt.Errorf("table %s: %w", table, awsError(err)))
	}
	views := make([]changeView, len(list))
	for i, c := range list {
		views[i] = viewOf(c)
	}
	return writeAs(stdout, format, views, writers{"text": func(w io.Writer) error { return writeChangeList(w, env, views) }})
}

// writeChangeList writes a table of requests, a line each, newest first.
func writeChangeList(w io.Writer, env string, views []changeView) error {
	if len(views) == 0 {
		_, err := fmt.Fprintf(w, "no change requests recorded for environment %s\n", env)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUESTED\tSTATUS\tOPERATION\tENTITY\tATTEMPTS\tCHANGE ID\tDETAIL")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", v.RequestedAt.UTC().Format(time.RFC3339), v.Status, v.Operation,
			entityText(v), v.Attempts, v.ChangeID, oneLine(detail(v), 100))
	}
	return tw.Flush()
}

// entityText names the request's entity, or says that the message named none.
func entityText(v changeView) string {
	if v.Entity == "" {
		return "(none: invalid message in " + v.Environment + ")"
	}
	return v.Entity
}

// detail is the most useful single fact about a request: the last error of one not
// finished, else its result's summary.
func detail(v changeView) string {
	switch {
	case v.Status == store.StatusFailed || v.Status == store.StatusInProgress && v.LastError != "":
		return "last error: " + v.LastError
	case v.Result == nil:
		return ""
	case len(v.Overwrites) > 0:
		return fmt.Sprintf("%s; %d edit(s) by others inside its write window", v.Result.Summary(), len(v.Overwrites))
	}
	return v.Result.Summary()
}

// writeChangeDetail writes every fact status knows about one request.
func writeChangeDetail(w io.Writer, v changeView) error {
	var b strings.Builder
	fmt.Fprintf(&b, "change %s\n", v.ChangeID)
	fmt.Fprintf(&b, "  status:     %s\n", v.Status)
	fmt.Fprintf(&b, "  entity:     %s\n", entityText(v))
	fmt.Fprintf(&b, "  operation:  %s\n", v.Operation)
	if v.RequestedBy != "" {
		fmt.Fprintf(&b, "  requested:  %s by %s\n", v.RequestedAt.UTC().Format(time.RFC3339), v.RequestedBy)
	}
	fmt.Fprintf(&b, "  updated:    %s\n", v.UpdatedAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "  attempts:   %d (%d failed)\n", v.Attempts, v.FailedAttempts)
	if v.LastError != "" {
		fmt.Fprintf(&b, "  last error: %s\n", v.LastError)
	}
	if v.RevertOf != "" {
		fmt.Fprintf(&b, "  revert of:  %s\n", v.RevertOf)
	}
	if len(v.RevertedBy) > 0 {
		fmt.Fprintf(&b, "  reverted by: %s\n", strings.Join(v.RevertedBy, ", "))
	}
	if r := v.Result; r != nil {
		if r.EntityID != "" {
			fmt.Fprintf(&b, "  genesys id: %s\n", r.EntityID)
		}
		if s := r.Summary(); s != "" {
			fmt.Fprintf(&b, "  result:     %s\n", s)
		}
		if r.Merged {
			b.WriteString("  merged:     yes (live had changed since the plan in other fields)\n")
		}
		if r.ETag != "" {
			fmt.Fprintf(&b, "  etag:       %s\n", r.ETag)
		}
		if r.CorrelationID != "" {
			fmt.Fprintf(&b, "  genesys correlation id: %s\n", r.CorrelationID)
		}
		if r.PriorAttempts > 0 {
			fmt.Fprintf(&b, "  earlier attempts: %d (did not finish; one may have made this change)\n", r.PriorAttempts)
		}
		if r.Truncated {
			b.WriteString("  note:       conflict values too large for the record were omitted\n")
		}
		for _, c := range r.Conflicts {
			fmt.Fprintf(&b, "  %s\n", conflictText(c))
		}
	}
	for _, o := range v.Overwrites {
		who := o.UserID
		if o.ClientID != "" {
			who += " (client " + o.ClientID + ")"
		}
		fmt.Fprintf(&b, "  possible overwrite: an edit by %s at %s (audit event %s) landed inside this change's write\n",
			cmp.Or(who, "someone"), o.EventTime.UTC().Format(time.RFC3339Nano), o.EventID)
		if len(o.Overwritten) > 0 {
			fmt.Fprintf(&b, "    overwritten by this change: %s (their value is lost; decide which stands)\n", strings.Join(o.Overwritten, ", "))
		}
		if len(o.Restored) > 0 {
			fmt.Fprintf(&b, "    reverted by this change's full replace and put back: %s\n", strings.Join(o.Restored, ", "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// conflictText describes a field in conflict: its path, why, and its base, ours and
// theirs value.
func conflictText(c document.Conflict) string {
	path := c.Path
	if path == "" {
		path = "(whole entity)"
	}
	return fmt.Sprintf("conflict %s (%s): base %s, ours %s, theirs %s", path, c.Reason, jsonText(c.Base), jsonText(c.Ours), jsonText(c.Theirs))
}

func jsonText(v any) string {
	if v == nil {
		return "(absent)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return oneLine(string(b), 200)
}

func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len([]rune(s)) > limit {
		s = string([]rune(s)[:limit]) + "…"
	}
	return s
}
