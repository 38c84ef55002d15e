package drift

import (
	"context"
	"fmt"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// DesiredPublisher is the store method Publish uses (*store.Store satisfies it).
type DesiredPublisher interface {
	PublishDesired(ctx context.Context, env, version string, entities []store.Desired) ([]entity.Key, error)
}

// Publish makes docs (a compiled config's documents) the complete desired state of env
// at version in the table, as `routekeeper publish` does: every entity stored with its
// canonical JSON and ETag, entities no longer declared removed (and returned).
func Publish(ctx context.Context, st DesiredPublisher, env, version string, docs []entity.Doc) (published []store.Desired, removed []entity.Key, err error) {
	for _, d := range docs {
		cfg, err := document.CanonicalJSON(d.Fields)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %q: %w", d.Kind, d.Name, err)
		}
		etag, err := document.ETag(d.Fields)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %q: %w", d.Kind, d.Name, err)
		}
		published = append(published, store.Desired{
			Key:    entity.Key{Environment: env, Kind: d.Kind, Name: d.Name},
			Config: cfg, ETag: etag,
		})
	}
	removed, err = st.PublishDesired(ctx, env, version, published)
	if err != nil {
		return nil, nil, err
	}
	return published, removed, nil
}

// DocsOf returns the documents of the desired state the table holds (store.ListDesired),
// which NewPlan plans as it plans a config loaded from YAML.
func DocsOf(desired []store.Desired) ([]entity.Doc, error) {
	out := make([]entity.Doc, len(desired))
	for i, d := range desired {
		fields, err := document.Decode(d.Config)
		if err != nil {
			return nil, fmt.Errorf("desired %s: %w", d.Key, err)
		}
		out[i] = entity.Doc{Kind: d.Key.Kind, Name: d.Key.Name, Fields: fields}
	}
	return out, nil
}
