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
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Genesys is the part of the Genesys client the engine uses (*genesys.Client satisfies
// it; it also satisfies drift's LiveReader).
type Genesys interface {
	ListDivisions(ctx context.Context) ([]genesys.Division, error)
	ListLanguages(ctx context.Context) ([]genesys.Language, error)
	ListSkills(ctx context.Context) ([]genesys.Skill, error)
	ListQueues(ctx context.Context) ([]genesys.Queue, error)
	ListWorkbins(ctx context.Context) ([]genesys.Workbin, error)
	ListWorktypes(ctx context.Context) ([]genesys.Worktype, error)

	GetQueueRaw(ctx context.Context, id string) (map[string]any, error)
	UpdateQueueRaw(ctx context.Context, id string, raw map[string]any) (*genesys.Queue, error)
	CreateQueue(ctx context.Context, body any) (*genesys.Queue, error)
	DeleteQueue(ctx context.Context, id string, forceDelete bool) error

	GetSkill(ctx context.Context, id string) (*genesys.Skill, error)
	CreateSkill(ctx context.Context, name string) (*genesys.Skill, error)
	DeleteSkill(ctx context.Context, id string) error

	GetWorktype(ctx context.Context, id string) (*genesys.Worktype, error)
	CreateWorktype(ctx context.Context, body map[string]any) (*genesys.Worktype, error)
	PatchWorktype(ctx context.Context, id string, patch map[string]any) (*genesys.Worktype, error)
	DeleteWorktype(ctx context.Context, id string) error
}

// Store is the part of the routekeeper table the engine uses (*store.Store satisfies it;
// MemoryStore is the in-process stand-in for `routekeeper apply --direct` without a table).
type Store interface {
	Claim(ctx context.Context, changeID, payloadHash string, expiry, inProgressExpiry time.Duration, info store.ChangeInfo) (*store.Change, error)
	Complete(ctx context.Context, changeID string, status store.Status, result json.RawMessage) error
	RecordAttempt(ctx context.Context, changeID, errMsg string) error
	GetObservation(ctx context.Context, k store.EntityKey) (store.Observation, error)
	// GetSnapshot returns the observation of k with ETag etag, or store.ErrNotFound: the
	// merge base of a request planned against etag, after newer observations replaced
	// the last-known state.
	GetSnapshot(ctx context.Context, k store.EntityKey, etag string) (store.Observation, error)
	// PutObservation stores the last-known state and the snapshot of its ETag.
	PutObservation(ctx context.Context, o store.Observation) error
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
}

// Engine applies change requests. Create it once per process and share it.
type Engine struct {
	g     Genesys
	s     Store
	opts  Options
	log   *slog.Logger
	mu    sync.Mutex // one Apply at a time; guards names
	names namesCache
}

// New returns an Engine that writes to Genesys through g and records in s.
func New(g Genesys, s Store, opts Options) *Engine {
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
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{g: g, s: s, opts: opts, log: log}
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
	Conflicts []drift.Conflict `json:"conflicts,omitempty"`
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
	CorrelationID string    `json:"correlationId,omitempty"`
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

// permanentError marks a failure that retrying cannot fix: the request ends REJECTED.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(format string, args ...any) error {
	return &permanentError{fmt.Errorf(format, args...)}
}

// retryable classifies err (see the package doc, Errors).
func retryable(err error) bool {
	var pe *permanentError
	if errors.As(err, &pe) || errors.Is(err, changes.ErrInvalid) || errors.Is(err, drift.ErrUnmodelled) ||
		errors.Is(err, drift.ErrNotCanonical) || errors.Is(err, store.ErrPayloadMismatch) {
		return false
	}
	var ae *genesys.APIError
	if errors.As(err, &ae) {
		switch {
		case ae.StatusCode >= 500, ae.StatusCode == 401, ae.StatusCode == 403, ae.StatusCode == 408,
			ae.StatusCode == 409, ae.StatusCode == 429:
			return true
		case ae.StatusCode >= 400:
			return false
		}
	}
	return true
}

func correlationID(err error) string {
	var ae *genesys.APIError
	if errors.As(err, &ae) {
		return ae.CorrelationID
	}
	return ""
}

// Apply takes req to Genesys and records its outcome. A nil error means the request is
// finished (its Result says how); a *RetryError means it must be delivered again.
func (e *Engine) Apply(ctx context.Context, req *changes.Request) (Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	res := Result{ChangeID: req.ChangeID, Entity: req.Key(), Operation: req.Operation, BaseETag: req.BaseEtag}
	log := e.log.With(slog.String("changeId", req.ChangeID), slog.String("entity", req.Key()),
		slog.String("operation", string(req.Operation)))

	hash, err := changes.PayloadHash(req)
	if err != nil {
		// Decode validated req, so this is a request built in code: refuse it unrecorded.
		return res, fmt.Errorf("apply %s: payload hash: %w", req.ChangeID, err)
	}
	info := store.ChangeInfo{
		Entity:      entityKey(req),
		Operation:   string(req.Operation),
		RequestedBy: req.RequestedBy,
		RequestedAt: req.CreatedAt,
	}
	wrongEnv := e.opts.Environment != "" && req.Environment != e.opts.Environment
	if wrongEnv {
		// Recorded in this stack's table, so listed under this stack's environment (what
		// `routekeeper status --environment` of this stack asks for); the result's entity
		// and reason keep the request's environment. The record is found by its change id,
		// so a redelivery still replays it.
		info.Entity.Environment = e.opts.Environment
	}
	// The work ends at the lock (the invocation's deadline, else LockDuration); the claim
	// lasts ClockSkew longer, so it never expires while this invocation can still write.
	lock := e.lockFor(ctx)
	claimed, err := e.s.Claim(ctx, req.ChangeID, hash, e.opts.RecordExpiry, lock+e.opts.ClockSkew, info)
	switch {
	case err == nil:
	case errors.Is(err, store.ErrAlreadyCompleted):
		stored, derr := storedResult(claimed, req.ChangeID)
		if derr != nil {
			return res, derr
		}
		log.InfoContext(ctx, "change request replayed: returning the stored result", slog.String("status", string(stored.Status)))
		return stored, nil
	case errors.Is(err, store.ErrPayloadMismatch):
		res.Status, res.NotRecorded = store.StatusRejected, true
		res.Reason = "change id already used by a request with a different payload: " + err.Error()
		res.CompletedAt = e.opts.Now().UTC()
		log.WarnContext(ctx, "change request rejected", slog.String("reason", res.Reason))
		return res, nil
	default:
		// Held by another invocation (ErrInProgress) or the store failed: we hold nothing,
		// so record nothing.
		log.WarnContext(ctx, "change request not claimed; retrying later", slog.String("error", err.Error()))
		return res, &RetryError{ChangeID: req.ChangeID, Err: err}
	}

	if claimed != nil && claimed.Claims > 1 {
		res.PriorAttempts = claimed.Claims - 1
	}
	if wrongEnv {
		err = permanent("request is for environment %q, but this engine applies %q: send it to that environment's queue", req.Environment, e.opts.Environment)
	} else {
		wctx := ctx
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			wctx, cancel = context.WithTimeout(ctx, lock)
			defer cancel()
		}
		err = e.run(wctx, req, &res)
	}
	if err != nil && retryable(err) {
		re := &RetryError{ChangeID: req.ChangeID, Err: err, CorrelationID: correlationID(err)}
		re.RetryAfter, _ = genesys.RetryAfter(err)
		bctx, cancel := e.bookkeeping(ctx)
		defer cancel()
		if rerr := e.s.RecordAttempt(bctx, req.ChangeID, err.Error()); rerr != nil {
			log.ErrorContext(ctx, "could not record the failed attempt", slog.String("error", rerr.Error()))
		}
		log.WarnContext(ctx, "change request failed; retrying later", slog.String("error", err.Error()),
			slog.String("correlationId", re.CorrelationID), slog.Duration("retryAfter", re.RetryAfter))
		return res, re
	}
	if err != nil {
		res.Status, res.Reason, res.CorrelationID = store.StatusRejected, err.Error(), correlationID(err)
		res.Written, res.Conflicts = nil, nil
	}
	if res.Status == store.StatusNoop && res.PriorAttempts > 0 {
		res.Reason += fmt.Sprintf(" (this request had %d earlier attempt(s) that did not finish; one of them may have made this change)", res.PriorAttempts)
	}
	res.CompletedAt = e.opts.Now().UTC()
	body, jerr := fitResult(&res)
	if jerr != nil {
		return res, &RetryError{ChangeID: req.ChangeID, Err: fmt.Errorf("encode result: %w", jerr)}
	}
	bctx, cancel := e.bookkeeping(ctx)
	defer cancel()
	if cerr := e.s.Complete(bctx, req.ChangeID, res.Status, body); cerr != nil {
		// The outcome (maybe a write) happened but is not recorded. Say so as a failed
		// attempt, which also releases the claim; if even that fails the claim stays
		// INPROGRESS until it expires. Either way the redelivery re-reads live, ends NOOP
		// for a write that was made, and its result counts this attempt.
		cerr = fmt.Errorf("record outcome %s: %w", res.Status, cerr)
		if rerr := e.s.RecordAttempt(bctx, req.ChangeID, fmt.Sprintf("outcome %s reached (%s) but not recorded: %v", res.Status, detail(res), cerr)); rerr != nil {
			log.ErrorContext(ctx, "could not record the failed attempt", slog.String("error", rerr.Error()))
		}
		log.ErrorContext(ctx, "could not record the outcome", slog.String("status", string(res.Status)), slog.String("error", cerr.Error()))
		return res, &RetryError{ChangeID: req.ChangeID, Err: cerr}
	}
	attrs := []any{slog.String("status", string(res.Status)), slog.String("entityId", res.EntityID)}
	if res.Merged {
		attrs = append(attrs, slog.Bool("merged", true))
	}
	if len(res.Conflicts) > 0 {
		attrs = append(attrs, slog.Int("conflicts", len(res.Conflicts)))
	}
	if res.Reason != "" {
		attrs = append(attrs, slog.String("reason", res.Reason))
	}
	if res.CorrelationID != "" {
		attrs = append(attrs, slog.String("correlationId", res.CorrelationID))
	}
	log.InfoContext(ctx, "change request completed", attrs...)
	return res, nil
}

