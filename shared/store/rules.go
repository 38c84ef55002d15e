package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// OverflowRule is the overflow side of one assignment rule as git declares it, with the
// defaults of its hysteresis applied (routing.Overflow): what the occupancy function
// reads to decide where new tasks of Worktype go. The desired worktype documents
// (PublishDesired) carry only the rule's queue, skills and priority; these records carry
// the rest.
type OverflowRule struct {
	Environment   string
	Rule          string // the assignment rule's name, unique in the environment
	Worktype      string // at most one rule per worktype
	Queue         string
	OverflowQueue string
	MaxCapacity   int // backlog at or above which new tasks overflow (>= 1)
	OverflowAfter int // consecutive samples at or above MaxCapacity before they do (>= 1)
	ResumeBelow   int // backlog at or below which they come back (0 <= ResumeBelow < MaxCapacity)
	ResumeAfter   int // consecutive samples at or below ResumeBelow before they do (>= 1)
	// MinDwell is how long the overflow stays as it is after a switch (>= 0; whole
	// seconds in the table).
	MinDwell time.Duration

	Version     string    // config version it came from (set by PublishOverflowRules)
	PublishedAt time.Time // set by PublishOverflowRules
}

// prefixRule starts the sort key of an environment's desired overflow rules (package doc).
const prefixRule = "RULE#"

func ruleSK(rule string) string { return prefixRule + rule }

type ruleItem struct {
	PK              string `dynamodbav:"pk"`
	SK              string `dynamodbav:"sk"`
	Environment     string `dynamodbav:"environment"`
	Rule            string `dynamodbav:"rule"`
	Worktype        string `dynamodbav:"worktype"`
	Queue           string `dynamodbav:"queue"`
	OverflowQueue   string `dynamodbav:"overflowQueue"`
	MaxCapacity     int    `dynamodbav:"maxCapacity"`
	OverflowAfter   int    `dynamodbav:"overflowAfter"`
	ResumeBelow     int    `dynamodbav:"resumeBelow"`
	ResumeAfter     int    `dynamodbav:"resumeAfter"`
	MinDwellSeconds int64  `dynamodbav:"minDwellSeconds"`
	Version         string `dynamodbav:"version"`
	PublishedAt     string `dynamodbav:"publishedAt"`
}

func (it ruleItem) rule() OverflowRule {
	return OverflowRule{
		Environment: it.Environment, Rule: it.Rule, Worktype: it.Worktype, Queue: it.Queue,
		OverflowQueue: it.OverflowQueue, MaxCapacity: it.MaxCapacity, OverflowAfter: it.OverflowAfter,
		ResumeBelow: it.ResumeBelow, ResumeAfter: it.ResumeAfter,
		MinDwell: time.Duration(it.MinDwellSeconds) * time.Second,
		Version:  it.Version, PublishedAt: parseTime(it.PublishedAt),
	}
}

// Validate checks one rule as PublishOverflowRules stores it; the error names the rule
// and the field.
func (r OverflowRule) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("store: overflow rule %q of %s: %s", r.Rule, r.Environment, fmt.Sprintf(format, args...))
	}
	switch {
	case r.Rule == "":
		return bad("empty rule name")
	case r.Worktype == "" || r.Queue == "" || r.OverflowQueue == "":
		return bad("worktype %q, queue %q, overflowQueue %q: want all three", r.Worktype, r.Queue, r.OverflowQueue)
	case r.Queue == r.OverflowQueue:
		return bad("overflowQueue %q is the rule's own queue", r.OverflowQueue)
	case r.MaxCapacity < 1:
		return bad("maxCapacity %d: want at least 1", r.MaxCapacity)
	case r.OverflowAfter < 1 || r.ResumeAfter < 1:
		return bad("overflowAfter %d, resumeAfter %d: want at least 1 sample each", r.OverflowAfter, r.ResumeAfter)
	case r.ResumeBelow < 0 || r.ResumeBelow >= r.MaxCapacity:
		return bad("resumeBelow %d: want 0 to maxCapacity-1 (%d)", r.ResumeBelow, r.MaxCapacity-1)
	case r.MinDwell < 0 || r.MinDwell%time.Second != 0:
		return bad("minDwell %s: want whole seconds, at least 0", r.MinDwell)
	}
	return nil
}

