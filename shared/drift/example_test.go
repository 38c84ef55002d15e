package drift_test

import (
	"fmt"

	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
)

// A desired state plans against a live org field by field, over the declared fields
// only: an unmanaged live entity is listed and left alone.
func ExampleNewPlan() {
	names := live.NewNames([]genesys.Division{{ID: "d1", Name: "Home"}}, nil, nil, nil)
	var queues []*live.Entity
	for _, raw := range []map[string]any{
		{"id": "q1", "name": "Claims", "description": "Claims queue", "division": map[string]any{"id": "d1"}},
		{"id": "q2", "name": "Legacy"},
	} {
		e, err := live.NewEntity(entity.Queue, raw, names)
		if err != nil {
			panic(err)
		}
		queues = append(queues, e)
	}
	org := live.NewOrg(names, queues...)
	desired := []entity.Doc{
		{Kind: entity.Queue, Name: "Claims", Fields: map[string]any{"name": "Claims", "description": "Claims and subrogation"}},
		{Kind: entity.Skill, Name: "French", Fields: map[string]any{"name": "French"}},
	}
	plan, err := drift.NewPlan("prod", desired, org, drift.PlanOptions{})
	if err != nil {
		panic(err)
	}
	for _, c := range plan.Changes {
		fmt.Println(c.Action, c.Kind, c.Name)
		for _, d := range c.Differences {
			fmt.Printf("  %s: %v -> %v\n", d.Path, d.Live, d.Desired)
		}
	}
	fmt.Println("unmanaged:", plan.Unmanaged[0].Name)
	// Output:
	// create skill French
	//   name: <nil> -> French
	// update queue Claims
	//   description: Claims queue -> Claims and subrogation
	// unmanaged: Legacy
}
