// Package applytest builds the world the apply engine's tests run in: a Genesys simulator
// (infra/genesyssim/sim) on a loopback port, the real Genesys client pointed at it, the
// routekeeper table on moto (infra/awslocal) or an in-memory store, and an Engine. The
// engine's, the apply function's and the CLI's tests share it, so each scenario is set up
// one way.
package applytest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Options shape an Env; the zero value gives a small generated org, no rate limits,
// the table on moto and instant client waits.
type Options struct {
	// Fixture seeds the org; nil => sim.Generate(Queues 4, Skills 4, Worktypes 2, Seed 1).
	Fixture *sim.Fixture
	// RequestsPerMinute for both the simulator and the client; 0 => unlimited.
	RequestsPerMinute int
	// ClientUnpaced turns the client's own pacing off, so only the simulator's limit
	// (429 with Retry-After) holds the client back.
	ClientUnpaced bool
	// Memory uses store.Memory instead of the table on moto.
	Memory bool
	// RealSleep makes the client really wait (benchmarks); default: waits are recorded
	// and skipped.
	RealSleep bool
	// Now is the clock of the simulator and the client (nil: time.Now). With a fake
	// clock, set Sleep to advance it.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// FakeClock gives the simulator, the client and the engine one clock that only
	// moves when the client waits (Env.Clock); it overrides Now and Sleep.
	FakeClock bool
	// Engine options (Now and Logger default to the Env's).
	Engine apply.Options
	// Transport, when set, wraps the client's HTTP transport: a test sees or alters each
	// request and answer (a write applied but answered 503, an edit landing mid-window).
	Transport func(next http.RoundTripper) http.RoundTripper
	// DynamoDB options of the table's client (not with Memory): a test sees each call
	// the engine makes, e.g. to check the function's role grants what it uses.
	DynamoDB []func(*dynamodb.Options)
}

// Env is one test's world.
type Env struct {
	Sim       *sim.Server
	URL       string
	Client    *genesys.Client
	Store     apply.Store
	Table     *store.Store // nil with Options.Memory
	AWS       aws.Config
	Resources *awslocal.Resources
	Engine    *apply.Engine
	Env       string // routing environment of the requests, "test"
	Clock     *Clock // with Options.FakeClock

	mu     sync.Mutex
	sleeps []time.Duration
}

// Environment is the routing environment Env's requests use.
const Environment = "test"

// New builds an Env; everything it starts stops when t ends.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	e := &Env{Env: Environment}
	if o.FakeClock {
		e.Clock = &Clock{t: time.Now(), record: e.record}
		o.Now, o.Sleep = e.Clock.Now, e.Clock.Sleep
	}
	rpm := o.RequestsPerMinute
	if rpm == 0 {
		rpm = -1
	}
	s := sim.New(sim.Options{RequestsPerMinute: rpm, Now: o.Now})
	fix := o.Fixture
	if fix == nil {
		f := sim.Generate(sim.GenerateOptions{Queues: 4, Skills: 4, Worktypes: 2, Seed: 1})
		fix = &f
	}
	if err := s.Load(*fix); err != nil {
		t.Fatalf("load fixture: %v", err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	e.Sim, e.URL = s, srv.URL
	clientRPM := rpm
	if o.ClientUnpaced {
		clientRPM = -1
	}
	cfg := genesys.Config{
		APIURL: srv.URL, LoginURL: srv.URL,
		ClientID: sim.DefaultClientID, ClientSecret: sim.DefaultClientSecret,
		RequestsPerMinute: clientRPM, Now: o.Now, Sleep: o.Sleep,
		Jitter: func(time.Duration) time.Duration { return 0 },
	}
	if o.Transport != nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: o.Transport(http.DefaultTransport)}
	}
	if cfg.Sleep == nil && !o.RealSleep {
		cfg.Sleep = func(ctx context.Context, d time.Duration) error {
			e.record(d)
			return ctx.Err()
		}
	}
	c, err := genesys.New(cfg)
	if err != nil {
		t.Fatalf("genesys client: %v", err)
	}
	e.Client = c
	if o.Memory {
		e.Store = store.NewMemory(o.Now)
	} else {
		e.AWS, e.Resources = awslocal.ForTest(t)
		e.Table = store.New(dynamodb.NewFromConfig(e.AWS, o.DynamoDB...), e.Resources.TableName)
		e.Store = e.Table
	}
	eo := o.Engine
	if eo.Now == nil {
		eo.Now = o.Now
	}
	if eo.Sleep == nil {
		eo.Sleep = cfg.Sleep // the engine waits between writes as the client waits (nil: really)
	}
	e.Engine = apply.New(c, e.Store, eo)
	return e
}

