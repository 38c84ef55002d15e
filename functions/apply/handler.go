package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/emf"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Applier is what the handler needs from the apply engine (*apply.Engine).
type Applier interface {
	Apply(ctx context.Context, req *changes.Request) (apply.Result, error)
	Reject(ctx context.Context, in apply.RejectInput) (apply.Result, error)
}

// DefaultMargin is the time left before the deadline below which no new record is
// started: one record takes two Genesys calls and a few DynamoDB writes, and the client
// returns at once when a wait would not fit.
const DefaultMargin = 10 * time.Second

// Handler applies a batch of change requests from the SQS FIFO change queue.
type Handler struct {
	Engine      Applier
	Environment string        // the routing environment this function applies (ROUTEKEEPER_ENVIRONMENT)
	Margin      time.Duration // 0 => DefaultMargin
	Logger      *slog.Logger  // nil => discard
	// Metrics receives one EMF line per invocation (nil => none).
	Metrics io.Writer
	// Calls reports the Genesys client's counters, to emit the calls an invocation made
	// (nil => not emitted).
	Calls func() genesys.Stats
	Now   func() time.Time // nil => time.Now
}

// Handle applies the records in order. A record that must be retried is returned as a
// batch item failure together with every later record: on a FIFO queue a later message
// of the same group must not overtake it, and SQS keeps the order only if they all go
// back. Records not started because the deadline is near go back the same way. Invalid
// records are recorded as REJECTED and acknowledged. The error is always nil: every
// outcome is per record.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	now, log := h.Now, h.Logger
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	margin := h.Margin
	if margin <= 0 {
		margin = DefaultMargin
	}
	var m *emf.Metrics
	if h.Metrics != nil {
		m = emf.New(h.Metrics, "routekeeper", emf.Dimension{Name: "Environment", Value: h.Environment},
			emf.Dimension{Name: "Function", Value: "apply"})
	}
	count := func(name string, n int) {
		if m != nil {
			m.Count(name, n)
		}
	}
	var before genesys.Stats
	if h.Calls != nil {
		before = h.Calls()
	}
	var resp events.SQSEventResponse
	failRest := func(from int) {
		for _, r := range ev.Records[from:] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}

	for i, rec := range ev.Records {
		if reason := h.noTimeLeft(ctx, now, margin); reason != "" {
			log.WarnContext(ctx, "not starting the remaining records", slog.String("reason", reason),
				slog.Int("records", len(ev.Records)-i))
			count("Deferred", len(ev.Records)-i)
			failRest(i)
			break
		}
		rlog := log.With(slog.String("messageId", rec.MessageId), slog.String("receiveCount", rec.Attributes["ApproximateReceiveCount"]))
		res, err := h.record(ctx, rec)
		if err != nil {
			rlog.WarnContext(ctx, "record returned to the queue with the rest of the batch", slog.String("error", err.Error()),
				slog.Int("records", len(ev.Records)-i))
			count("Retried", len(ev.Records)-i)
			failRest(i)
			break
		}
		switch {
		case res.Replayed:
			count("Replayed", 1)
		case res.Status == store.StatusApplied:
			count("Applied", 1)
		case res.Status == store.StatusNoop:
			count("Noop", 1)
		case res.Status == store.StatusConflict:
			count("Conflicts", 1)
		case res.Status == store.StatusRejected:
			count("Rejected", 1)
		}
	}

	if h.Calls != nil {
		after := h.Calls()
		count("GenesysCalls", int(after.Requests-before.Requests))
		count("GenesysRateLimited", int(after.RateLimited-before.RateLimited))
	}
	if m != nil {
		if err := m.Flush(); err != nil {
			log.ErrorContext(ctx, "could not write metrics", slog.String("error", err.Error()))
		}
	}
	return resp, nil
}

// noTimeLeft says why no record may start now, or "".
func (h *Handler) noTimeLeft(ctx context.Context, now func() time.Time, margin time.Duration) string {
	if err := ctx.Err(); err != nil {
		return "invocation context done: " + err.Error()
	}
	if dl, ok := ctx.Deadline(); ok {
		if left := dl.Sub(now()); left < margin {
			return fmt.Sprintf("%v left before the deadline, below the %v margin", left.Round(time.Millisecond), margin)
		}
	}
	return ""
}

// record applies one SQS record; a non-nil error means it must be delivered again.
func (h *Handler) record(ctx context.Context, rec events.SQSMessage) (apply.Result, error) {
	req, err := changes.Decode([]byte(rec.Body))
	if err == nil {
		return h.Engine.Apply(ctx, req)
	}
	if !errors.Is(err, changes.ErrInvalid) {
		// Decode only returns ErrInvalid errors today; anything else is not the
		// message's fault, so retry rather than reject.
		return apply.Result{}, fmt.Errorf("decode message %s: %w", rec.MessageId, err)
	}
	in := apply.RejectInput{ID: rejectID(err, rec.MessageId), Environment: h.Environment, Body: []byte(rec.Body), Reason: err}
	in.Kind, in.Name = bestEffortEntity(rec.Body)
	return h.Engine.Reject(ctx, in)
}

// rejectID is the record id of an invalid message: its changeId when that field was
// readable and valid, else "sqs-" + the SQS message id (unique per message; a
// redelivery of the same message has the same id).
func rejectID(err error, messageID string) string {
	var ie *changes.InvalidError
	if errors.As(err, &ie) && ie.ChangeID != "" {
		usable := true
		for _, p := range ie.Problems {
			if p.Field == "changeId" || p.Field == "" {
				usable = false
			}
		}
		if usable {
			return ie.ChangeID
		}
	}
	return "sqs-" + messageID
}

// bestEffortEntity reads entity.type and entity.name from a body that failed validation,
// so the rejection is listed under the entity when possible.
func bestEffortEntity(body string) (store.Kind, string) {
	var v struct {
		Entity struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"entity"`
	}
	if json.Unmarshal([]byte(body), &v) != nil {
		return "", ""
	}
	name := v.Entity.Name
	if len(name) > 256 {
		name = name[:256]
	}
	return store.Kind(v.Entity.Type), name
}

// logHandler adds the Lambda request id (from ctx) to every record.
type logHandler struct{ slog.Handler }

// newLogHandler wraps h so records logged with a Lambda invocation's ctx carry its
// requestId.
func newLogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(attrs)}
}

func (l logHandler) WithGroup(name string) slog.Handler { return logHandler{l.Handler.WithGroup(name)} }
