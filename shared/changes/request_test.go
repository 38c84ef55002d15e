package changes

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/entity"
)

const (
	testEtag = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	testID   = "3b9a1c2e-4f5d-4a6b-8c7d-9e0f1a2b3c4d"
)

// validMessage returns a valid update message as a generic tree that tests edit.
func validMessage() map[string]any {
	return map[string]any{
		"schema":      SchemaV1,
		"changeId":    "chg-0190b6d4-7c4e-7a51-9d7e-6b2f0c1d2e3f",
		"environment": "prod",
		"entity":      map[string]any{"type": "queue", "name": "Claims Tasks", "id": testID},
		"operation":   "update",
		"desired":     map[string]any{"description": "Claims", "acwSettings": map[string]any{"timeoutMs": 30000}},
		"baseEtag":    testEtag,
		"reason":      "routekeeper apply of routing/prod.yaml at 3f2c1a9",
		"requestedBy": "ci@github-actions",
		"createdAt":   "2025-01-02T03:04:05Z",
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeValid(t *testing.T) {
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		edit func(m map[string]any)
		want *Request
	}{
		{
			name: "update",
			edit: func(map[string]any) {},
			want: &Request{
				Schema: SchemaV1, ChangeID: "chg-0190b6d4-7c4e-7a51-9d7e-6b2f0c1d2e3f", Environment: "prod",
				Entity:    Entity{Type: entity.Queue, Name: "Claims Tasks", ID: testID},
				Operation: OpUpdate,
				Desired:   map[string]any{"description": "Claims", "acwSettings": map[string]any{"timeoutMs": json.Number("30000")}},
				BaseEtag:  testEtag, Reason: "routekeeper apply of routing/prod.yaml at 3f2c1a9", RequestedBy: "ci@github-actions",
				CreatedAt: created,
			},
		},
		{
			name: "update renaming a queue in case only",
			edit: func(m map[string]any) { m["desired"] = map[string]any{"name": "claims tasks"} },
			want: &Request{
				Schema: SchemaV1, ChangeID: "chg-0190b6d4-7c4e-7a51-9d7e-6b2f0c1d2e3f", Environment: "prod",
				Entity:    Entity{Type: entity.Queue, Name: "Claims Tasks", ID: testID},
				Operation: OpUpdate,
				Desired:   map[string]any{"name": "claims tasks"},
				BaseEtag:  testEtag, Reason: "routekeeper apply of routing/prod.yaml at 3f2c1a9", RequestedBy: "ci@github-actions",
				CreatedAt: created,
			},
		},
		{
			name: "create without id and baseEtag",
			edit: func(m map[string]any) {
				m["operation"] = "create"
				delete(m, "baseEtag")
				m["entity"] = map[string]any{"type": "worktype", "name": "Claims – Überprüfung"}
				m["desired"] = map[string]any{"name": "Claims – Überprüfung", "defaultPriority": 12.5}
			},
			want: &Request{
				Schema: SchemaV1, ChangeID: "chg-0190b6d4-7c4e-7a51-9d7e-6b2f0c1d2e3f", Environment: "prod",
				Entity:    Entity{Type: entity.Worktype, Name: "Claims – Überprüfung"},
				Operation: OpCreate,
				Desired:   map[string]any{"name": "Claims – Überprüfung", "defaultPriority": json.Number("12.5")},
				Reason:    "routekeeper apply of routing/prod.yaml at 3f2c1a9", RequestedBy: "ci@github-actions",
				CreatedAt: created,
			},
		},
		{
			name: "delete without desired, time with offset",
			edit: func(m map[string]any) {
				m["operation"] = "delete"
				delete(m, "desired")
				m["entity"] = map[string]any{"type": "skill", "name": "Spanish"}
				m["createdAt"] = "2025-01-02T05:04:05.5+02:00"
			},
			want: &Request{
				Schema: SchemaV1, ChangeID: "chg-0190b6d4-7c4e-7a51-9d7e-6b2f0c1d2e3f", Environment: "prod",
				Entity:    Entity{Type: entity.Skill, Name: "Spanish"},
				Operation: OpDelete, BaseEtag: testEtag,
				Reason: "routekeeper apply of routing/prod.yaml at 3f2c1a9", RequestedBy: "ci@github-actions",
				CreatedAt: created.Add(500 * time.Millisecond),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := validMessage()
			tc.edit(m)
			got, err := Decode(mustJSON(t, m))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("Decode mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		name string
		edit func(m map[string]any)
		raw  string // used instead of the edited message when set
		want []string
	}{
		{name: "empty body", raw: "", want: []string{"empty message: want a JSON object"}},
		{name: "not JSON", raw: "{", want: []string{"the message body is not valid JSON: it ends before the JSON is complete (truncated?) (at byte 1)"}},
		{name: "truncated inside the entity", raw: `{"schema":"routekeeper.change/v1","entity":{"type":"queue","na`,
			want: []string{"the message body is not valid JSON: it ends before the JSON is complete (truncated?) (at byte 59, inside entity)"}},
		{name: "syntax error", raw: `{"changeId": "c1",, "operation": "update"}`,
			want: []string{"the message body is not valid JSON: invalid character ',' looking for beginning of object key string (at byte 18)"}},
		{name: "array", raw: "[]", want: []string{"want a JSON object, got an array"}},
		{name: "null", raw: "null", want: []string{"want a JSON object, got null"}},
		{name: "trailing value", raw: string(mustJSON(t, validMessage())) + " {}", want: []string{"exactly one JSON value"}},
		{name: "unknown field", edit: func(m map[string]any) { m["priority"] = 1 }, want: []string{"priority: unknown field"}},
		{name: "field in wrong case", edit: func(m map[string]any) { m["Operation"] = m["operation"]; delete(m, "operation") },
			want: []string{`Operation: unknown field (field names are case-sensitive: did you mean "operation"?)`}},
		{name: "unknown entity field", edit: func(m map[string]any) { m["entity"].(map[string]any)["division"] = "Home" },
			want: []string{"entity.division: unknown field"}},
		{name: "duplicate top-level key", raw: strings.Replace(string(mustJSON(t, validMessage())), `"operation":"update"`, `"operation":"update","operation":"delete"`, 1),
			want: []string{"operation: duplicate key"}},
		{name: "duplicate key inside desired", raw: strings.Replace(string(mustJSON(t, validMessage())), `"description":"Claims"`, `"description":"Claims","description":"Other"`, 1),
			want: []string{"desired.description: duplicate key"}},
		{name: "schema missing", edit: func(m map[string]any) { delete(m, "schema") }, want: []string{"schema: required (routekeeper.change/v1)"}},
		{name: "schema unknown version", edit: func(m map[string]any) { m["schema"] = "routekeeper.change/v2"; m["operation"] = "bogus" },
			want: []string{`schema: unsupported version "routekeeper.change/v2"; this build reads routekeeper.change/v1`}},
		{name: "changeId missing", edit: func(m map[string]any) { delete(m, "changeId") }, want: []string{"changeId: required"}},
		{name: "changeId with space", edit: func(m map[string]any) { m["changeId"] = "chg 1" },
			want: []string{"changeId: only ASCII letters, digits and punctuation are allowed"}},
		{name: "changeId too long", edit: func(m map[string]any) { m["changeId"] = strings.Repeat("a", 129) },
			want: []string{"changeId: 129 characters; at most 128"}},
		{name: "changeId not a string", edit: func(m map[string]any) { m["changeId"] = 7 }, want: []string{"changeId: must be a string, got a number"}},
		{name: "environment missing", edit: func(m map[string]any) { delete(m, "environment") }, want: []string{"environment: required"}},
		{name: "environment upper case", edit: func(m map[string]any) { m["environment"] = "Prod" },
			want: []string{`environment: "Prod" must be lower-case letters, digits and '-'`}},
		{name: "entity missing", edit: func(m map[string]any) { delete(m, "entity") }, want: []string{"entity: required"}},
		{name: "entity not an object", edit: func(m map[string]any) { m["entity"] = "queue" }, want: []string{"entity: must be a JSON object, got a string"}},
		{name: "entity.type missing", edit: func(m map[string]any) { delete(m["entity"].(map[string]any), "type") },
			want: []string{"entity.type: required: one of skill, queue, worktype"}},
		{name: "entity.type unknown", edit: func(m map[string]any) { m["entity"].(map[string]any)["type"] = "workbin" },
			want: []string{`entity.type: must be one of skill, queue, worktype, got "workbin"`}},
		{name: "entity.name missing", edit: func(m map[string]any) { delete(m["entity"].(map[string]any), "name") },
			want: []string{"entity.name: required"}},
		{name: "entity.name blank", edit: func(m map[string]any) { m["entity"].(map[string]any)["name"] = "  " },
			want: []string{"entity.name: required"}},
		{name: "entity.name control character", edit: func(m map[string]any) { m["entity"].(map[string]any)["name"] = "a\nb" },
			want: []string{"entity.name: contains a control character"}},
		{name: "entity.name too long", edit: func(m map[string]any) { m["entity"].(map[string]any)["name"] = strings.Repeat("ü", 257) },
			want: []string{"entity.name: 257 characters; at most 256"}},
		{name: "entity.id not a uuid", edit: func(m map[string]any) { m["entity"].(map[string]any)["id"] = "42" },
			want: []string{`entity.id: "42" is not a Genesys id`}},
		{name: "operation missing", edit: func(m map[string]any) { delete(m, "operation") },
			want: []string{"operation: required: one of create, update, delete"}},
		{name: "operation unknown", edit: func(m map[string]any) { m["operation"] = "upsert" },
			want: []string{`operation: must be one of create, update, delete, got "upsert"`}},
		{name: "create with baseEtag", edit: func(m map[string]any) { m["operation"] = "create"; delete(m["entity"].(map[string]any), "id") },
			want: []string{"baseEtag: must be absent for create"}},
		{name: "create with entity id", edit: func(m map[string]any) { m["operation"] = "create"; delete(m, "baseEtag") },
			want: []string{"entity.id: must be absent for create"}},
		{name: "update without baseEtag", edit: func(m map[string]any) { delete(m, "baseEtag") },
			want: []string{"baseEtag: required for update"}},
		{name: "delete without baseEtag", edit: func(m map[string]any) { m["operation"] = "delete"; delete(m, "desired"); delete(m, "baseEtag") },
			want: []string{"baseEtag: required for delete"}},
		{name: "baseEtag malformed", edit: func(m map[string]any) { m["baseEtag"] = "sha256:ABC" },
			want: []string{`baseEtag: "sha256:ABC" is not an ETag`}},
		{name: "update without desired", edit: func(m map[string]any) { delete(m, "desired") },
			want: []string{"desired: required: a JSON object with the managed fields"}},
		{name: "update with empty desired", edit: func(m map[string]any) { m["desired"] = map[string]any{} },
			want: []string{"desired: required"}},
		{name: "desired not an object", edit: func(m map[string]any) { m["desired"] = []any{1} },
			want: []string{"desired: must be a JSON object, got an array"}},
		{name: "desired with id", edit: func(m map[string]any) { m["desired"].(map[string]any)["id"] = testID },
			want: []string{"desired.id: ids do not belong in desired"}},
		{name: "desired with another name", edit: func(m map[string]any) { m["desired"].(map[string]any)["name"] = "Other" },
			want: []string{"desired.name: must equal entity.name"}},
		{name: "create with a case-only rename", edit: func(m map[string]any) {
			m["operation"] = "create"
			delete(m, "baseEtag")
			delete(m["entity"].(map[string]any), "id")
			m["desired"].(map[string]any)["name"] = "claims tasks"
		}, want: []string{"desired.name: must equal entity.name when present"}},
		{name: "skill update with a case-only rename", edit: func(m map[string]any) {
			m["entity"].(map[string]any)["type"] = "skill"
			m["desired"] = map[string]any{"name": "claims tasks"}
		}, want: []string{"desired.name: must equal entity.name when present"}},
		{name: "delete with desired", edit: func(m map[string]any) { m["operation"] = "delete" },
			want: []string{"desired: must be absent for delete"}},
		{name: "reason missing", edit: func(m map[string]any) { delete(m, "reason") }, want: []string{"reason: required"}},
		{name: "reason too long", edit: func(m map[string]any) { m["reason"] = strings.Repeat("r", 1025) },
			want: []string{"reason: 1025 characters; at most 1024"}},
		{name: "requestedBy missing", edit: func(m map[string]any) { m["requestedBy"] = "" }, want: []string{"requestedBy: required"}},
		{name: "createdAt missing", edit: func(m map[string]any) { delete(m, "createdAt") }, want: []string{"createdAt: required"}},
		{name: "createdAt not RFC 3339", edit: func(m map[string]any) { m["createdAt"] = "2025-01-02 03:04:05" },
			want: []string{`createdAt: "2025-01-02 03:04:05" is not an RFC 3339 time`}},
		{name: "createdAt a number", edit: func(m map[string]any) { m["createdAt"] = 1735787045 },
			want: []string{"createdAt: must be a string (RFC 3339 time), got a number"}},
		{name: "several problems in wire order", edit: func(m map[string]any) {
			delete(m, "reason")
			m["entity"].(map[string]any)["type"] = "bot"
			m["environment"] = ""
		}, want: []string{"environment: required", "entity.type: must be one of", "reason: required"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.raw)
			if tc.edit != nil {
				m := validMessage()
				tc.edit(m)
				body = mustJSON(t, m)
			}
			got, err := Decode(body)
			if err == nil {
				t.Fatalf("Decode(%s) = %+v, want an error", body, got)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false, want true", err)
			}
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T is not an *InvalidError", err)
			}
			if len(ie.Problems) != len(tc.want) {
				t.Fatalf("got %d problems %q, want %d: %q", len(ie.Problems), ie.Problems, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if got := ie.Problems[i].String(); !strings.Contains(got, w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got, w)
				}
			}
		})
	}
}

// A body that is valid JSON but not a valid request (an unknown member) still names its
// changeId, so its rejection is recorded under the id the sender looks for; an invalid
// JSON body names none.
func TestDecodeRecoversChangeID(t *testing.T) {
	m := validMessage()
	m["priority"] = 1
	_, err := Decode(mustJSON(t, m))
	ie, ok := errors.AsType[*InvalidError](err)
	if !ok || ie.ChangeID != m["changeId"] {
		t.Errorf("unknown member: %v (changeId %q), want the message's changeId %v", err, ie.ChangeID, m["changeId"])
	}
	_, err = Decode([]byte(`{"changeId": "chg-1", "x": `))
	if ie, ok := errors.AsType[*InvalidError](err); !ok || ie.ChangeID != "" {
		t.Errorf("invalid JSON: %v, want no changeId", err)
	}
}

func TestDecodeErrorNamesChangeID(t *testing.T) {
	m := validMessage()
	m["operation"] = "upsert"
	_, err := Decode(mustJSON(t, m))
	var ie *InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v, want an *InvalidError", err)
	}
	if got, want := ie.ChangeID, m["changeId"]; got != want {
		t.Errorf("InvalidError.ChangeID = %q, want %q (the apply Lambda marks that record REJECTED)", got, want)
	}
	if got := err.Error(); !strings.Contains(got, `"chg-0190b6d4`) || !strings.Contains(got, "operation: must be one of") {
		t.Errorf("Error() = %q, want it to name the change id and the field", got)
	}
}

func TestDecodeSizeLimit(t *testing.T) {
	m := validMessage()
	desc := m["desired"].(map[string]any)
	// Grow the body to exactly the limit, then one byte over.
	desc["description"] = ""
	base := len(mustJSON(t, m))
	desc["description"] = strings.Repeat("x", MaxMessageBytes-base)
	atLimit := mustJSON(t, m)
	if len(atLimit) != MaxMessageBytes {
		t.Fatalf("test setup: body is %d bytes, want %d", len(atLimit), MaxMessageBytes)
	}
	if _, err := Decode(atLimit); err != nil {
		t.Errorf("Decode of a %d-byte body: %v, want success", len(atLimit), err)
	}
	desc["description"] = strings.Repeat("x", MaxMessageBytes-base+1)
	over := mustJSON(t, m)
	_, err := Decode(over)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "the limit is 262144") {
		t.Errorf("Decode of a %d-byte body: got %v, want an ErrInvalid naming the limit", len(over), err)
	}
	// Encode refuses to produce what Decode would refuse.
	req, _ := Decode(atLimit)
	req.Desired["description"] = strings.Repeat("x", MaxMessageBytes-base+1)
	if _, err := Encode(req); !errors.Is(err, ErrInvalid) {
		t.Errorf("Encode of an oversized request: got %v, want ErrInvalid", err)
	}
}

