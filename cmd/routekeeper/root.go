package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "routekeeper",
		Short: "Keep Genesys Cloud routing configuration equal to what git declares",
		Long: `routekeeper keeps a Genesys Cloud CX organisation's routing configuration
(queues, skills, task-management worktypes and priority-scored assignment rules)
equal to what a team declared in git, and reports drift fast.

Genesys credentials come from the environment:
  GENESYS_API_URL or GENESYS_REGION   API base URL, or a region such as eu-west-1
  GENESYS_LOGIN_URL                   OAuth host (default: API URL with api. -> login.)
  GENESYS_CLIENT_ID, GENESYS_CLIENT_SECRET   an OAuth client-credentials client
AWS (plan and apply with a table, publish, status) uses the standard chain: AWS_PROFILE
or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL.

Exit statuses, for pipelines:
  0    success; validate: valid; plan, diff: no changes
  1    error (invalid config for plan and apply, a reference that does not resolve,
       Genesys or AWS unreachable, ...); validate: a config is invalid
  2    usage mistake (unknown flag or command, bad argument); plan, diff: changes
       (a usage mistake then writes nothing to stdout)
  3    plan: the plan holds a conflict that needs a person; apply: a change ended
       CONFLICT or REJECTED, or the plan holds such a conflict
  130  interrupted (Ctrl-C); no partial file is left
Each command's --help gives its own.`,
		Example: `  # check a config in CI (exit 0 valid, 1 invalid, 2 usage or I/O error)
  routekeeper validate routing/

  # see what applying it would change (exit 0 none, 2 changes, 3 a conflict, 1 error)
  routekeeper plan -f routing/prod.yaml -out prod.plan

  # apply exactly the reviewed plan
  routekeeper apply prod.plan --direct`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// Runnable, so that an unknown command is a usage mistake (exit 2) like an
		// unknown flag, rather than cobra's own error.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(": did you mean %s?", strings.Join(s, " or "))
			}
			return usageError(cmd, fmt.Errorf("%s", msg))
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetVersionTemplate("routekeeper {{.Version}}\n")
	root.SuggestionsMinimumDistance = 2
	root.CompletionOptions.HiddenDefaultCmd = true
	root.PersistentFlags().Bool(noColorFlag, false, "no colour in text output (also: NO_COLOR set)")
	// Subcommands, one file each.
	root.AddCommand(newValidateCmd(), newSchemaCmd())
	root.AddCommand(newExportCmd(), newPlanCmd(), newDiffCmd())
	root.AddCommand(newDriftCmd())
	root.AddCommand(newPublishCmd(), newApplyCmd(), newStatusCmd())
	root.AddCommand(newHistoryCmd(), newRevertCmd())
	return usageExits(2, root)
}

// version is routekeeper's version from the build information Go stamps into the binary:
// the module version (a tag for `go install ...@v1.2.3`, "(devel)" for a build of a
// working tree) and the VCS revision, its time and whether the tree was modified.
func version() string { return versionOf(debug.ReadBuildInfo()) }

// versionOf is version of the build information bi (ok false: none).
func versionOf(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return "(unknown: built without module information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	parts := []string{v}
	if rev != "" {
		r := "revision " + rev
		if modified {
			r += " (modified)"
		}
		if at != "" {
			r += " of " + at
		}
		parts = append(parts, r)
	}
	parts = append(parts, bi.GoVersion)
	return strings.Join(parts, ", ")
}
