package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
)

// The webhook benchmarks run the webhook bootstrap under aws-lambda-rie on the local
// stack, fed as in AWS (the simulator's audit events through the Genesys partner bus and
// the template's rule), against a simulator that delays every request by 50 ms and allows
// 300 requests a minute per token, as Genesys does. One container, as the local stack
// runs one; the template allows two (ReservedConcurrentExecutions), each with its own
// token and budget.
//
//	go test -run '^$' -bench 'Webhook' ./infra/localstack/stack/
//	ROUTEKEEPER_BENCH_SCALE=0.05 go test -run '^$' -bench 'WebhookBurst' ./infra/localstack/stack/

const benchLatency = 50 * time.Millisecond

// benchScale is ROUTEKEEPER_BENCH_SCALE (default 1).
func benchScale(b *testing.B) float64 {
	v := os.Getenv("ROUTEKEEPER_BENCH_SCALE")
	if v == "" {
		return 1
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		b.Fatalf("ROUTEKEEPER_BENCH_SCALE=%q: want a positive number", v)
	}
	return f
}

// webhookRig is the webhook running on a stack with its sources, the simulator's audit
// events going through the partner bus.
type webhookRig struct {
	s       *Stack
	src     *Sources
	partner *PartnerBus
	logs    *syncBuffer
}

func startWebhookRig(b *testing.B, opts Options) *webhookRig {
	b.Helper()
	cfg, res := awslocal.ForTest(b)
	opts.AWS, opts.Resources = &cfg, res
	s := startWith(b, opts)
	r := &webhookRig{s: s, logs: &syncBuffer{b: &bytes.Buffer{}}}
	fn, err := s.StartFunction(b.Context(), "webhook", FunctionOptions{BuildRoot: buildRoot, Logs: r.logs})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = fn.Stop() })
	if r.src, err = s.StartSources(b.Context(), "webhook", fn, SourceOptions{}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.src.Close() })
	r.partner = r.src.Buses[GenesysBus]
	s.Sim.SetAuditTarget(r.partner.URL())
	b.Cleanup(func() { s.Sim.SetAuditTarget("") })
	s.Sim.SetFaults(sim.Faults{Latency: benchLatency})
	return r
}

