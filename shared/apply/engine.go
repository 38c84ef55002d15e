package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/retry"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Store is the part of the routekeeper table the engine uses (*store.Store satisfies it,
// and so does *store.Memory, the in-process stand-in for `routekeeper apply --direct`
// without a table).
type Store interface {
	Claim(ctx context.Context, changeID, payloadHash string, expiry, inProgressExpiry time.Duration, info store.ChangeInfo) (*store.Change, error)
	Complete(ctx context.Context, changeID string, status store.Status, result json.RawMessage) error
	RecordAttempt(ctx context.Context, changeID, errMsg string) error
	GetObservation(ctx context.Context, k entity.Key) (store.Observation, error)
	// GetSnapshot returns the observation of k with ETag etag, or store.ErrNotFound: the
	// merge base of a request planned against etag, after newer observations replaced
	// the last-known state.
	GetSnapshot(ctx context.Context, k entity.Key, etag string) (store.Observation, error)
	// PutObservation stores the last-known state and the snapshot of its ETag.
	PutObservation(ctx context.Context, o store.Observation) error
	// PutWriteWindow records when an update's write was exposed to someone else's edit
	// (opened before the read, closed after the write), for the webhook to compare audit
	// events with.
	PutWriteWindow(ctx context.Context, w store.WriteWindow) error
}

