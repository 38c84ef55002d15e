package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// Memory is an in-process stand-in for Store: its change-record and entity-state methods
// validate, refuse and return exactly what Store's methods of the same name do (the
// contract tests run both). `routekeeper apply --direct` uses it when no table is given.
// It is safe for concurrent use.
//
// What it cannot honour: nothing survives the process, and nothing is ever deleted. A
// change record past its expiry is claimed as new, as in Store, but stays listed by
// ListChanges (as in Store until DynamoDB's TTL removes it); snapshots never expire
// (Store's are deleted by TTL some time after SnapshotRetention). Reads are always
// consistent, where Store's ListChanges reads an eventually consistent index.
type Memory struct {
	now func() time.Time

	mu      sync.Mutex
	changes map[string]*Change
	obs     map[entity.Key]Observation
	snaps   map[snapshotKey]Observation
	desired map[entity.Key]Desired
	windows map[entity.Key][]WriteWindow
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
		snaps: map[snapshotKey]Observation{}, desired: map[entity.Key]Desired{}}
}

// Claim is [Store.Claim]. Times are kept at the precision the table stores them
// (expiresAt in seconds, inProgressExpiry in milliseconds) and compared the same way.
func (m *Memory) Claim(_ context.Context, changeID, payloadHash string, expiry, inProgressExpiry time.Duration, info ChangeInfo) (*Change, error) {
	if err := validClaim(changeID, payloadHash, expiry, inProgressExpiry, info); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now().UTC()
	c, ok := m.changes[changeID]
	switch {
	case !ok || c.ExpiresAt.Unix() < now.Unix():
		if info.RequestedAt.IsZero() {
			info.RequestedAt = now
		}
		c = &Change{ID: changeID}
		m.changes[changeID] = c
	case c.Status == StatusInProgress && c.InProgressExpiry.UnixMilli() < now.UnixMilli(),
		c.Status == StatusFailed && c.PayloadHash == payloadHash:
		// A reclaim takes the request's description but keeps when it was first made.
		info.RequestedAt = c.Info.RequestedAt
	default:
		return clone(c), claimRefused(changeID, payloadHash, c)
	}
	info.RequestedAt = info.RequestedAt.UTC()
	c.Info, c.PayloadHash, c.Status, c.Result = info, payloadHash, StatusInProgress, nil
	c.Claims++
	c.ExpiresAt = time.Unix(now.Add(expiry).Unix(), 0).UTC()
	c.InProgressExpiry = time.UnixMilli(now.Add(inProgressExpiry).UnixMilli()).UTC()
	c.UpdatedAt = now
	return clone(c), nil
}

// Complete is [Store.Complete]. Like Store, a completion without a result keeps a result
// stored by an earlier one.
func (m *Memory) Complete(_ context.Context, changeID string, status Status, result json.RawMessage) error {
	if err := validCompletion(changeID, status, result); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.changes[changeID]
	if !ok {
		return fmt.Errorf("store: complete change %s: %w", changeID, ErrNotFound)
	}
	c.Status, c.InProgressExpiry, c.UpdatedAt = status, time.Time{}, m.now().UTC()
	if len(result) > 0 {
		c.Result = slices.Clone(result)
	}
	return nil
}

// RecordAttempt is [Store.RecordAttempt].
func (m *Memory) RecordAttempt(_ context.Context, changeID, errMsg string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.changes[changeID]
	if !ok {
		return fmt.Errorf("store: record attempt of change %s: %w", changeID, ErrNotFound)
	}
	if c.Status.Terminal() {
		return fmt.Errorf("store: record attempt of change %s: already %s: %w", changeID, c.Status, ErrAlreadyCompleted)
	}
	c.Attempts++
	c.LastError, c.Status, c.InProgressExpiry, c.UpdatedAt = truncateError(errMsg), StatusFailed, time.Time{}, m.now().UTC()
	return nil
}

// GetChange is [Store.GetChange].
func (m *Memory) GetChange(_ context.Context, changeID string) (*Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.changes[changeID]
	if !ok {
		return nil, fmt.Errorf("store: get change %s: %w", changeID, ErrNotFound)
	}
	return clone(c), nil
}

// ListChanges is [Store.ListChanges], in the index's order (requestedAt, then id, newest
// first).
func (m *Memory) ListChanges(_ context.Context, env string, limit int) ([]*Change, error) {
	if err := validListChanges(env, limit); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Change, 0, min(limit, len(m.changes)))
	for _, c := range m.changes {
		if c.Info.Entity.Environment == env {
			out = append(out, clone(c))
		}
	}
	slices.SortFunc(out, func(a, b *Change) int {
		return cmp.Compare(changesGSI1SK(b.Info.RequestedAt, b.ID), changesGSI1SK(a.Info.RequestedAt, a.ID))
	})
	return out[:min(limit, len(out))], nil
}

