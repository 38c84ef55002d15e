package drift_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
)

// A scan of a simulated org against a config's documents, without a table (as
// `routekeeper drift --scan -f CONFIG` runs it): one declared queue edited, one declared
// skill the org lacks, the rest unmanaged.
func ExampleScanner() {
	s := sim.New(sim.Options{RequestsPerMinute: -1})
	if err := s.Load(sim.Generate(sim.GenerateOptions{Queues: 3, Skills: 2, Worktypes: 1, Seed: 1})); err != nil {
		panic(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, err := genesys.New(genesys.Config{APIURL: srv.URL, LoginURL: srv.URL, ClientID: sim.DefaultClientID,
		ClientSecret: sim.DefaultClientSecret, RequestsPerMinute: -1})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	first, err := (&drift.Scanner{Environment: "dev", Genesys: c}).Scan(ctx)
	if err != nil {
		panic(err)
	}
	q := first.Entities[len(first.Entities)-2] // a queue (skills, queues, worktypes; by name)
	declared := []entity.Doc{
		{Kind: entity.Queue, Name: q.Name, Fields: map[string]any{"name": q.Name, "description": "as git declares it"}},
		{Kind: entity.Skill, Name: "Ghost Skill", Fields: map[string]any{"name": "Ghost Skill"}},
	}
	r, err := (&drift.Scanner{Environment: "dev", Genesys: c, Declared: declared}).Scan(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", r.Summary.Entities)
	for _, e := range r.Entities {
		if e.State.Drifted() {
			fmt.Println(e.State, e.Kind, e.Name == q.Name || e.Name == "Ghost Skill", len(e.Differences))
		}
	}
	// Output:
	// {Read:6 InSync:0 Modified:1 Missing:1 Deleted:0 Unmanaged:5 NotAssessed:0}
	// MISSING skill true 0
	// MODIFIED queue true 1
}