// omitAbove is the size from which a conflict value is left out of a result that does
// not fit in its record.
const omitAbove = 1024

// fitResult encodes res for its record. A result over store.MaxResultBytes (large
// conflicting values) keeps every conflict's path and reason but replaces values of
// omitAbove bytes or more with a note, and is marked Truncated; a reason that still does
// not fit is cut.
func fitResult(res *Result) ([]byte, error) {
	body, err := json.Marshal(res)
	if err != nil || len(body) <= store.MaxResultBytes {
		return body, err
	}
	res.Truncated = true
	omit := func(v any) any {
		b, err := json.Marshal(v)
		if err != nil || len(b) < omitAbove {
			return v
		}
		return fmt.Sprintf("(value of %d bytes omitted: too large for the change record; read it in Genesys or the config)", len(b))
	}
	for i := range res.Conflicts {
		c := &res.Conflicts[i]
		c.Base, c.Ours, c.Theirs = omit(c.Base), omit(c.Ours), omit(c.Theirs)
	}
	if body, err = json.Marshal(res); err != nil || len(body) <= store.MaxResultBytes {
		return body, err
	}
	if len(res.Reason) > 4096 {
		res.Reason = res.Reason[:4096] + "…"
	}
	if len(res.Conflicts) > 1000 {
		res.Conflicts = res.Conflicts[:1000]
	}
	return json.Marshal(res)
}

