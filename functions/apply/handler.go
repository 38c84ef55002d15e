package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/bootstrap"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/emf"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/retry"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Applier is what the handler needs from the apply engine (*apply.Engine).
type Applier interface {
	Apply(ctx context.Context, req *changes.Request) (apply.Result, error)
	Reject(ctx context.Context, in apply.RejectInput) (apply.Result, error)
}

// VisibilityChanger is the part of the SQS client the handler uses (*sqs.Client
// satisfies it): it sets when a record returned as a failure is delivered again.
type VisibilityChanger interface {
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// Visibility bounds. SQS accepts 0 to 12 hours; a Retry-After is clamped to at least one
// second so a record is not redelivered before Genesys' pause is over.
const (
	MinRetryVisibility = time.Second
	MaxVisibility      = 12 * time.Hour
	// DeferredVisibility is the visibility of records returned only because the
	// invocation ran out of time: long enough for this invocation to return, short enough
	// that they come back at once instead of after the queue's visibility timeout.
	DeferredVisibility = 2 * time.Second
	// visibilityTimeout bounds the SQS call that sets visibility.
	visibilityTimeout = 3 * time.Second
	// maxVisibilityEntries is ChangeMessageVisibilityBatch's limit.
	maxVisibilityEntries = 10
)

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
	// Queue and QueueURL (CHANGE_QUEUE_URL) set the visibility of records returned as
	// failures: the wait Genesys asked for after a 429, DeferredVisibility for records the
	// deadline cut off. Without them (nil or "") such records come back after the queue's
	// visibility timeout (360 s); a missing QueueURL is logged when that happens. A failure
	// to set it is logged; the records still go back.
	Queue    VisibilityChanger
	QueueURL string
}

// Handle applies the records in order. A record that must be retried is returned as a
// batch item failure together with every later record: on a FIFO queue a later message
// of the same group must not overtake it, and SQS keeps the order only if they all go
// back. Records not started because the deadline is near go back the same way. Invalid
// records are recorded as REJECTED and acknowledged. The error is always nil: every
// outcome is per record.
//
// Records that go back get a visibility timeout that says when to deliver them again
// (see Queue): the Retry-After of a 429 (clamped to [MinRetryVisibility, MaxVisibility])
// for the failed record and every later one, DeferredVisibility when the invocation ran out
// of time. Other failures (5xx, a request held elsewhere) keep the queue's visibility
// timeout as their backoff.
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
		m = bootstrap.Metrics(h.Metrics, h.Environment, "apply")
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
	var maxWindow float64
	var rereads int
	failRest := func(from int, visibility time.Duration) {
		for _, r := range ev.Records[from:] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
		if visibility >= 0 {
			h.setVisibility(ctx, log, ev.Records[from:], visibility)
		}
	}

	for i, rec := range ev.Records {
		if reason := h.noTimeLeft(ctx, now, margin); reason != "" {
			log.WarnContext(ctx, "not starting the remaining records", slog.String("reason", reason),
				slog.Int("records", len(ev.Records)-i))
			count("Deferred", len(ev.Records)-i)
			failRest(i, DeferredVisibility)
			break
		}
		// Every record logged about this one, by the engine too, names the message.
		rctx := bootstrap.WithLogAttrs(ctx, slog.String("messageId", rec.MessageId),
			slog.String("receiveCount", rec.Attributes["ApproximateReceiveCount"]))
		res, err := h.record(rctx, rec)
		if err != nil {
			log.WarnContext(rctx, "record returned to the queue with the rest of the batch", slog.String("error", err.Error()),
				slog.Int("records", len(ev.Records)-i))
			count("Retried", len(ev.Records)-i)
			failRest(i, retryVisibility(ctx, err))
			break
		}
		if !res.Replayed && res.WriteAttempts > 0 {
			maxWindow = max(maxWindow, res.WindowMs)
			rereads += res.WriteAttempts - 1
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

	// The read-to-write window of the batch's slowest write, and the writes sent again
	// after a fresh read (a failed or unanswered write).
	if m != nil && maxWindow > 0 {
		m.Set("WriteWindowMaxMs", emf.Milliseconds, maxWindow)
	}
	count("WritesAfterReread", rereads)
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

// retryVisibility is when a record that failed with err (and the records after it) should
// be delivered again: the wait Genesys asked for, DeferredVisibility if the invocation ran
// out of time, or -1: leave the queue's visibility timeout.
func retryVisibility(ctx context.Context, err error) time.Duration {
	switch wait := retry.Classify(err).After; {
	case wait > 0:
		return min(max(wait, MinRetryVisibility), MaxVisibility)
	case ctx.Err() != nil:
		return DeferredVisibility
	}
	return -1
}

// setVisibility makes recs visible again after d. Failing only logs: the records are
// returned as batch item failures either way and come back after the queue's visibility
// timeout at the latest.
func (h *Handler) setVisibility(ctx context.Context, log *slog.Logger, recs []events.SQSMessage, d time.Duration) {
	if h.Queue == nil || len(recs) == 0 {
		return
	}
	if h.QueueURL == "" {
		log.WarnContext(ctx, "CHANGE_QUEUE_URL is not set: the returned records come back after the queue's visibility timeout",
			slog.Int("records", len(recs)), slog.Duration("visibility", d))
		return
	}
	// The invocation's context may be done (that is why the records go back).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), visibilityTimeout)
	defer cancel()
	secs := int32((d + time.Second - 1) / time.Second)
	var entries []sqstypes.ChangeMessageVisibilityBatchRequestEntry
	byID := map[string]string{} // entry id -> message id
	for i, r := range recs {
		if r.ReceiptHandle == "" {
			continue
		}
		id := "r" + strconv.Itoa(i)
		byID[id] = r.MessageId
		entries = append(entries, sqstypes.ChangeMessageVisibilityBatchRequestEntry{
			Id: aws.String(id), ReceiptHandle: aws.String(r.ReceiptHandle), VisibilityTimeout: secs})
	}
	changed := 0
	for start := 0; start < len(entries); start += maxVisibilityEntries {
		batch := entries[start:min(start+maxVisibilityEntries, len(entries))]
		out, err := h.Queue.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(h.QueueURL), Entries: batch})
		if err != nil {
			log.WarnContext(ctx, "could not set the visibility of returned records; they come back after the queue's visibility timeout",
				slog.Int("records", len(batch)), slog.Duration("visibility", d), slog.String("error", err.Error()))
			continue
		}
		for _, f := range out.Failed {
			log.WarnContext(ctx, "could not set the visibility of a returned record; it comes back after the queue's visibility timeout",
				slog.String("messageId", byID[aws.ToString(f.Id)]), slog.String("code", aws.ToString(f.Code)), slog.String("error", aws.ToString(f.Message)))
		}
		changed += len(out.Successful)
	}
	if changed > 0 {
		log.InfoContext(ctx, "returned records will be delivered again after their visibility timeout",
			slog.Int("records", changed), slog.Duration("visibility", time.Duration(secs)*time.Second))
	}
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

// maxRejectedName bounds the entity name a rejection is listed under.
const maxRejectedName = 256

// bestEffortEntity reads entity.type and entity.name from a body that failed validation,
// so the rejection is listed under the entity when possible.
func bestEffortEntity(body string) (entity.Kind, string) {
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
	if len(name) > maxRejectedName {
		// At a character boundary: a name cut inside a character is not valid UTF-8.
		n := maxRejectedName
		for n > 0 && !utf8.RuneStart(name[n]) {
			n--
		}
		name = name[:n]
	}
	return entity.Kind(v.Entity.Type), name
}
