package changes_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/entity"
)

// A planner builds a request, the queue carries its encoding, and the apply
// Lambda decodes it; an invalid body is rejected for good (ErrInvalid) rather
// than retried.
func Example() {
	req := &changes.Request{
		ChangeID:    "chg-0190b6d4-7c4e-7a51-9d7e-6b2f0c1d2e3f", // in real use: changes.NewChangeID()
		Environment: "prod",
		Entity:      changes.Entity{Type: entity.Queue, Name: "Claims Tasks"},
		Operation:   changes.OpUpdate,
		Desired:     map[string]any{"description": "Claims (tier 2)"},
		BaseEtag:    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Reason:      "routekeeper apply of routing/prod.yaml at 3f2c1a9",
		RequestedBy: "ci@github-actions",
		CreatedAt:   time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	body, err := changes.Encode(req)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(body))

	got, err := changes.Decode(body)
	if err != nil {
		panic(err)
	}
	fmt.Println("key:", got.Key())
	fmt.Println("MessageGroupId:", got.GroupID())

	_, err = changes.Decode([]byte(`{"schema":"routekeeper.change/v1","operation":"upsert"}`))
	fmt.Println("rejected:", errors.Is(err, changes.ErrInvalid))
	// Output:
	// {"schema":"routekeeper.change/v1","changeId":"chg-0190b6d4-7c4e-7a51-9d7e-6b2f0c1d2e3f","environment":"prod","entity":{"type":"queue","name":"Claims Tasks"},"operation":"update","desired":{"description":"Claims (tier 2)"},"baseEtag":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","reason":"routekeeper apply of routing/prod.yaml at 3f2c1a9","requestedBy":"ci@github-actions","createdAt":"2025-01-02T03:04:05Z"}
	// key: prod/queue/Claims Tasks
	// MessageGroupId: prod.queue.d4b31dba5405f1ced19aa1bbf49128b71eb55d43
	// rejected: true
}