// detail says in a few words what a result did, for a record that cannot hold the result.
func detail(r Result) string {
	switch {
	case len(r.Written) > 0:
		return "wrote " + strings.Join(r.Written, ", ")
	case r.Reason != "":
		return r.Reason
	}
	return "no detail"
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
	Kind store.Kind
	Name string
	// Body is the raw message; its SHA-256 is the record's payload hash.
	Body []byte
	// Reason is why the message is invalid (the decode error).
	Reason error
}

// Reject records a message that is not a valid change request as REJECTED, so it is
// acknowledged rather than retried and a user can see why. A redelivery of the same
// message finds the record completed. The returned error is a *RetryError only when the
// store could not be written.
func (e *Engine) Reject(ctx context.Context, in RejectInput) (Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := store.EntityKey{Environment: in.Environment}
	res := Result{ChangeID: in.ID, Status: store.StatusRejected, Reason: in.Reason.Error(), CompletedAt: e.opts.Now().UTC()}
	switch in.Kind {
	case store.KindQueue, store.KindSkill, store.KindWorktype:
		if in.Name != "" {
			key.Kind, key.Name = in.Kind, in.Name
			res.Entity = key.String()
		}
	}
	sum := sha256.Sum256(in.Body)
	hash := "sha256:" + hex.EncodeToString(sum[:])
	_, err := e.s.Claim(ctx, in.ID, hash, e.opts.RecordExpiry, e.lockFor(ctx)+e.opts.ClockSkew, store.ChangeInfo{Entity: key, Operation: store.OperationInvalid})
	switch {
	case err == nil:
	case errors.Is(err, store.ErrAlreadyCompleted), errors.Is(err, store.ErrPayloadMismatch):
		// Already rejected (a redelivery), or the id belongs to a valid request: keep that record.
		res.NotRecorded = true
		return res, nil
	default:
		return res, &RetryError{ChangeID: in.ID, Err: err}
	}
	body, _ := json.Marshal(res)
	bctx, cancel := e.bookkeeping(ctx)
	defer cancel()
	if err := e.s.Complete(bctx, in.ID, store.StatusRejected, body); err != nil {
		return res, &RetryError{ChangeID: in.ID, Err: fmt.Errorf("record rejection: %w", err)}
	}
	e.log.WarnContext(ctx, "message rejected: not a valid change request", slog.String("changeId", in.ID), slog.String("reason", res.Reason))
	return res, nil
}

// storedResult is the Result of a completed record, as Claim returned it.
func storedResult(c *store.Change, id string) (Result, error) {
	var res Result
	if c == nil {
		return res, &RetryError{ChangeID: id, Err: errors.New("store reported the request completed without its record")}
	}
	if len(c.Result) > 0 {
		if err := json.Unmarshal(c.Result, &res); err != nil {
			return res, &RetryError{ChangeID: id, Err: fmt.Errorf("decode stored result: %w", err)}
		}
	}
	res.ChangeID, res.Status, res.Replayed = id, c.Status, true
	return res, nil
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

func entityKey(req *changes.Request) store.EntityKey {
	return store.EntityKey{Environment: req.Environment, Kind: store.Kind(req.Entity.Type), Name: req.Entity.Name}
}
