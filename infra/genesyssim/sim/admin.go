package sim

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// adminRoutes is the simulator's own control plane under /_sim/ for a simulator running
// as a separate process (make demo): no auth, not counted, never faulted. Tests in the
// same process call the methods directly instead.
func (s *Server) adminRoutes() {
	s.mux.HandleFunc("GET /_sim/calls", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"total": s.TotalCalls(), "calls": s.Calls()})
	})
	s.mux.HandleFunc("DELETE /_sim/calls", func(w http.ResponseWriter, r *http.Request) {
		s.ResetCalls()
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("POST /_sim/expire-tokens", func(w http.ResponseWriter, r *http.Request) {
		s.ExpireTokens()
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("PUT /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var f struct {
			ServerErrorRate       float64  `json:"serverErrorRate"`
			ServerErrorAfterWrite float64  `json:"serverErrorAfterWrite"`
			LatencyMs             int64    `json:"latencyMs"`
			Force429              int      `json:"force429"`
			RetryAfterSeconds     int      `json:"retryAfterSeconds"`
			RateLimitRate         float64  `json:"rateLimitRate"`
			RateLimitBurst        int      `json:"rateLimitBurst"`
			DropConnections       int      `json:"dropConnections"`
			DropRate              float64  `json:"dropRate"`
			DropAfterWrite        float64  `json:"dropAfterWrite"`
			Via                   []string `json:"via"`
			Seed                  int64    `json:"seed"`
		}
		if !decodeAdmin(w, r, &f) {
			return
		}
		s.SetFaults(Faults{ServerErrorRate: f.ServerErrorRate, ServerErrorAfterWrite: f.ServerErrorAfterWrite,
			Latency: time.Duration(f.LatencyMs) * time.Millisecond, Force429: f.Force429, RetryAfterSeconds: f.RetryAfterSeconds,
			RateLimitRate: f.RateLimitRate, RateLimitBurst: f.RateLimitBurst, DropConnections: f.DropConnections,
			DropRate: f.DropRate, DropAfterWrite: f.DropAfterWrite, Via: f.Via, Seed: f.Seed})
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.InjectedFaults())
	})
	s.mux.HandleFunc("GET /_sim/writes", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"writes": s.Writes()})
	})
	s.mux.HandleFunc("PUT /_sim/observations", func(w http.ResponseWriter, r *http.Request) {
		var o struct {
			QueueID string  `json:"queueId"`
			Metric  string  `json:"metric"`
			Value   float64 `json:"value"`
		}
		if !decodeAdmin(w, r, &o) {
			return
		}
		s.SetObservation(o.QueueID, o.Metric, o.Value)
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("PUT /_sim/workitem-counts", func(w http.ResponseWriter, r *http.Request) {
		var o struct {
			QueueID string `json:"queueId"`
			Count   int    `json:"count"`
		}
		if !decodeAdmin(w, r, &o) {
			return
		}
		s.SetWorkitemCount(o.QueueID, o.Count)
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("PUT /_sim/audit-target", func(w http.ResponseWriter, r *http.Request) {
		var o struct {
			URL string `json:"url"`
		}
		if !decodeAdmin(w, r, &o) {
			return
		}
		s.SetAuditTarget(o.URL)
		w.WriteHeader(http.StatusNoContent)
	})
	// PATCH /_sim/{kind}/{id} with a top-level merge patch (null removes a key) is an
	// out-of-band edit, as EditQueue/EditWorktype/EditSkill.
	s.mux.HandleFunc("PATCH /_sim/{kind}/{id}", func(w http.ResponseWriter, r *http.Request) {
		kinds := map[string]string{"queues": "queue", "worktypes": "worktype", "skills": "skill"}
		kind, ok := kinds[r.PathValue("kind")]
		if !ok {
			writeError(w, http.StatusNotFound, "not.found", "out-of-band edits exist for queues, worktypes and skills", nil)
			return
		}
		var patch map[string]any
		if !decodeAdmin(w, r, &patch) {
			return
		}
		_, err := s.editOutOfBand(kind, r.PathValue("id"), func(e map[string]any) {
			for k, v := range patch {
				if v == nil {
					delete(e, k)
				} else {
					e[k] = v
				}
			}
		})
		switch {
		case errors.Is(err, ErrNotFound):
			writeError(w, http.StatusNotFound, "not.found", err.Error(), nil)
		case err != nil:
			writeError(w, http.StatusBadRequest, "bad.request", err.Error(), nil)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	s.mux.HandleFunc("GET /_sim/ids", func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.IDByName(r.URL.Query().Get("kind"), r.URL.Query().Get("name"))
		if !ok {
			writeError(w, http.StatusNotFound, "not.found", "no entity of that kind and name", nil)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": id})
	})
}

func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad.request", "invalid JSON body: "+err.Error(), nil)
		return false
	}
	return true
}
