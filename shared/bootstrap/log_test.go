package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// lines decodes the JSON lines of buf, failing t on a line that is not a JSON object.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not a JSON object: %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// withoutTime drops the time of each record so records compare with cmp.Diff.
func withoutTime(recs []map[string]any) []map[string]any {
	for _, r := range recs {
		delete(r, "time")
	}
	return recs
}

func TestLoggerLevel(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string // levels of the records logged at DEBUG, INFO, WARN, ERROR that are written
		warn string   // the variable a warning about an unknown level names ("" => none)
	}{
		{name: "default INFO", want: []string{"INFO", "WARN", "ERROR"}},
		{name: "Lambda DEBUG", env: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "DEBUG"}, want: []string{"DEBUG", "INFO", "WARN", "ERROR"}},
		{name: "Lambda TRACE is DEBUG", env: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "TRACE"}, want: []string{"DEBUG", "INFO", "WARN", "ERROR"}},
		{name: "Lambda WARN", env: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "WARN"}, want: []string{"WARN", "ERROR"}},
		{name: "Lambda ERROR", env: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "ERROR"}, want: []string{"ERROR"}},
		{name: "Lambda FATAL is ERROR", env: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "FATAL"}, want: []string{"ERROR"}},
		{name: "LOG_LEVEL overrides Lambda's", env: map[string]string{"LOG_LEVEL": "error", "AWS_LAMBDA_LOG_LEVEL": "DEBUG"}, want: []string{"ERROR"}},
		{name: "LOG_LEVEL any case, spaces", env: map[string]string{"LOG_LEVEL": " Debug "}, want: []string{"DEBUG", "INFO", "WARN", "ERROR"}},
		{name: "blank LOG_LEVEL falls back", env: map[string]string{"LOG_LEVEL": " ", "AWS_LAMBDA_LOG_LEVEL": "WARN"}, want: []string{"WARN", "ERROR"}},
		{name: "unknown LOG_LEVEL", env: map[string]string{"LOG_LEVEL": "verbose"}, want: []string{"INFO", "WARN", "ERROR"}, warn: "LOG_LEVEL"},
		{name: "unknown Lambda level", env: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "LOUD"}, want: []string{"INFO", "WARN", "ERROR"}, warn: "AWS_LAMBDA_LOG_LEVEL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := Logger(&buf, env(tc.env))
			recs := lines(t, &buf)
			if tc.warn == "" && len(recs) != 0 {
				t.Errorf("Logger(%v) logged %v, want nothing", tc.env, recs)
			}
			if tc.warn != "" && (len(recs) != 1 || recs[0]["level"] != "WARN" || recs[0][tc.warn] != tc.env[tc.warn]) {
				t.Errorf("Logger(%v) logged %v, want one warning naming %s=%q", tc.env, recs, tc.warn, tc.env[tc.warn])
			}
			buf.Reset()
			log.Debug("d")
			log.Info("i")
			log.Warn("w")
			log.Error("e")
			var got []string
			for _, r := range lines(t, &buf) {
				got = append(got, r["level"].(string))
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Logger(%v): levels written (-want +got):\n%s", tc.env, d)
			}
		})
	}
}

// TestLoggerContextAttrs: records logged with an invocation's context carry its
// requestId and the WithLogAttrs attributes, at the top level, through With and
// WithGroup; records logged without a context carry neither.
func TestLoggerContextAttrs(t *testing.T) {
	inv := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	rec := WithLogAttrs(inv, slog.String("messageId", "m-1"), slog.String("receiveCount", "2"))
	tests := []struct {
		name string
		log  func(l *slog.Logger)
		want map[string]any
	}{
		{name: "no context", log: func(l *slog.Logger) { l.Info("x", "k", "v") },
			want: map[string]any{"level": "INFO", "msg": "x", "k": "v"}},
		{name: "context without Lambda or attrs", log: func(l *slog.Logger) { l.InfoContext(context.Background(), "x") },
			want: map[string]any{"level": "INFO", "msg": "x"}},
		{name: "request id", log: func(l *slog.Logger) { l.InfoContext(inv, "x") },
			want: map[string]any{"level": "INFO", "msg": "x", "requestId": "req-1"}},
		{name: "empty request id left out", log: func(l *slog.Logger) {
			l.InfoContext(lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{}), "x")
		}, want: map[string]any{"level": "INFO", "msg": "x"}},
		{name: "context attrs", log: func(l *slog.Logger) { l.WarnContext(rec, "x", "k", "v") },
			want: map[string]any{"level": "WARN", "msg": "x", "k": "v", "requestId": "req-1", "messageId": "m-1", "receiveCount": "2"}},
		{name: "context attrs without Lambda", log: func(l *slog.Logger) {
			l.InfoContext(WithLogAttrs(context.Background(), slog.Int("n", 3)), "x")
		}, want: map[string]any{"level": "INFO", "msg": "x", "n": 3.0}},
		{name: "a later attr replaces one of the same key", log: func(l *slog.Logger) {
			l.InfoContext(WithLogAttrs(rec, slog.String("messageId", "m-2")), "x")
		}, want: map[string]any{"level": "INFO", "msg": "x", "requestId": "req-1", "receiveCount": "2", "messageId": "m-2"}},
		{name: "With keeps them", log: func(l *slog.Logger) { l.With("changeId", "chg-1").InfoContext(rec, "x") },
			want: map[string]any{"level": "INFO", "msg": "x", "changeId": "chg-1", "requestId": "req-1", "messageId": "m-1", "receiveCount": "2"}},
		{name: "WithGroup keeps them at the top level", log: func(l *slog.Logger) {
			l.With("a", 1).WithGroup("g").With("b", 2).WithGroup("h").InfoContext(rec, "x", "c", 3)
		}, want: map[string]any{"level": "INFO", "msg": "x", "a": 1.0, "requestId": "req-1", "messageId": "m-1", "receiveCount": "2",
			"g": map[string]any{"b": 2.0, "h": map[string]any{"c": 3.0}}}},
		{name: "WithGroup without context attrs", log: func(l *slog.Logger) { l.WithGroup("g").InfoContext(context.Background(), "x", "c", 3) },
			want: map[string]any{"level": "INFO", "msg": "x", "g": map[string]any{"c": 3.0}}},
		{name: "empty group and no attrs change nothing", log: func(l *slog.Logger) {
			l.WithGroup("").With().InfoContext(inv, "x")
		}, want: map[string]any{"level": "INFO", "msg": "x", "requestId": "req-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.log(Logger(&buf, env(nil)))
			got := withoutTime(lines(t, &buf))
			if d := cmp.Diff([]map[string]any{tc.want}, got); d != "" {
				t.Errorf("record (-want +got):\n%s", d)
			}
		})
	}
}

// TestWithLogAttrsDoesNotShare: deriving two contexts from one does not let the second
// overwrite the first's attributes.
func TestWithLogAttrsDoesNotShare(t *testing.T) {
	base := WithLogAttrs(context.Background(), slog.String("a", "1"), slog.String("b", "2"))
	c1 := WithLogAttrs(base, slog.String("c", "3"))
	_ = WithLogAttrs(base, slog.String("c", "4"))
	if d := cmp.Diff([]slog.Attr{slog.String("a", "1"), slog.String("b", "2"), slog.String("c", "3")}, logAttrs(c1),
		cmp.Comparer(func(x, y slog.Attr) bool { return x.Equal(y) })); d != "" {
		t.Errorf("attrs of the first derived context (-want +got):\n%s", d)
	}
	if got := WithLogAttrs(base); got != base {
		t.Errorf("WithLogAttrs without attrs returned a new context, want ctx itself")
	}
}
