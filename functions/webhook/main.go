package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/routekeeper/routekeeper/shared/bootstrap"
	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

func main() { bootstrap.Main("webhook", newHandler, func(h *Handler) any { return h.Handle }) }

// newHandler reads the environment (doc.go) and builds every client once per container.
func newHandler(ctx context.Context, getenv func(string) string, log *slog.Logger) (*Handler, error) {
	env, err := bootstrap.Load(ctx, getenv, log)
	if err != nil {
		return nil, err
	}
	return &Handler{Environment: env.Environment, Store: store.New(dynamodb.NewFromConfig(env.AWS), env.Table),
		Genesys: env.Genesys, Names: live.NewCache(env.Genesys, 5*time.Minute, nil), Calls: env.Genesys.Calls,
		Bus: bus.NewPublisher(eventbridge.NewFromConfig(env.AWS), env.EventBus), Token: env.Credentials.WebhookToken,
		OwnClientID: env.Credentials.ClientID, Logger: log, Metrics: os.Stdout}, nil
}
