package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/infra/localstack/stack"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/store"
)

func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }

// buildRoot is shared by the invoke tests of this binary, so apply is built once; it is
// not the stack package's, whose tests may build into theirs at the same time.
var buildRoot = filepath.Join(os.TempDir(), "routekeeper-localstack-cmd-test")

// The sandbox org of TestInvokeAgainstOrgFromEnv: a second simulator with an OAuth client
// of its own, which the local secret (the bundled simulator's client) cannot log in to.
const (
	sandboxClientID     = "sandbox-client"
	sandboxClientSecret = "sandbox-secret-9f3b7c"
)

// env is a getenv over a fixed environment.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// repoPath is a path of the repository.
func repoPath(t *testing.T, elem ...string) string {
	t.Helper()
	root, err := stack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(append([]string{root}, elem...)...)
}

// sharedMoto is a stack.Options on the test binary's moto, with fresh resources, so a test
// can read the table after the invoke has stopped its stack.
func sharedMoto(t *testing.T) (stack.Options, *awslocal.Resources) {
	cfg, res := awslocal.ForTest(t)
	return stack.Options{AWS: &cfg, Resources: res}, res
}

// With GENESYS_* set, `make invoke` runs the function against that org, not the bundled
// simulator: here a second simulator, seeded like the bundled one but with its own
// client, and the batch's changes land in it.
func TestInvokeAgainstOrgFromEnv(t *testing.T) {
	sandbox := sim.New(sim.Options{Clients: map[string]string{sandboxClientID: sandboxClientSecret}})
	srv := httptest.NewServer(sandbox)
	t.Cleanup(srv.Close)
	client, err := genesys.New(genesys.Config{APIURL: srv.URL, LoginURL: srv.URL, ClientID: sandboxClientID, ClientSecret: sandboxClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	if err := stack.SeedOrg(ctx, sandbox, client); err != nil {
		t.Fatal(err)
	}
	sandbox.ResetCalls()
	queueID, ok := sandbox.IDByName("queue", stack.ChangedQueue)
	if !ok {
		t.Fatalf("sandbox org has no queue %q", stack.ChangedQueue)
	}
	if _, ok := sandbox.IDByName("skill", stack.MissingSkill); ok {
		t.Fatalf("sandbox org already has skill %q, which the batch creates", stack.MissingSkill)
	}

	base, _ := sharedMoto(t)
	var stdout, stderr bytes.Buffer
	err = invokeCmd(ctx, []string{"--fn", "apply", "--event", repoPath(t, "events", "apply", "batch.json"), "--build-dir", buildRoot},
		env(map[string]string{
			"GENESYS_API_URL":       srv.URL,
			"GENESYS_LOGIN_URL":     srv.URL,
			"GENESYS_CLIENT_ID":     sandboxClientID,
			"GENESYS_CLIENT_SECRET": sandboxClientSecret,
		}), base, &stdout, &stderr)
	if err != nil {
		t.Fatalf("invoke: %v\nstderr:\n%s", err, stderr.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stderr:\n%s", stderr.String())
		}
	})

	var resp events.SQSEventResponse
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("response %s: want events.SQSEventResponse without batchItemFailures (%v)", stdout.String(), err)
	}
	// The batch reached the sandbox org (whose only client is the sandbox's, so the
	// function logged in with GENESYS_CLIENT_ID/SECRET, not the local secret): it created
	// the missing skill and rewrote the changed queue.
	calls := sandbox.Calls()
	if calls["POST /api/v2/routing/skills"] != 1 || calls["PUT /api/v2/routing/queues/{queueId}"] != 1 {
		t.Errorf("sandbox org calls %v: want one skill POST and one queue PUT", calls)
	}
	if _, ok := sandbox.IDByName("skill", stack.MissingSkill); !ok {
		t.Errorf("sandbox org has no skill %q after the batch", stack.MissingSkill)
	}
	if q, _ := sandbox.Queue(queueID); q["description"] != "Task queue for claims" {
		t.Errorf("sandbox queue %q description = %v, want the config's %q", stack.ChangedQueue, q["description"], "Task queue for claims")
	}
	out := stdout.String() + stderr.String()
	for _, want := range []string{
		"GENESYS_* are set: functions/apply talks to the Genesys org at " + srv.URL,
		"client id " + sandboxClientID,
		"the bundled simulator is not started",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, unwanted := range []string{sandboxClientSecret, "and the Genesys simulator"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("output has %q", unwanted)
		}
	}
}