func (e *Env) record(d time.Duration) {
	e.mu.Lock()
	e.sleeps = append(e.sleeps, d)
	e.mu.Unlock()
}

// Clock is a fake clock that moves only when something waits on it.
type Clock struct {
	mu     sync.Mutex
	t      time.Time
	record func(time.Duration)
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Sleep advances the clock by d at once (unless ctx is done).
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	if c.record != nil {
		c.record(d)
	}
	return nil
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Sleeps returns the waits the client asked for (when waits are skipped).
func (e *Env) Sleeps() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]time.Duration(nil), e.sleeps...)
}

// ID returns the simulator id of the named entity of kind, failing t if there is none.
func (e *Env) ID(t testing.TB, kind entity.Kind, name string) string {
	t.Helper()
	id, ok := e.Sim.IDByName(string(kind), name)
	if !ok {
		t.Fatalf("no %s named %q in the simulator", kind, name)
	}
	return id
}

// Names reads the org's names as the engine does.
func (e *Env) Names(t testing.TB) *live.Names {
	t.Helper()
	n, err := live.NewCache(e.Client, 0, nil).Load(context.Background())
	if err != nil {
		t.Fatalf("read names: %v", err)
	}
	return n
}

// Live returns an entity as Genesys has it now: canonical form and ETag.
func (e *Env) Live(t testing.TB, kind entity.Kind, id string) *live.Entity {
	t.Helper()
	l, err := live.NewEntity(kind, e.Raw(t, kind, id), e.Names(t))
	if err != nil {
		t.Fatalf("canonicalise %s %s: %v", kind, id, err)
	}
	return l
}

// Raw returns the simulator's stored JSON of an entity (a deep copy).
func (e *Env) Raw(t testing.TB, kind entity.Kind, id string) map[string]any {
	t.Helper()
	var raw map[string]any
	var ok bool
	switch kind {
	case entity.Queue:
		raw, ok = e.Sim.Queue(id)
	case entity.Skill:
		raw, ok = e.Sim.Skill(id)
	case entity.Worktype:
		raw, ok = e.Sim.Worktype(id)
	}
	if !ok {
		t.Fatalf("no %s %s in the simulator", kind, id)
	}
	return raw
}

// Plan builds the change request that sets desired (spec shape) on the named entity, as
// `routekeeper apply` plans it: baseEtag is the live ETag now, and the live state is
// recorded as the last-known observation (source plan) so a merge has its base.
// For create (no such entity), baseEtag is empty.
func (e *Env) Plan(t testing.TB, op changes.Operation, kind entity.Kind, name string, desired map[string]any) *changes.Request {
	t.Helper()
	req := &changes.Request{
		Schema: changes.SchemaV1, Environment: e.Env,
		Entity:    changes.Entity{Type: kind, Name: name},
		Operation: op, Desired: desired,
		Reason: "test plan", RequestedBy: "applytest", CreatedAt: time.Now().UTC().Truncate(time.Second),
	}
	id, err := changes.NewChangeID()
	if err != nil {
		t.Fatal(err)
	}
	req.ChangeID = id
	if op != changes.OpCreate {
		l := e.Live(t, kind, e.ID(t, kind, name))
		req.Entity.ID, req.BaseEtag = l.ID, l.ETag
		e.put(t, l, store.SourcePlan, e.now())
	}
	if op == changes.OpDelete {
		req.Desired = nil
	}
	if err := req.Validate(); err != nil {
		t.Fatalf("planned request invalid: %v", err)
	}
	return req
}

// Observe records the entity's live state now as its last-known observation from source
// (e.g. store.SourceWebhook, as the webhook function does after an admin edit), newer than
// any observation recorded before.
func (e *Env) Observe(t testing.TB, kind entity.Kind, name string, source store.Source) {
	t.Helper()
	e.put(t, e.Live(t, kind, e.ID(t, kind, name)), source, time.Now().Add(time.Second))
}

func (e *Env) put(t testing.TB, l *live.Entity, source store.Source, at time.Time) {
	t.Helper()
	o, err := l.Observation(e.Env, source, at)
	if err == nil {
		err = e.Store.PutObservation(context.Background(), o)
	}
	if err != nil {
		t.Fatalf("record %s observation of %s %s: %v", source, l.Kind, l.Name, err)
	}
}

// Obj decodes a JSON object literal with numbers as json.Number, failing t on error.
func Obj(t testing.TB, s string) map[string]any {
	t.Helper()
	m, err := document.Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

// now is the Env's clock: the fake one with Options.FakeClock.
func (e *Env) now() time.Time {
	if e.Clock != nil {
		return e.Clock.Now()
	}
	return time.Now()
}
