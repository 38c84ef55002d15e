package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"
	yaml "go.yaml.in/yaml/v3"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// TestTablePolicyIsWhatTheCodeUses: the apply function's role grants on the table exactly
// the DynamoDB operations the handler makes over a batch of every outcome (applied,
// merged, CONFLICT, created, replayed, REJECTED, returned for a retry): each one it makes
// is granted (else AccessDenied in AWS), and nothing else is (DynamoDBCrudPolicy granted
// Scan, Query and DeleteItem, which the code never makes).
func TestTablePolicyIsWhatTheCodeUses(t *testing.T) {
	var mu sync.Mutex
	used := map[string]bool{}
	recording := false
	record := func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("recordOperation",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					mu.Lock()
					if recording {
						used["dynamodb:"+awsmiddleware.GetOperationName(ctx)] = true
					}
					mu.Unlock()
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	}
	w := newWorldWith(t, applytest.Options{DynamoDB: []func(*dynamodb.Options){record}})
	applied, merged, conflict := w.update(t, 0, "applied"), w.update(t, 1, "merged"), w.update(t, 2, "conflict")
	created := w.env.Plan(t, changes.OpCreate, entity.Skill, "Policy Skill", applytest.Obj(t, `{"name":"Policy Skill"}`))
	for i, edit := range []func(q map[string]any){
		1: func(q map[string]any) { q["skillEvaluationMethod"] = "BEST" },         // another field: merged
		2: func(q map[string]any) { q["description"] = "an admin's description" }, // the same field: CONFLICT
	} {
		if edit == nil {
			continue
		}
		if err := w.env.Sim.EditQueue(w.env.ID(t, entity.Queue, w.queues[i]), edit); err != nil {
			t.Fatal(err)
		}
	}
	retried := w.update(t, 3, "retried")
	mu.Lock()
	recording = true
	mu.Unlock()
	ev := events.SQSEvent{Records: []events.SQSMessage{
		message(t, "m1", applied), message(t, "m2", merged), message(t, "m3", conflict), message(t, "m4", created),
		message(t, "m5", applied),                                    // delivered again: replayed
		{MessageId: "m6", Body: `{"schema":"routekeeper.change/v1"`}, // not JSON: REJECTED
	}}
	if resp, err := w.h.Handle(lambdaCtx(context.Background()), ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle: %v, failures %v; want every message done", err, failures(resp))
	}
	w.env.Sim.SetFaults(sim.Faults{ServerErrorRate: 1}) // the change is returned for a retry
	if resp, err := w.h.Handle(lambdaCtx(context.Background()), events.SQSEvent{Records: []events.SQSMessage{message(t, "m7", retried)}}); err != nil || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("Handle under 503s: %v, failures %v; want the record returned", err, failures(resp))
	}
	w.env.Sim.SetFaults(sim.Faults{})
	mu.Lock()
	recording = false
	mu.Unlock()
	want := map[string]store.Status{applied.ChangeID: store.StatusApplied, merged.ChangeID: store.StatusApplied,
		conflict.ChangeID: store.StatusConflict, created.ChangeID: store.StatusApplied, "sqs-m6": store.StatusRejected}
	for id, status := range want {
		if c := w.record(t, id); c.Status != status {
			t.Errorf("%s: %s, want %s (the batch must cover every outcome)", id, c.Status, status)
		}
	}

	granted := tableActions(t, "../../template.yaml", "ApplyFunction")
	var got []string
	for op := range used {
		got = append(got, op)
	}
	slices.Sort(got)
	if d := cmp.Diff(granted, got); d != "" {
		t.Errorf("ApplyFunction's table actions in template.yaml (-granted +used by the handler):\n%s", d)
	}
}

// tableActions returns the actions the function's Policies allow on !GetAtt Table.Arn,
// sorted; a SAM policy template on the table (DynamoDBCrudPolicy, DynamoDBReadPolicy, ...)
// fails t: it grants what it grants, not what the code uses.
func tableActions(t *testing.T, path, function string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	get := func(n *yaml.Node, key string) *yaml.Node {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
		return nil
	}
	list := func(n *yaml.Node) []*yaml.Node {
		switch {
		case n == nil:
			return nil
		case n.Kind == yaml.SequenceNode:
			return n.Content
		}
		return []*yaml.Node{n}
	}
	policies := get(get(get(get(doc.Content[0], "Resources"), function), "Properties"), "Policies")
	if policies == nil {
		t.Fatalf("%s: %s has no Properties.Policies", path, function)
	}
	var actions []string
	for _, p := range list(policies) {
		for i := 0; p.Kind == yaml.MappingNode && i+1 < len(p.Content); i += 2 {
			if name := p.Content[i].Value; strings.HasPrefix(name, "DynamoDB") {
				t.Errorf("%s: %s grants %s: a policy template grants more than the code uses; list the actions", path, function, name)
			}
		}
		for _, st := range list(get(p, "Statement")) {
			onTable := slices.ContainsFunc(list(get(st, "Resource")), func(r *yaml.Node) bool {
				return r.Tag == "!GetAtt" && r.Value == "Table.Arn"
			})
			if !onTable || get(st, "Effect").Value != "Allow" {
				continue
			}
			for _, a := range list(get(st, "Action")) {
				actions = append(actions, a.Value)
			}
		}
	}
	slices.Sort(actions)
	return slices.Compact(actions)
}
