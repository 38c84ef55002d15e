package bootstrap

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/routekeeper/routekeeper/shared/credentials"
	"github.com/routekeeper/routekeeper/shared/emf"
	"github.com/routekeeper/routekeeper/shared/genesys"
)

// Env is what every function reads from its environment and the clients built from it,
// once per container.
type Env struct {
	Environment    string // ROUTEKEEPER_ENVIRONMENT: the routing environment of this stack
	Table          string // TABLE_NAME: the routekeeper table
	EventBus       string // EVENT_BUS_NAME ("" => not set)
	ChangeQueueURL string // CHANGE_QUEUE_URL ("" => not set)

	// AWS is the SDK's default configuration; functions build their service clients
	// from it (sqs.NewFromConfig(env.AWS)).
	AWS aws.Config
	// Genesys is the one Genesys client of the container, logging to Log.
	Genesys *genesys.Client
	// Credentials are the secret's values (or, locally, GENESYS_CLIENT_ID,
	// GENESYS_CLIENT_SECRET and WEBHOOK_TOKEN): the client id identifies routekeeper's own
	// edits in audit events, the webhook token authenticates webhook senders. They print
	// redacted.
	Credentials credentials.Secret
	Log         *slog.Logger
	// Getenv is the getenv Load read, for the variables only one function reads.
	Getenv func(string) string
}

// Load reads the environment every function shares and builds the AWS configuration and
// the Genesys client:
//
//	ROUTEKEEPER_ENVIRONMENT     required
//	TABLE_NAME                  required
//	EVENT_BUS_NAME              optional
//	CHANGE_QUEUE_URL            optional
//	GENESYS_CREDENTIALS_SECRET  Secrets Manager secret {"clientId","clientSecret","webhookToken"} (shared/credentials)
//	GENESYS_API_URL             Genesys Cloud API base URL
//	GENESYS_LOGIN_URL           OAuth base URL ("" => derived from the API URL)
//
// Without GENESYS_CREDENTIALS_SECRET the Genesys configuration comes from
// genesys.ConfigFromEnv (GENESYS_CLIENT_ID, GENESYS_CLIENT_SECRET, GENESYS_REGION, ...)
// and the webhook token from WEBHOOK_TOKEN: local runs only, the template never holds a
// secret.
//
// The AWS configuration is the SDK's default chain, which reads the process environment
// (as Lambda sets it; AWS_ENDPOINT_URL points it at moto locally), not getenv. Errors name
// the variables to set and never hold the client secret.
func Load(ctx context.Context, getenv func(string) string, log *slog.Logger) (*Env, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	env := &Env{
		Environment:    strings.TrimSpace(getenv("ROUTEKEEPER_ENVIRONMENT")),
		Table:          strings.TrimSpace(getenv("TABLE_NAME")),
		EventBus:       strings.TrimSpace(getenv("EVENT_BUS_NAME")),
		ChangeQueueURL: strings.TrimSpace(getenv("CHANGE_QUEUE_URL")),
		Log:            log,
		Getenv:         getenv,
	}
	if env.Environment == "" || env.Table == "" {
		return nil, fmt.Errorf("ROUTEKEEPER_ENVIRONMENT (%q) and TABLE_NAME (%q) must be set", env.Environment, env.Table)
	}
	var err error
	if env.AWS, err = config.LoadDefaultConfig(ctx); err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	gcfg, creds, err := genesysConfig(ctx, getenv, env.AWS, log)
	if err != nil {
		return nil, err
	}
	env.Credentials = creds
	if env.Genesys, err = genesys.New(gcfg); err != nil {
		return nil, fmt.Errorf("genesys client (GENESYS_API_URL %q, GENESYS_LOGIN_URL %q): %w", gcfg.APIURL, gcfg.LoginURL, err)
	}
	return env, nil
}

// genesysConfig is the Genesys client configuration and the credentials: from the
// secret, else everything from GENESYS_* (and WEBHOOK_TOKEN).
func genesysConfig(ctx context.Context, getenv func(string) string, awsCfg aws.Config, log *slog.Logger) (genesys.Config, credentials.Secret, error) {
	secret := strings.TrimSpace(getenv("GENESYS_CREDENTIALS_SECRET"))
	if secret == "" {
		cfg, err := genesys.ConfigFromEnv(getenv)
		if err != nil {
			return genesys.Config{}, credentials.Secret{}, fmt.Errorf("set GENESYS_CREDENTIALS_SECRET (or, locally, GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET): %w", err)
		}
		cfg.Logger = log
		log.Debug("genesys credentials from the environment", slog.String("clientId", cfg.ClientID))
		return cfg, credentials.Secret{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, WebhookToken: getenv("WEBHOOK_TOKEN")}, nil
	}
	creds, err := credentials.Fetch(ctx, secretsmanager.NewFromConfig(awsCfg), secret)
	if err != nil {
		return genesys.Config{}, credentials.Secret{}, fmt.Errorf("GENESYS_CREDENTIALS_SECRET: %w", err)
	}
	log.Debug("genesys credentials from Secrets Manager", slog.String("secret", secret), slog.Any("credentials", creds))
	return genesys.Config{APIURL: strings.TrimSpace(getenv("GENESYS_API_URL")), LoginURL: strings.TrimSpace(getenv("GENESYS_LOGIN_URL")),
		ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, Logger: log}, creds, nil
}

// Metrics returns the EMF metrics of one unit of work of function (an invocation) in the
// routing environment, written to w on Flush: namespace routekeeper, dimensions
// Environment and Function. Every function's metrics come from here, so the dimensions a
// dashboard or alarm selects on are defined once.
func Metrics(w io.Writer, environment, function string) *emf.Metrics {
	return emf.New(w, "routekeeper", emf.Dimension{Name: "Environment", Value: environment},
		emf.Dimension{Name: "Function", Value: function})
}

// Duration reads the optional duration variable name: def when it is unset, else a
// positive Go duration (10s, 1m30s). The error names the variable and its value.
func Duration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	s := strings.TrimSpace(getenv(name))
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q: want a positive Go duration such as 10s", name, s)
	}
	return d, nil
}
