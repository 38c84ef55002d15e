package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/routekeeper/routekeeper/infra/localstack/stack"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/routing"
	"github.com/routekeeper/routekeeper/shared/store"
)

// invokeCmd is `localstack invoke` (make invoke). getenv is the environment GENESYS_* are
// read from; base is the stack to start (the zero value: moto and the template's resources
// started for this invoke; tests pass the test binary's shared moto).
func invokeCmd(ctx context.Context, args []string, getenv func(string) string, base stack.Options, stdout, stderr io.Writer) error {
	fs := flags("invoke", stderr)
	fn := fs.String("fn", "", "function folder under functions/, e.g. apply")
	eventPath := fs.String("event", "", "event JSON file, e.g. events/apply/batch.json")
	configPath := fs.String("config", "", "routing config (file or directory) to publish to the local table before the invoke; the function runs for its environment")
	buildRoot := fs.String("build-dir", filepath.Join(".build", "host"), "where host bootstraps are built")
	raw := fs.Bool("raw", false, "send the event as it is, even when it is not of the function's event type (make invoke RAW=1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fn == "" || *eventPath == "" {
		return errors.New("invoke: --fn and --event are required, e.g. --fn apply --event events/apply/batch.json")
	}
	reg, ok := stack.Registered(*fn)
	if !ok {
		var dirs []string
		for _, r := range stack.Functions {
			dirs = append(dirs, r.Dir)
		}
		return fmt.Errorf("invoke: --fn %s: no such function: use one of %s (folders under functions/)", *fn, strings.Join(dirs, ", "))
	}
	event, err := os.ReadFile(*eventPath)
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	if err := checkEvent(reg, *eventPath, event, *raw); err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	org, err := orgFromEnv(getenv, stderr)
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	var desired *routing.Desired
	if *configPath != "" {
		if desired, err = stack.LoadConfig(*configPath); err != nil {
			return fmt.Errorf("invoke: %w", err)
		}
	}
	if err := stack.CheckTools(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	opts := base
	if desired != nil {
		// The template's Environment parameter, as `sam deploy --parameter-overrides`
		// would set it: ROUTEKEEPER_ENVIRONMENT and everything else derived from it.
		opts.Params = maps.Clone(base.Params)
		if opts.Params == nil {
			opts.Params = map[string]string{}
		}
		opts.Params["Environment"] = desired.Environment
	}
	if org != nil {
		opts.WithoutSimulator = true
		fmt.Fprintf(stderr, "localstack: GENESYS_* are set: functions/%s talks to the Genesys org at %s (login %s, client id %s, secret from GENESYS_CLIENT_SECRET); the bundled simulator is not started\n",
			*fn, org.APIURL, org.LoginURL, org.ClientID)
		fmt.Fprintln(stderr, "localstack: starting moto and the template's resources")
	} else {
		fmt.Fprintln(stderr, "localstack: starting moto, the template's resources and the Genesys simulator")
	}
	s, err := stack.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer stopping(stderr, "the local stack", s.Stop)
	if desired != nil {
		published, removed, err := s.Publish(ctx, desired)
		if err != nil {
			return fmt.Errorf("invoke: --config %s: %w", *configPath, err)
		}
		writePublished(stderr, *configPath, desired.Environment, s.Resources.TableName, published, removed)
	}
	fmt.Fprintf(stderr, "localstack: building functions/%s for this machine and starting it under aws-lambda-rie (ROUTEKEEPER_ENVIRONMENT=%s)\n", *fn, s.Environment)
	f, err := s.StartFunction(ctx, *fn, stack.FunctionOptions{BuildRoot: *buildRoot, Logs: prefixWriter(stderr, "  | "), Genesys: org})
	if err != nil {
		return err
	}
	defer f.Stop()
	inv, invErr := f.InvokeDetailed(ctx, event)
	if err := f.Stop(); err != nil {
		fmt.Fprintln(stderr, "localstack: stop function:", err)
	}
	if inv != nil {
		var pretty any
		if json.Unmarshal(inv.Payload, &pretty) == nil {
			b, _ := json.MarshalIndent(pretty, "", "  ")
			fmt.Fprintln(stdout, string(b))
		} else {
			fmt.Fprintln(stdout, string(inv.Payload))
		}
		if inv.Init != nil {
			fmt.Fprintf(stderr, "localstack: INIT %s (%s)\n", inv.Init.Duration.Round(time.Microsecond), inv.Init.Status)
		}
		if inv.Report != nil {
			fmt.Fprintf(stderr, "localstack: REPORT duration %s, max memory %d MB\n", inv.Report.Duration.Round(time.Microsecond), inv.Report.MaxMemoryUsedMB)
		}
	}
	return invErr
}

// checkEvent says what is wrong with an event file before anything starts: JSON that does
// not parse (at its line and column), or, unless raw, an event that is not one of the
// function's event types (the handler would get zero values for every field it reads).
func checkEvent(reg stack.Registration, path string, event []byte, raw bool) error {
	var v any
	if err := json.Unmarshal(event, &v); err != nil {
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			line, col := lineColumn(event, se.Offset)
			return fmt.Errorf("%s:%d:%d: not valid JSON: %v", path, line, col, se)
		}
		return fmt.Errorf("%s: not valid JSON: %w", path, err)
	}
	if raw {
		return nil
	}
	if _, err := reg.Decode(event); err != nil {
		var types []string
		for _, t := range reg.Events {
			types = append(types, t.String())
		}
		return fmt.Errorf("%s is not an event of functions/%s, which takes %s: %w (pass --raw, make invoke RAW=1, to send it as it is)",
			path, reg.Dir, strings.Join(types, " or "), err)
	}
	return nil
}

