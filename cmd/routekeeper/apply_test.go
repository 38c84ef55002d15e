package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/routing"
	"github.com/routekeeper/routekeeper/shared/store"
)

var applyOrg = sim.GenerateOptions{Queues: 6, Skills: 5, Worktypes: 3, Seed: 11}

// exportEnv exports the org as environment env and returns the path and config.
func exportEnv(t *testing.T, env string) (string, *routing.Config) {
	t.Helper()
	p := filepath.Join(t.TempDir(), env+".yaml")
	if code, _, stderr := execute(t, "export", "--environment", env, "--out", p); code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	cfg, err := routing.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, cfg
}

func saveConfig(t *testing.T, path string, cfg *routing.Config) {
	t.Helper()
	b, err := routing.MarshalYAML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestApplyDirect(t *testing.T) {
	clearGenesysEnv(t)
	t.Setenv("TABLE_NAME", "")
	t.Setenv("CHANGE_QUEUE_URL", "")
	s := startOrg(t, "", applyOrg)
	path, cfg := exportEnv(t, "dev")
	q := &cfg.Queues[1]
	desc := "managed by routekeeper apply --direct"
	q.Description = &desc
	saveConfig(t, path, cfg)

	code, stdout, stderr := execute(t, "apply", "--auto-approve", "-f", path, "--direct")
	if code != 0 {
		t.Fatalf("apply --direct: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "APPLIED") || !strings.Contains(stdout, `"`+q.Name+`"`) || !strings.Contains(stdout, "wrote description") {
		t.Errorf("apply --direct output lacks the applied queue:\n%s", stdout)
	}
	qid, _ := s.IDByName("queue", q.Name)
	if live, _ := s.Queue(qid); live["description"] != desc {
		t.Errorf("live description %v, want %q", live["description"], desc)
	}

	code, stdout, stderr = execute(t, "apply", "--auto-approve", "-f", path, "--direct", "--format", "json")
	if code != 0 || strings.TrimSpace(stdout) != "[]" || !strings.Contains(stderr, "nothing to change") {
		t.Errorf("second apply: exit %d, stdout %q, stderr %q; want 0, the JSON document [] and nothing to change", code, stdout, stderr)
	}
}

func TestApplyUsage(t *testing.T) {
	t.Setenv("CHANGE_QUEUE_URL", "")
	for _, args := range [][]string{
		{"apply", "-f", "x.yaml"},
		{"apply", "-f", "x.yaml", "--direct", "--queue-url", "https://sqs.example/q.fifo"},
		{"apply", "--direct"},
		{"apply", "-f", "x.yaml", "--direct", "--format", "xml"},
		{"apply", "-f", "x.yaml", "--direct", "extra"},
		{"apply", "-f", "x.yaml", "--queue-url", "https://sqs.eu-west-1.amazonaws.com/123456789012/changes"}, // not FIFO
		{"apply", "-f", "x.yaml", "--queue-url", "changes.fifo"},                                             // not a URL
		{"apply", "-f", "x.yaml", "--direct", "--unknown-flag"},
		{"publish", "-f", "x.yaml", "extra"},
		{"publish", "--table", "t"},
		{"status"},
		{"status", "a", "b"},
		{"status", "--limit", "0", "a"},
	} {
		t.Setenv("TABLE_NAME", "t")
		t.Setenv("ROUTEKEEPER_ENVIRONMENT", "")
		if code, _, stderr := execute(t, args...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 with a message", args, code, stderr)
		}
	}
}

// TestApplyBadInput: problems the CLI can only find by trying (a config that cannot be
// read, a table or queue that does not exist) exit 1 with a message naming the thing,
// and nothing is half done: with a missing table nothing is enqueued; with a missing
// queue every change is listed as NOT_ENQUEUED.
func TestApplyBadInput(t *testing.T) {
	clearGenesysEnv(t)
	startOrg(t, "", applyOrg)
	_, res := startStack(t)
	path, cfg := exportEnv(t, "dev")
	desc := "bad input"
	cfg.Queues[0].Description = &desc
	saveConfig(t, path, cfg)

	unreadable := filepath.Join(t.TempDir(), "nope.yaml")
	badQueue := strings.TrimSuffix(res.ChangeQueueURL, ".fifo") + "-missing.fifo"
	tests := []struct {
		name       string
		args       []string
		wantStderr []string
		wantStdout string
	}{
		{name: "unreadable config", args: []string{"apply", "--auto-approve", "-f", unreadable, "--direct"}, wantStderr: []string{"nope.yaml"}},
		{name: "missing table", args: []string{"apply", "--auto-approve", "-f", path, "--table", "no-such-table"}, wantStderr: []string{"no-such-table", "nothing was enqueued"}},
		{name: "missing queue", args: []string{"apply", "--auto-approve", "-f", path, "--queue-url", badQueue},
			wantStderr: []string{"1 of 1 change requests not enqueued"}, wantStdout: "NOT_ENQUEUED"},
		{name: "publish to a missing table", args: []string{"publish", "-f", path, "--table", "no-such-table"}, wantStderr: []string{"no-such-table"}},
		{name: "status from a missing table", args: []string{"status", "--table", "no-such-table", "--environment", "dev"}, wantStderr: []string{"no-such-table"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := execute(t, tc.args...)
			if code != 1 {
				t.Errorf("%v: exit %d, want 1\n%s%s", tc.args, code, stdout, stderr)
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, w)
				}
			}
			if !strings.Contains(stdout, tc.wantStdout) {
				t.Errorf("%v: stdout %q lacks %q", tc.args, stdout, tc.wantStdout)
			}
		})
	}
	out, err := sqs.NewFromConfig(mustAWS(t)).ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(res.ChangeQueueURL), MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 0 {
		t.Errorf("change queue after failed applies: %d messages (err %v), want none", len(out.Messages), err)
	}
}

