package drift

import (
	"context"
	"errors"
	"fmt"

	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// BaseRecorder stores an observation (*store.Store and *store.Memory satisfy it): Submit
// records there the live state each change was planned against, the base of the apply
// engine's three-way merge.
type BaseRecorder interface {
	PutObservation(ctx context.Context, o store.Observation) error
}

// Sender delivers change requests in order: the change-queue publisher
// (changes.Publisher.Publish), or the apply engine applying them one by one.
type Sender func(ctx context.Context, reqs []*changes.Request) error

// RecordError is Submit's error when the planned-against state could not be recorded:
// nothing was sent.
type RecordError struct{ Err error }

func (e *RecordError) Error() string { return e.Err.Error() }
func (e *RecordError) Unwrap() error { return e.Err }

// Submit is the one way a plan becomes applied or enqueued changes, for `routekeeper
// apply`, the drift scan's revert mode and the local event generator: it turns plan into
// change requests with p, records the live state (org) each update and delete was planned
// against in bases (nil: not recorded), and hands the requests to send in plan order. It
// returns the requests, also when send failed (so a caller can say which were not sent);
// send is not called when there are none. Nothing is sent when planning the requests or
// recording the bases fails (*RecordError).
//
// The planned-against state is stored with source plan: a newer observation already
// stored (a webhook, a scan) stays the last-known state, and the planned state is stored
// as the snapshot of its ETag either way, which is where the engine looks the base up.
// Without it, an entity edited between plan and apply ends as CONFLICT instead of merged.
func Submit(ctx context.Context, plan *Plan, org *live.Org, p Planner, bases BaseRecorder, send Sender) ([]*changes.Request, error) {
	reqs, err := p.Requests(plan)
	if err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return reqs, nil
	}
	if bases != nil {
		if err := recordBases(ctx, bases, org, reqs); err != nil {
			return reqs, &RecordError{err}
		}
	}
	return reqs, send(ctx, reqs)
}

// recordBases stores the live state each update and delete was planned against.
func recordBases(ctx context.Context, bases BaseRecorder, org *live.Org, reqs []*changes.Request) error {
	for _, r := range reqs {
		if r.BaseEtag == "" {
			continue
		}
		e, ok := org.Entity(r.Entity.Type, r.Entity.Name)
		if !ok || e.ETag != r.BaseEtag {
			continue
		}
		o, err := e.Observation(r.Environment, store.SourcePlan, r.CreatedAt)
		if err == nil {
			err = bases.PutObservation(ctx, o)
		}
		if err != nil && !errors.Is(err, store.ErrStale) {
			return fmt.Errorf("record the planned state of %s: %w", r.Key(), err)
		}
	}
	return nil
}
