// Package credentials loads the credentials secret a function uses: the Genesys Cloud
// OAuth client credentials and the webhook token
// from AWS Secrets Manager (the secret named by GENESYS_CREDENTIALS_SECRET, a JSON object
// {"clientId":"...","clientSecret":"..."}).
//
// It owns the secret's format (the Genesys client's id and secret, and the webhook token)
// and the rule that its secrets never leave memory: they print as "[REDACTED]" through
// fmt, log/slog and encoding/json, and no error holds the secret string or a fragment of
// it. A function fetches the credentials once
// per container, in main, before lambda.Start (shared/bootstrap).
package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretGetter is the one Secrets Manager method this package uses
// (*secretsmanager.Client satisfies it).
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// ErrInvalidSecret is matched by errors about a secret whose value is not the expected
// JSON object. Fix the secret's value; retrying will not help.
var ErrInvalidSecret = errors.New("credentials: invalid Genesys credentials secret")

const redacted = "[REDACTED]"

// Secret is the credentials secret: the Genesys OAuth client-credentials pair and,
// optionally, the token webhook senders present (X-Routekeeper-Token). ClientSecret and
// WebhookToken never appear in formatted output, logs or JSON.
type Secret struct {
	ClientID     string
	ClientSecret string
	WebhookToken string // "" when the secret has none
}

// String implements fmt.Stringer without the secret.
func (g Secret) String() string {
	return fmt.Sprintf("genesys client %s (secret %s)", g.ClientID, redacted)
}

// GoString implements fmt.GoStringer (%#v) without the secret.
func (g Secret) GoString() string {
	return fmt.Sprintf("credentials.Secret{ClientID:%q, ClientSecret:%q, WebhookToken:%q}", g.ClientID, redacted, redacted)
}

// Format makes every fmt verb (%v, %+v, %s, %q, %x ...) print String, so no verb
// reaches the fields directly.
func (g Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = fmt.Fprint(f, g.GoString())
		return
	}
	_, _ = fmt.Fprint(f, g.String())
}

// LogValue implements slog.LogValuer without the secret.
func (g Secret) LogValue() slog.Value {
	return slog.GroupValue(slog.String("clientId", g.ClientID), slog.String("clientSecret", redacted), slog.String("webhookToken", redacted))
}

// MarshalJSON writes the secret and the token as "[REDACTED]", so a struct holding a
// Secret can be logged as JSON safely. (Decoding a secret value goes through Fetch, not
// UnmarshalJSON.)
func (g Secret) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
		WebhookToken string `json:"webhookToken"`
	}{g.ClientID, redacted, redacted})
}

// Parse decodes a secret value {"clientId":"...","clientSecret":"...","webhookToken":"..."}.
// clientId and clientSecret are required, webhookToken is optional (only the webhook
// function needs it); others are ignored (a secret may carry notes such as the org name).
func Parse(secret []byte) (Secret, error) {
	var v struct {
		ClientID     *string `json:"clientId"`
		ClientSecret *string `json:"clientSecret"`
		WebhookToken string  `json:"webhookToken"`
	}
	if err := json.Unmarshal(secret, &v); err != nil {
		// The json error can quote a fragment of the value: never wrap it.
		return Secret{}, fmt.Errorf("%w: the value is not a JSON object {\"clientId\":\"...\",\"clientSecret\":\"...\"}", ErrInvalidSecret)
	}
	var missing []string
	if v.ClientID == nil || *v.ClientID == "" {
		missing = append(missing, "clientId")
	}
	if v.ClientSecret == nil || *v.ClientSecret == "" {
		missing = append(missing, "clientSecret")
	}
	if len(missing) > 0 {
		return Secret{}, fmt.Errorf("%w: %v missing or empty: store {\"clientId\":\"...\",\"clientSecret\":\"...\"}", ErrInvalidSecret, missing)
	}
	return Secret{ClientID: *v.ClientID, ClientSecret: *v.ClientSecret, WebhookToken: v.WebhookToken}, nil
}

// Fetch reads the secret secretID (a name or ARN) and parses it. Errors name the secret,
// never its value.
func Fetch(ctx context.Context, sm SecretGetter, secretID string) (Secret, error) {
	if secretID == "" {
		return Secret{}, errors.New("credentials: no secret id: set GENESYS_CREDENTIALS_SECRET to the ARN of the Genesys credentials secret")
	}
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
	if err != nil {
		return Secret{}, fmt.Errorf("credentials: read secret %s: %w", secretID, err)
	}
	var value []byte
	switch {
	case out.SecretString != nil:
		value = []byte(*out.SecretString)
	case out.SecretBinary != nil:
		value = out.SecretBinary
	default:
		return Secret{}, fmt.Errorf("credentials: secret %s: %w: it has no value", secretID, ErrInvalidSecret)
	}
	g, err := Parse(value)
	if err != nil {
		return Secret{}, fmt.Errorf("credentials: secret %s: %w", secretID, err)
	}
	return g, nil
}
