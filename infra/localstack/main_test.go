package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/lambdarun"
	"github.com/routekeeper/routekeeper/infra/localstack/stack"
	"github.com/routekeeper/routekeeper/shared/entity"
)

// The demo runs to the end with the real CLI: it applies the example through SQS and the
// apply Lambda, shows a clean re-plan, a CONFLICT and the status, and stops everything.
func TestDemoRunsToTheEnd(t *testing.T) {
	root, err := stack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(t.TempDir(), "routekeeper")
	build := exec.Command("go", "build", "-o", cli, "./cmd/routekeeper")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the CLI: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err = run(ctx, []string{"demo", "--cli", cli, "--dir", t.TempDir()}, &out, &out)
	if err != nil {
		t.Fatalf("demo: %v\noutput:\n%s", err, out.String())
	}
	for _, want := range []string{
		"3 ENQUEUED",
		"No changes: the org matches the config.",
		"CONFLICT  update     prod/queue/Claims Tasks",
		"APPLIED   create     prod/skill/French",
		"Everything it started is stopped now.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	// The example is applied as written, worktype defaultLanguage included: no workaround,
	// and no reference the CLI could not name.
	for _, unwanted := range []string{"NOTE:", "worktype/Motor Claim", entity.IDPrefix} {
		if strings.Contains(out.String(), unwanted) {
			t.Errorf("demo output has %q:\n%s", unwanted, out.String())
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command"},
		{"unknown command", []string{"deploy"}, `unknown command "deploy"`},
		{"invoke without flags", []string{"invoke"}, "--fn and --event are required"},
		{"invoke missing event file", []string{"invoke", "--fn", "apply", "--event", "no/such.json"}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(t.Context(), tc.args, &out, &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}

// Without moto_server and aws-lambda-rie, each command says so, and to run `make tools`,
// before it starts anything.
func TestMissingTools(t *testing.T) {
	root, err := stack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	t.Setenv("GOPATH", t.TempDir())
	event := filepath.Join(root, "events", "apply", "batch.json")
	for _, args := range [][]string{
		{"invoke", "--fn", "apply", "--event", event},
		{"demo", "--cli", "/no/such/cli"},
	} {
		var out bytes.Buffer
		err := run(t.Context(), args, &out, &out)
		if !errors.Is(err, awslocal.ErrMotoNotFound) || !errors.Is(err, lambdarun.ErrRIENotFound) || !strings.Contains(err.Error(), "make tools") {
			t.Errorf("run(%q) without the tools: got %v, want ErrMotoNotFound and ErrRIENotFound saying to run make tools", args, err)
		}
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"events"}, &out, &out); !errors.Is(err, awslocal.ErrMotoNotFound) {
		t.Errorf("events without moto_server: got %v, want ErrMotoNotFound", err)
	}
}