// startStack runs moto with the template's resources and points the CLI's AWS
// configuration at it.
func mustAWS(t *testing.T) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startStack(t *testing.T) (aws.Config, *awslocal.Resources) {
	t.Helper()
	ctx := context.Background()
	m, err := awslocal.StartMoto(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Stop() })
	cfg, err := m.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := awslocal.TemplatePath()
	if err != nil {
		t.Fatal(err)
	}
	res, err := awslocal.CreateResources(ctx, cfg, tpl, "cli")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range m.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("TABLE_NAME", res.TableName)
	t.Setenv("CHANGE_QUEUE_URL", res.ChangeQueueURL)
	return cfg, res
}

// TestPublishApplyStatus: publish the desired state, enqueue the changes, let the engine
// apply what the queue holds (as the apply function does), and read the outcome back with
// status.
func TestPublishApplyStatus(t *testing.T) {
	clearGenesysEnv(t)
	s := startOrg(t, "", applyOrg)
	awsCfg, res := startStack(t)
	path, cfg := exportEnv(t, "dev")

	code, stdout, stderr := execute(t, "publish", "-f", path, "--version", "abc123")
	if code != 0 || !strings.Contains(stdout, "published dev at abc123") {
		t.Fatalf("publish: exit %d\n%s%s", code, stdout, stderr)
	}
	st := store.New(dynamodb.NewFromConfig(awsCfg), res.TableName)
	desired, err := st.ListDesired(context.Background(), "dev")
	if err != nil || len(desired) != len(cfg.Queues)+len(cfg.Skills)+len(cfg.Worktypes) || desired[0].Version != "abc123" {
		t.Fatalf("desired state in the table: %d entities (err %v), want %d at abc123", len(desired), err,
			len(cfg.Queues)+len(cfg.Skills)+len(cfg.Worktypes))
	}

	desc := "enqueued by routekeeper apply"
	q := &cfg.Queues[2]
	q.Description = &desc
	saveConfig(t, path, cfg)
	code, stdout, stderr = execute(t, "apply", "--auto-approve", "-f", path, "--format", "json")
	if code != 0 {
		t.Fatalf("apply (queue): exit %d\n%s%s", code, stdout, stderr)
	}
	var lines []applyLine
	if err := json.Unmarshal([]byte(stdout), &lines); err != nil || len(lines) != 1 || lines[0].Status != "ENQUEUED" || lines[0].Name != q.Name {
		t.Fatalf("apply output %s (err %v), want one ENQUEUED line for %q", stdout, err, q.Name)
	}
	id := lines[0].ChangeID

	// The apply function's part: receive, decode, apply with the engine.
	client, err := genesys.New(genesys.Config{APIURL: getenv("GENESYS_API_URL"), LoginURL: getenv("GENESYS_LOGIN_URL"),
		ClientID: sim.DefaultClientID, ClientSecret: sim.DefaultClientSecret, RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	eng := apply.New(client, st, apply.Options{Environment: "dev"})
	out, err := sqs.NewFromConfig(awsCfg).ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(res.ChangeQueueURL), MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive: %d messages (err %v), want 1", len(out.Messages), err)
	}
	req, err := changes.Decode([]byte(aws.ToString(out.Messages[0].Body)))
	if err != nil || req.ChangeID != id {
		t.Fatalf("decode: %v (id %s), want change %s", err, req.ChangeID, id)
	}
	// Someone edits another field of the queue before the function runs: merged.
	qid, _ := s.IDByName("queue", q.Name)
	if err := s.EditQueue(qid, func(m map[string]any) { m["enableTranscription"] = m["enableTranscription"] != true }); err != nil {
		t.Fatal(err)
	}
	if r, err := eng.Apply(context.Background(), req); err != nil || r.Status != store.StatusApplied || !r.Merged {
		t.Fatalf("engine: %+v, %v; want APPLIED merged", r, err)
	}

	code, stdout, stderr = execute(t, "status", id)
	for _, want := range []string{"status:     APPLIED", "dev/queue/" + q.Name, "result:     wrote description (merged with a concurrent edit)", "merged:     yes", "genesys correlation id: "} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("status %s: exit %d, output lacks %q:\n%s%s", id, code, want, stdout, stderr)
		}
	}
	deadline := time.Now().Add(10 * time.Second) // the index is eventually consistent
	for {
		code, stdout, _ = execute(t, "status", "--environment", "dev")
		if code == 0 && strings.Contains(stdout, id) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(stdout, id) || !strings.Contains(stdout, "APPLIED") {
		t.Errorf("status --environment dev lacks %s APPLIED:\n%s", id, stdout)
	}
	if code, _, stderr := execute(t, "status", "chg-does-not-exist"); code != 1 || !strings.Contains(stderr, "no change request") {
		t.Errorf("status of an unknown id: exit %d, %q; want 1 and a message", code, stderr)
	}
}

