package main

import (
	"encoding/json"
	"testing"

	"github.com/routekeeper/routekeeper/shared/genesys"
)

// FuzzLoadsOf: whatever an observations answer holds (it comes from Genesys), loadsOf
// never panics, loads only queues it asked for, every asked metric of a loaded queue is
// a finite count, and a queue the answer does not name has no load.
func FuzzLoadsOf(f *testing.F) {
	f.Add([]byte(`{"results":[{"group":{"queueId":"q1"},"data":[{"metric":"oWaiting","stats":{"count":3}},{"metric":"oOnQueueUsers","qualifier":"IDLE","stats":{"count":2}},{"metric":"oOnQueueUsers","qualifier":"INTERACTING","stats":{"count":1}}]}]}`))
	f.Add([]byte(`{"results":[{"group":{"queueId":"q2","mediaType":"voice"},"data":[{"metric":"oInteracting","stats":{"count":-1}}]},{"group":{"queueId":"other"}}]}`))
	f.Add([]byte(`{"results":[{"group":{},"data":[{"metric":"oWaiting","stats":{"count":1e308}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var resp struct {
			Results []genesys.ObservationResult `json:"results"`
		}
		if json.Unmarshal(body, &resp) != nil {
			return
		}
		asked := []string{"q1", "q2"}
		loads := loadsOf(asked, resp.Results)
		named := map[string]bool{}
		for _, r := range resp.Results {
			named[r.Group["queueId"]] = true
		}
		for id, l := range loads {
			if id != "q1" && id != "q2" {
				t.Fatalf("loaded queue %q, which was not asked for", id)
			}
			if !named[id] {
				t.Fatalf("loaded queue %q, which the answer does not name", id)
			}
			for _, m := range queueMetrics {
				v, ok := l[m]
				if !ok || isBad(v) {
					t.Fatalf("queue %s metric %s = %v (present %v); want a finite count", id, m, v, ok)
				}
			}
		}
	})
}
