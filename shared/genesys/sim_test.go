package genesys

// Integration tests: the real client against the Genesys simulator
// (infra/genesyssim/sim) on loopback, sharing one injected clock so rate
// windows, token expiry and Retry-After run in virtual time.

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
)

type simEnv struct {
	sim    *sim.Server
	client *Client
	clock  *fakeClock
}

func newSimEnv(t *testing.T, opts sim.Options, gen sim.GenerateOptions, mods ...func(*Config)) *simEnv {
	t.Helper()
	clock := newFakeClock()
	opts.Now = clock.Now
	s := sim.New(opts)
	if err := s.Load(sim.Generate(gen)); err != nil {
		t.Fatalf("load fixture: %v", err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	cfg := Config{
		APIURL: srv.URL, LoginURL: srv.URL,
		ClientID: sim.DefaultClientID, ClientSecret: "routekeeper-local-secret",
		Now: clock.Now, Sleep: clock.Sleep,
		Jitter: func(time.Duration) time.Duration { return 0 },
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &simEnv{sim: s, client: c, clock: clock}
}

func TestSimListsWholeOrg(t *testing.T) {
	gen := sim.GenerateOptions{Queues: 130, Skills: 45, Worktypes: 210, Workbins: 4, Divisions: 3, Languages: 30, Seed: 3}
	env := newSimEnv(t, sim.Options{}, gen, func(cfg *Config) { cfg.PageSize = 25 })
	ctx := t.Context()
	queues, err := env.client.ListQueues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	skills, err := env.client.ListSkills(ctx)
	if err != nil {
		t.Fatal(err)
	}
	divisions, err := env.client.ListDivisions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	worktypes, err := env.client.ListWorktypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	workbins, err := env.client.ListWorkbins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	languages, err := env.client.ListLanguages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{"queues": len(queues), "skills": len(skills), "divisions": len(divisions), "worktypes": len(worktypes), "workbins": len(workbins), "languages": len(languages)}
	want := map[string]int{"queues": 130, "skills": 45, "divisions": 3, "worktypes": 210, "workbins": 4, "languages": 30}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entity counts (-want +got):\n%s", diff)
	}
	calls := env.sim.Calls()
	wantCalls := map[string]int{
		"GET /api/v2/routing/queues": 6, "GET /api/v2/routing/skills": 2, "GET /api/v2/authorization/divisions": 1,
		"POST /api/v2/taskmanagement/worktypes/query": 2, "POST /api/v2/taskmanagement/workbins/query": 1,
		"GET /api/v2/routing/languages": 2,
	}
	for route, n := range wantCalls {
		if calls[route] != n {
			t.Errorf("simulator saw %d calls to %s, want %d (all calls: %v)", calls[route], route, n, calls)
		}
	}
	if got, want := env.client.Calls().Requests, int64(env.sim.TotalCalls()); got != want {
		t.Errorf("client counted %d requests, simulator %d", got, want)
	}
	// Every worktype's defaultLanguage is an id-only reference (SDK Languagereference)
	// to a listed language: the list is how a client names it.
	languageName := map[string]string{}
	for _, l := range languages {
		if l.ID == "" || l.Name == "" || l.State != "active" || l.Version == "" {
			t.Errorf("language %+v: want id, name, state active and a version", l)
		}
		languageName[l.ID] = l.Name
	}
	withLanguage := 0
	for _, w := range worktypes {
		if w.DefaultLanguage == nil {
			continue
		}
		withLanguage++
		if w.DefaultLanguage.Name != "" || languageName[w.DefaultLanguage.ID] == "" {
			t.Errorf("worktype %s defaultLanguage %+v: want an id-only reference to a listed language", w.Name, *w.DefaultLanguage)
		}
	}
	if withLanguage == 0 {
		t.Errorf("no generated worktype has a defaultLanguage; want some")
	}
	// Every queue decodes its division and re-encodes every member the simulator sent.
	for _, q := range queues[:5] {
		live, _ := env.sim.Queue(q.ID)
		if q.Division == nil || q.Division.ID == "" {
			t.Errorf("queue %s has no division", q.Name)
		}
		b, _ := jsonMarshal(q)
		lb, _ := jsonMarshal(live)
		if !jsonEqual(t, lb, b) {
			t.Errorf("queue %s re-encoded\n%s\nwant\n%s", q.Name, b, lb)
		}
	}
}

func TestSimBudgetKeepsUnderServerLimit(t *testing.T) {
	tests := []struct {
		name            string
		clientBudget    int
		wantRateLimited bool
	}{
		{name: "client budget 300/min: no 429 from a 300/min server", clientBudget: 0},
		{name: "client budget off: 429s waited out", clientBudget: -1, wantRateLimited: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// 320 queues at pageSize 1: 320 requests, more than one minute's budget.
			env := newSimEnv(t, sim.Options{RequestsPerMinute: 300}, sim.GenerateOptions{Queues: 320, Seed: 1}, func(cfg *Config) {
				cfg.PageSize = 1
				cfg.PageConcurrency = 1 // sequential: the fake clock then advances exactly as real time would
				cfg.RequestsPerMinute = tc.clientBudget
			})
			queues, err := env.client.ListQueues(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(queues) != 320 {
				t.Errorf("got %d queues, want 320", len(queues))
			}
			st := env.client.Calls()
			if got := st.RateLimited > 0; got != tc.wantRateLimited {
				t.Errorf("got %d 429s, want 429s: %v", st.RateLimited, tc.wantRateLimited)
			}
			if tc.wantRateLimited && st.Retries != st.RateLimited {
				t.Errorf("got %d retries for %d 429s, want one each", st.Retries, st.RateLimited)
			}
		})
	}
}

func TestSimGetEditPutKeepsUnknownFields(t *testing.T) {
	env := newSimEnv(t, sim.Options{}, sim.GenerateOptions{Queues: 3, Seed: 9})
	ctx := t.Context()
	qs, err := env.client.ListQueues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := qs[0].ID
	// An admin sets a member no SDK knows yet.
	if err := env.sim.EditQueue(id, func(q map[string]any) {
		q["defaultMediaLanguage"] = map[string]any{"id": "lang-fr"}
	}); err != nil {
		t.Fatal(err)
	}
	q, err := env.client.GetQueue(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := env.sim.Queue(id)
	q.Description = "managed by routekeeper"
	if _, err := env.client.UpdateQueue(ctx, q); err != nil {
		t.Fatal(err)
	}
	after, _ := env.sim.Queue(id)
	if diff := cmp.Diff(map[string]any{"id": "lang-fr"}, after["defaultMediaLanguage"]); diff != "" {
		t.Errorf("defaultMediaLanguage after PUT (-want +got):\n%s", diff)
	}
	if after["description"] != "managed by routekeeper" {
		t.Errorf("got description %v, want the edit", after["description"])
	}
	// Nothing else changed but the server-managed fields.
	for _, k := range []string{"description", "dateModified", "modifiedBy"} {
		delete(before, k)
		delete(after, k)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("queue changed beyond the edit (-before +after):\n%s", diff)
	}
}

func TestSimFaultsAndTokens(t *testing.T) {
	env := newSimEnv(t, sim.Options{}, sim.GenerateOptions{Queues: 2, Seed: 5}, func(cfg *Config) { cfg.MaxAttempts = 3 })
	ctx := t.Context()
	qs, err := env.client.ListQueues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := qs[0].ID

	t.Run("forced 429 waits Retry-After exactly", func(t *testing.T) {
		before := len(env.clock.Sleeps())
		env.sim.SetFaults(sim.Faults{Force429: 1, RetryAfterSeconds: 4})
		if _, err := env.client.GetQueue(ctx, id); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]time.Duration{4 * time.Second}, env.clock.Sleeps()[before:]); diff != "" {
			t.Errorf("sleeps (-want +got):\n%s", diff)
		}
	})
	t.Run("503 forever gives up with a typed error", func(t *testing.T) {
		env.sim.SetFaults(sim.Faults{ServerErrorRate: 1})
		defer env.sim.SetFaults(sim.Faults{})
		_, err := env.client.GetQueue(ctx, id)
		ae, ok := errors.AsType[*APIError](err)
		if !ok || ae.StatusCode != 503 || ae.CorrelationID == "" {
			t.Fatalf("got %v, want *APIError 503 with a correlation id", err)
		}
	})
	t.Run("dropped connection on a GET is retried", func(t *testing.T) {
		env.sim.SetFaults(sim.Faults{DropConnections: 1})
		if _, err := env.client.GetQueue(ctx, id); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("expired token refreshed once", func(t *testing.T) {
		env.sim.SetFaults(sim.Faults{})
		tokens := env.client.Calls().TokenRequests
		env.sim.ExpireTokens()
		if _, err := env.client.GetQueue(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got := env.client.Calls().TokenRequests - tokens; got != 1 {
			t.Errorf("got %d token requests, want 1", got)
		}
	})
	t.Run("not found", func(t *testing.T) {
		_, err := env.client.GetQueue(ctx, "00000000-0000-0000-0000-000000000000")
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	})
	t.Run("deadline shorter than Retry-After", func(t *testing.T) {
		env.sim.SetFaults(sim.Faults{Force429: 1, RetryAfterSeconds: 30})
		defer env.sim.SetFaults(sim.Faults{})
		dctx, cancel := context.WithDeadline(ctx, env.clock.Now().Add(10*time.Second))
		defer cancel()
		_, err := env.client.GetQueue(dctx, id)
		if d, ok := RetryAfter(err); !ok || d != 30*time.Second || !errors.Is(err, ErrRateLimited) {
			t.Errorf("got %v (wait %s), want ErrRateLimited with a 30s wait", err, d)
		}
	})
}

func TestSimWorktypesObservationsWorkitems(t *testing.T) {
	env := newSimEnv(t, sim.Options{}, sim.GenerateOptions{Queues: 4, Skills: 3, Worktypes: 2, Seed: 11})
	ctx := t.Context()
	wts, err := env.client.ListWorktypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := env.client.ListQueues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wt := wts[0]
	if _, err := env.client.PatchWorktype(ctx, wt.ID, map[string]any{"defaultQueueId": qs[1].ID, "defaultPriority": 5000}); err != nil {
		t.Fatal(err)
	}
	got, err := env.client.PatchWorktype(ctx, wt.ID, map[string]any{"defaultQueueId": nil})
	if err != nil {
		t.Fatal(err)
	}
	if got.DefaultQueue != nil || got.DefaultPriority == nil || *got.DefaultPriority != 5000 {
		t.Errorf("after clearing defaultQueueId: got defaultQueue %v, defaultPriority %v; want nil, 5000", got.DefaultQueue, got.DefaultPriority)
	}
	if live, _ := env.sim.Worktype(wt.ID); live["defaultQueue"] != nil {
		t.Errorf("simulator still has defaultQueue %v", live["defaultQueue"])
	}

	ids := make([]string, len(qs))
	for i, q := range qs {
		ids[i] = q.ID
	}
	env.sim.SetObservation(ids[2], MetricWaiting, 7)
	env.sim.SetObservation(ids[2], MetricOnQueueUsers, 3)
	loads, err := env.client.QueueLoads(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if l := loads[ids[2]]; l[MetricWaiting] != 7 || l[MetricOnQueueUsers] != 3 {
		t.Errorf("got load %v, want oWaiting 7 and oOnQueueUsers 3", l)
	}

	wq := qs[0].ID
	if wts[1].DefaultQueue != nil {
		wq = wts[1].DefaultQueue.ID
	}
	env.sim.SetWorkitemCount(wq, 6)
	n, err := env.client.CountWorkitems(ctx, wq)
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 {
		t.Errorf("got %d workitems, want 6", n)
	}

	u, err := env.client.GetUtilization(ctx)
	if err != nil {
		t.Fatal(err)
	}
	call := u.Utilization["call"]
	call.MaximumCapacity = 2
	u.Utilization["call"] = call
	u2, err := env.client.UpdateUtilization(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if u2.Utilization["call"].MaximumCapacity != 2 || !slices.Equal(slices.Sorted(mapsKeys(u.Utilization)), slices.Sorted(mapsKeys(u2.Utilization))) {
		t.Errorf("utilization after PUT: %+v, want call capacity 2 and the same media types", u2.Utilization)
	}

	s, err := env.client.CreateSkill(ctx, "Dutch")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.client.DeleteSkill(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
}
