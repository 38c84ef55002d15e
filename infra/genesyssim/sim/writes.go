package sim

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Write is one change the simulator applied to a queue, skill or worktype, through the API
// or out of band, in the order applied: what a test oracle needs to tell which writes
// happened, who made them and what they carried (Writes).
type Write struct {
	// Seq numbers the writes from 1 in the order they were applied.
	Seq  int       `json:"seq"`
	Time time.Time `json:"time"` // the simulator's clock when applied
	// Via is the handler the API request came through (Server.Via), "" for the Server
	// itself and for out-of-band edits.
	Via string `json:"via,omitempty"`
	// OutOfBand: an admin's edit (EditQueue, EditWorktype, EditSkill, Edit, Delete, PATCH
	// /_sim/...), with the admin user and no client.
	OutOfBand bool   `json:"outOfBand,omitempty"`
	ClientID  string `json:"clientId,omitempty"` // the OAuth client of an API write
	UserID    string `json:"userId"`
	Method    string `json:"method,omitempty"` // POST, PUT, PATCH or DELETE of an API write; "" out of band
	Kind      string `json:"kind"`             // queue, skill or worktype
	ID        string `json:"id"`
	Name      string `json:"name"`
	Action    string `json:"action"` // Create, Update or Delete, as the audit event says
	// Changes are the fields that changed, as the audit event's propertyChanges flatten
	// them (dotted paths, arrays whole as JSON, server-managed fields left out).
	Changes []PathChange `json:"changes"`
	// Sent is the request body of an API write flattened the same way: what the client
	// asked for, which a full replace sends whether or not it changes anything.
	Sent map[string]string `json:"sent,omitempty"`
	// Answer is the status the client got: 0 while unanswered, AnswerDropped when the
	// connection was cut after the write (Faults.DropAfterWrite); 0 out of band.
	Answer int `json:"answer,omitempty"`
}

// AnswerDropped is Write.Answer of a write whose connection was dropped after it applied.
const AnswerDropped = -1