// With --config (CONFIG=), invoke publishes the config's desired state to the local table
// before it starts the function, and runs the function for the config's environment: the
// batch, planned for prod, is then refused by an apply that manages staging.
func TestInvokeWithConfig(t *testing.T) {
	config := repoPath(t, "examples", "routing", "staging")
	eventPath := repoPath(t, "events", "apply", "batch.json")
	base, res := sharedMoto(t)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := invokeCmd(ctx, []string{"--fn", "apply", "--event", eventPath, "--config", config, "--build-dir", buildRoot},
		env(nil), base, &stdout, &stderr)
	if err != nil {
		t.Fatalf("invoke: %v\nstderr:\n%s", err, stderr.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stderr:\n%s", stderr.String())
		}
	})

	// Published before the function started.
	log := stderr.String()
	published := strings.Index(log, "localstack: published "+config+" (environment staging) at version local to table "+res.TableName)
	started := strings.Index(log, "localstack: building functions/apply for this machine and starting it under aws-lambda-rie (ROUTEKEEPER_ENVIRONMENT=staging)")
	if published < 0 || started < 0 || published > started {
		t.Errorf("stderr: want the publish line (at %d) before the function starts for staging (at %d):\n%s", published, started, log)
	}
	desired, err := stack.LoadConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	// Every declared entity is in the table at version local (the stored documents
	// themselves are stack.Publish's, tested in its package).
	var want []string
	for _, e := range desired.Entities() {
		want = append(want, "staging/"+string(e.Kind)+"/"+e.Name+"@local")
	}
	st := store.New(dynamodb.NewFromConfig(*base.AWS), res.TableName)
	stored, err := st.ListDesired(ctx, "staging")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range stored {
		got = append(got, d.Key.String()+"@"+d.Version)
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("desired state of staging in the table (-want +got):\n%s", diff)
	}

	// The function ran for staging: every change request of the prod batch is REJECTED.
	raw, err := os.ReadFile(eventPath)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	for _, rec := range ev.Records {
		r, err := changes.Decode([]byte(rec.Body))
		if err != nil {
			t.Fatal(err)
		}
		c, err := st.GetChange(ctx, r.ChangeID)
		if err != nil {
			t.Errorf("change record %s (%s): %v", r.ChangeID, r.Key(), err)
			continue
		}
		if c.Status != store.Status("REJECTED") || !strings.Contains(string(c.Result), `\"staging\"`) {
			t.Errorf("change %s (%s): status %s, result %s; want REJECTED by an engine applying staging", r.ChangeID, r.Key(), c.Status, c.Result)
		}
	}
}

// What is wrong with GENESYS_* or --config is said before anything starts, without the
// client secret.
func TestInvokeSettingsErrors(t *testing.T) {
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
	event := repoPath(t, "events", "apply", "batch.json")
	const secret = "do-not-print-me"
	for _, tc := range []struct {
		name   string
		config string
		vars   map[string]string
		want   []string // in the error
		note   string   // on stderr
	}{
		{"api url without client", "", map[string]string{"GENESYS_API_URL": "http://127.0.0.1:9", "GENESYS_CLIENT_SECRET": secret},
			[]string{"GENESYS_API_URL or GENESYS_REGION is set", "GENESYS_CLIENT_ID is required", "unset both to use the bundled simulator"}, ""},
		{"unknown region", "", map[string]string{"GENESYS_REGION": "mars-1", "GENESYS_CLIENT_ID": "id", "GENESYS_CLIENT_SECRET": secret},
			[]string{`GENESYS_REGION "mars-1" is not a Genesys Cloud region`}, ""},
		{"invalid config", invalid, map[string]string{"GENESYS_API_URL": "http://127.0.0.1:9", "GENESYS_LOGIN_URL": "http://127.0.0.1:9", "GENESYS_CLIENT_ID": "id", "GENESYS_CLIENT_SECRET": secret},
			[]string{"config " + invalid + " is invalid", invalid + ":5:5: queues[0].skillEvaluationMethod"}, ""},
		{"config without environment", noEnv, map[string]string{"GENESYS_CLIENT_ID": "id", "GENESYS_CLIENT_SECRET": secret},
			[]string{"declares no environment"}, "GENESYS_CLIENT_ID, GENESYS_CLIENT_SECRET set without GENESYS_API_URL or GENESYS_REGION: ignored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--fn", "apply", "--event", event}
			if tc.config != "" {
				args = append(args, "--config", tc.config)
			}
			var stdout, stderr bytes.Buffer
			err := invokeCmd(t.Context(), args, env(tc.vars), stack.Options{}, &stdout, &stderr)
			if err == nil {
				t.Fatal("invoke succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.Contains(stderr.String(), tc.note) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.note)
			}
			if strings.Contains(err.Error()+stdout.String()+stderr.String(), secret) {
				t.Errorf("the client secret is in the output or the error: %v\n%s", err, stderr.String())
			}
			if strings.Contains(stderr.String(), "starting moto") {
				t.Errorf("invoke started the stack before reporting the error:\n%s", stderr.String())
			}
		})
	}
}

