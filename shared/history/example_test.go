package history_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/history"
	"github.com/routekeeper/routekeeper/shared/store"
)

// exampleTable is what the table holds after one applied update (in production:
// *store.Store, the routekeeper table).
type exampleTable struct {
	history.Table // the methods Inverse does not call
	change        *store.Change
	snapshots     map[string]store.Observation
}

func (t exampleTable) GetChange(context.Context, string) (*store.Change, error) { return t.change, nil }

func (t exampleTable) GetSnapshot(_ context.Context, _ entity.Key, etag string) (store.Observation, error) {
	o, ok := t.snapshots[etag]
	if !ok {
		return store.Observation{}, store.ErrNotFound
	}
	return o, nil
}

// The inverse of an update: the fields it wrote, back to their values before it, planned
// against the ETag it produced. drift.Submit(ctx, r.Plan(), ...) sends it.
func ExampleInverse() {
	before := map[string]any{"name": "Claims", "description": "Claims queue", "skillEvaluationMethod": "ALL"}
	after := map[string]any{"name": "Claims", "description": "wrong team", "skillEvaluationMethod": "BEST"}
	snap := func(doc map[string]any) (string, store.Observation) {
		cfg, _ := document.CanonicalJSON(doc)
		etag, _ := document.ETag(doc)
		return etag, store.Observation{ETag: etag, Config: cfg}
	}
	beforeTag, beforeObs := snap(before)
	afterTag, afterObs := snap(after)
	result, _ := json.Marshal(map[string]any{"status": "APPLIED", "baseEtag": beforeTag, "etag": afterTag,
		"entityId": "3b9a1c2e-4f5d-4a6b-8c7d-9e0f1a2b3c4d", "written": []string{"description", "skillEvaluationMethod"}})
	t := exampleTable{
		change: &store.Change{ID: "chg-1", Status: store.StatusApplied, Result: result, UpdatedAt: time.Now(),
			Info: store.ChangeInfo{Entity: entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Claims"}, Operation: "update"}},
		snapshots: map[string]store.Observation{beforeTag: beforeObs, afterTag: afterObs},
	}

	r, err := history.Inverse(context.Background(), t, "chg-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Change.Action, r.Change.Kind, r.Change.Name, "planned against the change's ETag:", r.Change.BaseETag == afterTag)
	for _, d := range r.Change.Differences {
		fmt.Printf("  %s: %v -> %v\n", d.Path, d.Live, d.Desired)
	}
	// Output:
	// update queue Claims planned against the change's ETag: true
	//   description: wrong team -> Claims queue
	//   skillEvaluationMethod: BEST -> ALL
}