// Options tune an Engine; the zero value is usable.
type Options struct {
	// Environment, when set, is the only environment the engine applies: a request for
	// another one is REJECTED (a queue per stack, a stack per environment).
	Environment string
	// RecordExpiry is how long a change id is remembered (replays return the stored
	// result). 0 means 30 days: longer than the queue's retention (4 days) plus the DLQ's
	// (14 days), so a redriven message is still recognised.
	RecordExpiry time.Duration
	// LockDuration bounds the work on one request when ctx has no deadline (`apply
	// --direct`): the engine stops calling Genesys after it. With a deadline the work
	// lasts until the deadline. 0 means 2 minutes.
	LockDuration time.Duration
	// ClockSkew is how much longer than the work the claim holds the request. Another
	// invocation compares the claim's expiry with its own clock; one running ahead must
	// not take the request over while this one may still write. 0 means 30 seconds.
	ClockSkew time.Duration
	// NamesTTL is how long the id<->name maps are reused. 0 means 5 minutes.
	NamesTTL time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Logger receives one record per request (nil: discard). Log with a handler that
	// adds the Lambda request id from ctx.
	Logger *slog.Logger
	// BookkeepingTimeout bounds the store writes that record an outcome after ctx is done
	// (a cancelled invocation still records its attempt). 0 means 5 seconds.
	BookkeepingTimeout time.Duration
	// WriteAttempts bounds the writes of one update within one delivery: a write that
	// failed (429, 5xx, a lost answer) is never resent as it was; the engine waits what
	// Genesys asked, reads the entity again and decides again, up to this many writes.
	// 0 means 3.
	WriteAttempts int
	// Sleep waits between those attempts (nil: a timer honouring ctx). Tests inject one.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Engine applies change requests. Create it once per process and share it.
type Engine struct {
	g     live.Genesys
	s     Store
	opts  Options
	log   *slog.Logger
	mu    sync.Mutex  // one Apply at a time; guards names
	names *live.Cache // the org's id<->name maps (package doc, Names cache)
}

// New returns an Engine that writes to Genesys through g and records in s.
func New(g live.Genesys, s Store, opts Options) *Engine {
	if opts.RecordExpiry <= 0 {
		opts.RecordExpiry = 30 * 24 * time.Hour
	}
	if opts.LockDuration <= 0 {
		opts.LockDuration = 2 * time.Minute
	}
	if opts.ClockSkew <= 0 {
		opts.ClockSkew = 30 * time.Second
	}
	if opts.NamesTTL <= 0 {
		opts.NamesTTL = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BookkeepingTimeout <= 0 {
		opts.BookkeepingTimeout = 5 * time.Second
	}
	if opts.WriteAttempts <= 0 {
		opts.WriteAttempts = 3
	}
	if opts.Sleep == nil {
		opts.Sleep = retry.Sleep
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{g: g, s: s, opts: opts, log: log, names: live.NewCache(g, opts.NamesTTL, opts.Now)}
}

// Result is the outcome of one change request, stored (JSON) as the result of its record
// and returned to replays.
type Result struct {
	ChangeID  string            `json:"changeId"`
	Entity    string            `json:"entity"` // entity key, e.g. prod/queue/Claims Tasks; "" for an invalid message that names none
	Operation changes.Operation `json:"operation,omitempty"`
	Status    store.Status      `json:"status"`
	EntityID  string            `json:"entityId,omitempty"`
	BaseETag  string            `json:"baseEtag,omitempty"`
	LiveETag  string            `json:"liveEtag,omitempty"` // ETag of the entity as read before writing
	ETag      string            `json:"etag,omitempty"`     // ETag after the write (APPLIED)
	// Merged: live had changed since the plan and the disjoint edits were merged.
	Merged bool `json:"merged,omitempty"`
	// Written lists the managed fields the write changed (JSON paths).
	Written []string `json:"written,omitempty"`
	// Conflicts lists, for CONFLICT, every field with its base, ours and theirs value.
	Conflicts []document.Conflict `json:"conflicts,omitempty"`
	// Reason says why a request was REJECTED, or explains a NOOP or CONFLICT.
	Reason string `json:"reason,omitempty"`
	// Truncated: the result was too large for its record, so conflict values of 1 KiB
	// or more were replaced by a note (paths and reasons are all kept).
	Truncated bool `json:"truncated,omitempty"`
	// PriorAttempts counts the attempts of this request before the one that finished it.
	// A NOOP after one may be that attempt's own write, made but not recorded (the
	// invocation died, or the outcome could not be stored); Reason says so.
	PriorAttempts int `json:"priorAttempts,omitempty"`
	// CorrelationID is Genesys' ININ-Correlation-Id of the write that APPLIED the change
	// (create, update or delete), or of the failed call that REJECTED it.
	CorrelationID string `json:"correlationId,omitempty"`
	// WindowMs is the read-to-write window of the update's last write: from the first
	// byte of the read's answer to the write's request sent whole (wireWindow), in
	// milliseconds to the microsecond.
	WindowMs float64 `json:"windowMs,omitempty"`
	// WriteAttempts counts the writes this delivery sent (more than one after a failed or
	// unanswered write, each after a fresh read).
	WriteAttempts int       `json:"writeAttempts,omitempty"`
	CompletedAt   time.Time `json:"completedAt"`

	// Replayed: the request had completed before; this is its stored result and Genesys
	// was not called. Not stored.
	Replayed bool `json:"-"`
	// NotRecorded: the result could not be stored under the change id (the id belongs to
	// another payload). Not stored.
	NotRecorded bool `json:"-"`
}

// ErrRetry is matched by every *RetryError.
var ErrRetry = errors.New("apply: change request not finished, deliver it again")

// RetryError says a change request did not finish and must be delivered again. Its
// attempt is recorded on the change record when the engine held the claim.
type RetryError struct {
	ChangeID string
	Err      error
	// RetryAfter is the wait Genesys or the client's budget asked for, if any.
	RetryAfter time.Duration
	// CorrelationID of the failed Genesys call, if any.
	CorrelationID string
}

func (e *RetryError) Error() string {
	s := fmt.Sprintf("apply %s: retry later: %v", e.ChangeID, e.Err)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %v)", e.RetryAfter)
	}
	return s
}

func (e *RetryError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrRetry) true.
func (e *RetryError) Is(target error) bool { return target == ErrRetry }

// Wait is RetryAfter, for shared/retry.
func (e *RetryError) Wait() time.Duration { return e.RetryAfter }

func correlationID(err error) string {
	if ae, ok := errors.AsType[*genesys.APIError](err); ok {
		return ae.CorrelationID
	}
	return ""
}

// Apply takes req to Genesys and records its outcome. A nil error means the request is
// finished (its Result says how); a *RetryError means it must be delivered again.
func (e *Engine) Apply(ctx context.Context, req *changes.Request) (Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := req.Key()
	res := Result{ChangeID: req.ChangeID, Entity: key.String(), Operation: req.Operation, BaseETag: req.BaseEtag}
	log := e.log.With(slog.String("changeId", req.ChangeID), slog.String("entity", key.String()),
		slog.String("operation", string(req.Operation)))

	hash, err := changes.PayloadHash(req)
	if err != nil {
		// Decode validated req, so this is a request built in code: refuse it unrecorded.
		return res, fmt.Errorf("apply %s: payload hash: %w", req.ChangeID, err)
	}
	rec := record{id: req.ChangeID, hash: hash, info: store.ChangeInfo{
		Entity:      key,
		Operation:   string(req.Operation),
		RequestedBy: req.RequestedBy,
		RequestedAt: req.CreatedAt,
	}}
	wrongEnv := e.opts.Environment != "" && req.Environment != e.opts.Environment
	if wrongEnv {
		// Recorded in this stack's table, so listed under this stack's environment (what
		// `routekeeper status --environment` of this stack asks for); the result's entity
		// and reason keep the request's environment. The record is found by its change id,
		// so a redelivery still replays it.
		rec.info.Entity.Environment = e.opts.Environment
	}
	out, err := e.once(ctx, rec, res, log, func(ctx context.Context, res *Result) error {
		if wrongEnv {
			return retry.Permanent(fmt.Errorf("request is for environment %q, but this engine applies %q: send it to that environment's queue", req.Environment, e.opts.Environment))
		}
		return e.run(ctx, req, res)
	})
	if err == nil && !out.Replayed && !out.NotRecorded {
		log.InfoContext(ctx, "change request completed", out.LogAttrs()...)
	}
	return out, err
}

// LogAttrs are the attributes of the record logged when a request completes: status, the
// Genesys id, the Summary and, when set, merged, conflicts, reason and correlationId.
func (r Result) LogAttrs() []any {
	attrs := []any{slog.String("status", string(r.Status)), slog.String("entityId", r.EntityID)}
	if s := r.Summary(); s != "" {
		attrs = append(attrs, slog.String("summary", s))
	}
	if r.Merged {
		attrs = append(attrs, slog.Bool("merged", true))
	}
	if len(r.Conflicts) > 0 {
		attrs = append(attrs, slog.Int("conflicts", len(r.Conflicts)))
	}
	if r.Reason != "" {
		attrs = append(attrs, slog.String("reason", r.Reason))
	}
	if r.CorrelationID != "" {
		attrs = append(attrs, slog.String("correlationId", r.CorrelationID))
	}
	return attrs
}

// summaryPaths is how many conflicting paths a Summary names; the result lists them all.
const summaryPaths = 10

// Summary says in one line what the request did: the fields it wrote (and whether a
// concurrent edit was merged), that it deleted the entity, the fields in conflict (the
// first summaryPaths), and the reason, joined by "; ". It is "" for a result that says
// none of these. The completion log, the change record of an outcome that could not be
// stored, and the CLI's apply and status all show this line.
func (r Result) Summary() string {
	var parts []string
	switch {
	case len(r.Written) > 0:
		s := "wrote " + strings.Join(r.Written, ", ")
		if r.Merged {
			s += " (merged with a concurrent edit)"
		}
		parts = append(parts, s)
	case r.Status == store.StatusApplied && r.Operation == changes.OpDelete:
		parts = append(parts, "deleted")
	}
	if len(r.Conflicts) > 0 {
		var paths []string
		for _, c := range r.Conflicts[:min(len(r.Conflicts), summaryPaths)] {
			if c.Path == "" {
				paths = append(paths, "(whole entity)")
			} else {
				paths = append(paths, c.Path)
			}
		}
		if more := len(r.Conflicts) - len(paths); more > 0 {
			paths = append(paths, fmt.Sprintf("and %d more", more))
		}
		parts = append(parts, "conflicts: "+strings.Join(paths, ", "))
	}
	if r.Reason != "" {
		parts = append(parts, r.Reason)
	}
	return strings.Join(parts, "; ")
}

// RejectInput describes a message that is not a valid change request.
type RejectInput struct {
	// ID is the record's id: the changeId if the body had one, else an id derived from
	// the SQS message id (e.g. "sqs-<messageId>").
	ID string
	// Environment lists the record under that environment (the function's).
	Environment string
	// Kind and Name of the entity if both could be read (a kind routekeeper manages and a
	// non-empty name); otherwise the record has no entity and is only listed under
	// Environment.
	Kind entity.Kind
	Name string
	// Body is the raw message; its SHA-256 is the record's payload hash.
	Body []byte
	// Reason is why the message is invalid (the decode error).
	Reason error
}

// Reject records a message that is not a valid change request as REJECTED, so it is
// acknowledged rather than retried and a user can see why. A redelivery of the same
// message replays the record; an id that belongs to a valid request keeps that record.
// The returned error is a *RetryError only when the store could not be written.
func (e *Engine) Reject(ctx context.Context, in RejectInput) (Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := entity.Key{Environment: in.Environment}
	res := Result{ChangeID: in.ID, Reason: in.Reason.Error()}
	if in.Kind.Managed() && in.Name != "" {
		key.Kind, key.Name = in.Kind, in.Name
		res.Entity = key.String()
	}
	sum := sha256.Sum256(in.Body)
	rec := record{id: in.ID, hash: "sha256:" + hex.EncodeToString(sum[:]), info: store.ChangeInfo{Entity: key, Operation: store.OperationInvalid}}
	log := e.log.With(slog.String("changeId", in.ID))
	out, err := e.once(ctx, rec, res, log, func(context.Context, *Result) error { return retry.Permanent(in.Reason) })
	if err == nil && !out.Replayed && !out.NotRecorded {
		log.WarnContext(ctx, "message rejected: not a valid change request", slog.String("reason", out.Reason))
	}
	return out, err
}

// lockFor is how long the work on a request may last: until ctx's deadline, else
// LockDuration. The claim holds the request ClockSkew longer.
func (e *Engine) lockFor(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if d := dl.Sub(e.opts.Now()); d > time.Second {
			return d
		}
		return time.Second
	}
	return e.opts.LockDuration
}

// bookkeeping returns a context for recording an outcome even when ctx is done.
func (e *Engine) bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), e.opts.BookkeepingTimeout)
}
