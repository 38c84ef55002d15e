package sim

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Options configures a simulated org. The zero value is usable.
type Options struct {
	// Clients maps OAuth client id to secret; nil means
	// {"routekeeper-local": "routekeeper-local-secret"}.
	Clients map[string]string
	// TokenTTL is the access token lifetime; 0 means 24h (expires_in 86400).
	TokenTTL time.Duration
	// RequestsPerMinute is the per-token API budget; 0 means 300, <0 disables the limit.
	RequestsPerMinute int
	// Now is the injected clock; nil means time.Now.
	Now func() time.Time
	// OrgID names the org in audit event sources; "" means a fixed simulator org id.
	OrgID string
	// EventSourceSuffix is the EventBridge partner source suffix; "" means "routekeeper".
	EventSourceSuffix string
	// IDSeed, when set, makes the ids of entities created through the API a function of
	// the seed, the kind, the name and how many of that kind and name were created before,
	// so an org seeded the same way gets the same ids every run (sample events can name
	// them). "" gives random ids, as Genesys does.
	IDSeed string
}

// DefaultClientID and DefaultClientSecret are the credentials accepted when
// Options.Clients is nil.
const (
	DefaultClientID     = "routekeeper-local"
	DefaultClientSecret = "routekeeper-local-secret"
	// DefaultOrgID is the org id used in audit event sources when Options.OrgID is empty.
	DefaultOrgID = "6f0c2a52-5a59-4a7e-9a4b-0d3c4e1f2a10"
	// MaxPageSize is the largest pageSize the simulator accepts on the pageNumber-paged
	// lists (queues, skills, languages, divisions). UNVERIFIED: the real limit is undocumented; the
	// Genesys Terraform provider pages queues and skills with 500.
	MaxPageSize = 500
	// MaxQueryPageSize is the largest pageSize of the task-management query endpoints
	// (documented "max 200").
	MaxQueryPageSize = 200
	// MaxObservationQueues is the simulator's limit on queueId predicates per observation
	// query. UNVERIFIED: third-party code chunks 100 queue ids per query.
	MaxObservationQueues = 100
	// maxBodyBytes mirrors the documented request.bytes.max limit.
	maxBodyBytes = 512000
)

// Server is a simulated Genesys Cloud org. It is an http.Handler; all methods are safe
// for concurrent use.
type Server struct {
	opts  Options
	now   func() time.Time
	limit int
	ttl   time.Duration
	mux   *http.ServeMux

	mu             sync.RWMutex // guards the org state below
	divisions      *collection
	skills         *collection
	languages      *collection
	queues         *collection
	workbins       *collection
	worktypes      *collection
	utilization    map[string]any
	observations   map[string]map[string]float64
	workitemCounts map[string]int
	homeDivisionID string
	created        map[string]int // kind/name -> creates so far (Options.IDSeed)

	authMu sync.Mutex
	tokens map[string]*token

	faultMu  sync.Mutex
	faults   Faults
	rng      *rand.Rand
	injected FaultCounts

	hook atomic.Pointer[Hook]

	logMu    sync.Mutex
	writes   []Write
	writeSeq int

	callsMu sync.Mutex
	calls   map[string]int
	total   int

	audit auditQueue
}

type token struct {
	clientID    string
	expires     time.Time
	windowStart time.Time
	count       int
}

// caller is the authenticated client of an API request.
type caller struct {
	clientID string
	userID   string // a stable synthetic user id: dateModified/modifiedBy need one
	token    string
}

