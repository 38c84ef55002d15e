package sim

import (
	"bytes"
	"context"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Faults injects failures into API requests (/oauth/token only gets Latency). An API
// request meets them in this order, and the first that fires answers it: a dropped
// connection, the latency, a 429, a 503. A fault drawn "after the write" lets a write
// (POST, PUT, PATCH or DELETE of an entity or of the utilization; not the POST queries)
// be applied first and then answers in its place: the client cannot tell whether the
// write was made. A write the simulator refused (4xx) gets its real answer instead.
type Faults struct {
	ServerErrorRate float64 // probability of a 5xx (503 with the real error body)
	// ServerErrorAfterWrite is the share of the 503s drawn for a write that are answered
	// after the write was applied (an ambiguous failure).
	ServerErrorAfterWrite float64
	Latency               time.Duration // added to every request (waits on a timer, honours request ctx)
	Force429              int           // the next N API requests answer 429
	RetryAfterSeconds     int           // Retry-After of every injected 429 (default 1)
	// RateLimitRate is the probability that a request starts a burst of 429s: it and the
	// next RateLimitBurst-1 requests answer 429 (RateLimitBurst 0 means 1).
	RateLimitRate   float64
	RateLimitBurst  int
	DropConnections int // the next N API requests have their connection hijacked and closed mid-status-line
	// DropRate is the probability that a request's connection is dropped that way, and
	// DropAfterWrite the share of those drawn for a write that are dropped after the write
	// was applied (a lost answer).
	DropRate       float64
	DropAfterWrite float64
	// Via, when not empty, limits every fault, the latency included, to requests that came
	// through one of these handlers (Server.Via); other requests are never faulted.
	Via  []string
	Seed int64 // for the random choices
}

// FaultCounts counts the faults injected since the last SetFaults.
type FaultCounts struct {
	// ServerErrors are 503s answered instead of handling the request; ServerErrorsAfterWrite
	// 503s answered after the write was applied.
	ServerErrors           int `json:"serverErrors"`
	ServerErrorsAfterWrite int `json:"serverErrorsAfterWrite"`
	// RateLimited are injected 429s (forced or in a burst); Bursts the bursts RateLimitRate
	// started.
	RateLimited int `json:"rateLimited"`
	Bursts      int `json:"bursts"`
	// Drops are connections dropped before the request was handled; DropsAfterWrite after
	// the write was applied.
	Drops           int `json:"drops"`
	DropsAfterWrite int `json:"dropsAfterWrite"`
}

// SetFaults replaces the injected faults, reseeds the random choices and zeroes the
// counts.
func (s *Server) SetFaults(f Faults) {
	s.faultMu.Lock()
	s.faults = f
	s.faults.Via = slices.Clone(f.Via)
	s.rng = rand.New(rand.NewPCG(uint64(f.Seed), 0x9e3779b97f4a7c15))
	s.injected = FaultCounts{}
	s.faultMu.Unlock()
}

// InjectedFaults returns what was injected since the last SetFaults.
func (s *Server) InjectedFaults() FaultCounts {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.injected
}

// wait blocks for d or until ctx is done; it reports whether the full delay elapsed.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Server) withLatency(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.faultMu.Lock()
		d := s.faults.Latency
		if !s.faults.scoped(viaOf(r.Context())) {
			d = 0
		}
		s.faultMu.Unlock()
		if !wait(r.Context(), d) {
			return
		}
		h(w, r)
	}
}

func (f *Faults) scoped(via string) bool {
	return len(f.Via) == 0 || slices.Contains(f.Via, via)
}

// afterWrite is a fault that answers a write once it was applied.
type afterWrite int

const (
	noAfterWrite afterWrite = iota
	serverErrorAfterWrite
	dropAfterWrite
)

// isWrite reports whether a route pattern ("PUT /api/v2/...") changes the org.
func isWrite(pattern string) bool {
	method, path, _ := strings.Cut(pattern, " ")
	return method != http.MethodGet && !strings.HasSuffix(path, "/query")
}

