package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/routekeeper/routekeeper/shared/bootstrap"
	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/store"
)

func main() { bootstrap.Main("occupancy", newHandler, func(h *Handler) any { return h.Handle }) }

// newHandler reads the environment (doc.go) and builds every client once per container.
func newHandler(ctx context.Context, getenv func(string) string, log *slog.Logger) (*Handler, error) {
	maxCalls, callsErr := positiveInt(getenv, "OCCUPANCY_MAX_CALLS", DefaultMaxCalls)
	env, err := bootstrap.Load(ctx, getenv, log)
	if err := errors.Join(callsErr, err, needChangeQueue(env)); err != nil {
		return nil, err
	}
	return &Handler{Environment: env.Environment, Store: store.New(dynamodb.NewFromConfig(env.AWS), env.Table), Genesys: env.Genesys, Metrics: os.Stdout, Logger: log,
		Changes: changes.NewPublisher(sqs.NewFromConfig(env.AWS), env.ChangeQueueURL, changes.PublisherOptions{}), Bus: bus.NewPublisher(eventbridge.NewFromConfig(env.AWS), env.EventBus), MaxCalls: maxCalls}, nil
}
