package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/bootstrap"
	"github.com/routekeeper/routekeeper/shared/store"
)

func main() { bootstrap.Main("apply", newHandler, func(h *Handler) any { return h.Handle }) }

// newHandler reads the environment (doc.go) and builds every client once per container.
// A bad APPLY_DEADLINE_MARGIN and a bad shared variable are reported together.
func newHandler(ctx context.Context, getenv func(string) string, log *slog.Logger) (*Handler, error) {
	margin, marginErr := bootstrap.Duration(getenv, "APPLY_DEADLINE_MARGIN", DefaultMargin)
	env, err := bootstrap.Load(ctx, getenv, log)
	if err := errors.Join(marginErr, err); err != nil {
		return nil, err
	}
	eng := apply.New(env.Genesys, store.New(dynamodb.NewFromConfig(env.AWS), env.Table), apply.Options{Environment: env.Environment, Logger: log})
	return &Handler{Engine: eng, Environment: env.Environment, Margin: margin, Logger: log, Metrics: os.Stdout,
		Calls: env.Genesys.Calls, Queue: sqs.NewFromConfig(env.AWS), QueueURL: env.ChangeQueueURL}, nil
}
