package main

import (
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
  GENESYS_CLIENT_ID, GENESYS_CLIENT_SECRET   an OAuth client-credentials client`,
		Example: `  # check a config in CI (exit 0 valid, 1 invalid, 2 usage or I/O error)
  routekeeper validate routing/

  # see what applying it would change (exit 0 none, 2 changes, 1 error)
  routekeeper plan -f routing/prod.yaml`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	// Subcommands, one file each.
	root.AddCommand(newValidateCmd(), newSchemaCmd())
	root.AddCommand(newExportCmd(), newPlanCmd(), newDiffCmd())
	root.AddCommand(newPublishCmd(), newApplyCmd(), newStatusCmd())
	return root
}
