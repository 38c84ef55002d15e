package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// TestMemoryStoreClaim checks MemoryStore follows store.Store's claim rules.
func TestMemoryStoreClaim(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	info := store.ChangeInfo{Entity: entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Q"}, Operation: "update"}
	ctx := context.Background()
	tests := []struct {
		name    string
		prepare func(m *store.Memory)
		hash    string
		advance time.Duration
		want    error // nil: claimed
	}{
		{name: "new", prepare: func(*store.Memory) {}, hash: "h1"},
		{name: "in progress elsewhere", prepare: func(m *store.Memory) { mustClaim(t, m, "h1", info) }, hash: "h1", want: store.ErrInProgress},
		{name: "in progress expired", prepare: func(m *store.Memory) { mustClaim(t, m, "h1", info) }, hash: "h1", advance: 2 * time.Minute},
		{name: "completed", prepare: func(m *store.Memory) {
			mustClaim(t, m, "h1", info)
			_ = m.Complete(ctx, "c", store.StatusApplied, []byte(`{}`))
		}, hash: "h1", advance: 2 * time.Minute, want: store.ErrAlreadyCompleted},
		{name: "payload mismatch", prepare: func(m *store.Memory) { mustClaim(t, m, "h1", info) }, hash: "h2", want: store.ErrPayloadMismatch},
		{name: "failed attempt released", prepare: func(m *store.Memory) {
			mustClaim(t, m, "h1", info)
			_ = m.RecordAttempt(ctx, "c", "503")
		}, hash: "h1"},
		{name: "remembered too long", prepare: func(m *store.Memory) {
			mustClaim(t, m, "h1", info)
			_ = m.Complete(ctx, "c", store.StatusApplied, nil)
		}, hash: "h2", advance: 48 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			m := store.NewMemory(clock)
			tc.prepare(m)
			now = now.Add(tc.advance)
			c, err := m.Claim(ctx, "c", tc.hash, 24*time.Hour, time.Minute, info)
			if tc.want == nil {
				if err != nil || c.Status != store.StatusInProgress {
					t.Fatalf("got %v, %v; want claimed INPROGRESS", c, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || c == nil {
				t.Fatalf("got %v, %v; want the stored record and %v", c, err, tc.want)
			}
		})
	}
	m := store.NewMemory(clock)
	mustClaim(t, m, "h1", info)
	_ = m.RecordAttempt(ctx, "c", "first")
	mustClaim(t, m, "h1", info)
	_ = m.RecordAttempt(ctx, "c", "second")
	if c, _ := m.GetChange(ctx, "c"); c.Attempts != 2 || c.Claims != 2 || c.LastError != "second" || c.Status != store.StatusFailed {
		t.Errorf("after two failed attempts: %d attempts, %d claims, %q, %s; want 2, 2, second, FAILED", c.Attempts, c.Claims, c.LastError, c.Status)
	}
	_ = m.Complete(ctx, "c", store.StatusNoop, nil)
	if err := m.RecordAttempt(ctx, "c", "late"); !errors.Is(err, store.ErrAlreadyCompleted) {
		t.Errorf("RecordAttempt after Complete: %v, want ErrAlreadyCompleted", err)
	}
}

func mustClaim(t *testing.T, m *store.Memory, hash string, info store.ChangeInfo) {
	t.Helper()
	if _, err := m.Claim(context.Background(), "c", hash, 24*time.Hour, time.Minute, info); err != nil {
		t.Fatalf("claim: %v", err)
	}
}
