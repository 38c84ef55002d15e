package main

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/shared/apply/applytest"
)

// templateEnv is the environment the template gives the function on w's moto and
// simulator (the credentials from the local secret), changed by extra ("" unsets). The
// process environment points the AWS SDK at moto, as Lambda's points it at AWS.
func templateEnv(t *testing.T, w *world, extra map[string]string) func(string) string {
	t.Helper()
	for k, v := range awslocal.EndpointEnv(*w.AWS.BaseEndpoint) {
		t.Setenv(k, v)
	}
	vars := map[string]string{"ROUTEKEEPER_ENVIRONMENT": applytest.Environment, "GENESYS_API_URL": w.URL, "GENESYS_LOGIN_URL": w.URL,
		"OCCUPANCY_MAX_CALLS": "120"}
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
// Genesys credentials from the secret on moto), and runs it: the rule's queues are
// polled and the run's record names the function.
func TestNewHandler(t *testing.T) {
	w := newWorld(t, worldOptions{observe: true})
	h, err := newHandler(context.Background(), templateEnv(t, w, nil), w.h.Logger)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{applytest.Environment, 120, true, true}, []any{h.Environment, h.MaxCalls, h.Changes != nil, h.Bus != nil}); diff != "" {
		t.Errorf("Environment, MaxCalls, Changes set, Bus set (-want +got):\n%s", diff)
	}
	h.Metrics = w.metrics
	w.load(w.q, 3, 1, 1, 1)
	res, err := h.Handle(context.Background(), scheduled(t0))
	if err != nil || res.Rules != 1 || res.Queues != 2 || res.Partial || res.GenesysCalls != 2 {
		t.Fatalf("Handle: %+v, %v; want the rule's two queues polled with two calls", res, err)
	}
	if rec := w.records(t)["run"]; rec.Dimensions["Function"] != "occupancy" || rec.Dimensions["Environment"] != applytest.Environment {
		t.Errorf("run record dimensions %v", rec.Dimensions)
	}
}

func TestNewHandlerErrors(t *testing.T) {
	w := newWorld(t, worldOptions{})
	tests := []struct {
		name  string
		extra map[string]string
		want  []string
	}{
		{name: "bad call budget", extra: map[string]string{"OCCUPANCY_MAX_CALLS": "0"},
			want: []string{`OCCUPANCY_MAX_CALLS "0": want a whole number of Genesys calls, at least 1`}},
		{name: "no change queue", extra: map[string]string{"CHANGE_QUEUE_URL": ""},
			want: []string{"CHANGE_QUEUE_URL is not set"}},
		{name: "bad budget and no table: both reported", extra: map[string]string{"OCCUPANCY_MAX_CALLS": "many", "TABLE_NAME": ""},
			want: []string{`OCCUPANCY_MAX_CALLS "many"`, `TABLE_NAME ("") must be set`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := newHandler(context.Background(), templateEnv(t, w, tc.extra), w.h.Logger)
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
