package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/credentials"
)

func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }

// The Genesys client of these tests. The secret is distinctive so a test can prove it
// appears in no log record and no error.
const (
	clientID     = "bootstrap-test-client"
	clientSecret = "bootstrap-s3cr3t-NEVER-LOGGED"
)

// world is moto (the process environment points the AWS SDK at it, as Lambda's does) and a
// Genesys simulator that accepts clientID/clientSecret.
type world struct {
	cfg    aws.Config
	simURL string
	// secrets by name: valid holds the credentials, invalid a value that is not the
	// credentials object (and holds the client secret).
	valid, invalid string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	cfg, _ := awslocal.ForTest(t)
	for k, v := range awslocal.EndpointEnv(*cfg.BaseEndpoint) {
		t.Setenv(k, v)
	}
	s := sim.New(sim.Options{Clients: map[string]string{clientID: clientSecret}})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	prefix := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	sm := secretsmanager.NewFromConfig(cfg)
	create := func(name, value string) string {
		out, err := sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String(prefix + "-" + name), SecretString: aws.String(value)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ARN)
	}
	w := &world{cfg: cfg, simURL: ts.URL,
		valid:   create("valid", `{"clientId":"`+clientID+`","clientSecret":"`+clientSecret+`"}`),
		invalid: create("invalid", `clientSecret=`+clientSecret)}
	return w
}

// vars returns the variables the template gives a function, with the Genesys URLs of the
// simulator and the secret named by secret ("" => unset), changed by extra ("" unsets).
func (w *world) vars(secret string, extra map[string]string) map[string]string {
	m := map[string]string{
		"ROUTEKEEPER_ENVIRONMENT":    "dev",
		"TABLE_NAME":                 "routekeeper-table",
		"EVENT_BUS_NAME":             "routekeeper-bus",
		"CHANGE_QUEUE_URL":           "http://127.0.0.1/000000000000/changes.fifo",
		"GENESYS_CREDENTIALS_SECRET": secret,
		"GENESYS_API_URL":            w.simURL,
		"GENESYS_LOGIN_URL":          w.simURL,
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// debugLogger logs everything to a buffer.
func debugLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return Logger(&buf, env(map[string]string{"LOG_LEVEL": "DEBUG"})), &buf
}

// TestLoad builds the clients from the secret on moto (as deployed) and from GENESYS_*
// (local runs); the Genesys client logs in to the simulator with those credentials, and
// the client secret is in no log record.
func TestLoad(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name   string
		vars   map[string]string
		source string // the debug record that says where the credentials came from
	}{
		{name: "secret", vars: w.vars(w.valid, nil), source: "genesys credentials from Secrets Manager"},
		{name: "GENESYS_* without the secret", vars: w.vars("", map[string]string{
			"GENESYS_CLIENT_ID": clientID, "GENESYS_CLIENT_SECRET": clientSecret}), source: "genesys credentials from the environment"},
		{name: "secret wins over GENESYS_*", vars: w.vars(w.valid, map[string]string{
			"GENESYS_CLIENT_ID": "other", "GENESYS_CLIENT_SECRET": "other"}), source: "genesys credentials from Secrets Manager"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log, logs := debugLogger()
			e, err := Load(context.Background(), env(tc.vars), log)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got := map[string]string{"Environment": e.Environment, "Table": e.Table, "EventBus": e.EventBus,
				"ChangeQueueURL": e.ChangeQueueURL, "Getenv(TABLE_NAME)": e.Getenv("TABLE_NAME"), "AWS.Region": e.AWS.Region,
				"AWS.BaseEndpoint": aws.ToString(e.AWS.BaseEndpoint)}
			want := map[string]string{"Environment": "dev", "Table": "routekeeper-table", "EventBus": "routekeeper-bus",
				"ChangeQueueURL": "http://127.0.0.1/000000000000/changes.fifo", "Getenv(TABLE_NAME)": "routekeeper-table",
				"AWS.Region": awslocal.Region, "AWS.BaseEndpoint": aws.ToString(w.cfg.BaseEndpoint)}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Env (-want +got):\n%s", d)
			}
			if e.Log != log {
				t.Errorf("Env.Log is not the logger Load was given")
			}
			divs, err := e.Genesys.ListDivisions(context.Background())
			if err != nil || len(divs) == 0 {
				t.Fatalf("ListDivisions with the loaded client: %v, %v; want the simulator's divisions", divs, err)
			}
			if e.Genesys.Calls().Requests == 0 {
				t.Errorf("Genesys client counted no requests")
			}
			var sourced, clientLogged bool
			for _, r := range lines(t, logs) {
				sourced = sourced || r["msg"] == tc.source
				clientLogged = clientLogged || r["path"] != nil
			}
			if !sourced || !clientLogged {
				t.Errorf("logs lack %q or the client's debug records (the logger was not passed to the client):\n%s", tc.source, logs)
			}
			if strings.Contains(logs.String(), clientSecret) {
				t.Errorf("the client secret is in the log:\n%s", logs)
			}
			if !strings.Contains(logs.String(), clientID) {
				t.Errorf("the client id is not logged, want it for diagnosis:\n%s", logs)
			}
		})
	}
}

