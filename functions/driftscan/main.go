package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/routekeeper/routekeeper/shared/bootstrap"
	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/store"
)

func main() { bootstrap.Main("driftscan", newHandler, func(h *Handler) any { return h.Handle }) }

// newHandler reads the environment (doc.go) and builds every client once per container.
func newHandler(ctx context.Context, getenv func(string) string, log *slog.Logger) (*Handler, error) {
	cfg, env, err := loadConfig(ctx, getenv, log)
	if err != nil {
		return nil, err
	}
	s := &drift.Scanner{Environment: env.Environment, Genesys: env.Genesys, Store: store.New(dynamodb.NewFromConfig(env.AWS), env.Table),
		Bus: bus.NewPublisher(eventbridge.NewFromConfig(env.AWS), env.EventBus), Mode: cfg.mode, MaxReverts: cfg.maxReverts, Retention: cfg.retention, Logger: log}
	if cfg.mode == drift.ModeRevert {
		pub := changes.NewPublisher(sqs.NewFromConfig(env.AWS), env.ChangeQueueURL, changes.PublisherOptions{})
		s.Send = func(ctx context.Context, reqs []*changes.Request) error { _, err := pub.Publish(ctx, reqs); return err }
	}
	return &Handler{Scanner: s, Metrics: os.Stdout, Logger: log}, nil
}
