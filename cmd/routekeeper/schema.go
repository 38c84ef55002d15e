package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/routekeeper/routekeeper/shared/routing"
)

func newSchemaCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the routing config format",
		Long: `schema prints the JSON Schema (draft 2020-12) of routekeeper/v1 routing configs, the
one validate uses. Point your editor at it for completion and inline errors.`,
		Example: `  # save it next to your configs
  routekeeper schema > routing/routekeeper.schema.json

  # then start each YAML file with this line (yaml-language-server, e.g. VS Code YAML):
  # yaml-language-server: $schema=./routekeeper.schema.json`,
		Args: maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := cmd.OutOrStdout().Write(routing.Schema()); err != nil {
				return exitCode(2, fmt.Errorf("write schema: %w", err))
			}
			return nil
		},
	}
	return usageExits(2, cmd)
}