// GetObservation is [Store.GetObservation].
func (m *Memory) GetObservation(_ context.Context, k entity.Key) (Observation, error) {
	if err := validKey(k); err != nil {
		return Observation{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.obs[k]
	if !ok {
		return Observation{}, fmt.Errorf("store: get observation of %s: %w", k, ErrNotFound)
	}
	return o.clone(), nil
}

// ListObservations is [Store.ListObservations], in the table's order: by sort key
// (ENTITY#<kind>#<name>, compared bytewise).
func (m *Memory) ListObservations(_ context.Context, env string) ([]Observation, error) {
	if err := validEnv(env); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Observation, 0)
	for k, o := range m.obs {
		if k.Environment == env {
			out = append(out, o.clone())
		}
	}
	slices.SortFunc(out, func(a, b Observation) int { return cmp.Compare(entitySK(a.Key), entitySK(b.Key)) })
	return out, nil
}

// GetSnapshot is [Store.GetSnapshot]; snapshots never expire here.
func (m *Memory) GetSnapshot(_ context.Context, k entity.Key, etag string) (Observation, error) {
	if err := validSnapshotRef(k, etag); err != nil {
		return Observation{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.snaps[snapshotKey{k, etag}]
	if !ok {
		return Observation{}, fmt.Errorf("store: get snapshot of %s at %s: %w", k, etag, ErrNotFound)
	}
	o.Config = slices.Clone(o.Config)
	return o, nil
}

// PutObservation is [Store.PutObservation]: the snapshot of o's ETag is always stored;
// as last-known state, an observation older than the stored one is refused with
// ErrStale and one with the same observedAt replaces it.
func (m *Memory) PutObservation(_ context.Context, o Observation) error {
	if err := o.validate(); err != nil {
		return err
	}
	o.ObservedAt = o.ObservedAt.UTC()
	if !o.Modified.IsZero() {
		o.Modified = o.Modified.UTC()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !o.Deleted {
		snap := o
		snap.Config = slices.Clone(o.Config)
		m.snaps[snapshotKey{o.Key, o.ETag}] = snap
	}
	if o.Cause != nil {
		c := *o.Cause
		c.EventTime = c.EventTime.UTC()
		o.Cause = &c
	}
	if old, ok := m.obs[o.Key]; ok && old.ObservedAt.After(o.ObservedAt) {
		return staleObservation(o, formatTime(old.ObservedAt), old.Source)
	}
	o.Config = slices.Clone(o.Config)
	m.obs[o.Key] = o
	return nil
}

// PublishDesired is [Store.PublishDesired]; here a reader never sees a publish half done.
func (m *Memory) PublishDesired(_ context.Context, env, version string, entities []Desired) (removed []entity.Key, err error) {
	if err := validPublish(env, version, entities); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now().UTC()
	keep := make(map[entity.Key]bool, len(entities))
	for _, d := range entities {
		keep[d.Key] = true
		m.desired[d.Key] = Desired{Key: d.Key, Config: slices.Clone(d.Config), ETag: d.ETag, Version: version, PublishedAt: now}
	}
	for _, d := range m.listDesired(env) {
		if !keep[d.Key] {
			removed = append(removed, d.Key)
			delete(m.desired, d.Key)
		}
	}
	return removed, nil
}

// ListDesired is [Store.ListDesired], in the table's order (DESIRED#<kind>#<name>).
func (m *Memory) ListDesired(_ context.Context, env string) ([]Desired, error) {
	if err := validEnv(env); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.listDesired(env), nil
}

// listDesired needs m.mu held.
func (m *Memory) listDesired(env string) []Desired {
	out := make([]Desired, 0)
	for k, d := range m.desired {
		if k.Environment == env {
			d.Config = slices.Clone(d.Config)
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b Desired) int { return cmp.Compare(desiredSK(a.Key), desiredSK(b.Key)) })
	return out
}

func clone(c *Change) *Change {
	cc := *c
	cc.Result = slices.Clone(c.Result)
	cc.Overwrites = slices.Clone(c.Overwrites)
	return &cc
}

// clone copies what an Observation shares: its config and cause.
func (o Observation) clone() Observation {
	o.Config = slices.Clone(o.Config)
	if o.Cause != nil {
		c := *o.Cause
		o.Cause = &c
	}
	return o
}
