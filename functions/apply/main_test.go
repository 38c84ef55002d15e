package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/bootstrap"
	"github.com/routekeeper/routekeeper/shared/store"
)

// templateEnv is the environment the template gives the function on env's moto and
// simulator (the credentials from the local secret), changed by extra ("" unsets). The
// process environment points the AWS SDK at moto, as Lambda's points it at AWS.
func templateEnv(t *testing.T, env *applytest.Env, extra map[string]string) func(string) string {
	t.Helper()
	for k, v := range awslocal.EndpointEnv(*env.AWS.BaseEndpoint) {
		t.Setenv(k, v)
	}
	vars := map[string]string{"ROUTEKEEPER_ENVIRONMENT": applytest.Environment, "GENESYS_API_URL": env.URL, "GENESYS_LOGIN_URL": env.URL}
	for k, v := range env.Resources.Env {
		if _, set := vars[k]; !set {
			vars[k] = v
		}
	}
	for k, v := range extra {
		vars[k] = v
	}
	return func(k string) string { return vars[k] }
}

// TestNewHandler builds the handler as Lambda does, from the template's variables (the
// Genesys credentials from the secret on moto), and applies a change request with it:
// the record lands in the table, the logs carry the request and message ids, the metrics
// go to the handler's writer.
func TestNewHandler(t *testing.T) {
	w := newWorld(t)
	var logs bytes.Buffer
	h, err := newHandler(context.Background(), templateEnv(t, w.env, map[string]string{"APPLY_DEADLINE_MARGIN": "3s"}),
		bootstrap.Logger(&logs, func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	got := []any{h.Environment, h.Margin, h.QueueURL, h.Queue != nil, h.Calls != nil, h.Metrics == os.Stdout}
	want := []any{applytest.Environment, 3 * time.Second, w.env.Resources.ChangeQueueURL, true, true, true}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Environment, Margin, QueueURL, Queue set, Calls set, Metrics on stdout (-want +got):\n%s", d)
	}

	var metrics bytes.Buffer
	h.Metrics = &metrics
	r := w.update(t, 2, "from newHandler")
	resp, err := h.Handle(lambdaCtx(context.Background()), events.SQSEvent{Records: []events.SQSMessage{message(t, "m-new", r)}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle: %v, failures %v; want the record applied", err, failures(resp))
	}
	if c := w.record(t, r.ChangeID); c.Status != store.StatusApplied {
		t.Errorf("%s: %s, want APPLIED", r.ChangeID, c.Status)
	}
	if !strings.Contains(metrics.String(), `"Applied":1`) {
		t.Errorf("metrics %q lack Applied 1", metrics.String())
	}
	found := false
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		found = found || rec["status"] == "APPLIED" && rec["changeId"] == r.ChangeID && rec["messageId"] == "m-new" && rec["requestId"] == "req-1"
	}
	if !found {
		t.Errorf("no engine record with status APPLIED, changeId %s, messageId m-new and requestId req-1:\n%s", r.ChangeID, &logs)
	}
}

func TestNewHandlerErrors(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name  string
		extra map[string]string
		want  []string
	}{
		{name: "bad margin", extra: map[string]string{"APPLY_DEADLINE_MARGIN": "10"},
			want: []string{`APPLY_DEADLINE_MARGIN "10": want a positive Go duration such as 10s`}},
		{name: "bad margin and no table: both reported", extra: map[string]string{"APPLY_DEADLINE_MARGIN": "-1s", "TABLE_NAME": ""},
			want: []string{`APPLY_DEADLINE_MARGIN "-1s"`, `TABLE_NAME ("") must be set`}},
		{name: "no credentials", extra: map[string]string{"GENESYS_CREDENTIALS_SECRET": ""},
			want: []string{"set GENESYS_CREDENTIALS_SECRET", "GENESYS_CLIENT_ID"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := newHandler(context.Background(), templateEnv(t, w.env, tc.extra), w.h.Logger)
			if err == nil {
				t.Fatalf("newHandler = %+v, want an error", h)
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

// Without APPLY_DEADLINE_MARGIN the margin is DefaultMargin.
func TestNewHandlerDefaultMargin(t *testing.T) {
	w := newWorld(t)
	h, err := newHandler(context.Background(), templateEnv(t, w.env, map[string]string{"APPLY_DEADLINE_MARGIN": ""}), w.h.Logger)
	if err != nil {
		t.Fatal(err)
	}
	if h.Margin != DefaultMargin {
		t.Errorf("Margin = %v, want DefaultMargin %v", h.Margin, DefaultMargin)
	}
}
