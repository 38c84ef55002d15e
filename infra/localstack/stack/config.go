package stack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/routing"
	"github.com/routekeeper/routekeeper/shared/store"
)

// PublishVersion is the version Publish stamps on the desired state (`routekeeper publish
// --version`): a config published by the local stack comes from the working tree, not
// from a commit.
const PublishVersion = "local"

// LoadConfig loads and compiles the routing config at path (a file or a directory, as
// `routekeeper validate` takes it) for Publish. An invalid config is an error listing every
// diagnostic as file:line: path: message (errors.Is routing.ErrInvalid); a config without
// an environment is an error too, since its desired state would have nowhere to go.
func LoadConfig(path string) (*routing.Desired, error) {
	invalid := func(err error) error {
		if errors.Is(err, routing.ErrInvalid) {
			return fmt.Errorf("config %s is invalid; fix it (`routekeeper validate %s` shows the same): %w", path, path, err)
		}
		return fmt.Errorf("config %s: %w", path, err)
	}
	cfg, err := routing.Load(path)
	if err != nil {
		return nil, invalid(err)
	}
	desired, err := routing.Compile(cfg)
	if err != nil {
		return nil, invalid(err)
	}
	if desired.Environment == "" {
		return nil, fmt.Errorf("config %s declares no environment: add \"environment: <name>\" so its desired state is stored under it and the function runs for it", path)
	}
	return desired, nil
}

// Publish makes desired the complete desired state of its environment in the stack's
// table at PublishVersion, as `routekeeper publish` does (drift.Publish, and the overflow
// rules the occupancy function reads: OverflowRules), and returns the entities it stored
// and those it removed (no longer declared).
func (s *Stack) Publish(ctx context.Context, desired *routing.Desired) ([]store.Desired, []entity.Key, error) {
	if desired.Environment == "" {
		return nil, nil, errors.New("publish: the config declares no environment")
	}
	docs, err := desired.Docs()
	if err != nil {
		return nil, nil, fmt.Errorf("publish %s: %w", desired.Environment, err)
	}
	st := store.New(dynamodb.NewFromConfig(s.AWS), s.Resources.TableName)
	published, removed, err := drift.Publish(ctx, st, desired.Environment, PublishVersion, docs)
	if err != nil {
		return nil, nil, fmt.Errorf("publish %s to table %s: %w", desired.Environment, s.Resources.TableName, err)
	}
	if _, err := st.PublishOverflowRules(ctx, desired.Environment, PublishVersion, OverflowRules(desired)); err != nil {
		return nil, nil, fmt.Errorf("publish the overflow rules of %s to table %s: %w", desired.Environment, s.Resources.TableName, err)
	}
	return published, removed, nil
}

// OverflowRules is the overflow side of desired's assignment rules as the table holds it,
// the hysteresis resolved by routing.Compile: what `routekeeper publish` writes
// (cmd/routekeeper publish.go maps them the same way).
func OverflowRules(desired *routing.Desired) []store.OverflowRule {
	out := make([]store.OverflowRule, len(desired.Overflow))
	for i, o := range desired.Overflow {
		out[i] = store.OverflowRule{Environment: desired.Environment, Rule: o.Rule, Worktype: o.Worktype,
			Queue: o.Queue, OverflowQueue: o.OverflowQueue, MaxCapacity: o.MaxCapacity,
			OverflowAfter: o.OverflowAfter, ResumeBelow: o.ResumeBelow, ResumeAfter: o.ResumeAfter,
			MinDwell: time.Duration(o.MinDwellSeconds) * time.Second}
	}
	return out
}
