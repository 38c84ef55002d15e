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
	return observation(env, e.Kind, e.Name, e.ID, e.ETag, cfg, e.Modified(), source, at), nil
}

// Observation is Entity.Observation for an entity as List read it: the same record, made
// from the canonical JSON List kept.
func (l *Listed) Observation(env string, source store.Source, at time.Time) store.Observation {
	return observation(env, l.Kind, l.Name, l.ID, l.ETag, l.Config, l.Modified, source, at)
}

func observation(env string, kind entity.Kind, name, id, etag string, cfg []byte, modified time.Time, source store.Source, at time.Time) store.Observation {
	return store.Observation{
		Key:  entity.Key{Environment: env, Kind: kind, Name: name},
		ETag: etag, Config: cfg, GenesysID: id,
		ObservedAt: at.UTC(), Source: source, Modified: modified,
	}
}

// Modified is the entity's dateModified (Genesys's clock), zero when it has none that
// parses as ISO-8601.
func (e *Entity) Modified() time.Time { return dateModified(e.Raw) }

// dateModified is raw's dateModified, zero when it has none that parses as ISO-8601.
func dateModified(raw map[string]any) time.Time {
	s, _ := raw["dateModified"].(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
