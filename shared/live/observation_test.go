package live_test

import (
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// An observation carries the canonical config, its ETag and Genesys's dateModified.
func TestObservation(t *testing.T) {
	raw := map[string]any{"id": "q-1", "name": "Claims", "description": "d", "dateModified": "2026-12-01T10:00:00.123Z", "memberCount": 3.0}
	e, err := live.NewEntity(entity.Queue, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 5, 0, time.UTC)
	o, err := e.Observation("prod", store.SourceWebhook, at)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 12, 1, 10, 0, 0, 123e6, time.UTC); !o.Modified.Equal(want) {
		t.Errorf("Modified = %v, want %v", o.Modified, want)
	}
	if o.Key != (entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Claims"}) || o.ETag != e.ETag || o.GenesysID != "q-1" || !o.ObservedAt.Equal(at) || len(o.Config) == 0 {
		t.Errorf("observation %+v", o)
	}
	delete(raw, "dateModified")
	if e2, _ := live.NewEntity(entity.Queue, raw, nil); !e2.Modified().IsZero() {
		t.Errorf("no dateModified: Modified = %v, want zero", e2.Modified())
	}
}
