package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/routing"
	"github.com/routekeeper/routekeeper/shared/store"
)

func newPublishCmd() *cobra.Command {
	var file, table, version string
	cmd := &cobra.Command{
		Use:   "publish -f CONFIG [--table NAME] [--version COMMIT]",
		Short: "Publish a config's desired state to the routekeeper table",
		Long: `publish compiles a routing config (assignment rules applied to their worktypes) and
writes the desired state of every entity to the routekeeper DynamoDB table, stamped with
--version, so the drift scan and the webhook compare live state with what git declares.
It replaces the environment's whole desired state: entities no longer in the config are
removed from the table (not from Genesys) and listed. The overflow side of the assignment
rules (queue, overflowQueue, maxCapacity and the hysteresis with its defaults applied) is
published beside it, as the occupancy function reads it.

The environment is the config's "environment". The table is --table or $TABLE_NAME;
AWS credentials and region come from the standard AWS configuration chain
(AWS_PROFILE, AWS_REGION, ...; AWS_ENDPOINT_URL reaches a local stack).

Exit status: 0 published, 1 error (invalid config, AWS unreachable, ...), 2 usage.`,
		Example: `  routekeeper publish -f routing/prod.yaml --table routekeeper-prod-Table --version "$GITHUB_SHA"`,
		Args:    maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPublish(cmd, file, table, version)
		},
	}
	fileFlag(cmd, &file)
	tableFlag(cmd, &table, "to publish to")
	cmd.Flags().StringVar(&version, "version", "", "config version, e.g. the git commit (default $GITHUB_SHA, else \"unversioned\")")
	return usageExits(2, cmd)
}

func runPublish(cmd *cobra.Command, file, table, version string) error {
	ctx, stdout := cmd.Context(), cmd.OutOrStdout()
	if err := requireFile(cmd, file); err != nil {
		return err
	}
	table, err := requireTable(cmd, table)
	if err != nil {
		return err
	}
	version = firstNonEmpty(version, getenv("GITHUB_SHA"), "unversioned")
	desired, err := loadDesired(file)
	if err != nil {
		return exitCode(1, err)
	}
	if desired.Environment == "" {
		return exitCode(1, fmt.Errorf("config %s declares no environment: add \"environment: <name>\" so its desired state is stored under it", file))
	}
	docs, err := desired.Docs()
	if err != nil {
		return exitCode(1, err)
	}
	awsCfg, err := awsConfig(ctx)
	if err != nil {
		return exitCode(1, err)
	}
	st := store.New(dynamodb.NewFromConfig(awsCfg), table)
	entities, removed, err := drift.Publish(ctx, st, desired.Environment, version, docs)
	if err != nil {
		return exitCode(1, fmt.Errorf("publish to table %s: %w", table, awsError(err)))
	}
	rules := overflowRules(desired)
	removedRules, err := st.PublishOverflowRules(ctx, desired.Environment, version, rules)
	if err != nil {
		return exitCode(1, fmt.Errorf("publish the overflow rules to table %s: %w (the entities are published; publish again)", table, awsError(err)))
	}
	writePublished(stdout, desired.Environment, version, table, entities, removed, len(rules), removedRules)
	return nil
}

// overflowRules is the overflow side of desired's assignment rules as the table holds it
// (the occupancy function's input): one store.OverflowRule per routing.Overflow, whose
// hysteresis Compile resolved already.
func overflowRules(desired *routing.Desired) []store.OverflowRule {
	out := make([]store.OverflowRule, len(desired.Overflow))
	for i, o := range desired.Overflow {
		out[i] = store.OverflowRule{Environment: desired.Environment, Rule: o.Rule, Worktype: o.Worktype,
			Queue: o.Queue, OverflowQueue: o.OverflowQueue, MaxCapacity: o.MaxCapacity,
			OverflowAfter: o.OverflowAfter, ResumeBelow: o.ResumeBelow, ResumeAfter: o.ResumeAfter,
			MinDwell: time.Duration(o.MinDwellSeconds) * time.Second}
	}
	return out
}

func writePublished(w io.Writer, env, version, table string, entities []store.Desired, removed []entity.Key, rules int, removedRules []string) {
	counts := map[entity.Kind]int{}
	for _, e := range entities {
		counts[e.Key.Kind]++
	}
	fmt.Fprintf(w, "published %s at %s to %s: %d skills, %d queues, %d worktypes, %s\n",
		env, version, table, counts[entity.Skill], counts[entity.Queue], counts[entity.Worktype], plural(rules, "overflow rule"))
	if len(removed) > 0 {
		names := make([]string, len(removed))
		for i, k := range removed {
			names[i] = string(k.Kind) + "/" + k.Name
		}
		fmt.Fprintf(w, "no longer desired (removed from the table, not from Genesys): %s\n", strings.Join(names, ", "))
	}
	if len(removedRules) > 0 {
		fmt.Fprintf(w, "overflow rules no longer declared (removed from the table): %s\n", strings.Join(removedRules, ", "))
	}
}
