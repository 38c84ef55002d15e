package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// collection holds one entity kind as raw JSON objects in response shape, with an index
// kept sorted by (lower-case name, id) so list pages never sort per request.
type collection struct {
	byID   map[string]map[string]any
	order  []sortKey         // active entities
	byName map[string]string // lower-case name -> id, active entities only

	// raw caches each entity's JSON encoding, filled lazily by readers (hence its own
	// lock: readers hold only Server.mu's read lock) and dropped on every write.
	rawMu sync.Mutex
	raw   map[string]json.RawMessage
}

type sortKey struct{ name, id string }

func newCollection() *collection {
	return &collection{byID: map[string]map[string]any{}, byName: map[string]string{}, raw: map[string]json.RawMessage{}}
}

func keyOf(e map[string]any) sortKey {
	return sortKey{strings.ToLower(str(e, "name")), str(e, "id")}
}

func compareKeys(a, b sortKey) int {
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// get returns an active entity.
func (c *collection) get(id string) (map[string]any, bool) {
	e, ok := c.byID[id]
	if !ok || !c.active(id) {
		return nil, false
	}
	return e, true
}

func (c *collection) active(id string) bool {
	e, ok := c.byID[id]
	if !ok {
		return false
	}
	return c.byName[strings.ToLower(str(e, "name"))] == id
}

// encoded returns the JSON encoding of the stored entity id. Call with Server.mu held.
func (c *collection) encoded(id string) json.RawMessage {
	c.rawMu.Lock()
	b, ok := c.raw[id]
	c.rawMu.Unlock()
	if ok {
		return b
	}
	b, err := json.Marshal(c.byID[id])
	if err != nil {
		b = json.RawMessage("null") // entities are decoded JSON; they always marshal
	}
	c.rawMu.Lock()
	c.raw[id] = b
	c.rawMu.Unlock()
	return b
}

func (c *collection) invalidate(id string) {
	c.rawMu.Lock()
	delete(c.raw, id)
	c.rawMu.Unlock()
}

// put stores e (replacing the entity with the same id) and indexes it as active.
func (c *collection) put(e map[string]any) {
	id := str(e, "id")
	c.unindex(id)
	c.invalidate(id)
	c.byID[id] = e
	k := keyOf(e)
	i, _ := slices.BinarySearchFunc(c.order, k, compareKeys)
	c.order = slices.Insert(c.order, i, k)
	c.byName[k.name] = id
}

// unindex removes id from the active index, keeping the stored object (soft delete).
func (c *collection) unindex(id string) {
	e, ok := c.byID[id]
	if !ok || !c.active(id) {
		return
	}
	k := keyOf(e)
	if i, found := slices.BinarySearchFunc(c.order, k, compareKeys); found {
		c.order = slices.Delete(c.order, i, i+1)
	}
	delete(c.byName, k.name)
}

func (c *collection) remove(id string) {
	c.unindex(id)
	c.invalidate(id)
	delete(c.byID, id)
}

// nameTaken reports whether another active entity has name (case-insensitive).
func (c *collection) nameTaken(name, exceptID string) bool {
	id, ok := c.byName[strings.ToLower(name)]
	return ok && id != exceptID
}

// load replaces the contents with es, sorting once.
func (c *collection) load(kind string, es []map[string]any) error {
	c.raw = map[string]json.RawMessage{}
	c.byID = make(map[string]map[string]any, len(es))
	c.byName = make(map[string]string, len(es))
	c.order = make([]sortKey, 0, len(es))
	for i, e := range es {
		id, name := str(e, "id"), str(e, "name")
		if id == "" || name == "" {
			return fmt.Errorf("%s %d: id and name are required", kind, i)
		}
		if _, dup := c.byID[id]; dup {
			return fmt.Errorf("%s %d (%q): duplicate id %s", kind, i, name, id)
		}
		c.byID[id] = e
		if (kind == "skills" || kind == "languages") && str(e, "state") == "deleted" {
			continue
		}
		k := keyOf(e)
		if other, dup := c.byName[k.name]; dup {
			return fmt.Errorf("%s %d: name %q is used by %s and %s; names must be unique (case-insensitive)", kind, i, name, other, id)
		}
		c.byName[k.name] = id
		c.order = append(c.order, k)
	}
	slices.SortFunc(c.order, compareKeys)
	return nil
}

// ---- JSON value helpers ----

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

// norm deep-copies a JSON-like value, converting Go numeric and slice types to the shapes
// encoding/json decodes into (float64, []any, map[string]any).
func norm(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64:
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = norm(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = norm(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = norm(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case float32:
		return float64(x)
	case json.Number:
		f, _ := x.Float64()
		return f
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil
		}
		var out any
		_ = json.Unmarshal(b, &out)
		return out
	}
}

func normObj(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return norm(m).(map[string]any)
}

// number returns v as a float64 when it is a JSON number.
func number(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok
}

func isInt(f float64) bool { return f == math.Trunc(f) && !math.IsInf(f, 0) }

const timeLayout = "2006-01-02T15:04:05.000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// stamp returns the dateModified for a write to old: now, but always strictly later than
// old's dateModified so that every write moves it even under a frozen test clock.
func (s *Server) stamp(old map[string]any) string {
	t := s.now().UTC().Truncate(time.Millisecond)
	if old != nil {
		if prev, err := time.Parse(timeLayout, str(old, "dateModified")); err == nil && !t.After(prev) {
			t = prev.Add(time.Millisecond)
		}
	}
	return fmtTime(t)
}

// ---- pageNumber pagination ----

type pageParams struct {
	size, number int
	desc         bool
}

func parsePage(q url.Values) (pageParams, *httpError) {
	p := pageParams{size: 25, number: 1}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, badRequest("pageSize must be a positive integer, got %q", v)
		}
		if n > MaxPageSize {
			return p, badRequest("pageSize %d exceeds the maximum of %d", n, MaxPageSize)
		}
		p.size = n
	}
	if v := q.Get("pageNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, badRequest("pageNumber must be a positive integer, got %q", v)
		}
		p.number = n
	}
	switch strings.ToLower(q.Get("sortOrder")) {
	case "", "asc", "ascending":
	case "desc", "descending":
		p.desc = true
	default:
		return p, badRequest("Value [%s] is not valid for field type [SortOrder]. Allowable values are: asc, desc", q.Get("sortOrder"))
	}
	return p, nil
}

