package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/routekeeper/routekeeper/shared/bootstrap"
	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/emf"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/retry"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Store is the part of the routekeeper table the webhook uses (*store.Store satisfies it).
type Store interface {
	MarkEventSeen(ctx context.Context, eventID string, window time.Duration) (bool, error)
	ForgetEvent(ctx context.Context, eventID string) error
	GetObservation(ctx context.Context, k entity.Key) (store.Observation, error)
	PutObservation(ctx context.Context, o store.Observation) error
	ListObservations(ctx context.Context, env string) ([]store.Observation, error)
	GetDesired(ctx context.Context, k entity.Key) (store.Desired, error)
	GetDriftState(ctx context.Context, k entity.Key) (store.DriftState, error)
	PutDriftState(ctx context.Context, d store.DriftState, prev *store.DriftState) error
	ListWriteWindows(ctx context.Context, k entity.Key, since time.Time) ([]store.WriteWindow, error)
	GetChange(ctx context.Context, changeID string) (*store.Change, error)
	MarkPossibleOverwrite(ctx context.Context, changeID string, o store.Overwrite) error
}

// Publisher puts events on routekeeper's bus (*bus.Publisher satisfies it).
type Publisher interface {
	Publish(ctx context.Context, events ...bus.Event) error
}

// Limits of the processing of one event.
const (
	// HTTPBudget bounds the work on an HTTP delivery: a sender waits for the answer, and
	// past this the event is answered 503 to come back later rather than held.
	HTTPBudget = 10 * time.Second
	// DedupeWindow is how long an event id is remembered: Genesys and EventBridge
	// redeliver within minutes to hours; a day is generous.
	DedupeWindow = 24 * time.Hour
	// DefaultRetryAfter is the Retry-After of a 503 when nothing better is known.
	DefaultRetryAfter = 5 * time.Second
	// bookkeepingTimeout bounds the store writes that undo a failed attempt.
	bookkeepingTimeout = 3 * time.Second
)

// Handler handles the webhook's events. Build it once per container (newHandler).
type Handler struct {
	Environment string
	Store       Store
	Genesys     live.Genesys
	Names       *live.Cache
	Bus         Publisher
	// Token is the webhook token HTTP senders present; "" refuses every HTTP delivery.
	Token string
	// OwnClientID is routekeeper's own OAuth client id: an audit event naming it is an edit
	// routekeeper made, and raises no drift.
	OwnClientID string
	Now         func() time.Time // nil => time.Now
	// Sleep waits for a write in flight to be answered (nil: a timer honouring ctx).
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger // nil => discard
	// Metrics receives one EMF line per invocation (nil => none); Calls the Genesys client's
	// counters (nil => not emitted).
	Metrics io.Writer
	Calls   func() genesys.Stats
}

// Handle takes one event: an HTTP request through the Function URL (answered with an
// events.LambdaFunctionURLResponse, never an error), or an audit event from the
// EventBridge rule (a nil error when it is recorded, skipped as a duplicate or not about a
// managed kind; an error when it could not be recorded now, so Lambda retries it and then
// sends it to the dead-letter queue).
func (h *Handler) Handle(ctx context.Context, ev Event) (any, error) {
	start := h.now()
	m := h.metrics()
	var before genesys.Stats
	if h.Calls != nil {
		before = h.Calls()
	}
	defer func() {
		if m == nil {
			return
		}
		m.Add("ProcessingMs", emf.Milliseconds, float64(h.now().Sub(start).Milliseconds()))
		if h.Calls != nil {
			after := h.Calls()
			m.Count("GenesysCalls", int(after.Requests-before.Requests))
			m.Count("GenesysRateLimited", int(after.RateLimited-before.RateLimited))
		}
		if err := m.Flush(); err != nil {
			h.log().ErrorContext(ctx, "could not write metrics", slog.String("error", err.Error()))
		}
	}()
	switch {
	case ev.HTTP != nil:
		return h.http(ctx, ev.HTTP, m), nil
	case ev.Bridge != nil:
		return nil, h.bridge(ctx, ev.Bridge, m)
	}
	return nil, errors.New("webhook: empty event")
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) sleep(ctx context.Context, d time.Duration) error {
	if h.Sleep != nil {
		return h.Sleep(ctx, d)
	}
	return retry.Sleep(ctx, d)
}

