// Package credentials loads the Genesys Cloud OAuth client credentials a function uses
// from AWS Secrets Manager (the secret named by GENESYS_CREDENTIALS_SECRET, a JSON object
// {"clientId":"...","clientSecret":"..."}).
//
// It owns the secret's format and the rule that the secret never leaves memory: Genesys
// values print as "[REDACTED]" through fmt, log/slog and encoding/json, and no error
// holds the secret string or a fragment of it. A function fetches the credentials once
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

// Genesys holds an OAuth client-credentials pair. Its ClientSecret never appears in
// formatted output, logs or JSON.
type Genesys struct {
	ClientID     string
	ClientSecret string
}

// String implements fmt.Stringer without the secret.
func (g Genesys) String() string {
	return fmt.Sprintf("genesys client %s (secret %s)", g.ClientID, redacted)
}

// GoString implements fmt.GoStringer (%#v) without the secret.
func (g Genesys) GoString() string {
	return fmt.Sprintf("credentials.Genesys{ClientID:%q, ClientSecret:%q}", g.ClientID, redacted)
}

// Format makes every fmt verb (%v, %+v, %s, %q, %x ...) print String, so no verb
// reaches the fields directly.
func (g Genesys) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = fmt.Fprint(f, g.GoString())
		return
	}
	_, _ = fmt.Fprint(f, g.String())
}

// LogValue implements slog.LogValuer without the secret.
func (g Genesys) LogValue() slog.Value {
	return slog.GroupValue(slog.String("clientId", g.ClientID), slog.String("clientSecret", redacted))
}

// MarshalJSON writes the secret as "[REDACTED]", so a struct holding Genesys can be
// logged as JSON safely. (Decoding a secret value goes through Fetch, not UnmarshalJSON.)
func (g Genesys) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}{g.ClientID, redacted})
}

// Parse decodes a secret value {"clientId":"...","clientSecret":"..."}. Both members are
// required; others are ignored (a secret may carry notes such as the org name).
func Parse(secret []byte) (Genesys, error) {
	var v struct {
		ClientID     *string `json:"clientId"`
		ClientSecret *string `json:"clientSecret"`
	}
	if err := json.Unmarshal(secret, &v); err != nil {
		// The json error can quote a fragment of the value: never wrap it.
		return Genesys{}, fmt.Errorf("%w: the value is not a JSON object {\"clientId\":\"...\",\"clientSecret\":\"...\"}", ErrInvalidSecret)
	}
	var missing []string
	if v.ClientID == nil || *v.ClientID == "" {
		missing = append(missing, "clientId")
	}
	if v.ClientSecret == nil || *v.ClientSecret == "" {
		missing = append(missing, "clientSecret")
	}
	if len(missing) > 0 {
		return Genesys{}, fmt.Errorf("%w: %v missing or empty: store {\"clientId\":\"...\",\"clientSecret\":\"...\"}", ErrInvalidSecret, missing)
	}
	return Genesys{ClientID: *v.ClientID, ClientSecret: *v.ClientSecret}, nil
}

// Fetch reads the secret secretID (a name or ARN) and parses it. Errors name the secret,
// never its value.
func Fetch(ctx context.Context, sm SecretGetter, secretID string) (Genesys, error) {
	if secretID == "" {
		return Genesys{}, errors.New("credentials: no secret id: set GENESYS_CREDENTIALS_SECRET to the ARN of the Genesys credentials secret")
	}
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
	if err != nil {
		return Genesys{}, fmt.Errorf("credentials: read secret %s: %w", secretID, err)
	}
	var value []byte
	switch {
	case out.SecretString != nil:
		value = []byte(*out.SecretString)
	case out.SecretBinary != nil:
		value = out.SecretBinary
	default:
		return Genesys{}, fmt.Errorf("credentials: secret %s: %w: it has no value", secretID, ErrInvalidSecret)
	}
	g, err := Parse(value)
	if err != nil {
		return Genesys{}, fmt.Errorf("credentials: secret %s: %w", secretID, err)
	}
	return g, nil
}
