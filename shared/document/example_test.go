package drift_test

import (
	"encoding/json"
	"fmt"

	"github.com/routekeeper/routekeeper/shared/drift"
)

func mustDecode(s string) map[string]any {
	doc, err := drift.Decode([]byte(s))
	if err != nil {
		panic(err)
	}
	return doc
}

func ExampleCanonicalJSON() {
	doc := mustDecode(`{"name": "Support & Billing", "defaultPriority": 2.5e7, "acw": {"timeoutMs": 30000.0}}`)
	b, err := drift.CanonicalJSON(doc)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
	// Output: {"acw":{"timeoutMs":30000},"defaultPriority":25000000,"name":"Support & Billing"}
}

func ExampleETag() {
	// What Genesys returned, and the same queue read again later with
	// another key order, a new dateModified and a grown member count.
	first := mustDecode(`{"id":"q1","name":"Support","memberCount":3,"dateModified":"2025-01-01T00:00:00Z","acwSettings":{"wrapupPrompt":"OPTIONAL","timeoutMs":30000}}`)
	again := mustDecode(`{"acwSettings":{"timeoutMs":30000.0,"wrapupPrompt":"OPTIONAL"},"name":"Support","memberCount":4,"dateModified":"2025-02-01T00:00:00Z","id":"q1"}`)

	a, _ := drift.ETag(drift.StripServerFields(first))
	b, _ := drift.ETag(drift.StripServerFields(again))
	fmt.Println(a)
	fmt.Println(a == b)
	// Output:
	// sha256:f3e8e0cd75328c4f77099110723cd4b81792c142e208109bdbde0dc7a0514785
	// true
}

func ExampleDiff() {
	desired := mustDecode(`{"description":"Tier 1","mediaSettings":{"message":{"alertingTimeoutSeconds":30}}}`)
	live := mustDecode(`{"name":"Support","mediaSettings":{"message":{"alertingTimeoutSeconds":45,"enableAutoAnswer":false}}}`)
	for _, d := range drift.Diff("queue", "Support", desired, live) {
		fmt.Printf("%s %s/%s %s: %v -> %v\n", d.Change, d.Kind, d.Name, d.Path, d.Live, d.Desired)
	}
	// Output:
	// missing queue/Support description: <nil> -> Tier 1
	// changed queue/Support mediaSettings.message.alertingTimeoutSeconds: 45 -> 30
}

func ExamplePlan() {
	desired := mustDecode(`{"name":"Billing","description":"Invoices"}`)
	live := mustDecode(`{"id":"s1","name":"Billing","description":"Invoices"}`)
	fmt.Println(drift.Plan("skill", "Billing", desired, live).Action)
	fmt.Println(drift.Plan("skill", "Billing", desired, nil).Action)
	fmt.Println(drift.Plan("skill", "Billing", nil, live).Action)
	// Output:
	// noop
	// create
	// delete
}

func ExamplePatch() {
	live := mustDecode(`{"id":"q1","name":"Support","description":"hand made","mediaSettings":{"message":{"alertingTimeoutSeconds":45}}}`)
	desired := mustDecode(`{"description":null,"mediaSettings":{"message":{"alertingTimeoutSeconds":30}}}`)
	patch, err := drift.Patch(live, desired)
	if err != nil {
		panic(err)
	}
	for _, op := range patch {
		fmt.Println(op.Type, op.Path, op.Value)
	}
	// Output:
	// remove /description <nil>
	// replace /mediaSettings/message/alertingTimeoutSeconds 30
}

// Apply's path when the live ETag no longer matches the change's baseEtag.
func ExampleMerge() {
	base := mustDecode(`{"name":"Support","description":"old","acwSettings":{"timeoutMs":30000,"wrapupPrompt":"OPTIONAL"}}`)
	desired := mustDecode(`{"acwSettings":{"timeoutMs":60000}}`) // the change request
	live := mustDecode(`{"name":"Support","description":"edited in the UI","acwSettings":{"timeoutMs":30000,"wrapupPrompt":"OPTIONAL"}}`)

	ours := drift.Overlay(base, desired)
	merged, conflicts := drift.Merge(base, ours, live)
	b, _ := drift.CanonicalJSON(merged)
	fmt.Println(string(b), len(conflicts))

	// Someone also changed the timeout by hand: nothing may be written.
	live2 := drift.Overlay(live, mustDecode(`{"acwSettings":{"timeoutMs":45000}}`))
	_, conflicts = drift.Merge(base, ours, live2)
	c, _ := json.Marshal(conflicts)
	fmt.Println(string(c))
	// Output:
	// {"acwSettings":{"timeoutMs":60000,"wrapupPrompt":"OPTIONAL"},"description":"edited in the UI","name":"Support"} 0
	// [{"path":"acwSettings.timeoutMs","base":30000,"ours":60000,"theirs":45000,"reason":"both-changed"}]
}

func ExampleOverlay() {
	live := mustDecode(`{"id":"q1","name":"Support","description":"x","acwSettings":{"timeoutMs":30000,"wrapupPrompt":"OPTIONAL"}}`)
	managed := mustDecode(`{"description":null,"acwSettings":{"wrapupPrompt":"MANDATORY"}}`)
	b, _ := drift.CanonicalJSON(drift.Overlay(live, managed))
	fmt.Println(string(b))
	// Output: {"acwSettings":{"timeoutMs":30000,"wrapupPrompt":"MANDATORY"},"id":"q1","name":"Support"}
}