// multi returns the values of a repeated query parameter, also splitting commas.
func multi(q url.Values, key string) []string {
	var out []string
	for _, v := range q[key] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// page renders the Genesys entity-listing envelope for the active entities of c that
// match, in name order. Call with s.mu held (read).
func page(c *collection, path string, q url.Values, p pageParams, match func(map[string]any) bool) map[string]any {
	var matched []string
	n := len(c.order)
	for i := range n {
		k := c.order[i]
		if p.desc {
			k = c.order[n-1-i]
		}
		if match == nil || match(c.byID[k.id]) {
			matched = append(matched, k.id)
		}
	}
	total := len(matched)
	pageCount := (total + p.size - 1) / p.size
	start := (p.number - 1) * p.size
	entities := []json.RawMessage{}
	if start < total {
		for _, id := range matched[start:min(start+p.size, total)] {
			entities = append(entities, c.encoded(id))
		}
	}
	uri := func(number int) string {
		v := url.Values{}
		for k, vs := range q {
			if k != "pageSize" && k != "pageNumber" {
				v[k] = vs
			}
		}
		v.Set("pageSize", strconv.Itoa(p.size))
		v.Set("pageNumber", strconv.Itoa(number))
		return path + "?" + v.Encode()
	}
	out := map[string]any{
		"entities":   entities,
		"pageSize":   p.size,
		"pageNumber": p.number,
		"total":      total,
		"pageCount":  pageCount,
		"firstUri":   uri(1),
		"selfUri":    uri(p.number),
		"lastUri":    uri(max(pageCount, 1)),
	}
	if p.number < pageCount {
		out["nextUri"] = uri(p.number + 1)
	}
	if p.number > 1 {
		out["previousUri"] = uri(p.number - 1)
	}
	return out
}

// listSpec is what one pageNumber-paged list accepts besides pageNumber, pageSize and
// sortOrder: a name filter ("starts with" for skills, exact with * wildcards for the
// others), and optionally repeated id and divisionId filters.
type listSpec struct {
	kind       string // Server.collection key
	namePrefix bool
	ids        bool
	divisions  bool
}

// listHandler serves GET of a pageNumber-paged list (queues, skills, languages,
// divisions): one handler, the lists differ only in their filters.
func (s *Server) listHandler(spec listSpec) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, _ caller) {
		q := r.URL.Query()
		p, herr := parsePage(q)
		if herr != nil {
			writeHTTPError(w, herr)
			return
		}
		var ids, divs map[string]bool
		if spec.ids {
			ids = set(multi(q, "id"))
		}
		if spec.divisions {
			divs = set(multi(q, "divisionId"))
		}
		var byName func(string) bool
		if n := q.Get("name"); n != "" {
			byName = nameMatcher(n, spec.namePrefix)
		}
		match := func(e map[string]any) bool {
			if ids != nil && !ids[str(e, "id")] {
				return false
			}
			if divs != nil && !divs[str(obj(e, "division"), "id")] {
				return false
			}
			return byName == nil || byName(str(e, "name"))
		}
		s.mu.RLock()
		defer s.mu.RUnlock()
		writeJSON(w, http.StatusOK, page(s.collection(spec.kind), r.URL.Path, q, p, match))
	}
}