// TestLoadErrors: each misconfiguration fails with an error naming what to set, never
// holding the client secret, and the secret is in no log record.
func TestLoadErrors(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name string
		vars map[string]string
		want []string // substrings of the error
		is   error    // errors.Is target, nil => none checked
	}{
		{name: "no ROUTEKEEPER_ENVIRONMENT", vars: w.vars(w.valid, map[string]string{"ROUTEKEEPER_ENVIRONMENT": ""}),
			want: []string{`ROUTEKEEPER_ENVIRONMENT ("")`, `TABLE_NAME ("routekeeper-table")`, "must be set"}},
		{name: "no TABLE_NAME", vars: w.vars(w.valid, map[string]string{"TABLE_NAME": " "}),
			want: []string{`ROUTEKEEPER_ENVIRONMENT ("dev")`, `TABLE_NAME ("")`, "must be set"}},
		{name: "secret missing", vars: w.vars("routekeeper-no-such-secret", nil),
			want: []string{"GENESYS_CREDENTIALS_SECRET", "routekeeper-no-such-secret"}},
		{name: "secret invalid", vars: w.vars(w.invalid, nil),
			want: []string{"GENESYS_CREDENTIALS_SECRET", w.invalid}, is: credentials.ErrInvalidSecret},
		{name: "no credentials at all", vars: w.vars("", nil),
			want: []string{"GENESYS_CREDENTIALS_SECRET", "GENESYS_CLIENT_ID", "GENESYS_CLIENT_SECRET"}},
		{name: "GENESYS_* without the client secret", vars: w.vars("", map[string]string{"GENESYS_CLIENT_ID": clientID}),
			want: []string{"GENESYS_CREDENTIALS_SECRET", "GENESYS_CLIENT_SECRET is required"}},
		{name: "bad GENESYS_API_URL with the secret", vars: w.vars(w.valid, map[string]string{"GENESYS_API_URL": "not a url", "GENESYS_LOGIN_URL": ""}),
			want: []string{"GENESYS_API_URL", "not a url"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log, logs := debugLogger()
			e, err := Load(context.Background(), env(tc.vars), log)
			if err == nil {
				t.Fatalf("Load(%v) = %+v, want an error", tc.vars, e)
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if strings.Contains(err.Error(), clientSecret) || strings.Contains(logs.String(), clientSecret) {
				t.Errorf("the client secret is in the error %q or the log:\n%s", err, logs)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		value   string
		want    time.Duration
		wantErr string
	}{
		{value: "", want: 10 * time.Second},
		{value: "  ", want: 10 * time.Second},
		{value: "250ms", want: 250 * time.Millisecond},
		{value: " 1m30s ", want: 90 * time.Second},
		{value: "10", wantErr: `APPLY_DEADLINE_MARGIN "10": want a positive Go duration such as 10s`},
		{value: "0s", wantErr: `APPLY_DEADLINE_MARGIN "0s": want a positive Go duration such as 10s`},
		{value: "-5s", wantErr: `APPLY_DEADLINE_MARGIN "-5s": want a positive Go duration such as 10s`},
		{value: "soon", wantErr: `APPLY_DEADLINE_MARGIN "soon": want a positive Go duration such as 10s`},
	}
	for _, tc := range tests {
		got, err := Duration(env(map[string]string{"APPLY_DEADLINE_MARGIN": tc.value}), "APPLY_DEADLINE_MARGIN", 10*time.Second)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != tc.want || gotErr != tc.wantErr {
			t.Errorf("Duration(APPLY_DEADLINE_MARGIN=%q) = %v, %q; want %v, %q", tc.value, got, gotErr, tc.want, tc.wantErr)
		}
	}
}

func TestMetrics(t *testing.T) {
	var buf bytes.Buffer
	m := Metrics(&buf, "dev", "apply")
	m.Count("Applied", 2)
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		AWS struct {
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
			}
		} `json:"_aws"`
		Environment, Function string
		Applied               float64
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("EMF line %q: %v", buf.String(), err)
	}
	got := []any{rec.AWS.CloudWatchMetrics[0].Namespace, rec.AWS.CloudWatchMetrics[0].Dimensions, rec.Environment, rec.Function, rec.Applied}
	want := []any{"routekeeper", [][]string{{"Environment", "Function"}}, "dev", "apply", 2.0}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("EMF record (-want +got):\n%s", d)
	}
}

// TestMainCannotStart runs Main in a child process whose newHandler fails: it logs
// "<function> function cannot start" with the error on stderr, as JSON, and exits 1.
// newHandler reads the process environment through the getenv Main passes.
func TestMainCannotStart(t *testing.T) {
	if os.Getenv("BOOTSTRAP_TEST_MAIN") == "1" {
		Main("probe", func(_ context.Context, getenv func(string) string, log *slog.Logger) (*int, error) {
			log.Debug("below the level, not written")
			return nil, errors.New("missing " + getenv("BOOTSTRAP_TEST_PROBE"))
		}, func(*int) any { t.Error("handler called after newHandler failed"); return nil })
		t.Error("Main returned")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainCannotStart$")
	cmd.Env = append(os.Environ(), "BOOTSTRAP_TEST_MAIN=1", "BOOTSTRAP_TEST_PROBE=TABLE_NAME", "LOG_LEVEL=INFO")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("child: %v, want exit status 1\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	got := withoutTime(lines(t, &stderr))
	want := []map[string]any{{"level": "ERROR", "msg": "probe function cannot start", "error": "missing TABLE_NAME"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stderr records (-want +got):\n%s", d)
	}
}