// PathChange is one changed field of a Write: its value before and after, each "" and
// not Had/Has when absent.
type PathChange struct {
	Path string `json:"path"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
	Had  bool   `json:"had,omitempty"`
	Has  bool   `json:"has,omitempty"`
}

// Changed returns the change of path (or of a field under it), if the write made one.
func (w Write) Changed(path string) (PathChange, bool) {
	for _, c := range w.Changes {
		if c.Path == path || strings.HasPrefix(c.Path, path+".") {
			return c, true
		}
	}
	return PathChange{}, false
}

// Writes returns every write applied since the org was loaded (or ResetWrites), oldest
// first.
func (s *Server) Writes() []Write {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return slices.Clone(s.writes)
}

// ResetWrites empties the write log; Seq keeps counting.
func (s *Server) ResetWrites() {
	s.logMu.Lock()
	s.writes = s.writes[:0:0]
	s.logMu.Unlock()
}

// origin says who made a change and how: the API caller and its request, or an admin.
type origin struct {
	userID, clientID string
	via, method      string
	outOfBand        bool
	sent             map[string]string
	note             *requestNote // the request's, to record the answer
}

func apiOrigin(r *http.Request, c caller, body map[string]any) origin {
	o := origin{userID: c.userID, clientID: c.clientID, via: viaOf(r.Context()), method: r.Method,
		note: noteOf(r.Context())}
	if body != nil {
		o.sent = Flatten(body)
	}
	return o
}

var adminOrigin = origin{userID: adminUserID, outOfBand: true}

// recordLocked records a change of kind from old to new (either nil for Create/Delete):
// the write log entry and the audit event. Call with s.mu held; it takes the log and audit
// locks.
func (s *Server) recordLocked(kind, action string, old, new map[string]any, o origin) Write {
	ent := new
	if ent == nil {
		ent = old
	}
	w := Write{Time: s.now().UTC(), Via: o.via, OutOfBand: o.outOfBand, ClientID: o.clientID, UserID: o.userID,
		Method: o.method, Kind: kind, ID: str(ent, "id"), Name: str(ent, "name"), Action: action, Sent: o.sent}
	for _, pc := range propertyChanges(old, new) {
		m := pc.(map[string]any)
		c := PathChange{Path: m["property"].(string)}
		if v := m["oldValues"].([]any); len(v) == 1 {
			c.Old, c.Had = v[0].(string), true
		}
		if v := m["newValues"].([]any); len(v) == 1 {
			c.New, c.Has = v[0].(string), true
		}
		w.Changes = append(w.Changes, c)
	}
	s.logMu.Lock()
	s.writeSeq++
	w.Seq = s.writeSeq
	s.writes = append(s.writes, w)
	s.logMu.Unlock()
	if o.note != nil {
		o.note.seqs = append(o.note.seqs, w.Seq)
	}
	s.emitLocked(kind, action, old, new, o.userID, o.clientID)
	return w
}

// requestNote collects the writes one API request made, to record its answer.
type requestNote struct{ seqs []int }

type noteKey struct{}

func noteOf(ctx context.Context) *requestNote {
	n, _ := ctx.Value(noteKey{}).(*requestNote)
	return n
}

// answered records the status the client got for the writes of its request.
func (s *Server) answered(n *requestNote, status int) {
	if n == nil || len(n.seqs) == 0 {
		return
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	for _, seq := range n.seqs {
		// The log is in Seq order; the request's writes are recent.
		i, ok := slices.BinarySearchFunc(s.writes, seq, func(w Write, seq int) int { return w.Seq - seq })
		if ok {
			s.writes[i].Answer = status
		}
	}
}

// ---- Via ----

type viaKey struct{}

func viaOf(ctx context.Context) string {
	v, _ := ctx.Value(viaKey{}).(string)
	return v
}

// Via returns the simulator served under a label: requests through it are the same API
// on the same org, but Writes and Hook name label as their Via, and Faults.Via can limit
// the faults to them. Serve each client under test through its own Via (its own
// listener) to tell its requests from the others'.
func (s *Server) Via(label string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viaKey{}, label)))
	})
}

// ---- hook ----

// Hook is called for every API request about one queue, skill or worktype (GET, PUT,
// PATCH or DELETE of it, and the POST that creates one, with ID ""), after the faults,
// authentication and rate limit let it through and before it is handled, outside the
// simulator's locks: an out-of-band edit made from the hook lands between a client's read
// and its write, just before the write is applied. The request waits for the hook.
type Hook func(ctx context.Context, r EntityRequest)

// EntityRequest is a request a Hook sees.
type EntityRequest struct {
	Via    string // Server.Via of the request; "" for the Server itself
	Method string
	Kind   string         // queue, skill or worktype
	ID     string         // "" for a create
	Body   map[string]any // a copy of the JSON body of a write; nil for GET and DELETE
}

// SetHook sets the hook; nil removes it.
func (s *Server) SetHook(h Hook) {
	if h == nil {
		s.hook.Store(nil)
		return
	}
	s.hook.Store(&h)
}

// before calls the hook for a request about entity id of kind.
func (s *Server) before(r *http.Request, kind, id string, body map[string]any) {
	h := s.hook.Load()
	if h == nil {
		return
	}
	(*h)(r.Context(), EntityRequest{Via: viaOf(r.Context()), Method: r.Method, Kind: kind, ID: id, Body: normObj(body)})
}

// Edit changes an entity of kind ("queue", "skill" or "worktype") out of band, as
// EditQueue, EditSkill and EditWorktype do, and returns the edit's entry in the write log.
func (s *Server) Edit(kind, id string, edit func(e map[string]any)) (Write, error) {
	if kind != "queue" && kind != "skill" && kind != "worktype" {
		return Write{}, fmt.Errorf("edit %s %s: kind must be queue, skill or worktype: %w", kind, id, ErrInvalid)
	}
	return s.editOutOfBand(kind, id, edit)
}
