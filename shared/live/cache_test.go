package live_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
)

// simClient is a client of a simulated org of a few generated entities.
func simClient(t *testing.T) (*sim.Server, *genesys.Client) {
	t.Helper()
	s := sim.New(sim.Options{RequestsPerMinute: -1})
	if err := s.Load(sim.Generate(sim.GenerateOptions{Queues: 3, Skills: 3, Worktypes: 2, Seed: 3})); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := genesys.New(genesys.Config{APIURL: srv.URL, LoginURL: srv.URL, ClientID: sim.DefaultClientID,
		ClientSecret: sim.DefaultClientSecret, RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// session opens a session of a fresh cache of c's org.
func session(t *testing.T, c *genesys.Client) (*live.Cache, *live.Session) {
	t.Helper()
	cache := live.NewCache(c, time.Hour, nil)
	ses, err := cache.Session(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return cache, ses
}

// firstName is the name of one simulated entity of kind.
func firstName(t *testing.T, c *genesys.Client, k entity.Kind) (name, id string) {
	t.Helper()
	org, err := live.Read(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := org.Sorted(k)[0]
	return e.Name, e.ID
}

func TestSessionFind(t *testing.T) {
	ctx := context.Background()
	s, c := simClient(t)
	for _, k := range entity.Kinds {
		t.Run(string(k), func(t *testing.T) {
			name, id := firstName(t, c, k)
			_, ses := session(t, c)
			// By name, by id hint, and a stale id hint that falls back to the name.
			for _, hint := range []string{"", id, "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"} {
				e, err := ses.Find(ctx, k, name, hint, false)
				if err != nil || e == nil || e.ID != id || e.Name != name || e.ETag == "" || e.Canonical["name"] != name {
					t.Errorf("Find(%q, hint %q) = %+v, %v; want the entity %s with its canonical form and ETag", name, hint, e, err, id)
				}
			}
			// A name nobody has: nil, and only a refresh when asked for.
			calls := s.TotalCalls()
			if e, err := ses.Find(ctx, k, "No Such Entity", "", false); e != nil || err != nil {
				t.Errorf("Find(unknown) = %+v, %v; want nil, nil", e, err)
			}
			if got := s.TotalCalls() - calls; got != 0 {
				t.Errorf("Find(unknown) without refreshOnMiss made %d calls, want 0", got)
			}
			if e, err := ses.Find(ctx, k, "No Such Entity", "", true); e != nil || err != nil {
				t.Errorf("Find(unknown, refresh) = %+v, %v; want nil, nil", e, err)
			}
			if did, err := ses.Refresh(ctx); did || err != nil {
				t.Errorf("second Refresh of a session: did %v, %v; want no second refresh", did, err)
			}
		})
	}
}

// A cached name whose entity was deleted and created again (a new id) is found again:
// the stale cache entry forces one refresh.
func TestSessionFindAfterRecreate(t *testing.T) {
	ctx := context.Background()
	_, c := simClient(t)
	_, ses := session(t, c)
	name, id := firstName(t, c, entity.Skill)
	if err := c.DeleteSkill(ctx, id); err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateSkill(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ses.Find(ctx, entity.Skill, name, "", false)
	if err != nil || e == nil || e.ID != again.ID {
		t.Fatalf("Find after re-create = %+v, %v; want the new skill %s", e, err, again.ID)
	}
}

func TestSessionCreateWriteDelete(t *testing.T) {
	ctx := context.Background()
	_, c := simClient(t)
	cache, ses := session(t, c)
	// Create: the new name resolves through the cache at once.
	sk, err := ses.Create(ctx, entity.Skill, "Tagalog", map[string]any{"name": "Tagalog"})
	if err != nil || sk == nil || sk.ID == "" || sk.ETag == "" {
		t.Fatalf("Create skill = %+v, %v", sk, err)
	}
	if id, ok := ses.Names().ID(entity.Skill, "Tagalog"); !ok || id != sk.ID {
		t.Errorf("names after Create: %q, %v; want %s", id, ok, sk.ID)
	}
	q, err := ses.Create(ctx, entity.Queue, "Tagalog Tasks", map[string]any{"name": "Tagalog Tasks", "description": "new",
		"bullseye": map[string]any{"rings": []any{map[string]any{"expansionCriteria": []any{map[string]any{"type": "TIMEOUT_SECONDS", "threshold": 10}},
			"actions": map[string]any{"skillsToRemove": []any{"Tagalog"}}}}}})
	if err != nil || q == nil {
		t.Fatalf("Create queue referring to the new skill = %+v, %v", q, err)
	}
	// Write: a case-only rename moves the name in the cache.
	after, err := ses.Write(ctx, q, map[string]any{"name": "TAGALOG TASKS", "description": "edited"})
	if err != nil || after.Name != "TAGALOG TASKS" || after.Canonical["description"] != "edited" || after.ETag == q.ETag {
		t.Fatalf("Write = %+v, %v; want renamed and edited with a new ETag", after, err)
	}
	if id, _, _ := cache.Lookup(ctx, entity.Queue, "TAGALOG TASKS"); id != q.ID {
		t.Errorf("cache after rename: %q, want %s", id, q.ID)
	}
	// A skill has no field to write.
	if _, err := ses.Write(ctx, sk, map[string]any{"name": "Tagalog"}); !errors.Is(err, live.ErrNotWritable) {
		t.Errorf("Write skill: %v, want ErrNotWritable", err)
	}
	// A reference that does not resolve, even after the one refresh: *ReferenceError.
	_, err = ses.Write(ctx, after, map[string]any{"division": "No Such Division"})
	if re, ok := errors.AsType[*live.ReferenceError](err); !ok || re.Kind != entity.Division {
		t.Errorf("Write with an unknown division: %v, want a *ReferenceError for the division", err)
	}
	// Delete, then delete again: gone, and forgotten by the cache.
	if gone, err := ses.Delete(ctx, after); gone || err != nil {
		t.Errorf("Delete = %v, %v; want deleted", gone, err)
	}
	if gone, err := ses.Delete(ctx, after); !gone || err != nil {
		t.Errorf("second Delete = %v, %v; want gone", gone, err)
	}
	if _, ok, _ := cache.Lookup(ctx, entity.Queue, "TAGALOG TASKS"); ok {
		t.Error("deleted queue still in the cache")
	}
	if e, err := ses.Get(ctx, entity.Queue, after.ID); e != nil || err != nil {
		t.Errorf("Get deleted = %+v, %v; want nil, nil", e, err)
	}
}

// Names are reused for the TTL on the cache's clock, then read again.
func TestCacheTTL(t *testing.T) {
	ctx := context.Background()
	s, c := simClient(t)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cache := live.NewCache(c, time.Minute, func() time.Time { return now })
	if _, err := cache.Names(ctx); err != nil {
		t.Fatal(err)
	}
	calls := s.TotalCalls()
	if _, err := cache.Names(ctx); err != nil || s.TotalCalls() != calls {
		t.Errorf("Names within the TTL made %d calls (%v), want 0", s.TotalCalls()-calls, err)
	}
	now = now.Add(time.Minute)
	if _, err := cache.Names(ctx); err != nil || s.TotalCalls() == calls {
		t.Errorf("Names after the TTL made no calls (%v), want the lists read again", err)
	}
}

// A lazy session reads a queue, whose references Genesys names, with one call and no
// lists; a worktype names its skills by id only, so reading it loads the names once.
func TestLazySessionResolve(t *testing.T) {
	ctx := context.Background()
	_, c := simClient(t)
	org, err := live.Read(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := org.Sorted(entity.Queue)[0]
	w := org.Sorted(entity.Worktype)[0]
	cache := live.NewCache(c, time.Hour, nil)

	ses := cache.Lazy(c)
	before := c.Calls().Requests
	got, err := ses.Resolve(ctx, entity.Queue, q.ID)
	if err != nil || got == nil {
		t.Fatalf("Resolve queue: %+v, %v", got, err)
	}
	if calls := c.Calls().Requests - before; calls != 1 || ses.Refreshed() {
		t.Errorf("Resolve queue made %d calls (refreshed %v), want 1 and no lists", calls, ses.Refreshed())
	}
	if got.ETag != q.ETag {
		t.Errorf("queue ETag %s from its embedded names, want %s as with the org's lists", got.ETag, q.ETag)
	}

	ses = cache.Lazy(c)
	got, err = ses.Resolve(ctx, entity.Worktype, w.ID)
	if err != nil || got == nil || !ses.Refreshed() || got.ETag != w.ETag {
		t.Fatalf("Resolve worktype: %+v, %v, refreshed %v; want it canonicalised with the org's names (ETag %s)", got, err, ses.Refreshed(), w.ETag)
	}
	// Now the cache holds names: a new lazy session starts with them.
	if ses := cache.Lazy(c); ses.Names() == nil {
		t.Error("a lazy session after a load starts without the cached names")
	}
	if e, err := cache.Lazy(c).Resolve(ctx, entity.Queue, "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"); e != nil || err != nil {
		t.Errorf("Resolve of an unknown id = %+v, %v; want nil, nil", e, err)
	}
}
