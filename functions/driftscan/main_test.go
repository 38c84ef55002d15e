package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/shared/drift"
)

// templateEnv is the environment the template gives the function on w's moto and
// simulator (the credentials from the local secret), changed by extra ("" unsets). The
// process environment points the AWS SDK at moto, as Lambda's points it at AWS.
func templateEnv(t *testing.T, w *world, extra map[string]string) func(string) string {
	t.Helper()
	for k, v := range awslocal.EndpointEnv(*w.AWS.BaseEndpoint) {
		t.Setenv(k, v)
	}
	vars := map[string]string{"ROUTEKEEPER_ENVIRONMENT": w.Env.Env, "GENESYS_API_URL": w.URL, "GENESYS_LOGIN_URL": w.URL,
		"DRIFT_MODE": "report", "MAX_REVERTS_PER_SCAN": "25", "DRIFT_REPORT_RETENTION": "720h"}
	for k, v := range w.Resources.Env {
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
// Genesys credentials from the secret on moto), and scans.
func TestNewHandler(t *testing.T) {
	w := newWorld(t)
	h, err := newHandler(context.Background(), templateEnv(t, w, map[string]string{"DRIFT_MODE": "revert", "MAX_REVERTS_PER_SCAN": "3"}), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s := h.Scanner
	if diff := cmp.Diff([]any{w.Env.Env, drift.ModeRevert, 3, 720 * time.Hour, true, true}, []any{s.Environment, s.Mode, s.MaxReverts, s.Retention, s.Send != nil, s.Bus != nil}); diff != "" {
		t.Errorf("Environment, Mode, MaxReverts, Retention, Send set, Bus set (-want +got):\n%s", diff)
	}
	h.Metrics = w.metrics
	sum, err := h.Handle(context.Background(), scheduled(time.Now()))
	if err != nil || !sum.Complete || sum.Entities.Modified != 1 || sum.Reverts.Requested != 1 {
		t.Fatalf("Handle: %+v, %v; want complete, the edited queue modified and reverted", sum, err)
	}
}

func TestNewHandlerErrors(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name  string
		extra map[string]string
		want  []string
	}{
		{name: "bad mode", extra: map[string]string{"DRIFT_MODE": "fix"}, want: []string{`DRIFT_MODE: drift mode "fix": want report or revert`}},
		{name: "bad cap", extra: map[string]string{"MAX_REVERTS_PER_SCAN": "0"}, want: []string{`MAX_REVERTS_PER_SCAN "0": want a whole number`}},
		{name: "revert without a change queue", extra: map[string]string{"DRIFT_MODE": "revert", "CHANGE_QUEUE_URL": ""}, want: []string{"CHANGE_QUEUE_URL is not set"}},
		{name: "every problem at once", extra: map[string]string{"DRIFT_REPORT_RETENTION": "a month", "TABLE_NAME": ""},
			want: []string{`DRIFT_REPORT_RETENTION "a month"`, `TABLE_NAME ("") must be set`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := newHandler(context.Background(), templateEnv(t, w, tc.extra), slog.New(slog.DiscardHandler))
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
