package document_test

import (
	"encoding/json"
	"fmt"

	"github.com/routekeeper/routekeeper/shared/document"
)

func mustDecode(s string) map[string]any {
	doc, err := document.Decode([]byte(s))
	if err != nil {
		panic(err)
	}
	return doc
}

func ExampleCanonicalJSON() {
	doc := mustDecode(`{"name": "Support & Billing", "defaultPriority": 2.5e7, "acw": {"timeoutMs": 30000.0}}`)
	b, err := document.CanonicalJSON(doc)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
	// Output: {"acw":{"timeoutMs":30000},"defaultPriority":25000000,"name":"Support & Billing"}
}

func ExampleETag() {
	// The same queue configuration written twice, with another key order and
	// another form of the same number.
	first := mustDecode(`{"name":"Support","acwSettings":{"wrapupPrompt":"OPTIONAL","timeoutMs":30000}}`)
	again := mustDecode(`{"acwSettings":{"timeoutMs":30000.0,"wrapupPrompt":"OPTIONAL"},"name":"Support"}`)

	a, _ := document.ETag(first)
	b, _ := document.ETag(again)
	fmt.Println(a)
	fmt.Println(a == b)
	// Output:
	// sha256:f3e8e0cd75328c4f77099110723cd4b81792c142e208109bdbde0dc7a0514785
	// true
}

func ExampleDiff() {
	desired := mustDecode(`{"description":"Tier 1","mediaSettings":{"message":{"alertingTimeoutSeconds":30}}}`)
	live := mustDecode(`{"name":"Support","mediaSettings":{"message":{"alertingTimeoutSeconds":45,"enableAutoAnswer":false}}}`)
	for _, d := range document.Diff(desired, live) {
		fmt.Printf("%s %s: %v -> %v\n", d.Delta, d.Path, d.Live, d.Desired)
	}
	// Output:
	// missing description: <nil> -> Tier 1
	// changed mediaSettings.message.alertingTimeoutSeconds: 45 -> 30
}

func ExamplePatch() {
	live := mustDecode(`{"id":"q1","name":"Support","description":"hand made","mediaSettings":{"message":{"alertingTimeoutSeconds":45}}}`)
	desired := mustDecode(`{"description":null,"mediaSettings":{"message":{"alertingTimeoutSeconds":30}}}`)
	patch, err := document.Patch(live, desired)
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

	ours := document.Overlay(base, desired)
	merged, conflicts := document.Merge(base, ours, live)
	b, _ := document.CanonicalJSON(merged)
	fmt.Println(string(b), len(conflicts))

	// Someone also changed the timeout by hand: nothing may be written.
	live2 := document.Overlay(live, mustDecode(`{"acwSettings":{"timeoutMs":45000}}`))
	_, conflicts = document.Merge(base, ours, live2)
	c, _ := json.Marshal(conflicts)
	fmt.Println(string(c))
	// Output:
	// {"acwSettings":{"timeoutMs":60000,"wrapupPrompt":"OPTIONAL"},"description":"edited in the UI","name":"Support"} 0
	// [{"path":"acwSettings.timeoutMs","base":30000,"ours":60000,"theirs":45000,"reason":"both-changed"}]
}

func ExampleOverlay() {
	live := mustDecode(`{"id":"q1","name":"Support","description":"x","acwSettings":{"timeoutMs":30000,"wrapupPrompt":"OPTIONAL"}}`)
	managed := mustDecode(`{"description":null,"acwSettings":{"wrapupPrompt":"MANDATORY"}}`)
	b, _ := document.CanonicalJSON(document.Overlay(live, managed))
	fmt.Println(string(b))
	// Output: {"acwSettings":{"timeoutMs":30000,"wrapupPrompt":"MANDATORY"},"id":"q1","name":"Support"}
}
