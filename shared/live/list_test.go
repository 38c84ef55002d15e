package live

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
)

// listOrg serves a generated org, with small pages so every list has several, through
// middleware (nil: none), and returns the simulator and a client of it.
func listOrg(t *testing.T, g sim.GenerateOptions, middleware func(http.Handler) http.Handler) (*sim.Server, *genesys.Client) {
	t.Helper()
	s := sim.New(sim.Options{RequestsPerMinute: -1})
	if err := s.Load(sim.Generate(g)); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = s
	if middleware != nil {
		h = middleware(s)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := genesys.New(genesys.Config{APIURL: srv.URL, LoginURL: srv.URL, ClientID: sim.DefaultClientID,
		ClientSecret: sim.DefaultClientSecret, RequestsPerMinute: -1, PageSize: 25})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// listedOf is what Read says of an entity, in List's terms.
func listedOf(t *testing.T, e *Entity) *Listed {
	t.Helper()
	cfg, err := document.CanonicalJSON(e.Canonical)
	if err != nil {
		t.Fatal(err)
	}
	return &Listed{Kind: e.Kind, Name: e.Name, ID: e.ID, ETag: e.ETag, Config: cfg, Modified: e.Modified(), ModifiedBy: modifiedBy(e.Raw)}
}

// List gives every entity the name, id, canonical JSON and ETag Read gives it, with the
// same warnings and names, in as many calls: also a queue whose conditional group routing
// names queues (with and without the name embedded), a reference to a skill the org does
// not list, and a deleted skill.
func TestListMatchesRead(t *testing.T) {
	s, c := listOrg(t, sim.GenerateOptions{Queues: 120, Skills: 40, Worktypes: 30, Seed: 11}, nil)
	ctx := context.Background()
	org, err := Read(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	queues, skills := org.Sorted(entity.Queue), org.Sorted(entity.Skill)
	target, other := queues[3], queues[70]
	if err := s.EditQueue(target.ID, func(q map[string]any) {
		q["conditionalGroupRouting"] = map[string]any{"rules": []any{
			map[string]any{"queue": map[string]any{"id": other.ID}, "metric": "EstimatedWaitTime", "operator": "GreaterThan", "conditionValue": 30.0, "waitSeconds": 10.0,
				"groups": []any{map[string]any{"id": "g1", "name": "Tier 2", "type": "GROUP"}}},
			map[string]any{"queue": map[string]any{"id": queues[90].ID, "name": queues[90].Name}, "metric": "ServiceLevel", "operator": "LessThan", "conditionValue": 0.8, "waitSeconds": 20.0},
		}}
		q["bullseye"] = map[string]any{"rings": []any{
			map[string]any{"expansionCriteria": []any{map[string]any{"type": "TIMEOUT_SECONDS", "threshold": 10.0}},
				"actions": map[string]any{"skillsToRemove": []any{map[string]any{"id": "5e1d0000-0000-4000-8000-000000000001"}}}},
			map[string]any{"expansionCriteria": []any{map[string]any{"type": "TIMEOUT_SECONDS", "threshold": 20.0}}},
		}}
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("skill", skills[5].ID); err != nil {
		t.Fatal(err)
	}
	s.ResetCalls()
	if org, err = Read(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	readCalls := s.TotalCalls()
	s.ResetCalls()
	l, err := List(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.TotalCalls(); got != readCalls {
		t.Errorf("List made %d calls, Read %d", got, readCalls)
	}
	var want []*Listed
	for _, k := range entity.Kinds {
		for _, e := range org.Sorted(k) {
			want = append(want, listedOf(t, e))
		}
	}
	if diff := cmp.Diff(want, l.Entities, cmp.AllowUnexported(Listed{})); diff != "" {
		t.Errorf("List entities differ from Read's (-Read +List):\n%s", diff)
	}
	if diff := cmp.Diff([]any{org.Warnings, org.Divisions, org.Workbins}, []any{l.Warnings, l.Divisions, l.Workbins}); diff != "" {
		t.Errorf("warnings, divisions, workbins (-Read +List):\n%s", diff)
	}
	if len(l.Unread) != 0 {
		t.Errorf("Unread = %v, want none", l.Unread)
	}
	e, ok := l.Find(entity.Queue, target.Name)
	if !ok || !strings.Contains(string(e.Config), `"queue":"`+other.Name+`"`) || e.Modified.IsZero() || e.ModifiedBy == "" {
		t.Errorf("queue %q as listed: %+v; want its rule's queue named %q, dateModified and modifiedBy", target.Name, e, other.Name)
	}
	if _, ok := l.Find(entity.Skill, skills[5].Name); ok {
		t.Errorf("deleted skill %q is listed", skills[5].Name)
	}
	back, err := e.Entity()
	if err != nil || back.ETag != e.ETag || back.Canonical["name"] != target.Name {
		t.Errorf("Entity() = %+v, %v", back, err)
	}
	if o := l.Org(); len(o.Queues) != len(org.Queues) || o.Queues[target.Name].ETag != e.ETag {
		t.Errorf("Org(): %d queues, want %d with the listed ETags", len(o.Queues), len(org.Queues))
	}
}

// A list that fails leaves its kind, and the kinds whose canonical form takes names from
// it, unread; the other kinds are read, and the error says which list failed.
func TestListPartial(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		unread     []entity.Kind
	}{
		{"queues", "/api/v2/routing/queues", []entity.Kind{entity.Queue, entity.Worktype}},
		{"workbins", "/api/v2/taskmanagement/workbins/query", []entity.Kind{entity.Worktype}},
		{"skills", "/api/v2/routing/skills", []entity.Kind{entity.Skill, entity.Queue, entity.Worktype}},
		{"worktypes", "/api/v2/taskmanagement/worktypes/query", []entity.Kind{entity.Worktype}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refuse := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == tc.path {
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(http.StatusForbidden)
						_, _ = w.Write([]byte(`{"message":"missing permission","code":"missing.permissions","status":403}`))
						return
					}
					next.ServeHTTP(w, r)
				})
			}
			_, c := listOrg(t, sim.GenerateOptions{Queues: 30, Skills: 10, Worktypes: 5, Seed: 2}, refuse)
			l, err := List(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), "list "+tc.name) {
				t.Fatalf("List error = %v, want one naming the %s list", err, tc.name)
			}
			var ae *genesys.APIError
			if !errors.As(err, &ae) || ae.StatusCode != http.StatusForbidden {
				t.Errorf("List error %v does not wrap the 403", err)
			}
			for _, k := range entity.Kinds {
				wantUnread := false
				for _, u := range tc.unread {
					wantUnread = wantUnread || u == k
				}
				n := 0
				for _, e := range l.Entities {
					if e.Kind == k {
						n++
					}
				}
				if l.Read(k) == wantUnread || (n > 0) == wantUnread {
					t.Errorf("%s: read %v with %d entities; want unread %v", k, l.Read(k), n, wantUnread)
				}
			}
		})
	}
}

// FuzzListConverter: any JSON a list page may carry either converts to a Listed entity
// whose canonical JSON decodes and hashes to its ETag, or is an error; it never panics.
func FuzzListConverter(f *testing.F) {
	f.Add([]byte(`{"id":"q1","name":"Claims","division":{"id":"d1","name":"Home"},"mediaSettings":{"call":{"alertingTimeoutSeconds":8}},"modifiedBy":"u1","dateModified":"2026-01-02T03:04:05.000Z"}`), uint8(1))
	f.Add([]byte(`{"id":"w1","name":"Claim","defaultQueue":{"id":"q1"},"defaultSkills":[{"id":"s1"}],"modifiedBy":{"id":"u2"}}`), uint8(2))
	f.Add([]byte(`{"id":"s1","name":"English","state":"deleted"}`), uint8(0))
	f.Add([]byte(`{"name":7}`), uint8(1))
	f.Add([]byte(`[1,2]`), uint8(2))
	f.Fuzz(func(t *testing.T, raw []byte, k uint8) {
		kind := entity.Kinds[int(k)%len(entity.Kinds)]
		l := &Listing{Names: &Names{}}
		l.Names.Add(entity.Queue, "q1", "Claims")
		cv, _, err := l.converter(kind, false)(json.RawMessage(raw))
		if err != nil || cv.Listed == nil {
			return
		}
		doc, err := document.Decode(cv.Config)
		if err != nil {
			t.Fatalf("canonical JSON %s does not decode: %v", cv.Config, err)
		}
		etag, err := document.ETag(doc)
		if err != nil || etag != cv.ETag {
			t.Fatalf("ETag %s, canonical JSON hashes to %s (%v)", cv.ETag, etag, err)
		}
	})
}
