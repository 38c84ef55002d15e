package bootstrap

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

// Main runs a Lambda: it builds the logger (Logger on stderr with os.Getenv), calls
// newHandler once per container and hands handler(h), the function lambda.Start takes
// (h.Handle), to the Lambda runtime. When newHandler fails it logs
// "<function> function cannot start" with the error and exits with status 1, which Lambda
// reports as an init error.
func Main[H any](function string, newHandler func(ctx context.Context, getenv func(string) string, log *slog.Logger) (H, error), handler func(H) any) {
	log := Logger(os.Stderr, os.Getenv)
	h, err := newHandler(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error(function+" function cannot start", slog.String("error", err.Error()))
		os.Exit(1)
	}
	lambda.Start(handler(h))
}
