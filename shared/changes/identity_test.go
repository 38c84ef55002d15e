package changes

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/shared/entity"
)

func TestRequestKey(t *testing.T) {
	r := &Request{Environment: "prod", Entity: Entity{Type: entity.Queue, Name: "Claims Tasks"}}
	if got, want := r.Key().String(), "prod/queue/Claims Tasks"; got != want {
		t.Errorf("Key() = %q, want %q", got, want)
	}
}

func TestGroupID(t *testing.T) {
	longEnv := strings.Repeat("e", maxEnvironmentLen)
	names := []string{
		"Claims Tasks",
		"claims tasks", // differs only in case: must not collide
		"Claims  Tasks",
		"Überprüfung – Kfz",
		"客户服务 队列",
		"emoji 🚑 queue",
		strings.Repeat("long name ", 25),
		"a/b.c", // separators of keys and group ids inside the name
	}
	seen := map[string]string{}
	for _, env := range []string{"prod", longEnv} {
		for _, typ := range entity.Kinds {
			for _, name := range names {
				e := Entity{Type: typ, Name: name}
				g := e.GroupID(env)
				if len(g) > 128 {
					t.Errorf("GroupID(%q) of %s %q has %d characters, want at most 128", env, typ, name, len(g))
				}
				if !sqsIDChars(g) {
					t.Errorf("GroupID(%q) of %s %q = %q has characters SQS rejects", env, typ, name, g)
				}
				if !strings.HasPrefix(g, env+"."+string(typ)+".") {
					t.Errorf("GroupID = %q, want prefix %q", g, env+"."+string(typ)+".")
				}
				if again := e.GroupID(env); again != g {
					t.Errorf("GroupID not deterministic: %q then %q", g, again)
				}
				key := entity.Key{Environment: env, Kind: typ, Name: name}.String()
				if other, dup := seen[g]; dup {
					t.Errorf("GroupID %q shared by %q and %q", g, other, key)
				}
				seen[g] = key
			}
		}
	}
}

func TestNewChangeID(t *testing.T) {
	a, err := NewChangeID()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewChangeID()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two NewChangeID calls returned %q twice", a)
	}
	if len(a) != 40 || !strings.HasPrefix(a, "chg-") || !sqsIDChars(a) {
		t.Errorf("NewChangeID = %q, want chg- and a UUID (40 characters, SQS deduplication id charset)", a)
	}
	if a > b {
		t.Errorf("change ids not time-ordered: %q was made before %q", a, b)
	}
	req := validRequest(t)
	req.ChangeID = a
	if err := req.Validate(); err != nil {
		t.Errorf("Validate with a NewChangeID id: %v", err)
	}
}

func validRequest(t testing.TB) *Request {
	t.Helper()
	req, err := Decode(mustJSON(t, validMessage()))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestPayloadHash(t *testing.T) {
	base := validRequest(t)
	h0, err := PayloadHash(base)
	if err != nil {
		t.Fatal(err)
	}
	if !etagRE.MatchString(h0) {
		t.Fatalf("PayloadHash = %q, want sha256:<64 hex>", h0)
	}
	tests := []struct {
		name string
		edit func(r *Request)
		same bool
	}{
		{"other changeId", func(r *Request) { r.ChangeID = "chg-other" }, true},
		{"other reason, requester and time", func(r *Request) {
			r.Reason, r.RequestedBy, r.CreatedAt = "again", "bob", r.CreatedAt.Add(time.Hour)
		}, true},
		{"empty schema means v1", func(r *Request) { r.Schema = "" }, true},
		{"same number written differently", func(r *Request) {
			r.Desired["acwSettings"] = map[string]any{"timeoutMs": json.Number("3.0e4")}
		}, true},
		{"desired value", func(r *Request) { r.Desired["description"] = "Claims!" }, false},
		{"desired extra field", func(r *Request) { r.Desired["enableTranscription"] = true }, false},
		{"baseEtag", func(r *Request) { r.BaseEtag = "sha256:" + strings.Repeat("f", 64) }, false},
		{"environment", func(r *Request) { r.Environment = "dev" }, false},
		{"entity name", func(r *Request) { r.Entity.Name = "Claims tasks" }, false},
		{"entity id", func(r *Request) { r.Entity.ID = "" }, false},
		{"operation", func(r *Request) { r.Operation = OpDelete; r.Desired = nil }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := validRequest(t)
			tc.edit(r)
			h, err := PayloadHash(r)
			if err != nil {
				t.Fatal(err)
			}
			if got := h == h0; got != tc.same {
				t.Errorf("PayloadHash equal to the original's = %v, want %v (%s vs %s)", got, tc.same, h, h0)
			}
		})
	}
}