// New returns a simulator with an empty org (only the Home division). Seed it with Load.
func New(opts Options) *Server {
	if opts.Clients == nil {
		opts.Clients = map[string]string{DefaultClientID: DefaultClientSecret}
	}
	if opts.OrgID == "" {
		opts.OrgID = DefaultOrgID
	}
	if opts.EventSourceSuffix == "" {
		opts.EventSourceSuffix = "routekeeper"
	}
	s := &Server{
		opts:   opts,
		now:    opts.Now,
		limit:  opts.RequestsPerMinute,
		ttl:    opts.TokenTTL,
		mux:    http.NewServeMux(),
		tokens: map[string]*token{},
		calls:  map[string]int{},
		rng:    rand.New(rand.NewPCG(0, 0)),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.limit == 0 {
		s.limit = 300
	}
	if s.ttl <= 0 {
		s.ttl = 24 * time.Hour
	}
	if err := s.Load(Fixture{}); err != nil {
		panic("sim: loading the empty org failed: " + err.Error()) // cannot happen: no input
	}
	s.routes()
	return s
}

// ServeHTTP implements http.Handler. Every response carries an ININ-Correlation-Id.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("ININ-Correlation-Id", uuid.NewString())
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	s.mux.HandleFunc("POST /oauth/token", s.withLatency(s.handleToken))

	s.api("GET /api/v2/routing/queues", s.listHandler(listSpec{kind: "queue", ids: true, divisions: true}))
	s.api("POST /api/v2/routing/queues", s.writeHandler("queue", "Queue", "", s.createQueue, nil))
	s.api("GET /api/v2/routing/queues/{queueId}", s.getHandler("queue", "Queue", "queueId", nil))
	s.api("PUT /api/v2/routing/queues/{queueId}", s.writeHandler("queue", "Queue", "queueId", s.putQueue, nil))
	s.api("DELETE /api/v2/routing/queues/{queueId}", s.deleteQueue)

	s.api("GET /api/v2/routing/skills", s.listHandler(listSpec{kind: "skill", namePrefix: true, ids: true}))
	s.api("POST /api/v2/routing/skills", s.writeHandler("skill", "Skill", "", s.createSkill, nil))
	s.api("GET /api/v2/routing/skills/{skillId}", s.getSkill)
	s.api("DELETE /api/v2/routing/skills/{skillId}", s.deleteSkill)

	s.api("GET /api/v2/routing/languages", s.listHandler(listSpec{kind: "language"}))

	s.api("GET /api/v2/authorization/divisions", s.listHandler(listSpec{kind: "division", ids: true}))
	s.api("GET /api/v2/authorization/divisions/{divisionId}", s.getHandler("division", "Division", "divisionId", nil))

	s.api("POST /api/v2/taskmanagement/worktypes/query", s.queryWorktypes)
	s.api("POST /api/v2/taskmanagement/worktypes", s.writeHandler("worktype", "Worktype", "", s.createWorktype, s.renderWorktype))
	s.api("GET /api/v2/taskmanagement/worktypes/{worktypeId}", s.getHandler("worktype", "Worktype", "worktypeId", s.renderWorktype))
	s.api("PATCH /api/v2/taskmanagement/worktypes/{worktypeId}", s.writeHandler("worktype", "Worktype", "worktypeId", s.patchWorktype, s.renderWorktype))
	s.api("DELETE /api/v2/taskmanagement/worktypes/{worktypeId}", s.deleteWorktype)

	s.api("POST /api/v2/taskmanagement/workbins/query", s.queryWorkbins)
	s.api("GET /api/v2/taskmanagement/workbins/{workbinId}", s.getHandler("workbin", "Workbin", "workbinId", nil))

	s.api("POST /api/v2/taskmanagement/workitems/query", s.queryWorkitems)

	s.api("GET /api/v2/routing/utilization", s.getUtilization)
	s.api("PUT /api/v2/routing/utilization", s.putUtilization)

	s.api("POST /api/v2/analytics/queues/observations/query", s.queryObservations)

	s.adminRoutes()

	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not.found",
			fmt.Sprintf("No resource at %s %s in the simulator", r.Method, r.URL.Path), nil)
	})
}

type apiHandler func(w http.ResponseWriter, r *http.Request, c caller)

func (s *Server) count(pattern string) {
	s.callsMu.Lock()
	s.calls[pattern]++
	s.total++
	s.callsMu.Unlock()
}

// Calls returns the API call count per route template, e.g.
// "GET /api/v2/routing/queues/{queueId}". Every request that reached a route counts,
// including those answered 401, 429 or with an injected fault.
func (s *Server) Calls() map[string]int {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// TotalCalls returns the number of API calls (not /oauth/token) since the last ResetCalls.
func (s *Server) TotalCalls() int {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	return s.total
}

// ResetCalls zeroes the call counters.
func (s *Server) ResetCalls() {
	s.callsMu.Lock()
	s.calls = map[string]int{}
	s.total = 0
	s.callsMu.Unlock()
}

// ---- OAuth ----

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request",
			"client credentials are required in the Authorization header (Basic)")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the request body is not a valid form")
		return
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "unsupported grant type")
		return
	}
	want, known := s.opts.Clients[id]
	if !known || !constantTimeEqual(want, secret) {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "authentication failed")
		return
	}
	tok := strings.ReplaceAll(uuid.NewString()+uuid.NewString(), "-", "")
	s.authMu.Lock()
	s.tokens[tok] = &token{clientID: id, expires: s.now().Add(s.ttl)}
	s.authMu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "bearer",
		"expires_in":   int64(s.ttl / time.Second),
	})
}

func constantTimeEqual(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	var v byte
	for i := range ha {
		v |= ha[i] ^ hb[i]
	}
	return v == 0
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "description": desc, "error_description": desc})
}

// ExpireTokens makes every issued token expired: the next API call with one gets 401.
func (s *Server) ExpireTokens() {
	s.authMu.Lock()
	for _, t := range s.tokens {
		t.expires = time.Time{}
	}
	s.authMu.Unlock()
}

