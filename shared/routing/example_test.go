package routing_test

import (
	"errors"
	"fmt"

	"github.com/routekeeper/routekeeper/shared/routing"
)

func ExampleParse() {
	cfg, err := routing.Parse("routing/prod.yaml", []byte(`apiVersion: routekeeper/v1
environment: prod
skills:
  - name: Claims
queues:
  - name: Claims Tasks
    skillEvaluationMethod: BEST
  - name: Claims Overflow
worktypes:
  - name: Claim
    defaultWorkbin: Claims Bin
assignmentRules:
  - name: vip-claims
    worktype: Claim
    queue: Claims Tasks
    skills: [Claims]
    priorityScore: 95
    maxCapacity: 50
    overflowQueue: Claims Overflow
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	desired, err := routing.Compile(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	w := desired.Worktypes[0]
	fmt.Println(w.Name, *w.DefaultQueue, w.DefaultSkills, *w.DefaultPriority)
	fmt.Println(desired.Overflow[0].Queue, "->", desired.Overflow[0].OverflowQueue, "above", desired.Overflow[0].MaxCapacity)
	// Output:
	// Claim Claims Tasks [Claims] 22500000
	// Claims Tasks -> Claims Overflow above 50
}

func ExampleParse_invalid() {
	_, err := routing.Parse("routing/prod.yaml", []byte(`apiVersion: routekeeper/v1
queues:
  - name: Claims Tasks
    skillEvaluationMethod: best
    mediaSettings:
      message: {alertingTimeoutSeconds: -1}
assignmentRules:
  - name: vip-claims
    worktype: Claim
    queue: Claims Taks
`))
	var ve *routing.ValidationError
	if errors.As(err, &ve) {
		for _, d := range ve.Diagnostics {
			fmt.Println(d)
		}
	}
	// Output:
	// routing/prod.yaml:4:5: queues[0].skillEvaluationMethod: "best" is not allowed: use one of NONE, BEST, ALL (exact, case-sensitive)
	// routing/prod.yaml:6:17: queues[0].mediaSettings.message.alertingTimeoutSeconds: -1 is below the minimum 0
	// routing/prod.yaml:9:5: assignmentRules[0].worktype: worktype "Claim" is not declared in this config: declare it under worktypes or fix the name
	// routing/prod.yaml:10:5: assignmentRules[0].queue: queue "Claims Taks" is not declared in this config: declare it under queues or fix the name
}

func ExamplePriorityFromScore() {
	for _, score := range []int{0, 50, 95, 100} {
		fmt.Println(score, routing.PriorityFromScore(score))
	}
	// Output:
	// 0 -25000000
	// 50 0
	// 95 22500000
	// 100 25000000
}
