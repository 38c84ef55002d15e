// Command apply is the apply Lambda: it takes change requests (routekeeper.change/v1)
// from the SQS FIFO change queue and applies them to Genesys Cloud with the shared engine
// (shared/apply), answering with partial batch failures.
//
// Environment (template.yaml Globals):
//
//	ROUTEKEEPER_ENVIRONMENT       routing environment this stack applies (requests for another are rejected)
//	TABLE_NAME                    the routekeeper table
//	CHANGE_QUEUE_URL              the change queue: visibility of records returned as failures ("" => not set)
//	GENESYS_CREDENTIALS_SECRET    Secrets Manager secret {"clientId","clientSecret"}; read once per container
//	GENESYS_API_URL               Genesys Cloud API base URL
//	GENESYS_LOGIN_URL             OAuth base URL ("" => derived from the API URL)
//	APPLY_DEADLINE_MARGIN         optional Go duration (default 10s): no record starts with less time left
//	AWS_LAMBDA_LOG_LEVEL          set by Lambda's advanced logging controls (DEBUG, INFO, WARN, ERROR)
//
// Without GENESYS_CREDENTIALS_SECRET the client credentials come from GENESYS_CLIENT_ID and
// GENESYS_CLIENT_SECRET (local runs only). AWS clients use the default configuration
// chain; AWS_ENDPOINT_URL points them at moto locally.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/credentials"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/store"
)

func main() {
	log := slog.New(newLogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(os.Getenv("AWS_LAMBDA_LOG_LEVEL"))})))
	h, err := newHandler(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("apply function cannot start", slog.String("error", err.Error()))
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

// newHandler reads the environment and builds every client once per container.
func newHandler(ctx context.Context, getenv func(string) string, log *slog.Logger) (*Handler, error) {
	env := getenv("ROUTEKEEPER_ENVIRONMENT")
	table := getenv("TABLE_NAME")
	if env == "" || table == "" {
		return nil, fmt.Errorf("ROUTEKEEPER_ENVIRONMENT (%q) and TABLE_NAME (%q) must be set", env, table)
	}
	margin := DefaultMargin
	if s := getenv("APPLY_DEADLINE_MARGIN"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("APPLY_DEADLINE_MARGIN %q: want a positive Go duration such as 10s", s)
		}
		margin = d
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	gcfg := genesys.Config{APIURL: getenv("GENESYS_API_URL"), LoginURL: getenv("GENESYS_LOGIN_URL"), Logger: log}
	if secret := getenv("GENESYS_CREDENTIALS_SECRET"); secret != "" {
		creds, err := credentials.Fetch(ctx, secretsmanager.NewFromConfig(awsCfg), secret)
		if err != nil {
			return nil, err
		}
		gcfg.ClientID, gcfg.ClientSecret = creds.ClientID, creds.ClientSecret
	} else {
		envCfg, err := genesys.ConfigFromEnv(getenv)
		if err != nil {
			return nil, fmt.Errorf("set GENESYS_CREDENTIALS_SECRET (or, locally, GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET): %w", err)
		}
		envCfg.Logger = log
		gcfg = envCfg
	}
	client, err := genesys.New(gcfg)
	if err != nil {
		return nil, fmt.Errorf("genesys client: %w", err)
	}
	st := store.New(dynamodb.NewFromConfig(awsCfg), table)
	eng := apply.New(client, st, apply.Options{Environment: env, Logger: log})
	queueURL := getenv("CHANGE_QUEUE_URL")
	if queueURL == "" {
		log.Warn("CHANGE_QUEUE_URL is not set: records returned after a 429 or near the deadline come back only after the queue's visibility timeout")
	}
	return &Handler{Engine: eng, Environment: env, Margin: margin, Logger: log, Metrics: os.Stdout, Calls: client.Calls,
		Queue: sqs.NewFromConfig(awsCfg), QueueURL: queueURL}, nil
}

func logLevel(s string) slog.Level {
	switch strings.ToUpper(s) {
	case "DEBUG", "TRACE":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR", "FATAL":
		return slog.LevelError
	}
	return slog.LevelInfo
}
