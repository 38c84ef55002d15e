package bootstrap

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Logger returns the JSON logger of a function writing to w. Its level is LOG_LEVEL, else
// AWS_LAMBDA_LOG_LEVEL (which Lambda sets from the template's
// LoggingConfig.ApplicationLogLevel): DEBUG or TRACE, INFO, WARN, ERROR or FATAL, in any
// case; unset means INFO, and an unknown value means INFO with a warning record saying so.
//
// A record logged with a context (InfoContext, ...) carries the Lambda invocation's
// requestId, when the context has one, and the attributes WithLogAttrs put on it, at the
// top level of the record even from a logger made with WithGroup.
func Logger(w io.Writer, getenv func(string) string) *slog.Logger {
	name, value := "LOG_LEVEL", getenv("LOG_LEVEL")
	if strings.TrimSpace(value) == "" {
		name, value = "AWS_LAMBDA_LOG_LEVEL", getenv("AWS_LAMBDA_LOG_LEVEL")
	}
	level, ok := parseLevel(value)
	log := slog.New(newLogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
	if !ok {
		log.Warn(name+" is not a log level; logging at INFO", slog.String(name, value),
			slog.String("want", "DEBUG, TRACE, INFO, WARN, ERROR or FATAL"))
	}
	return log
}

// parseLevel maps Lambda's application log levels to slog's; ok is false for an unknown
// non-empty value.
func parseLevel(s string) (level slog.Level, ok bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "DEBUG", "TRACE":
		return slog.LevelDebug, true
	case "INFO", "":
		return slog.LevelInfo, true
	case "WARN":
		return slog.LevelWarn, true
	case "ERROR", "FATAL":
		return slog.LevelError, true
	}
	return slog.LevelInfo, false
}

type logAttrsKey struct{}

// WithLogAttrs returns ctx carrying attrs: every record logged with it (by a Logger's
// logger) has them. An attribute replaces one of the same key already on ctx. Handlers use
// it for what identifies one unit of work, such as an SQS record's messageId, so records
// that shared code logs with that context carry it too.
func WithLogAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	if len(attrs) == 0 {
		return ctx
	}
	prev := logAttrs(ctx)
	merged := make([]slog.Attr, 0, len(prev)+len(attrs))
	for _, a := range prev {
		if !slices.ContainsFunc(attrs, func(b slog.Attr) bool { return b.Key == a.Key }) {
			merged = append(merged, a)
		}
	}
	return context.WithValue(ctx, logAttrsKey{}, append(merged, attrs...))
}

func logAttrs(ctx context.Context) []slog.Attr {
	attrs, _ := ctx.Value(logAttrsKey{}).([]slog.Attr)
	return attrs
}

// contextAttrs are the attributes ctx gives a record: the requestId, then WithLogAttrs'.
func contextAttrs(ctx context.Context) []slog.Attr {
	attrs := logAttrs(ctx)
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		attrs = append([]slog.Attr{slog.String("requestId", lc.AwsRequestID)}, attrs...)
	}
	return attrs
}

// newLogHandler wraps h so that records carry the attributes of their context.
func newLogHandler(h slog.Handler) slog.Handler { return &logHandler{root: h, h: h} }

// logHandler adds the context's attributes to each record. Under a group they would land
// inside it, so once WithGroup was called the handler keeps root (the handler before the
// first group) and the steps after it, and rebuilds for a record with context attributes:
// root.WithAttrs(context attributes), then the steps. Records logged without them, and
// loggers without groups, take the direct path.
type logHandler struct {
	root  slog.Handler
	steps []logStep    // WithGroup / WithAttrs applied after root, in order
	h     slog.Handler // root with steps applied
}

// logStep is one WithGroup (group != "") or WithAttrs call.
type logStep struct {
	group string
	attrs []slog.Attr
}

func (l *logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

func (l *logHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs := contextAttrs(ctx)
	switch {
	case len(attrs) == 0:
		return l.h.Handle(ctx, r)
	case len(l.steps) == 0:
		r.AddAttrs(attrs...)
		return l.h.Handle(ctx, r)
	}
	h := l.root.WithAttrs(attrs)
	for _, s := range l.steps {
		if s.group != "" {
			h = h.WithGroup(s.group)
		} else {
			h = h.WithAttrs(s.attrs)
		}
	}
	return h.Handle(ctx, r)
}

func (l *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return l
	}
	if len(l.steps) == 0 {
		h := l.root.WithAttrs(attrs)
		return &logHandler{root: h, h: h}
	}
	return &logHandler{root: l.root, steps: append(slices.Clip(l.steps), logStep{attrs: attrs}), h: l.h.WithAttrs(attrs)}
}

func (l *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return l
	}
	return &logHandler{root: l.root, steps: append(slices.Clip(l.steps), logStep{group: name}), h: l.h.WithGroup(name)}
}