// TestApplyText: a line per entity in aligned columns with the error or the result's
// Summary, under a CONFLICT each field in conflict, and a plan conflict (not sent).
func TestApplyText(t *testing.T) {
	lines := []applyLine{
		{ChangeID: "c1", Kind: "queue", Name: "Claims", Operation: "update", Status: "APPLIED",
			Result: &apply.Result{Status: store.StatusApplied, Written: []string{"description"}, Merged: true}},
		{ChangeID: "c2", Kind: "skill", Name: "Gold", Operation: "update", Status: "CONFLICT",
			Result: &apply.Result{Status: store.StatusConflict, Reason: "live skill changed since the plan",
				Conflicts: []document.Conflict{{Path: "name", Base: "Gold", Ours: "gold", Theirs: "GOLD", Reason: document.ConflictBothChanged}}}},
		{ChangeID: "c3", Kind: "queue", Name: "Old", Operation: "delete", Status: "APPLIED",
			Result: &apply.Result{Status: store.StatusApplied, Operation: changes.OpDelete}},
		{ChangeID: "c4", Kind: "worktype", Name: "Claim", Operation: "create", Status: "NOT_APPLIED", Error: "not attempted after the failure of c3"},
		{ChangeID: "c5", Kind: "queue", Name: "New", Operation: "create", Status: "ENQUEUED"},
		{Kind: "skill", Name: "gold", Status: "CONFLICT", Error: `not sent: skill "Gold" is declared as "gold"`},
	}
	want := `APPLIED      update  queue     "Claims"  c1  wrote description (merged with a concurrent edit)
CONFLICT     update  skill     "Gold"    c2  conflicts: name; live skill changed since the plan
    conflict name (both-changed): base "Gold", ours "gold", theirs "GOLD"
APPLIED      delete  queue     "Old"     c3  deleted
NOT_APPLIED  create  worktype  "Claim"   c4  not attempted after the failure of c3
ENQUEUED     create  queue     "New"     c5
CONFLICT     -       skill     "gold"    -   not sent: skill "Gold" is declared as "gold"
`
	var b strings.Builder
	if err := writeApplyText(&b, lines); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("apply text (-want +got):\n%s", diff)
	}
}

// mustMarshal is routing.MarshalYAML of cfg, failing t on error.
func mustMarshal(t *testing.T, cfg *routing.Config) []byte {
	t.Helper()
	b, err := routing.MarshalYAML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
