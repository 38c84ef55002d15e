package routing

import (
	"fmt"
	"testing"
)

func TestPosition(t *testing.T) {
	a := "apiVersion: routekeeper/v1\n" + // 1
		"divisions:\n" + // 2
		"  - Home\n" + // 3
		"skills:\n" + // 4
		"  - name: English\n" + // 5
		"queues:\n" + // 6
		"  - name: Claims\n" + // 7
		"    mediaSettings:\n" + // 8
		"      call:\n" + // 9
		"        alertingTimeoutSeconds: 8\n" + // 10
		"    routingRules:\n" + // 11
		"      - operator: ANY\n" + // 12
		"      - operator: MEETS_THRESHOLD\n" + // 13
		"        threshold: 3\n" // 14
	b := "worktypes:\n" + // 1
		"  - name: Claim Tasks\n" + // 2
		"    description: x\n" + // 3
		"assignmentRules:\n" + // 4
		"  - name: claims\n" + // 5
		"    worktype: Claim Tasks\n" + // 6
		"    queue: Claims\n" // 7
	cfg, err := ParseFiles([]File{{Name: "a.yaml", Data: []byte(a)}, {Name: "b.yaml", Data: []byte(b)}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind, name, path string
		file             string
		line             int
		ok               bool
	}{
		{"queue", "Claims", "", "a.yaml", 7, true},
		{"queue", "Claims", "name", "a.yaml", 7, true},
		{"queue", "Claims", "mediaSettings.call.alertingTimeoutSeconds", "a.yaml", 10, true},
		{"queue", "Claims", "mediaSettings.email.serviceLevel", "a.yaml", 8, true}, // nearest declared ancestor
		{"queue", "Claims", "routingRules[1].threshold", "a.yaml", 14, true},
		{"queue", "Claims", "routingRules[1]", "a.yaml", 13, true},
		{"queue", "Claims", `["mediaSettings"].call`, "a.yaml", 9, true},
		{"queue", "Claims", "bullseye", "a.yaml", 7, true},
		{"skill", "English", "name", "a.yaml", 5, true},
		{"division", "Home", "name", "a.yaml", 3, true},
		{"worktype", "Claim Tasks", "description", "b.yaml", 3, true},
		{"worktype", "Claim Tasks", "defaultQueue", "b.yaml", 2, true}, // set by the rule
		{"assignmentRule", "claims", "queue", "b.yaml", 7, true},
		{"queue", "Nope", "", "", 0, false},
		{"workbin", "Home", "", "", 0, false},
		{"group", "Claims", "", "", 0, false},
	}
	for _, tc := range tests {
		file, line, ok := cfg.Position(tc.kind, tc.name, tc.path)
		if file != tc.file || line != tc.line || ok != tc.ok {
			t.Errorf("Position(%q, %q, %q) = %q, %d, %v, want %q, %d, %v", tc.kind, tc.name, tc.path, file, line, ok, tc.file, tc.line, tc.ok)
		}
	}
	if _, _, ok := (&Config{APIVersion: APIVersion, Queues: []Queue{{Name: "Claims"}}}).Position("queue", "Claims", ""); ok {
		t.Errorf("Position on a config built in code: ok, want not ok")
	}
}

func ExampleConfig_Position() {
	cfg, err := Parse("routing/dev.yaml", []byte("apiVersion: routekeeper/v1\nqueues:\n  - name: Claims\n    mediaSettings:\n      call:\n        alertingTimeoutSeconds: 8\n"))
	if err != nil {
		panic(err)
	}
	file, line, _ := cfg.Position("queue", "Claims", "mediaSettings.call.alertingTimeoutSeconds")
	fmt.Printf("%s:%d\n", file, line)
	// Output: routing/dev.yaml:6
}
