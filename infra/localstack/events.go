package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/localstack/stack"
)

// eventsCmd is `localstack events [--fn dir]`: it rewrites events/<fn>/*.json of every
// function in stack.Functions (or of the one named), each generated on a freshly started stack of its own (so one
// generator's queue messages or org edits never reach another's events).
func eventsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("events", stderr)
	only := fs.String("fn", "", "regenerate only this function's events (a folder under functions/); all when empty")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, ok := stack.Registered(*only); *only != "" && !ok {
		return fmt.Errorf("events: --fn %s: no such function in stack.Functions", *only)
	}
	if _, err := awslocal.FindMoto(); err != nil {
		return err
	}
	dir, err := stack.EventsDir()
	if err != nil {
		return err
	}
	for _, r := range stack.Functions {
		if *only != "" && r.Dir != *only {
			continue
		}
		if err := generateEvents(ctx, r, filepath.Join(dir, r.Dir), stdout, stderr); err != nil {
			return fmt.Errorf("events of %s: %w", r.Dir, err)
		}
	}
	return nil
}

func generateEvents(ctx context.Context, r stack.Registration, dir string, stdout, stderr io.Writer) error {
	if r.Generate == nil {
		return errors.New("stack.Functions registers no Generate function; add the function's event generator")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, stack.Options{})
	if err != nil {
		return err
	}
	defer stopping(stderr, "the local stack", s.Stop)
	evs, err := r.Generate(ctx, s)
	if err != nil {
		return err
	}
	// Refuse to write what the invoke test would reject.
	for _, name := range slices.Sorted(maps.Keys(evs)) {
		if _, err := r.Decode(evs[name]); err != nil {
			return fmt.Errorf("generated %s.json: %w", name, err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(evs)) {
		p := filepath.Join(dir, name+".json")
		if err := os.WriteFile(p, evs[name], 0o644); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "wrote", p)
	}
	existing, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	for _, p := range existing {
		if _, ok := evs[strings.TrimSuffix(filepath.Base(p), ".json")]; !ok {
			fmt.Fprintf(stderr, "localstack: %s was not generated: delete it if it is stale (the invoke test invokes every file)\n", p)
		}
	}
	return nil
}