// BenchmarkWebhookLatency: an admin edit to the drift event on routekeeper's bus, as a
// subscriber rule receives it. One op is 50 edits of a declared queue, alternately away
// from the config and back, each a Drift Detected or Drift Resolved.
func BenchmarkWebhookLatency(b *testing.B) {
	const edits = 50
	r := startWebhookRig(b, Options{})
	publishExampleTB(b, r.s)
	tap, err := awslocal.NewTap(b.Context(), r.s.AWS, r.s.Resources.BusName, r.s.prefix+"-bench-latency", `{"source": ["routekeeper"]}`)
	if err != nil {
		b.Fatal(err)
	}
	const name = "Fraud Review"
	id, _ := r.s.Sim.IDByName("queue", name)
	var lat []time.Duration
	for b.Loop() {
		for i := range edits {
			desc := "bench edit " + strconv.Itoa(i)
			if i%2 == 1 {
				desc = "Suspected fraud, specialists only" // the declared description
			}
			start := time.Now()
			if err := r.s.Sim.EditQueue(id, func(q map[string]any) { q["description"] = desc }); err != nil {
				b.Fatal(err)
			}
			if _, err := tap.ReceiveN(b.Context(), 1); err != nil {
				b.Fatalf("edit %d: %v\n%s", i, err, r.logs.b.String())
			}
			lat = append(lat, time.Since(start))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkWebhookBurst: a bulk edit's audit events through the rule into one container.
//
//   - bulk-edit: 1,000 queues edited once, the events delivered as they are emitted.
//   - backlog: 500 queues edited twice, the 1,000 events delivered after the webhook was
//     away (held, then put on the bus in order, as EventBridge delivers once the target is
//     back): each queue is read once and its second event coalesced, save the few the
//     simulator stamped a millisecond after the edit's dateModified (read again).
//
// Metrics: events, distinct entities, Genesys calls, 429s, lost (queues whose recorded
// state is not their final one), wall-s and events/s.
func BenchmarkWebhookBurst(b *testing.B) {
	n := max(10, int(1000*benchScale(b)))
	b.Run("bulk-edit", func(b *testing.B) { benchBurst(b, n, 1, false) })
	b.Run("backlog", func(b *testing.B) { benchBurst(b, n/2, 2, true) })
}

func benchBurst(b *testing.B, queues, rounds int, held bool) {
	for range b.N {
		b.StopTimer()
		seed := func(ctx context.Context, s *sim.Server, c *genesys.Client) error {
			return s.Load(sim.Generate(sim.GenerateOptions{Queues: queues, Skills: 20, Worktypes: 3, Divisions: 2, Seed: 11}))
		}
		r := startWebhookRig(b, Options{Org: seed})
		s := r.s
		ids := mustList(b, s)
		var c *capture
		if held {
			var err error
			if c, err = startCapture(); err != nil {
				b.Fatal(err)
			}
			defer c.close()
			s.Sim.SetAuditTarget(c.url)
		}
		s.Sim.ResetCalls()
		b.StartTimer()
		start := time.Now()
		final := map[string]string{}
		for round := range rounds {
			for _, id := range ids {
				desc := fmt.Sprintf("bulk edit %d", round+1)
				if err := s.Sim.EditQueue(id, func(q map[string]any) { q["description"] = desc }); err != nil {
					b.Fatal(err)
				}
				final[id] = desc
			}
		}
		if err := s.Sim.FlushAudit(b.Context()); err != nil {
			b.Fatal(err)
		}
		if held {
			for _, ev := range c.take() {
				if err := putEvent(b.Context(), r.partner.URL(), ev); err != nil {
					b.Fatal(err)
				}
			}
		}
		wall := time.Since(start)
		b.StopTimer()

		events := queues * rounds
		if got := r.partner.Counts(); got.Delivered != events {
			b.Fatalf("partner bus: %+v, want %d delivered", got, events)
		}
		lost := 0
		st := storeOf(s)
		obs, err := st.ListObservations(b.Context(), s.Environment)
		if err != nil {
			b.Fatal(err)
		}
		byID := map[string]string{}
		for _, o := range obs {
			if o.Key.Kind == entity.Queue {
				var doc struct{ Description string }
				_ = json.Unmarshal(o.Config, &doc)
				byID[o.GenesysID] = doc.Description
			}
		}
		for id, want := range final {
			if byID[id] != want {
				lost++
			}
		}
		sums := emfSums([]byte(r.logs.b.String()))
		b.ReportMetric(float64(events), "events")
		b.ReportMetric(float64(queues), "distinct")
		b.ReportMetric(float64(s.Sim.TotalCalls()), "calls")
		b.ReportMetric(sums["GenesysRateLimited"], "429s")
		b.ReportMetric(sums["EventsCoalesced"], "coalesced")
		b.ReportMetric(float64(lost), "lost")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
		// One edit per queue: one GET each, never more. Two: the second event is coalesced,
		// except where the simulator stamped it a millisecond after the dateModified of the
		// edit (Genesys's audit time and an entity's dateModified need not agree to the
		// millisecond): that one is read again, which is never wrong.
		if lost > 0 || (rounds == 1 && s.Sim.TotalCalls() > queues) || (rounds > 1 && s.Sim.TotalCalls() >= events) {
			b.Errorf("%d queues lost their final state; %d Genesys calls for %d events on %d queues", lost, s.Sim.TotalCalls(), events, queues)
		}
		b.StartTimer()
	}
}

// mustList returns the ids of the simulated org's queues.
func mustList(b *testing.B, s *Stack) []string {
	b.Helper()
	qs, err := s.Genesys.ListQueues(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, len(qs))
	for i, q := range qs {
		ids[i] = q.ID
	}
	return ids
}

// putEvent puts one event on a PartnerBus, as the partner's PutEvents would.
func putEvent(ctx context.Context, url string, ev []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(ev))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var a busAnswer
		_ = json.NewDecoder(resp.Body).Decode(&a)
		return fmt.Errorf("put event: %s: %s", resp.Status, strings.TrimSpace(a.Message))
	}
	return nil
}
