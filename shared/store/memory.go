package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// Memory is an in-process Store with the same claim rules as Store (see
// Store.Claim). `routekeeper apply --direct` uses it when no table is given: the
// guarantees hold for the run of one process (a request is claimed once, results and
// last-known state are kept), and nothing survives the process. It is safe for
// concurrent use.
type Memory struct {
	now func() time.Time

	mu      sync.Mutex
	changes map[string]*Change
	obs     map[entity.Key]Observation
	snaps   map[snapshotKey]Observation
}

type snapshotKey struct {
	k    entity.Key
	etag string
}

// NewMemory returns an empty Memory using clock now (nil: time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, changes: map[string]*Change{}, obs: map[entity.Key]Observation{},
		snaps: map[snapshotKey]Observation{}}
}

// Claim implements Store with Store's conditions.
func (m *Memory) Claim(_ context.Context, changeID, payloadHash string, expiry, inProgressExpiry time.Duration, info ChangeInfo) (*Change, error) {
	if changeID == "" || payloadHash == "" {
		return nil, fmt.Errorf("store (memory): claim change %q: change id and payload hash are required", changeID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c, ok := m.changes[changeID]
	free := !ok || c.ExpiresAt.Before(now) ||
		(c.Status == StatusInProgress && c.InProgressExpiry.Before(now)) ||
		(c.Status == StatusFailed && c.PayloadHash == payloadHash)
	if !free {
		old := clone(c)
		switch {
		case c.PayloadHash != payloadHash:
			return old, fmt.Errorf("store (memory): claim change %s: %w", changeID, ErrPayloadMismatch)
		case c.Status.Terminal():
			return old, fmt.Errorf("store (memory): claim change %s: %s: %w", changeID, c.Status, ErrAlreadyCompleted)
		default:
			return old, fmt.Errorf("store (memory): claim change %s: %w", changeID, ErrInProgress)
		}
	}
	if !ok || c.ExpiresAt.Before(now) {
		if info.RequestedAt.IsZero() {
			info.RequestedAt = now
		}
		c = &Change{ID: changeID, Info: info}
		m.changes[changeID] = c
	}
	c.PayloadHash, c.Status, c.Result = payloadHash, StatusInProgress, nil
	c.Claims++
	c.ExpiresAt, c.InProgressExpiry, c.UpdatedAt = now.Add(expiry), now.Add(inProgressExpiry), now
	return clone(c), nil
}

// Complete implements Store.
func (m *Memory) Complete(_ context.Context, changeID string, status Status, result json.RawMessage) error {
	if !status.Terminal() {
		return fmt.Errorf("store (memory): complete change %s: status %q is not terminal", changeID, status)
	}
	if len(result) > MaxResultBytes {
		return fmt.Errorf("store (memory): complete change %s: result is %d bytes: %w", changeID, len(result), ErrTooLarge)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.changes[changeID]
	if !ok {
		return fmt.Errorf("store (memory): complete change %s: %w", changeID, ErrNotFound)
	}
	c.Status, c.Result, c.InProgressExpiry, c.UpdatedAt = status, slices.Clone(result), time.Time{}, m.now()
	return nil
}

// RecordAttempt implements Store.
func (m *Memory) RecordAttempt(_ context.Context, changeID, errMsg string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.changes[changeID]
	if !ok {
		return fmt.Errorf("store (memory): record attempt of change %s: %w", changeID, ErrNotFound)
	}
	if c.Status.Terminal() {
		return fmt.Errorf("store (memory): record attempt of change %s: already %s: %w", changeID, c.Status, ErrAlreadyCompleted)
	}
	c.Attempts++
	c.LastError, c.Status, c.InProgressExpiry, c.UpdatedAt = errMsg, StatusFailed, time.Time{}, m.now()
	return nil
}

// GetChange returns the record of a change request, or ErrNotFound.
func (m *Memory) GetChange(_ context.Context, changeID string) (*Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.changes[changeID]
	if !ok {
		return nil, fmt.Errorf("store (memory): get change %s: %w", changeID, ErrNotFound)
	}
	return clone(c), nil
}

// GetObservation implements Store.
func (m *Memory) GetObservation(_ context.Context, k entity.Key) (Observation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.obs[k]
	if !ok {
		return Observation{}, fmt.Errorf("store (memory): get %s: %w", k, ErrNotFound)
	}
	o.Config = slices.Clone(o.Config)
	return o, nil
}

// GetSnapshot implements Store.
func (m *Memory) GetSnapshot(_ context.Context, k entity.Key, etag string) (Observation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.snaps[snapshotKey{k, etag}]
	if !ok {
		return Observation{}, fmt.Errorf("store (memory): get snapshot of %s at %s: %w", k, etag, ErrNotFound)
	}
	o.Config = slices.Clone(o.Config)
	return o, nil
}

// PutObservation implements Store: the snapshot of o's ETag is always stored; as
// last-known state, an older observation than the stored one is refused with
// ErrStale. Snapshots do not expire: nothing outlives the process.
func (m *Memory) PutObservation(_ context.Context, o Observation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	o.Config = slices.Clone(o.Config)
	m.snaps[snapshotKey{o.Key, o.ETag}] = o
	if old, ok := m.obs[o.Key]; ok && old.ObservedAt.After(o.ObservedAt) {
		return fmt.Errorf("store (memory): put %s: %w", o.Key, ErrStale)
	}
	o.Config = slices.Clone(o.Config)
	m.obs[o.Key] = o
	return nil
}

func clone(c *Change) *Change {
	cc := *c
	cc.Result = slices.Clone(c.Result)
	return &cc
}
