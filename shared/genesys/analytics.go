package genesys

import (
	"context"
	"fmt"
	"net/http"

	"golang.org/x/sync/errgroup"
)

const queueObservationsPath = "/api/v2/analytics/queues/observations/query"

// Queue observation metrics (SDK QueueObservationQuery metrics enum).
const (
	MetricWaiting      = "oWaiting"      // interactions waiting in the queue
	MetricInteracting  = "oInteracting"  // interactions being handled
	MetricOnQueueUsers = "oOnQueueUsers" // members on queue (qualified by routing status)
	MetricMemberUsers  = "oMemberUsers"  // members of the queue
	MetricActiveUsers  = "oActiveUsers"  // members who joined the queue
)

// QueueMetrics are the observation metrics the occupancy Lambda reads.
var QueueMetrics = []string{MetricWaiting, MetricInteracting, MetricOnQueueUsers, MetricMemberUsers, MetricActiveUsers}

// ObservationQueueLimit is how many queue ids one observations query carries.
// The API documents no maximum (UNVERIFIED); 100 is what other clients use.
const ObservationQueueLimit = 100

// ObservationResult is one result group of a queue observations query
// (group holds queueId and, for interaction metrics, mediaType).
type ObservationResult struct {
	Group map[string]string `json:"group"`
	Data  []ObservationData `json:"data"`
}

// ObservationData is one metric of a result group.
type ObservationData struct {
	Metric    string           `json:"metric"`
	Qualifier string           `json:"qualifier,omitempty"`
	Stats     ObservationStats `json:"stats"`
	Truncated bool             `json:"truncated,omitempty"`
}

// ObservationStats is the statistical summary of a metric (SDK
// StatisticalSummary subset); observations report Count.
type ObservationStats struct {
	Count   float64  `json:"count"`
	Current *float64 `json:"current,omitempty"`
}

// QueueLoad is one queue's observed metrics: metric -> count, summed over
// media types and qualifiers (e.g. oOnQueueUsers over routing statuses).
type QueueLoad map[string]float64

type observationPredicate struct {
	Type      string `json:"type"`
	Dimension string `json:"dimension"`
	Operator  string `json:"operator"`
	Value     string `json:"value"`
}

// QueryQueueObservations runs POST /api/v2/analytics/queues/observations/query
// for queueIDs and metrics (QueueMetrics when none are given), splitting the
// ids into queries of at most ObservationQueueLimit, run concurrently within
// the request budget. Results of all queries are concatenated.
func (c *Client) QueryQueueObservations(ctx context.Context, queueIDs []string, metrics ...string) ([]ObservationResult, error) {
	if len(metrics) == 0 {
		metrics = QueueMetrics
	}
	var chunks [][]string
	for ids := queueIDs; len(ids) > 0; {
		n := min(len(ids), ObservationQueueLimit)
		chunks = append(chunks, ids[:n])
		ids = ids[n:]
	}
	results := make([][]ObservationResult, len(chunks))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.pageWorkers)
	for i, ids := range chunks {
		g.Go(func() error {
			preds := make([]observationPredicate, len(ids))
			for j, id := range ids {
				preds[j] = observationPredicate{Type: "dimension", Dimension: "queueId", Operator: "matches", Value: id}
			}
			body := map[string]any{
				"filter":  map[string]any{"type": "or", "predicates": preds},
				"metrics": metrics,
			}
			req, err := newRequest(http.MethodPost, queueObservationsPath, body)
			if err != nil {
				return err
			}
			req.idempotent = true
			var resp struct {
				Results []ObservationResult `json:"results"`
			}
			if err := c.do(gctx, req, &resp); err != nil {
				return fmt.Errorf("queue observations for %d queues: %w", len(ids), err)
			}
			results[i] = resp.Results
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var all []ObservationResult
	for _, r := range results {
		all = append(all, r...)
	}
	return all, nil
}

// QueueLoads observes queueIDs (QueueMetrics when no metrics are given) and
// sums each queue's counts per metric. Every requested queue has an entry,
// zero-valued for metrics the server did not report.
func (c *Client) QueueLoads(ctx context.Context, queueIDs []string, metrics ...string) (map[string]QueueLoad, error) {
	if len(metrics) == 0 {
		metrics = QueueMetrics
	}
	results, err := c.QueryQueueObservations(ctx, queueIDs, metrics...)
	if err != nil {
		return nil, err
	}
	loads := make(map[string]QueueLoad, len(queueIDs))
	for _, id := range queueIDs {
		l := make(QueueLoad, len(metrics))
		for _, m := range metrics {
			l[m] = 0
		}
		loads[id] = l
	}
	for _, r := range results {
		l, ok := loads[r.Group["queueId"]]
		if !ok {
			continue
		}
		for _, d := range r.Data {
			l[d.Metric] += d.Stats.Count
		}
	}
	return loads, nil
}
