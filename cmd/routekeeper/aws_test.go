package main

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// isolateAWS gives the test an AWS environment with nothing configured: no variables,
// empty config files, no instance metadata, one attempt per call.
func isolateAWS(t *testing.T) {
	t.Helper()
	empty := writeConfig(t, "aws-config", "")
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
}

// TestAWSErrorsInUserTerms: AWS failures say what to set or check, not the SDK's words.
func TestAWSErrorsInUserTerms(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	l.Close() // nothing listens there now
	tests := []struct {
		name    string
		env     map[string]string
		want    []string
		notWant []string
	}{
		{name: "no credentials",
			want:    []string{"no AWS credentials: set AWS_PROFILE (a profile of ~/.aws/config), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
			notWant: []string{"IMDS", "EC2 IMDS", "SDK said"}},
		{name: "a profile that does not exist", env: map[string]string{"AWS_PROFILE": "nowhere"},
			want: []string{"nowhere"}},
		{name: "no region", env: map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": ""},
			want: []string{"no AWS region: set AWS_REGION"}},
		{name: "unreachable endpoint", env: map[string]string{"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_ENDPOINT_URL": endpoint},
			want: []string{"table rk: cannot reach AWS at " + endpoint, "AWS_ENDPOINT_URL is " + endpoint + ": is the endpoint (moto, a VPC endpoint) running?"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			isolateAWS(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := execute(t, "status", "--table", "rk", "--environment", "dev")
			if code != 1 || stdout != "" {
				t.Errorf("status: exit %d, stdout %q; want 1 and nothing", code, stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("status stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(stderr, w) {
					t.Errorf("status stderr has %q:\n%s", w, stderr)
				}
			}
		})
	}
}
