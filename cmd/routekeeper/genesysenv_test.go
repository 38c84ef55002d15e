package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
)

// startOrg starts a simulated org on loopback and points the Genesys variables
// of profile ("" = the unprefixed GENESYS_* ones) at it. Rate limits are off
// so the tests are fast; the benchmark measures the real budget.
func startOrg(t *testing.T, profile string, g sim.GenerateOptions) *sim.Server {
	t.Helper()
	return startOrgVia(t, profile, g, nil)
}

// startOrgVia is startOrg with the simulator behind via (nil: none), a handler that may
// answer some requests itself as Genesys would (a 400, a 429).
func startOrgVia(t *testing.T, profile string, g sim.GenerateOptions, via func(http.Handler) http.Handler) *sim.Server {
	t.Helper()
	s := sim.New(sim.Options{RequestsPerMinute: -1})
	if err := s.Load(sim.Generate(g)); err != nil {
		t.Fatalf("Load(Generate(%+v)): %v", g, err)
	}
	var h http.Handler = s
	if via != nil {
		h = via(s)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	prefix, err := profilePrefix(profile)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"GENESYS_API_URL":             ts.URL,
		"GENESYS_LOGIN_URL":           ts.URL,
		"GENESYS_CLIENT_ID":           sim.DefaultClientID,
		"GENESYS_CLIENT_SECRET":       sim.DefaultClientSecret,
		"GENESYS_REQUESTS_PER_MINUTE": "-1",
	} {
		t.Setenv(prefix+k, v)
	}
	return s
}

// clearGenesysEnv unsets every variable the CLI could read, for this test.
func clearGenesysEnv(t *testing.T, prefixes ...string) {
	t.Helper()
	for _, p := range append([]string{""}, prefixes...) {
		for _, k := range []string{"GENESYS_API_URL", "GENESYS_REGION", "GENESYS_LOGIN_URL", "GENESYS_CLIENT_ID", "GENESYS_CLIENT_SECRET", "GENESYS_REQUESTS_PER_MINUTE"} {
			t.Setenv(p+k, "")
		}
	}
}

func TestProfilePrefix(t *testing.T) {
	tests := []struct {
		profile, want string
		wantErr       bool
	}{
		{"", "", false},
		{"prod", "ROUTEKEEPER_PROD_", false},
		{"prod-eu", "ROUTEKEEPER_PROD_EU_", false},
		{"Dev_2", "ROUTEKEEPER_DEV_2_", false},
		{"-x", "", true},
		{"a b", "", true},
		{"prod$", "", true},
	}
	for _, tc := range tests {
		got, err := profilePrefix(tc.profile)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("profilePrefix(%q) = %q, %v; want %q, error %v", tc.profile, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestGenesysConfigProfiles(t *testing.T) {
	clearGenesysEnv(t, "ROUTEKEEPER_PROD_")
	t.Setenv("GENESYS_REGION", "eu-west-1")
	t.Setenv("GENESYS_CLIENT_ID", "plain-id")
	t.Setenv("GENESYS_CLIENT_SECRET", "plain-secret")

	cfg, err := genesysConfig("")
	if err != nil {
		t.Fatalf("genesysConfig(\"\"): %v", err)
	}
	if got, want := cfg.APIURL, "https://api.mypurecloud.ie"; got != want {
		t.Errorf("APIURL = %q, want %q", got, want)
	}

	// A profile never falls back to the unprefixed variables.
	_, err = genesysConfig("prod")
	if err == nil {
		t.Fatalf("genesysConfig(prod) with no ROUTEKEEPER_PROD_* set: no error")
	}
	for _, want := range []string{`profile "prod"`, "ROUTEKEEPER_PROD_", "GENESYS_CLIENT_ID"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "plain-secret") {
		t.Errorf("error %q leaks a secret", err)
	}

	t.Setenv("ROUTEKEEPER_PROD_GENESYS_API_URL", "https://api.mypurecloud.de")
	t.Setenv("ROUTEKEEPER_PROD_GENESYS_CLIENT_ID", "prod-id")
	t.Setenv("ROUTEKEEPER_PROD_GENESYS_CLIENT_SECRET", "prod-secret")
	cfg, err = genesysConfig("prod")
	if err != nil {
		t.Fatalf("genesysConfig(prod): %v", err)
	}
	if cfg.APIURL != "https://api.mypurecloud.de" || cfg.LoginURL != "https://login.mypurecloud.de" || cfg.ClientID != "prod-id" {
		t.Errorf("profile prod config = %q %q %q, want the ROUTEKEEPER_PROD_ values", cfg.APIURL, cfg.LoginURL, cfg.ClientID)
	}
}

func TestUnsetEnvironmentErrors(t *testing.T) {
	clearGenesysEnv(t)
	for _, args := range [][]string{{"export"}, {"plan", "-f", exampleProd}} {
		code, _, stderr := execute(t, args...)
		if code != 1 {
			t.Errorf("%v without Genesys variables: exit %d, want 1", args, code)
		}
		if !strings.Contains(stderr, "GENESYS_CLIENT_ID") || !strings.Contains(stderr, "not configured") {
			t.Errorf("%v stderr = %q, want it to name GENESYS_CLIENT_ID and say access is not configured", args, stderr)
		}
	}
}