// api registers an API route: counted, subject to faults, authenticated and rate limited.
// The pattern is the key of Calls(). Every entity write the route makes is logged with
// the answer the client got (Writes).
func (s *Server) api(pattern string, h apiHandler) {
	write := isWrite(pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.count(pattern)
		after, ok := s.applyFaults(w, r, write)
		if !ok {
			return
		}
		c, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		if !s.rateLimit(w, c) {
			return
		}
		note := &requestNote{}
		r = r.WithContext(context.WithValue(r.Context(), noteKey{}, note))
		if after == noAfterWrite {
			sw := &statusWriter{ResponseWriter: w}
			h(sw, r, c)
			s.answered(note, sw.status)
			return
		}
		buf := &bufferedResponse{header: maps.Clone(w.Header())}
		h(buf, r, c)
		if buf.status/100 != 2 {
			buf.flushTo(w) // refused: nothing was applied, so the real answer
			s.answered(note, buf.status)
			return
		}
		s.faultMu.Lock()
		if after == dropAfterWrite {
			s.injected.DropsAfterWrite++
		} else {
			s.injected.ServerErrorsAfterWrite++
		}
		s.faultMu.Unlock()
		if after == dropAfterWrite {
			s.answered(note, AnswerDropped)
			dropConnection(w)
			return
		}
		s.answered(note, http.StatusServiceUnavailable)
		writeServiceUnavailable(w)
	})
}

// applyFaults reports whether the request should proceed, and with which fault to answer
// once its write was applied.
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request, write bool) (afterWrite, bool) {
	via := viaOf(r.Context())
	s.faultMu.Lock()
	f := &s.faults
	if !f.scoped(via) {
		s.faultMu.Unlock()
		return noAfterWrite, true
	}
	after := noAfterWrite
	drop := f.DropConnections > 0
	if drop {
		f.DropConnections--
	} else if f.DropRate > 0 && s.rng.Float64() < f.DropRate {
		drop = true
		if write && f.DropAfterWrite > 0 && s.rng.Float64() < f.DropAfterWrite {
			drop, after = false, dropAfterWrite
		}
	}
	if drop {
		s.injected.Drops++
	}
	latency := f.Latency
	s.faultMu.Unlock()

	if drop {
		dropConnection(w)
		return noAfterWrite, false
	}
	if !wait(r.Context(), latency) {
		return noAfterWrite, false
	}
	if after != noAfterWrite {
		return after, true
	}

	s.faultMu.Lock()
	force := f.Force429 > 0
	if force {
		f.Force429--
	} else if f.RateLimitRate > 0 && s.rng.Float64() < f.RateLimitRate {
		force = true
		f.Force429 = max(f.RateLimitBurst, 1) - 1
		s.injected.Bursts++
	}
	retry := f.RetryAfterSeconds
	fail := !force && f.ServerErrorRate > 0 && s.rng.Float64() < f.ServerErrorRate
	if fail && write && f.ServerErrorAfterWrite > 0 && s.rng.Float64() < f.ServerErrorAfterWrite {
		fail, after = false, serverErrorAfterWrite
	}
	switch {
	case force:
		s.injected.RateLimited++
	case fail:
		s.injected.ServerErrors++
	}
	s.faultMu.Unlock()

	if force {
		if retry <= 0 {
			retry = 1
		}
		limit := s.limit
		if limit < 0 {
			limit = 300
		}
		writeTooManyRequests(w, retry, limit)
		return noAfterWrite, false
	}
	if fail {
		writeServiceUnavailable(w)
		return noAfterWrite, false
	}
	return after, true
}

func writeServiceUnavailable(w http.ResponseWriter) {
	writeError(w, http.StatusServiceUnavailable, "service.unavailable",
		"The service is currently unavailable. Please try again.", nil)
}

// dropConnection hijacks the connection, writes the first bytes of a status line and
// closes it. The partial write matters: Go's transport silently retries an idempotent
// request once when a reused keep-alive connection closes before any response byte, which
// would hide the fault from the client under test.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, buf, err := hj.Hijack(); err == nil {
			_, _ = buf.WriteString("HTTP/1.1 ")
			_ = buf.Flush()
			conn.Close()
			return
		}
	}
	// HTTP/2 or a wrapped writer: abort the response, which resets the stream/connection.
	panic(http.ErrAbortHandler)
}

// statusWriter passes a response through and remembers its status.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// bufferedResponse holds a handler's answer until the fault after the write decides
// whether the client gets it.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) flushTo(w http.ResponseWriter) {
	maps.Copy(w.Header(), b.header)
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}
