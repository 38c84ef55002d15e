package genesys

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConfigFromEnv(t *testing.T) {
	base := map[string]string{"GENESYS_CLIENT_ID": "id", "GENESYS_CLIENT_SECRET": "secret"}
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr []string // substrings of the error
	}{
		{name: "region", env: map[string]string{"GENESYS_REGION": "eu-west-1"},
			want: Config{APIURL: "https://api.mypurecloud.ie", LoginURL: "https://login.mypurecloud.ie", ClientID: "id", ClientSecret: "secret"}},
		{name: "region upper case", env: map[string]string{"GENESYS_REGION": "AP-SOUTHEAST-2"},
			want: Config{APIURL: "https://api.mypurecloud.com.au", LoginURL: "https://login.mypurecloud.com.au", ClientID: "id", ClientSecret: "secret"}},
		{name: "API URL wins over region", env: map[string]string{"GENESYS_REGION": "eu-west-1", "GENESYS_API_URL": "https://api.usw2.pure.cloud/"},
			want: Config{APIURL: "https://api.usw2.pure.cloud", LoginURL: "https://login.usw2.pure.cloud", ClientID: "id", ClientSecret: "secret"}},
		{name: "api. replaced case-insensitively", env: map[string]string{"GENESYS_API_URL": "https://API.mypurecloud.de"},
			want: Config{APIURL: "https://API.mypurecloud.de", LoginURL: "https://login.mypurecloud.de", ClientID: "id", ClientSecret: "secret"}},
		{name: "only the host's leading label is replaced", env: map[string]string{"GENESYS_API_URL": "https://api.api.example.com"},
			want: Config{APIURL: "https://api.api.example.com", LoginURL: "https://login.api.example.com", ClientID: "id", ClientSecret: "secret"}},
		{name: "loopback with login URL", env: map[string]string{"GENESYS_API_URL": "http://127.0.0.1:8089", "GENESYS_LOGIN_URL": "http://127.0.0.1:8089", "GENESYS_REQUESTS_PER_MINUTE": "120"},
			want: Config{APIURL: "http://127.0.0.1:8089", LoginURL: "http://127.0.0.1:8089", ClientID: "id", ClientSecret: "secret", RequestsPerMinute: 120}},
		{name: "loopback without login URL", env: map[string]string{"GENESYS_API_URL": "http://127.0.0.1:8089"},
			wantErr: []string{"does not start with \"api.\"", "set GENESYS_LOGIN_URL"}},
		{name: "nothing", env: map[string]string{"GENESYS_CLIENT_ID": "", "GENESYS_CLIENT_SECRET": ""},
			wantErr: []string{"GENESYS_API_URL", "GENESYS_REGION", "GENESYS_CLIENT_ID is required", "GENESYS_CLIENT_SECRET is required"}},
		{name: "unknown region", env: map[string]string{"GENESYS_REGION": "mars-north-1"},
			wantErr: []string{`GENESYS_REGION "mars-north-1"`, "us-east-1"}},
		{name: "bad URL", env: map[string]string{"GENESYS_API_URL": "api.mypurecloud.com"},
			wantErr: []string{"not an absolute http(s) URL"}},
		{name: "URL with credentials is not echoed", env: map[string]string{"GENESYS_API_URL": "https://u:hunter2@api.mypurecloud.com"},
			wantErr: []string{"must not contain user info"}},
		{name: "bad budget", env: map[string]string{"GENESYS_REGION": "us-east-1", "GENESYS_REQUESTS_PER_MINUTE": "lots"},
			wantErr: []string{"GENESYS_REQUESTS_PER_MINUTE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			got, err := ConfigFromEnv(func(k string) string { return env[k] })
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("ConfigFromEnv(%v): %v", tc.env, err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("ConfigFromEnv(%v) (-want +got):\n%s", tc.env, diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("ConfigFromEnv(%v) = %+v, want an error", tc.env, got)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q leaks a credential", err)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"derives login URL", Config{APIURL: "https://api.mypurecloud.com", ClientID: "a", ClientSecret: "b"}, ""},
		{"loopback needs login URL", Config{APIURL: "http://127.0.0.1:1", ClientID: "a", ClientSecret: "b"}, "set Config.LoginURL"},
		{"missing credentials", Config{APIURL: "https://api.mypurecloud.com"}, "ClientID is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.tokenURL != "https://login.mypurecloud.com/oauth/token" {
					t.Errorf("got token URL %q, want https://login.mypurecloud.com/oauth/token", c.tokenURL)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
