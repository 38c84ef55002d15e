package credentials_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/shared/credentials"
)

func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }

const (
	secret = "s3cr3t-VALUE-never-printed"
	token  = "w3bh00k-TOKEN-never-printed"
)

type fakeSM struct {
	value *string
	err   error
	calls int
}

func (f *fakeSM) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{ARN: in.SecretId, SecretString: f.value}, nil
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		want    credentials.Secret
		wantErr bool
	}{
		{name: "valid", value: `{"clientId":"id-1","clientSecret":"` + secret + `"}`, want: credentials.Secret{ClientID: "id-1", ClientSecret: secret}},
		{name: "extra members ignored", value: `{"clientId":"id-1","clientSecret":"x","org":"acme"}`, want: credentials.Secret{ClientID: "id-1", ClientSecret: "x"}},
		{name: "webhook token", value: `{"clientId":"id-1","clientSecret":"x","webhookToken":"` + token + `"}`, want: credentials.Secret{ClientID: "id-1", ClientSecret: "x", WebhookToken: token}},
		{name: "missing secret", value: `{"clientId":"id-1"}`, wantErr: true},
		{name: "empty id", value: `{"clientId":"","clientSecret":"x"}`, wantErr: true},
		{name: "not json", value: `clientId=` + secret, wantErr: true},
		{name: "wrong type", value: `{"clientId":1,"clientSecret":"` + secret + `"}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := credentials.Parse([]byte(tc.value))
			if tc.wantErr {
				if !errors.Is(err, credentials.ErrInvalidSecret) {
					t.Fatalf("Parse(%q) error %v, want ErrInvalidSecret", tc.value, err)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds the secret", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Parse(%q) = %#v, %v; want %#v", tc.value, got, err, tc.want)
			}
		})
	}
}

// TestNeverPrinted proves the secret does not reach fmt, slog (text and JSON) or JSON.
func TestNeverPrinted(t *testing.T) {
	g := credentials.Secret{ClientID: "id-1", ClientSecret: secret, WebhookToken: token}
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
		fmt.Fprintf(&out, verb+"\n", g)
		fmt.Fprintf(&out, verb+"\n", struct{ C credentials.Secret }{g})
		fmt.Fprintf(&out, verb+"\n", &g)
	}
	slog.New(slog.NewJSONHandler(&out, nil)).Info("creds", "c", g)
	slog.New(slog.NewTextHandler(&out, nil)).Info("creds", "c", g)
	b, err := json.Marshal(map[string]any{"c": g})
	if err != nil {
		t.Fatal(err)
	}
	out.Write(b)
	s := out.String()
	hexSecret := fmt.Sprintf("%x", secret)
	if strings.Contains(s, secret) || strings.Contains(strings.ToLower(s), hexSecret) {
		t.Fatalf("secret printed:\n%s", s)
	}
	if strings.Contains(s, token) || strings.Contains(strings.ToLower(s), fmt.Sprintf("%x", token)) {
		t.Fatalf("webhook token printed:\n%s", s)
	}
	if !strings.Contains(s, "id-1") {
		t.Errorf("client id not printed, want it for diagnosis:\n%s", s)
	}
}

func TestFetchErrors(t *testing.T) {
	bad := `{"clientSecret":"` + secret + `"}`
	_, err := credentials.Fetch(context.Background(), &fakeSM{value: &bad}, "my-secret")
	if !errors.Is(err, credentials.ErrInvalidSecret) || !strings.Contains(err.Error(), "my-secret") || strings.Contains(err.Error(), secret) {
		t.Errorf("got %v, want ErrInvalidSecret naming my-secret without the value", err)
	}
	if _, err := credentials.Fetch(context.Background(), &fakeSM{}, ""); err == nil || !strings.Contains(err.Error(), "GENESYS_CREDENTIALS_SECRET") {
		t.Errorf("empty id: got %v, want an error naming GENESYS_CREDENTIALS_SECRET", err)
	}
}

// TestFetchFromSecretsManager reads the secret the local stack creates from template.yaml.
func TestFetchFromSecretsManager(t *testing.T) {
	cfg, res := awslocal.ForTest(t)
	sm := secretsmanager.NewFromConfig(cfg)
	g, err := credentials.Fetch(context.Background(), sm, res.SecretARN)
	if err != nil {
		t.Fatal(err)
	}
	want := credentials.Secret{ClientID: awslocal.LocalClientID, ClientSecret: awslocal.LocalClientSecret, WebhookToken: awslocal.LocalWebhookToken}
	if g != want {
		t.Errorf("got %#v, want %#v", g, want)
	}
	_, err = credentials.Fetch(context.Background(), sm, "does-not-exist")
	if err == nil || !strings.Contains(err.Error(), "does-not-exist") {
		t.Errorf("missing secret: got %v, want an error naming it", err)
	}
}

func ExampleParse() {
	g, err := credentials.Parse([]byte(`{"clientId":"routekeeper-ci","clientSecret":"hunter2"}`))
	fmt.Println(g, err)
	// Output: genesys client routekeeper-ci (secret [REDACTED]) <nil>
}
