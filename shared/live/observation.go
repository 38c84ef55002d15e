package live

import (
	"fmt"
	"time"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Observation returns what the table records when e is seen live in environment env at
// at by source: its key (under the name it has now), ETag, canonical JSON and Genesys id.
// The apply engine, `routekeeper apply`, the webhook and the drift scan all record
// entities through it.
func (e *Entity) Observation(env string, source store.Source, at time.Time) (store.Observation, error) {
	cfg, err := document.CanonicalJSON(e.Canonical)
	if err != nil {
		return store.Observation{}, fmt.Errorf("observation of %s %q: %w", e.Kind, e.Name, err)
	}
	return store.Observation{
		Key:  entity.Key{Environment: env, Kind: e.Kind, Name: e.Name},
		ETag: e.ETag, Config: cfg, GenesysID: e.ID,
		ObservedAt: at.UTC(), Source: source, Modified: e.Modified(),
	}, nil
}

// Modified is the entity's dateModified (Genesys's clock), zero when it has none that
// parses as ISO-8601.
func (e *Entity) Modified() time.Time {
	s, _ := e.Raw["dateModified"].(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
