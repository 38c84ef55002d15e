package apply_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// ExampleEngine_Apply applies one queue update to a simulated org, then the same request
// again: the replay returns the stored result without calling Genesys.
func ExampleEngine_Apply() {
	org := sim.New(sim.Options{})
	if err := org.Load(sim.Generate(sim.GenerateOptions{Queues: 2, Seed: 1})); err != nil {
		panic(err)
	}
	srv := httptest.NewServer(org)
	defer srv.Close()
	client, err := genesys.New(genesys.Config{APIURL: srv.URL, LoginURL: srv.URL,
		ClientID: sim.DefaultClientID, ClientSecret: sim.DefaultClientSecret})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	// Plan: the queue as it is now, and its ETag.
	queues, _ := client.ListQueues(ctx)
	q := queues[0]
	raw, _ := client.GetQueueRaw(ctx, q.ID)
	live, _ := live.Canonical(entity.Queue, raw, live.NewNames(nil, nil, queues, nil))
	etag, _ := document.ETag(live)
	req := &changes.Request{Schema: changes.SchemaV1, ChangeID: "chg-example", Environment: "dev",
		Entity: changes.Entity{Type: entity.Queue, Name: q.Name, ID: q.ID}, Operation: changes.OpUpdate,
		Desired: map[string]any{"name": q.Name, "description": "Managed by routekeeper"}, BaseEtag: etag,
		Reason: "example", RequestedBy: "docs", CreatedAt: time.Now()}

	eng := apply.New(client, store.NewMemory(nil), apply.Options{Environment: "dev"})
	res, err := eng.Apply(ctx, req)
	fmt.Println(res.Status, res.Written, err)
	calls := org.TotalCalls()
	res, err = eng.Apply(ctx, req)
	fmt.Println(res.Status, res.Replayed, org.TotalCalls()-calls, err)
	// Output:
	// APPLIED [description] <nil>
	// APPLIED true 0 <nil>
}