// lineColumn is the 1-based line and column (in bytes) of the byte before offset: where
// encoding/json's SyntaxError stopped.
func lineColumn(data []byte, offset int64) (line, col int) {
	n := max(0, min(int(offset)-1, len(data)))
	before := data[:n]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = n - bytes.LastIndexByte(before, '\n')
	return line, col
}

// orgFromEnv returns the Genesys org GENESYS_* name (genesys.ConfigFromEnv), or nil when
// neither GENESYS_API_URL nor GENESYS_REGION is set: the function then talks to the
// bundled simulator. The error never holds the client secret.
func orgFromEnv(getenv func(string) string, stderr io.Writer) (*genesys.Config, error) {
	set := func(name string) bool { return strings.TrimSpace(getenv(name)) != "" }
	if !set("GENESYS_API_URL") && !set("GENESYS_REGION") {
		var stray []string
		for _, name := range []string{"GENESYS_LOGIN_URL", "GENESYS_CLIENT_ID", "GENESYS_CLIENT_SECRET"} {
			if set(name) {
				stray = append(stray, name)
			}
		}
		if len(stray) > 0 {
			fmt.Fprintf(stderr, "localstack: %s set without GENESYS_API_URL or GENESYS_REGION: ignored, the function talks to the bundled simulator\n", strings.Join(stray, ", "))
		}
		return nil, nil
	}
	cfg, err := genesys.ConfigFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("GENESYS_API_URL or GENESYS_REGION is set, so the function would talk to that org, but %w; set the rest, or unset both to use the bundled simulator", err)
	}
	return &cfg, nil
}

// writePublished says what --config published, as `routekeeper publish` does.
func writePublished(w io.Writer, path, env, table string, published []store.Desired, removed []entity.Key) {
	counts := map[entity.Kind]int{}
	for _, d := range published {
		counts[d.Key.Kind]++
	}
	fmt.Fprintf(w, "localstack: published %s (environment %s) at version %s to table %s: %d skills, %d queues, %d worktypes\n",
		path, env, stack.PublishVersion, table, counts[entity.Skill], counts[entity.Queue], counts[entity.Worktype])
	if len(removed) > 0 {
		names := make([]string, len(removed))
		for i, k := range removed {
			names[i] = string(k.Kind) + "/" + k.Name
		}
		fmt.Fprintf(w, "localstack: no longer desired (removed from the table): %s\n", strings.Join(names, ", "))
	}
}