// PublishOverflowRules makes rules the complete set of desired overflow rules of env at
// version, as PublishDesired does for entities (routekeeper publish writes both): every
// rule stamped with version and the publication time, then the rules of env no longer in
// the set deleted, and their names returned. A rule's Environment must be env or empty.
// The whole set is checked before anything is written: one rule per name and per
// worktype, each valid (OverflowRule.Validate).
func (s *Store) PublishOverflowRules(ctx context.Context, env, version string, rules []OverflowRule) (removed []string, err error) {
	if err := validEnv(env); err != nil {
		return nil, err
	}
	if version == "" {
		return nil, fmt.Errorf("store: publish overflow rules of %s: empty version", env)
	}
	names, worktypes := map[string]bool{}, map[string]string{}
	now := formatTime(s.now())
	reqs := make([]types.WriteRequest, 0, len(rules))
	for _, r := range rules {
		if r.Environment != "" && r.Environment != env {
			return nil, fmt.Errorf("store: publish overflow rules of %s: rule %q belongs to environment %s", env, r.Rule, r.Environment)
		}
		r.Environment = env
		if err := r.Validate(); err != nil {
			return nil, err
		}
		if names[r.Rule] {
			return nil, fmt.Errorf("store: publish overflow rules of %s: rule %q listed twice", env, r.Rule)
		}
		if prev, dup := worktypes[r.Worktype]; dup {
			return nil, fmt.Errorf("store: publish overflow rules of %s: rules %q and %q both route worktype %q", env, prev, r.Rule, r.Worktype)
		}
		names[r.Rule], worktypes[r.Worktype] = true, r.Rule
		item, err := attributevalue.MarshalMap(ruleItem{
			PK: envPK(env), SK: ruleSK(r.Rule), Environment: env, Rule: r.Rule, Worktype: r.Worktype,
			Queue: r.Queue, OverflowQueue: r.OverflowQueue, MaxCapacity: r.MaxCapacity,
			OverflowAfter: r.OverflowAfter, ResumeBelow: r.ResumeBelow, ResumeAfter: r.ResumeAfter,
			MinDwellSeconds: int64(r.MinDwell / time.Second), Version: version, PublishedAt: now,
		})
		if err != nil {
			return nil, fmt.Errorf("store: overflow rule %q: %w", r.Rule, err)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	current, err := s.ListOverflowRules(ctx, env)
	if err != nil {
		return nil, err
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return nil, fmt.Errorf("store: publish overflow rules of %s at %s: %w", env, version, err)
	}
	var dels []types.WriteRequest
	for _, r := range current {
		if !names[r.Rule] {
			removed = append(removed, r.Rule)
			dels = append(dels, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(envPK(env), ruleSK(r.Rule))}})
		}
	}
	if err := s.batchWrite(ctx, dels); err != nil {
		return nil, fmt.Errorf("store: prune overflow rules of %s at %s: %w", env, version, err)
	}
	return removed, nil
}

// ListOverflowRules returns the desired overflow rules of env, ordered by rule name.
func (s *Store) ListOverflowRules(ctx context.Context, env string) ([]OverflowRule, error) {
	if err := validEnv(env); err != nil {
		return nil, err
	}
	in, err := queryPrefix(envPK(env), prefixRule, true)
	if err != nil {
		return nil, err
	}
	items, err := query[ruleItem](ctx, s, in, 0)
	if err != nil {
		return nil, fmt.Errorf("store: list overflow rules of %s: %w", env, err)
	}
	out := make([]OverflowRule, len(items))
	for i, it := range items {
		out[i] = it.rule()
	}
	return out, nil
}