func TestDecodeDeepNesting(t *testing.T) {
	m := validMessage()
	var v any = "leaf"
	for range 100 {
		v = []any{v}
	}
	m["desired"].(map[string]any)["deep"] = v
	_, err := Decode(mustJSON(t, m))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "nested deeper than 64 levels") {
		t.Errorf("got %v, want an ErrInvalid about nesting depth", err)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	req := &Request{
		ChangeID:    "chg-1",
		Environment: "dev",
		Entity:      Entity{Type: entity.Queue, Name: "Billing <VIP> & Co"},
		Operation:   OpCreate,
		Desired:     map[string]any{"name": "Billing <VIP> & Co", "skillEvaluationMethod": "BEST", "n": json.Number("9007199254740993")},
		Reason:      "new queue",
		RequestedBy: "alice",
		CreatedAt:   time.Date(2025, 6, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
	}
	body, err := Encode(req)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	for _, want := range []string{`"schema":"routekeeper.change/v1"`, `"createdAt":"2025-06-01T10:00:00Z"`, `"name":"Billing <VIP> & Co"`, `9007199254740993`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("Encode = %s, want it to contain %s", body, want)
		}
	}
	for _, absent := range []string{`"baseEtag"`, `"id"`} {
		if strings.Contains(string(body), absent) {
			t.Errorf("Encode = %s, want no %s for a create", body, absent)
		}
	}
	got, err := Decode(body)
	if err != nil {
		t.Fatalf("Decode(Encode(req)): %v", err)
	}
	want := *req
	want.Schema = SchemaV1
	if diff := cmp.Diff(&want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
	if req.Schema != "" {
		t.Errorf("Encode modified its argument: Schema = %q", req.Schema)
	}
}

func TestEncodeValidates(t *testing.T) {
	req := &Request{ChangeID: "chg-1", Environment: "dev", Entity: Entity{Type: entity.Queue, Name: "Q"}, Operation: OpUpdate,
		Desired: map[string]any{"a": 1}, Reason: "r", RequestedBy: "b", CreatedAt: time.Now()}
	_, err := Encode(req)
	var ie *InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("Encode of an update without baseEtag: got %v, want an *InvalidError", err)
	}
	if got, want := ie.Problems, []Problem{{Field: "baseEtag", Message: "required for update (the ETag the change was planned against, sha256:<64 hex>)"}}; !cmp.Equal(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
	if _, err := Encode(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Encode(nil): got %v, want ErrInvalid", err)
	}
	req.BaseEtag = testEtag
	req.Schema = "routekeeper.change/v0"
	if _, err := Encode(req); err == nil || !strings.Contains(err.Error(), "supported: routekeeper.change/v1") {
		t.Errorf("Encode with schema v0: got %v, want an error listing the supported versions", err)
	}
}