func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (caller, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "bearer") || tok == "" {
		writeError(w, http.StatusUnauthorized, "bad.credentials", "Invalid login credentials.", nil)
		return caller{}, false
	}
	s.authMu.Lock()
	t, ok := s.tokens[tok]
	valid := ok && s.now().Before(t.expires)
	var clientID string
	if ok {
		clientID = t.clientID
	}
	s.authMu.Unlock()
	if !valid {
		writeError(w, http.StatusUnauthorized, "bad.credentials", "Invalid login credentials.", nil)
		return caller{}, false
	}
	return caller{clientID: clientID, userID: userIDFor(clientID), token: tok}, true
}

var simNamespace = uuid.MustParse("0b9f3c0e-3d2c-4b8e-9d6e-7a1f0c2b3d4e")

// userIDFor gives an OAuth client a stable synthetic user id for modifiedBy/createdBy.
func userIDFor(clientID string) string {
	return uuid.NewSHA1(simNamespace, []byte("client:"+clientID)).String()
}

// newID is the id of a new entity of kind named name (see Options.IDSeed). Call with s.mu
// held.
func (s *Server) newID(kind, name string) string {
	if s.opts.IDSeed == "" {
		return uuid.NewString()
	}
	if s.created == nil {
		s.created = map[string]int{}
	}
	key := kind + "/" + name
	n := s.created[key]
	s.created[key] = n + 1
	return uuid.NewSHA1(simNamespace, []byte(s.opts.IDSeed+"/"+key+"/"+strconv.Itoa(n))).String()
}

// adminUserID is the user behind out-of-band edits (EditQueue, EditWorktype, EditSkill).
var adminUserID = uuid.NewSHA1(simNamespace, []byte("user:admin")).String()

// rateLimit applies the per-token budget with a fixed one-minute window that starts at
// the first request after the previous window ended (inin-ratelimit-reset counts down
// to its end).
func (s *Server) rateLimit(w http.ResponseWriter, c caller) bool {
	if s.limit < 0 {
		return true
	}
	now := s.now()
	s.authMu.Lock()
	t := s.tokens[c.token]
	if t.windowStart.IsZero() || !now.Before(t.windowStart.Add(time.Minute)) {
		t.windowStart, t.count = now, 0
	}
	reset := int(math.Ceil(t.windowStart.Add(time.Minute).Sub(now).Seconds()))
	if reset < 1 {
		reset = 1
	}
	over := t.count >= s.limit
	if !over {
		t.count++
	}
	count := t.count
	s.authMu.Unlock()

	h := w.Header()
	h.Set("inin-ratelimit-count", strconv.Itoa(count))
	h.Set("inin-ratelimit-allowed", strconv.Itoa(s.limit))
	h.Set("inin-ratelimit-reset", strconv.Itoa(reset))
	if over {
		writeTooManyRequests(w, reset, s.limit)
		return false
	}
	return true
}

func writeTooManyRequests(w http.ResponseWriter, retryAfter, limit int) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	writeError(w, http.StatusTooManyRequests, "too.many.requests.retry.after",
		fmt.Sprintf("Rate limit exceeded the maximum. Retry the request in [%d] seconds", retryAfter),
		map[string]any{"limit": map[string]any{
			"key": "client.credentials.token.rate.per.minute", "namespace": "platform.api", "value": limit,
		}})
}

// ---- responses ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal.server.error",
			"simulator could not encode the response: "+err.Error(), nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes the Genesys ErrorBody shape. extra keys (e.g. limit) are merged in.
func writeError(w http.ResponseWriter, status int, code, message string, extra map[string]any) {
	body := map[string]any{
		"message":   message,
		"code":      code,
		"status":    status,
		"contextId": w.Header().Get("ININ-Correlation-Id"),
		"details":   []any{},
		"errors":    []any{},
	}
	for k, v := range extra {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// httpError is a handler-level failure rendered with writeError.
type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.message }

func badRequest(format string, args ...any) *httpError {
	return &httpError{http.StatusBadRequest, "bad.request", fmt.Sprintf(format, args...)}
}

func notFound(kind, id string) *httpError {
	return &httpError{http.StatusNotFound, "not.found", fmt.Sprintf("%s %s not found", kind, id)}
}

func conflict(kind, name string) *httpError {
	return &httpError{http.StatusConflict, "general.conflict",
		fmt.Sprintf("A %s with the name '%s' already exists.", kind, name)}
}

func writeHTTPError(w http.ResponseWriter, err *httpError) {
	writeError(w, err.status, err.code, err.message, nil)
}

// readObject decodes a JSON object request body.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]any, *httpError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &httpError{http.StatusRequestEntityTooLarge, "request.entity.too.large",
				fmt.Sprintf("The request body exceeds the %d byte limit", maxBodyBytes)}
		}
		return nil, badRequest("The request body could not be read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, badRequest("The request could not be understood by the server due to malformed syntax: the body must be a JSON object")
	}
	return m, nil
}
