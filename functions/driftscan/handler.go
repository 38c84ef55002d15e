package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/routekeeper/routekeeper/shared/bootstrap"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/emf"
)

// Handler runs the drift scan of one environment once per scheduled event.
type Handler struct {
	Scanner *drift.Scanner
	Metrics io.Writer    // the EMF record of each run; nil: none
	Logger  *slog.Logger // nil: discard
}

// Handle scans once. The event (EventBridge Scheduler's default payload) is only logged:
// the scan stamps what it reads with the time it reads it, so a late or repeated event
// scans again, harmlessly. It returns the scan's summary (routekeeper.driftscan/v1),
// also when the scan is incomplete; an error only when there is no report.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) (drift.ScanSummary, error) {
	log := h.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r, err := h.Scanner.Scan(ctx)
	var sum drift.ScanSummary
	if r != nil {
		sum = r.Summary
	}
	if merr := h.writeMetrics(sum, err != nil); merr != nil {
		log.WarnContext(ctx, "drift scan: EMF record not written", slog.String("error", merr.Error()))
	}
	if err != nil {
		log.ErrorContext(ctx, "drift scan failed: no report stored", slog.String("error", err.Error()), slog.Time("scheduledAt", ev.Time))
		return sum, err
	}
	c := sum.Entities
	attrs := []any{slog.Time("scheduledAt", ev.Time), slog.Bool("complete", sum.Complete), slog.Int("read", c.Read),
		slog.Int("inSync", c.InSync), slog.Int("modified", c.Modified), slog.Int("missing", c.Missing+c.Deleted), slog.Int("unmanaged", c.Unmanaged),
		slog.Int64("genesysCalls", sum.GenesysCalls), slog.Int("dynamodbWrites", sum.DynamoDBWrites), slog.Int64("durationMs", sum.DurationMs)}
	if !sum.Complete {
		log.WarnContext(ctx, "drift scan incomplete", append(attrs, slog.String("reason", sum.Reason))...)
	} else {
		log.InfoContext(ctx, "drift scan", attrs...)
	}
	return sum, nil
}

// writeMetrics writes the run's EMF record. A scan that stored no report counts as
// incomplete (the alarm on ScanIncomplete covers both).
func (h *Handler) writeMetrics(s drift.ScanSummary, failed bool) error {
	if h.Metrics == nil {
		return nil
	}
	m := bootstrap.Metrics(h.Metrics, h.Scanner.Environment, "driftscan")
	if now := h.Scanner.Now; now != nil {
		m.WithClock(now)
	}
	incomplete := 0.0
	if failed || !s.Complete {
		incomplete = 1
	}
	m.Set("ScanIncomplete", emf.Count, incomplete)
	m.Set("DriftedEntities", emf.Count, float64(s.Entities.Drifted()))
	m.Set("UnmanagedEntities", emf.Count, float64(s.Entities.Unmanaged))
	m.Set("Coverage", emf.None, s.Coverage)
	m.Set("ScanDurationMs", emf.Milliseconds, float64(s.DurationMs))
	m.Set("GenesysCalls", emf.Count, float64(s.GenesysCalls))
	m.Set("GenesysRateLimited", emf.Count, float64(s.GenesysRateLimited))
	m.Set("DynamoDBWrites", emf.Count, float64(s.DynamoDBWrites))
	m.Set("DriftDetected", emf.Count, float64(s.Detected))
	m.Set("DriftResolved", emf.Count, float64(s.Resolved))
	m.Set("RevertsRequested", emf.Count, float64(s.Reverts.Requested))
	m.Set("RevertsSkipped", emf.Count, float64(s.Reverts.Skipped))
	return m.Flush()
}

// config is what the function reads from its environment besides bootstrap.Load's.
type config struct {
	mode       drift.ScanMode
	maxReverts int
	retention  time.Duration
}

// loadConfig reads DRIFT_MODE, MAX_REVERTS_PER_SCAN and DRIFT_REPORT_RETENTION and the
// shared environment, reporting every problem at once.
func loadConfig(ctx context.Context, getenv func(string) string, log *slog.Logger) (config, *bootstrap.Env, error) {
	var cfg config
	var errs []error
	var err error
	if cfg.mode, err = drift.ParseScanMode(strings.TrimSpace(getenv("DRIFT_MODE"))); err != nil {
		errs = append(errs, fmt.Errorf("DRIFT_MODE: %w", err))
	}
	if cfg.maxReverts, err = maxReverts(getenv); err != nil {
		errs = append(errs, err)
	}
	if cfg.retention, err = bootstrap.Duration(getenv, "DRIFT_REPORT_RETENTION", drift.DefaultRetention); err != nil {
		errs = append(errs, err)
	}
	env, err := bootstrap.Load(ctx, getenv, log)
	if err != nil {
		errs = append(errs, err)
	} else if cfg.mode == drift.ModeRevert && env.ChangeQueueURL == "" {
		errs = append(errs, errors.New("CHANGE_QUEUE_URL is not set: DRIFT_MODE=revert sends corrective change requests to the change queue; set it to the stack's ChangeQueue URL"))
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, nil, err
	}
	return cfg, env, nil
}

// maxReverts reads MAX_REVERTS_PER_SCAN: a whole number, at least 1.
func maxReverts(getenv func(string) string) (int, error) {
	s := strings.TrimSpace(getenv("MAX_REVERTS_PER_SCAN"))
	if s == "" {
		return drift.DefaultMaxReverts, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("MAX_REVERTS_PER_SCAN %q: want a whole number of change requests, at least 1 (DriftMode report sends none)", s)
	}
	return n, nil
}
