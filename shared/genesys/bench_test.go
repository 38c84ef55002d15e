package genesys

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
)

// BenchmarkListQueuesSim lists a 1000-queue simulated org (real clock, no
// budget so the figure is the client+simulator cost) and reports requests
// per listing and queues decoded per second.
func BenchmarkListQueuesSim(b *testing.B) {
	for _, pageSize := range []int{100, 500} {
		b.Run("pageSize="+itoa(pageSize), func(b *testing.B) {
			s := sim.New(sim.Options{RequestsPerMinute: -1})
			if err := s.Load(sim.Generate(sim.GenerateOptions{Queues: 1000, Seed: 1})); err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(s)
			defer srv.Close()
			c, err := New(Config{APIURL: srv.URL, LoginURL: srv.URL, ClientID: sim.DefaultClientID,
				ClientSecret: "routekeeper-local-secret", RequestsPerMinute: -1, PageSize: pageSize})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				qs, err := c.ListQueues(b.Context())
				if err != nil || len(qs) != 1000 {
					b.Fatalf("got %d queues, %v", len(qs), err)
				}
			}
			b.ReportMetric(float64(c.Calls().Requests)/float64(b.N), "requests/op")
			b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "queues/s")
		})
	}
}

// BenchmarkQueueDecode measures the lenient, member-keeping decode and
// re-encode of one queue against plain encoding/json into a map.
func BenchmarkQueueDecode(b *testing.B) {
	doc := []byte(liveQueueJSON)
	b.Run("Queue", func(b *testing.B) {
		for b.Loop() {
			var q Queue
			if err := json.Unmarshal(doc, &q); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(doc, &m); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
