package sim

import (
	"net/http"
	"slices"
)

// observationMetrics is the QueueObservationQuery metrics enum.
var observationMetrics = []string{
	"oActiveUsers", "oAlerting", "oInteracting", "oMemberUsers", "oOffQueueUsers",
	"oOnQueueUsers", "oUserPresences", "oUserRoutingStatuses", "oWaiting",
}

// queryObservations answers POST /api/v2/analytics/queues/observations/query with one
// result per queueId predicate (in request order) and stats.count from SetObservation
// (0 when unset). mediaType predicates are accepted and do not split the results.
func (s *Server) queryObservations(w http.ResponseWriter, r *http.Request, _ caller) {
	body, herr := readObject(w, r)
	if herr != nil {
		writeHTTPError(w, herr)
		return
	}
	fv, ok := body["filter"].(map[string]any)
	if !ok {
		writeHTTPError(w, badRequest("filter is required: {type: and|or, predicates: [{type: dimension, dimension: queueId, operator: matches, value}]}"))
		return
	}
	var queueIDs []string
	if herr := collectQueuePredicates(fv, 0, &queueIDs); herr != nil {
		writeHTTPError(w, herr)
		return
	}
	if len(queueIDs) == 0 {
		writeHTTPError(w, badRequest("the filter must include at least one queueId predicate"))
		return
	}
	if len(queueIDs) > MaxObservationQueues {
		writeHTTPError(w, badRequest("the filter has %d queueId predicates; the maximum is %d (split the query)", len(queueIDs), MaxObservationQueues))
		return
	}
	mv, ok := body["metrics"].([]any)
	if !ok || len(mv) == 0 {
		writeHTTPError(w, badRequest("metrics is required: a non-empty array of %v", observationMetrics))
		return
	}
	metrics := make([]string, 0, len(mv))
	for _, m := range mv {
		ms, _ := m.(string)
		if !slices.Contains(observationMetrics, ms) {
			writeHTTPError(w, enumError(m, "Metrics", observationMetrics))
			return
		}
		metrics = append(metrics, ms)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[string]bool{}
	results := []any{}
	for _, qid := range queueIDs {
		if seen[qid] {
			continue
		}
		seen[qid] = true
		data := make([]any, 0, len(metrics))
		for _, m := range metrics {
			data = append(data, map[string]any{"metric": m, "stats": map[string]any{"count": s.observations[qid][m]}})
		}
		results = append(results, map[string]any{"group": map[string]any{"queueId": qid}, "data": data})
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// collectQueuePredicates walks filter predicates and (up to two levels of) clauses.
func collectQueuePredicates(f map[string]any, depth int, out *[]string) *httpError {
	if depth > 2 {
		return badRequest("filter clauses allow up to two levels of nesting")
	}
	if t := str(f, "type"); t != "and" && t != "or" {
		return enumError(f["type"], "FilterType", []string{"and", "or"})
	}
	preds, _ := f["predicates"].([]any)
	for i, pv := range preds {
		p, ok := pv.(map[string]any)
		if !ok {
			return badRequest("filter.predicates[%d] must be an object", i)
		}
		if t := str(p, "type"); t != "" && t != "dimension" {
			return enumError(p["type"], "PredicateType", []string{"dimension"})
		}
		dim := str(p, "dimension")
		if dim != "queueId" && dim != "mediaType" {
			return enumError(p["dimension"], "Dimension", []string{"queueId", "mediaType"})
		}
		op := str(p, "operator")
		if op != "" && op != "matches" && op != "exists" && op != "notExists" {
			return enumError(p["operator"], "Operator", []string{"matches", "exists", "notExists"})
		}
		if dim == "queueId" && (op == "" || op == "matches") {
			v := str(p, "value")
			if v == "" {
				return badRequest("filter.predicates[%d]: a queueId matches predicate needs a value", i)
			}
			*out = append(*out, v)
		}
	}
	clauses, _ := f["clauses"].([]any)
	for i, cv := range clauses {
		c, ok := cv.(map[string]any)
		if !ok {
			return badRequest("filter.clauses[%d] must be an object", i)
		}
		if herr := collectQueuePredicates(c, depth+1, out); herr != nil {
			return herr
		}
	}
	return nil
}

// ---- utilization ----

var utilizationMediaTypes = []string{"call", "callback", "chat", "email", "message", "workitem"}

var defaultCapacity = map[string]float64{"call": 1, "callback": 1, "chat": 4, "email": 1, "message": 4, "workitem": 1}

// defaultUtilization returns the system defaults overlaid with the given media settings.
func defaultUtilization(custom map[string]any) map[string]any {
	u := map[string]any{}
	for _, m := range utilizationMediaTypes {
		if v, ok := custom[m]; ok {
			u[m] = v
			continue
		}
		u[m] = map[string]any{"maximumCapacity": defaultCapacity[m], "interruptableMediaTypes": []any{}, "includeNonAcd": false}
	}
	return map[string]any{"utilization": u, "labelUtilizations": map[string]any{}}
}

func (s *Server) getUtilization(w http.ResponseWriter, _ *http.Request, _ caller) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	writeJSON(w, http.StatusOK, s.utilization)
}

// putUtilization replaces the org utilization; omitted media types get system defaults.
func (s *Server) putUtilization(w http.ResponseWriter, r *http.Request, _ caller) {
	body, herr := readObject(w, r)
	if herr != nil {
		writeHTTPError(w, herr)
		return
	}
	util, _ := body["utilization"].(map[string]any)
	if body["utilization"] != nil && util == nil {
		writeHTTPError(w, badRequest("utilization must be an object keyed by media type"))
		return
	}
	for m, v := range util {
		if !slices.Contains(utilizationMediaTypes, m) {
			writeHTTPError(w, enumError(m, "MediaType", utilizationMediaTypes))
			return
		}
		mu, ok := v.(map[string]any)
		if !ok {
			writeHTTPError(w, badRequest("utilization.%s must be an object {maximumCapacity, interruptableMediaTypes, includeNonAcd}", m))
			return
		}
		if !intIn(mu["maximumCapacity"], 0, 25) {
			writeHTTPError(w, badRequest("utilization.%s.maximumCapacity must be an integer between 0 and 25, got %v", m, mu["maximumCapacity"]))
			return
		}
		for _, it := range asSlice(mu["interruptableMediaTypes"]) {
			if s, _ := it.(string); !slices.Contains(utilizationMediaTypes, s) {
				writeHTTPError(w, enumError(it, "MediaType", utilizationMediaTypes))
				return
			}
		}
		setDefault(mu, "interruptableMediaTypes", []any{})
		setDefault(mu, "includeNonAcd", false)
	}
	out := defaultUtilization(util)
	if lu, ok := body["labelUtilizations"].(map[string]any); ok {
		out["labelUtilizations"] = lu
	}
	if v, ok := body["maxInboundCalls"]; ok && v != nil {
		if !intIn(v, 0, 1000) {
			writeHTTPError(w, badRequest("maxInboundCalls must be a non-negative integer, got %v", v))
			return
		}
		out["maxInboundCalls"] = v
	}
	s.mu.Lock()
	s.utilization = out
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
