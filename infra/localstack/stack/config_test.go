package stack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/routing"
)

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	invalid := write("invalid.yaml", "apiVersion: routekeeper/v1\nenvironment: prod\nqueues:\n  - name: Q\n    skillEvaluationMethod: SOMETIMES\n")
	noEnv := write("noenv.yaml", "apiVersion: routekeeper/v1\nskills:\n  - name: Claims\n")
	for _, tc := range []struct {
		name, path  string
		want        []string
		wantInvalid bool
	}{
		{"invalid", invalid, []string{invalid + ":5:5: queues[0].skillEvaluationMethod", "routekeeper validate " + invalid}, true},
		{"no environment", noEnv, []string{"config " + noEnv + " declares no environment", `add "environment: <name>"`}, false},
		{"missing", filepath.Join(dir, "none.yaml"), []string{"config " + filepath.Join(dir, "none.yaml"), "no such file"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(tc.path)
			if err == nil {
				t.Fatalf("LoadConfig(%s) succeeded, want an error", tc.path)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadConfig(%s) = %q, want it to contain %q", tc.path, err, w)
				}
			}
			if got := errors.Is(err, routing.ErrInvalid); got != tc.wantInvalid {
				t.Errorf("errors.Is(err, routing.ErrInvalid) = %v, want %v", got, tc.wantInvalid)
			}
		})
	}
}

// Publish stores the config as `routekeeper publish` does: every entity of the config
// with its ETag at version "local", under the config's environment, which a stack started
// for that environment gives its functions.
func TestPublishConfig(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	desired, err := LoadConfig(filepath.Join(root, "examples", "routing", "staging"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, res := awslocal.ForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{AWS: &cfg, Resources: res, WithoutSimulator: true, Params: map[string]string{"Environment": desired.Environment}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	if _, _, err := s.Publish(ctx, desired); err != nil {
		t.Fatal(err)
	}

	docs, err := desired.Docs()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, d := range docs {
		etag, err := document.ETag(d.Fields)
		if err != nil {
			t.Fatal(err)
		}
		want["staging/"+string(d.Kind)+"/"+d.Name] = etag + "@" + PublishVersion
	}
	stored, err := storeOf(s).ListDesired(ctx, "staging")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range stored {
		got[d.Key.String()] = d.ETag + "@" + d.Version
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("desired state of staging in the table (-want +got):\n%s", diff)
	}
	f, _ := s.Template.Function("apply")
	if got := s.FunctionEnv(f)["ROUTEKEEPER_ENVIRONMENT"]; got != "staging" {
		t.Errorf("FunctionEnv(apply)[ROUTEKEEPER_ENVIRONMENT] = %q, want staging", got)
	}
}

// A function pointed at an org gets that org's GENESYS_* and no credentials secret, so it
// logs in with the given client instead of the local secret's.
func TestOrgEnv(t *testing.T) {
	base := map[string]string{
		"TABLE_NAME":                 "t",
		"GENESYS_CREDENTIALS_SECRET": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
		"GENESYS_API_URL":            "http://127.0.0.1:1",
		"GENESYS_LOGIN_URL":          "http://127.0.0.1:1",
		"GENESYS_REGION":             "eu-west-1",
	}
	for _, tc := range []struct {
		name    string
		cfg     genesys.Config
		want    map[string]string
		wantErr string
	}{
		{"api and login", genesys.Config{APIURL: "https://api.mypurecloud.ie", LoginURL: "https://login.mypurecloud.ie", ClientID: "id", ClientSecret: "s3cret"},
			map[string]string{"TABLE_NAME": "t", "GENESYS_API_URL": "https://api.mypurecloud.ie", "GENESYS_LOGIN_URL": "https://login.mypurecloud.ie",
				"GENESYS_CLIENT_ID": "id", "GENESYS_CLIENT_SECRET": "s3cret"}, ""},
		{"request budget", genesys.Config{APIURL: "http://127.0.0.1:2", ClientID: "id", ClientSecret: "s", RequestsPerMinute: 60},
			map[string]string{"TABLE_NAME": "t", "GENESYS_API_URL": "http://127.0.0.1:2", "GENESYS_LOGIN_URL": "",
				"GENESYS_CLIENT_ID": "id", "GENESYS_CLIENT_SECRET": "s", "GENESYS_REQUESTS_PER_MINUTE": "60"}, ""},
		{"no client", genesys.Config{APIURL: "http://127.0.0.1:2"}, nil, "needs an API URL, a client id and a client secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			err := orgEnv(env, tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("orgEnv = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, env); diff != "" {
				t.Errorf("environment (-want +got):\n%s", diff)
			}
		})
	}
}

// A stack without the simulator seeds nothing and runs a function only against the org
// it is given.
func TestStackWithoutSimulator(t *testing.T) {
	cfg, res := awslocal.ForTest(t)
	seeded := false
	s, err := Start(t.Context(), Options{AWS: &cfg, Resources: res, WithoutSimulator: true,
		Org: func(context.Context, *sim.Server, *genesys.Client) error { seeded = true; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	if s.Sim != nil || s.SimURL != "" || s.Genesys != nil || seeded {
		t.Errorf("stack WithoutSimulator: Sim %v, SimURL %q, Genesys %v, seeded %v; want none", s.Sim, s.SimURL, s.Genesys, seeded)
	}
	_, err = s.StartFunction(t.Context(), "apply", FunctionOptions{BuildRoot: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "set FunctionOptions.Genesys") {
		t.Errorf("StartFunction without the simulator or an org = %v, want an error saying to set FunctionOptions.Genesys", err)
	}
}
