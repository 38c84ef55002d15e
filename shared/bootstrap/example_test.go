package bootstrap_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/routekeeper/routekeeper/shared/bootstrap"
)

type handler struct {
	env *bootstrap.Env
	log *slog.Logger
}

func (h *handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	for _, rec := range ev.Records {
		ctx := bootstrap.WithLogAttrs(ctx, slog.String("messageId", rec.MessageId))
		h.log.InfoContext(ctx, "record handled") // carries requestId and messageId
	}
	return events.SQSEventResponse{}, nil
}

// A function's main.go: newHandler is the test seam, bootstrap does the rest.
func ExampleMain() {
	newHandler := func(ctx context.Context, getenv func(string) string, log *slog.Logger) (*handler, error) {
		env, err := bootstrap.Load(ctx, getenv, log)
		if err != nil {
			return nil, err
		}
		// Service clients come from env.AWS here: sqs.NewFromConfig(env.AWS), ...
		return &handler{env: env, log: log}, nil
	}
	bootstrap.Main("example", newHandler, func(h *handler) any { return h.Handle })
}

func ExampleDuration() {
	getenv := func(name string) string { return map[string]string{"APPLY_DEADLINE_MARGIN": "15s"}[name] }
	margin, err := bootstrap.Duration(getenv, "APPLY_DEADLINE_MARGIN", 10*time.Second)
	fmt.Println(margin, err)
	_, err = bootstrap.Duration(func(string) string { return "15" }, "APPLY_DEADLINE_MARGIN", 10*time.Second)
	fmt.Println(err)
	// Output:
	// 15s <nil>
	// APPLY_DEADLINE_MARGIN "15": want a positive Go duration such as 10s
}

func ExampleLogger() {
	log := bootstrap.Logger(os.Stderr, os.Getenv) // LOG_LEVEL, else AWS_LAMBDA_LOG_LEVEL
	ctx := bootstrap.WithLogAttrs(context.Background(), slog.String("messageId", "m-1"))
	log.InfoContext(ctx, "started") // {"time":...,"level":"INFO","msg":"started","messageId":"m-1"}
}
