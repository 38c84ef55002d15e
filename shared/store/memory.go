package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/routekeeper/routekeeper/shared/store"
)

// MemoryStore is an in-process Store with the same claim rules as store.Store (see
// store.Store.Claim). `routekeeper apply --direct` uses it when no table is given: the
// guarantees hold for the run of one process (a request is claimed once, results and
// last-known state are kept), and nothing survives the process. It is safe for
// concurrent use.
type MemoryStore struct {
	now func() time.Time

	mu      sync.Mutex
	changes map[string]*store.Change
	obs     map[store.EntityKey]store.Observation
	snaps   map[snapshotKey]store.Observation
}

type snapshotKey struct {
	k    store.EntityKey
	etag string
}

// NewMemoryStore returns an empty MemoryStore using clock now (nil: time.Now).
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, changes: map[string]*store.Change{}, obs: map[store.EntityKey]store.Observation{},
		snaps: map[snapshotKey]store.Observation{}}
}

// Claim implements Store with store.Store's conditions.
func (m *MemoryStore) Claim(_ context.Context, changeID, payloadHash string, expiry, inProgressExpiry time.Duration, info store.ChangeInfo) (*store.Change, error) {
	if changeID == "" || payloadHash == "" {
		return nil, fmt.Errorf("memory store: claim change %q: change id and payload hash are required", changeID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c, ok := m.changes[changeID]
	free := !ok || c.ExpiresAt.Before(now) ||
		(c.Status == store.StatusInProgress && c.InProgressExpiry.Before(now)) ||
		(c.Status == store.StatusFailed && c.PayloadHash == payloadHash)
	if !free {
		old := clone(c)
		switch {
		case c.PayloadHash != payloadHash:
			return old, fmt.Errorf("memory store: claim change %s: %w", changeID, store.ErrPayloadMismatch)
		case c.Status.Terminal():
			return old, fmt.Errorf("memory store: claim change %s: %s: %w", changeID, c.Status, store.ErrAlreadyCompleted)
		default:
			return old, fmt.Errorf("memory store: claim change %s: %w", changeID, store.ErrInProgress)
		}
	}
	if !ok || c.ExpiresAt.Before(now) {
		if info.RequestedAt.IsZero() {
			info.RequestedAt = now
		}
		c = &store.Change{ID: changeID, Info: info}
		m.changes[changeID] = c
	}
	c.PayloadHash, c.Status, c.Result = payloadHash, store.StatusInProgress, nil
	c.Claims++
	c.ExpiresAt, c.InProgressExpiry, c.UpdatedAt = now.Add(expiry), now.Add(inProgressExpiry), now
	return clone(c), nil
}

// Complete implements Store.
func (m *MemoryStore) Complete(_ context.Context, changeID string, status store.Status, result json.RawMessage) error {
	if !status.Terminal() {
		return fmt.Errorf("memory store: complete change %s: status %q is not terminal", changeID, status)
	}
	if len(result) > store.MaxResultBytes {
		return fmt.Errorf("memory store: complete change %s: result is %d bytes: %w", changeID, len(result), store.ErrTooLarge)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.changes[changeID]
	if !ok {
		return fmt.Errorf("memory store: complete change %s: %w", changeID, store.ErrNotFound)
	}
	c.Status, c.Result, c.InProgressExpiry, c.UpdatedAt = status, slices.Clone(result), time.Time{}, m.now()
	return nil
}

// RecordAttempt implements Store.
func (m *MemoryStore) RecordAttempt(_ context.Context, changeID, errMsg string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.changes[changeID]
	if !ok {
		return fmt.Errorf("memory store: record attempt of change %s: %w", changeID, store.ErrNotFound)
	}
	if c.Status.Terminal() {
		return fmt.Errorf("memory store: record attempt of change %s: already %s: %w", changeID, c.Status, store.ErrAlreadyCompleted)
	}
	c.Attempts++
	c.LastError, c.Status, c.InProgressExpiry, c.UpdatedAt = errMsg, store.StatusFailed, time.Time{}, m.now()
	return nil
}

// GetChange returns the record of a change request, or store.ErrNotFound.
func (m *MemoryStore) GetChange(_ context.Context, changeID string) (*store.Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.changes[changeID]
	if !ok {
		return nil, fmt.Errorf("memory store: get change %s: %w", changeID, store.ErrNotFound)
	}
	return clone(c), nil
}

// GetObservation implements Store.
func (m *MemoryStore) GetObservation(_ context.Context, k store.EntityKey) (store.Observation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.obs[k]
	if !ok {
		return store.Observation{}, fmt.Errorf("memory store: get %s: %w", k, store.ErrNotFound)
	}
	o.Config = slices.Clone(o.Config)
	return o, nil
}

// GetSnapshot implements Store.
func (m *MemoryStore) GetSnapshot(_ context.Context, k store.EntityKey, etag string) (store.Observation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.snaps[snapshotKey{k, etag}]
	if !ok {
		return store.Observation{}, fmt.Errorf("memory store: get snapshot of %s at %s: %w", k, etag, store.ErrNotFound)
	}
	o.Config = slices.Clone(o.Config)
	return o, nil
}

// PutObservation implements Store: the snapshot of o's ETag is always stored; as
// last-known state, an older observation than the stored one is refused with
// store.ErrStale. Snapshots do not expire: nothing outlives the process.
func (m *MemoryStore) PutObservation(_ context.Context, o store.Observation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	o.Config = slices.Clone(o.Config)
	m.snaps[snapshotKey{o.Key, o.ETag}] = o
	if old, ok := m.obs[o.Key]; ok && old.ObservedAt.After(o.ObservedAt) {
		return fmt.Errorf("memory store: put %s: %w", o.Key, store.ErrStale)
	}
	o.Config = slices.Clone(o.Config)
	m.obs[o.Key] = o
	return nil
}

func clone(c *store.Change) *store.Change {
	cc := *c
	cc.Result = slices.Clone(c.Result)
	return &cc
}