// `make invoke` passes CONFIG as --config and GENESYS_* through its environment, and its
// usage line names CONFIG.
func TestMakeInvoke(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is not on PATH: %v", err)
	}
	for _, tc := range []struct {
		name string
		vars []string
		want string
	}{
		{"without config", []string{"FN=apply", "EVENT=events/apply/batch.json"}, "go run ./infra/localstack invoke --fn apply --event events/apply/batch.json\n"},
		{"with config", []string{"FN=apply", "EVENT=events/apply/batch.json", "CONFIG=examples/routing/prod.yaml"},
			"go run ./infra/localstack invoke --fn apply --event events/apply/batch.json --config 'examples/routing/prod.yaml'\n"},
		{"raw", []string{"FN=apply", "EVENT=events/webhook/url-get.json", "RAW=1"}, "go run ./infra/localstack invoke --fn apply --event events/webhook/url-get.json --raw\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// --no-print-directory: under `make test` this make is a sub-make, which prints
			// the directories it enters and leaves.
			cmd := exec.Command("make", append([]string{"-n", "--no-print-directory", "invoke", "GO=go"}, tc.vars...)...)
			cmd.Dir = repoPath(t)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("make -n invoke: %v\n%s", err, out)
			}
			if !strings.HasSuffix(string(out), tc.want) {
				t.Errorf("make -n invoke %v ends with:\n%s\nwant %q", tc.vars, out, tc.want)
			}
			if !strings.Contains(string(out), "usage: make invoke FN=<function folder, e.g. apply> EVENT=events/<function>/<scenario>.json [CONFIG=path]") {
				t.Errorf("make -n invoke: the usage line does not name CONFIG:\n%s", out)
			}
		})
	}
}

// TestInvokeChecksEvent: an event file is checked before anything starts: JSON that does
// not parse is reported at its line and column, an event of another type is refused
// unless --raw, and an unknown function is named with the ones there are.
func TestInvokeChecksEvent(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\n  \"Records\": [\n    {\"body\": 1,,}\n  ]\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	webhookEvent := repoPath(t, "events", "webhook", "url-get.json")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"invalid JSON", []string{"--fn", "apply", "--event", bad}, []string{bad + ":3:16: not valid JSON: invalid character ','"}},
		{"another function's event", []string{"--fn", "apply", "--event", webhookEvent},
			[]string{webhookEvent + " is not an event of functions/apply, which takes events.SQSEvent", "pass --raw, make invoke RAW=1"}},
		{"unknown function", []string{"--fn", "aply", "--event", webhookEvent}, []string{"--fn aply: no such function: use one of apply, webhook, occupancy, driftscan"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := invokeCmd(t.Context(), tc.args, env(nil), stack.Options{}, &stdout, &stderr)
			if err == nil {
				t.Fatal("invoke succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(stderr.String(), "starting moto") {
				t.Errorf("invoke started the stack before reporting the error:\n%s", stderr.String())
			}
		})
	}
	// --raw lets the foreign event through; the function's own events pass without it.
	reg, _ := stack.Registered("apply")
	b, err := os.ReadFile(webhookEvent)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkEvent(reg, webhookEvent, b, true); err != nil {
		t.Errorf("checkEvent(--raw) of a webhook event for apply: %v, want nil", err)
	}
	own := repoPath(t, "events", "apply", "batch.json")
	if b, err = os.ReadFile(own); err != nil {
		t.Fatal(err)
	}
	if err := checkEvent(reg, own, b, false); err != nil {
		t.Errorf("checkEvent of %s: %v, want nil", own, err)
	}
}