func (h *Handler) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (h *Handler) metrics() *emf.Metrics {
	if h.Metrics == nil {
		return nil
	}
	return bootstrap.Metrics(h.Metrics, h.Environment, "webhook")
}

func count(m *emf.Metrics, name string) {
	if m != nil {
		m.Count(name, 1)
	}
}

// answer is the JSON body of every HTTP answer.
type answer struct {
	Message string  `json:"message"`
	EventID string  `json:"eventId,omitempty"`
	Outcome outcome `json:"outcome,omitempty"`
}

func respond(status int, a answer, headers ...string) events.LambdaFunctionURLResponse {
	b, _ := json.Marshal(a) // strings only
	r := events.LambdaFunctionURLResponse{StatusCode: status, Body: string(b),
		Headers: map[string]string{"Content-Type": "application/json"}}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Headers[headers[i]] = headers[i+1]
	}
	return r
}

// http answers one delivery through the Function URL (see the README for the codes).
func (h *Handler) http(ctx context.Context, req *events.LambdaFunctionURLRequest, m *emf.Metrics) events.LambdaFunctionURLResponse {
	count(m, "EventsReceived")
	log := h.log().With(slog.String("door", "http"), slog.String("requestId", req.RequestContext.RequestID))
	reject := func(metric string, status int, msg string, headers ...string) events.LambdaFunctionURLResponse {
		count(m, "EventsRejected")
		count(m, metric)
		return respond(status, answer{Message: msg}, headers...)
	}
	if req.RequestContext.HTTP.Method != http.MethodPost {
		return reject("RejectedMethod", http.StatusMethodNotAllowed, "only POST delivers events", "Allow", http.MethodPost)
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return reject("RejectedMalformed", http.StatusBadRequest, "the body is not valid base64")
		}
	}
	if len(body) > MaxBody {
		return reject("RejectedTooLarge", http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is %d bytes; at most %d", len(body), MaxBody))
	}
	if why, err := authenticate(req.Headers, body, h.Token, h.now()); err != nil {
		log.WarnContext(ctx, "delivery refused", slog.String("reason", why), slog.String("sourceIp", req.RequestContext.HTTP.SourceIP))
		return reject("RejectedUnauthorized", http.StatusUnauthorized, "unauthorized")
	}
	c, err := decodeBody(body)
	if err != nil {
		log.WarnContext(ctx, "malformed delivery", slog.String("error", err.Error()))
		return reject("RejectedMalformed", http.StatusBadRequest, err.Error())
	}
	pctx, cancel := context.WithTimeout(ctx, HTTPBudget)
	defer cancel()
	out, err := h.process(pctx, c, m)
	if err != nil {
		after := retry.Classify(err).After
		if after <= 0 {
			after = DefaultRetryAfter
		}
		secs := int((after + time.Second - 1) / time.Second)
		count(m, "EventsRetry")
		log.WarnContext(ctx, "event not recorded now; the sender retries", slog.String("eventId", c.EventID), slog.String("error", err.Error()), slog.Int("retryAfterSeconds", secs))
		return respond(http.StatusServiceUnavailable, answer{Message: "could not record the event now; retry later", EventID: c.EventID},
			"Retry-After", strconv.Itoa(secs))
	}
	return respond(http.StatusAccepted, answer{Message: out.message(), EventID: c.EventID, Outcome: out})
}

// bridge takes one audit event from the EventBridge rule.
func (h *Handler) bridge(ctx context.Context, ev *events.EventBridgeEvent, m *emf.Metrics) error {
	count(m, "EventsReceived")
	c, err := decodeBridge(*ev)
	if err != nil {
		// Retrying cannot fix it: counted, logged, acknowledged.
		count(m, "EventsRejected")
		count(m, "RejectedMalformed")
		h.log().WarnContext(ctx, "malformed EventBridge event", slog.String("id", ev.ID), slog.String("error", err.Error()))
		return nil
	}
	if _, err := h.process(ctx, c, m); err != nil {
		count(m, "EventsRetry")
		return fmt.Errorf("webhook: event %s not recorded: %w", c.EventID, err)
	}
	return nil
}