// getHandler serves GET .../{param} for an active entity of kind; label names the kind
// in the 404 message. render, when set, shapes the response (e.g. the worktype's live
// defaultQueue name); otherwise the stored entity's cached encoding is sent.
func (s *Server) getHandler(kind, label, param string, render func(map[string]any) map[string]any) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, _ caller) {
		id := r.PathValue(param)
		if auditEntity[kind].entityType != "" {
			s.before(r, kind, id, nil)
		}
		s.mu.RLock()
		defer s.mu.RUnlock()
		c := s.collection(kind)
		e, ok := c.get(id)
		if !ok {
			writeHTTPError(w, notFound(label, id))
			return
		}
		if render != nil {
			writeJSON(w, http.StatusOK, render(e))
			return
		}
		writeJSON(w, http.StatusOK, c.encoded(id))
	}
}

// builder turns the stored entity (nil on create) and a request body into the entity
// to store (it may store body itself: each request decodes a fresh one). It runs under
// the write lock.
type builder func(old, body map[string]any, c caller) (map[string]any, *httpError)

// writeHandler serves a create (param "") or an update (param names the id path
// value) of one entity of kind: it reads the JSON object body, builds the entity under
// the write lock, stores it, emits the audit event and answers 200 with the entity
// (through render when set). Queue PUT, worktype PATCH and the three creates differ
// only in their builder.
func (s *Server) writeHandler(kind, label, param string, build builder, render func(map[string]any) map[string]any) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		body, herr := readObject(w, r)
		if herr != nil {
			writeHTTPError(w, herr)
			return
		}
		id := ""
		if param != "" {
			id = r.PathValue(param)
		}
		s.before(r, kind, id, body)
		o := apiOrigin(r, c, body) // before build, which may take body as the entity
		s.mu.Lock()
		defer s.mu.Unlock()
		coll := s.collection(kind)
		var old map[string]any
		action := "Create"
		if param != "" {
			var ok bool
			if old, ok = coll.get(id); !ok {
				writeHTTPError(w, notFound(label, id))
				return
			}
			action = "Update"
		}
		e, herr := build(old, body, c)
		if herr != nil {
			writeHTTPError(w, herr)
			return
		}
		coll.put(e)
		s.recordLocked(kind, action, old, e, o)
		if render != nil {
			e = render(e)
		}
		writeJSON(w, http.StatusOK, e)
	}
}

// nameMatcher implements the queue list name filter: case-insensitive, with leading and
// trailing asterisks as wildcards; prefix implements the skills "starts with" filter.
func nameMatcher(pattern string, prefix bool) func(string) bool {
	p := strings.ToLower(pattern)
	lead, trail := strings.HasPrefix(p, "*"), strings.HasSuffix(p, "*")
	core := strings.Trim(p, "*")
	return func(name string) bool {
		n := strings.ToLower(name)
		switch {
		case lead && trail:
			return strings.Contains(n, core)
		case lead:
			return strings.HasSuffix(n, core)
		case trail || prefix:
			return strings.HasPrefix(n, core)
		default:
			return n == core
		}
	}
}

func set(vs []string) map[string]bool {
	if len(vs) == 0 {
		return nil
	}
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}
