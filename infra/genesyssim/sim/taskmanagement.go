package sim

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ---- worktypes ----

// worktypeUpdateKeys are the WorktypeUpdate fields; WorktypeCreate has the same minus
// defaultStatusId (a new worktype has no statuses yet) plus divisionId.
var worktypeUpdateKeys = []string{
	"name", "description", "defaultWorkbinId", "defaultStatusId", "defaultDurationSeconds",
	"defaultExpirationSeconds", "defaultDueDurationSeconds", "defaultPriority", "defaultTtlSeconds",
	"defaultLanguageId", "defaultQueueId", "defaultSkillIds", "assignmentEnabled", "schemaId",
	"schemaVersion", "serviceLevelTarget", "ruleSettings", "defaultScriptId", "unassignedDivisionContactsEnabled",
}

const (
	maxPriority    = 25_000_000
	maxDurationSec = 365 * 24 * 3600
)

// renderWorktype refreshes the expanded defaultQueue name. Call with s.mu held.
func (s *Server) renderWorktype(e map[string]any) map[string]any {
	dq := obj(e, "defaultQueue")
	if dq == nil {
		return e
	}
	q, ok := s.queues.get(str(dq, "id"))
	if !ok || str(q, "name") == str(dq, "name") {
		return e
	}
	out := make(map[string]any, len(e))
	for k, v := range e {
		out[k] = v
	}
	out["defaultQueue"] = queueRef(q)
	return out
}

func queueRef(q map[string]any) map[string]any {
	return map[string]any{"id": str(q, "id"), "name": str(q, "name"), "selfUri": "/api/v2/routing/queues/" + str(q, "id")}
}

func (s *Server) createWorktype(_, body map[string]any, c caller) (map[string]any, *httpError) {
	if _, ok := body["name"]; !ok {
		return nil, badRequest("name is required")
	}
	if _, ok := body["defaultWorkbinId"]; !ok {
		return nil, badRequest("defaultWorkbinId is required")
	}
	if _, ok := body["defaultStatusId"]; ok {
		return nil, badRequest("Unrecognized field \"defaultStatusId\": a new worktype has no statuses; set it with PATCH")
	}
	name, _ := body["name"].(string)
	id := s.newID("worktype", name)
	now := s.stamp(nil)
	e := map[string]any{
		"id": id, "dateCreated": now, "dateModified": now,
		"modifiedBy":         map[string]any{"id": c.userID, "selfUri": "/api/v2/users/" + c.userID},
		"division":           divisionRef(s.divisions.byID[s.homeDivisionID]),
		"statuses":           []any{},
		"assignmentEnabled":  false,
		"serviceLevelTarget": 100.0,
		"selfUri":            "/api/v2/taskmanagement/worktypes/" + id,
	}
	if herr := s.applyWorktype(e, body, true); herr != nil {
		return nil, herr
	}
	return e, nil
}

// patchWorktype is a partial update: only the keys sent change; an explicit null clears.
func (s *Server) patchWorktype(old, body map[string]any, c caller) (map[string]any, *httpError) {
	e := normObj(old)
	if herr := s.applyWorktype(e, body, false); herr != nil {
		return nil, herr
	}
	e["dateModified"] = s.stamp(old)
	e["modifiedBy"] = map[string]any{"id": c.userID, "selfUri": "/api/v2/users/" + c.userID}
	return e, nil
}

func (s *Server) deleteWorktype(w http.ResponseWriter, r *http.Request, c caller) {
	id := r.PathValue("worktypeId")
	s.before(r, "worktype", id, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.deleteLocked("worktype", id, apiOrigin(r, c, nil)) {
		writeHTTPError(w, notFound("Worktype", id))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func intIn(v any, lo, hi float64) bool {
	f, ok := number(v)
	return ok && isInt(f) && f >= lo && f <= hi
}

// applyWorktype validates create/update keys and applies them to the stored (response
// shape) worktype e. Call with s.mu held.
func (s *Server) applyWorktype(e, body map[string]any, create bool) *httpError {
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		allowed := slices.Contains(worktypeUpdateKeys, k) || (create && k == "divisionId")
		if !allowed || (create && k == "defaultStatusId") {
			return badRequest("Unrecognized field \"%s\" in the worktype request body", k)
		}
	}
	for _, k := range keys {
		v := body[k]
		if v == nil {
			switch k {
			case "name", "defaultWorkbinId", "divisionId":
				return badRequest("%s cannot be null", k)
			case "defaultStatusId":
				delete(e, "defaultStatus")
			case "defaultQueueId":
				delete(e, "defaultQueue")
			case "defaultSkillIds":
				delete(e, "defaultSkills")
			case "defaultLanguageId":
				delete(e, "defaultLanguage")
			case "defaultScriptId":
				delete(e, "defaultScript")
			case "schemaId":
				delete(e, "schema")
			case "schemaVersion":
				if sc := obj(e, "schema"); sc != nil {
					delete(sc, "version")
				}
			default:
				delete(e, k)
			}
			continue
		}
		switch k {
		case "name":
			name, ok := v.(string)
			if !ok || len(name) < 3 || len(name) > 256 {
				return badRequest("name must be a string of 3 to 256 characters, got %v", v)
			}
			if s.worktypes.nameTaken(name, str(e, "id")) {
				return conflict("worktype", name)
			}
			e["name"] = name
		case "description":
			d, ok := v.(string)
			if !ok || len(d) > 512 {
				return badRequest("description must be a string of at most 512 characters")
			}
			e["description"] = d
		case "divisionId":
			id, _ := v.(string)
			d, ok := s.divisions.get(id)
			if !ok {
				return badRequest("divisionId %v does not name a division", v)
			}
			e["division"] = divisionRef(d)
		case "defaultWorkbinId":
			id, _ := v.(string)
			if _, ok := s.workbins.get(id); !ok {
				return badRequest("defaultWorkbinId %v does not name a workbin", v)
			}
			e["defaultWorkbin"] = map[string]any{"id": id, "selfUri": "/api/v2/taskmanagement/workbins/" + id}
		case "defaultStatusId":
			id, _ := v.(string)
			found := false
			for _, st := range asSlice(e["statuses"]) {
				if m, _ := st.(map[string]any); str(m, "id") == id && id != "" {
					found = true
				}
			}
			if !found {
				return badRequest("defaultStatusId %v is not a status of this worktype", v)
			}
			e["defaultStatus"] = map[string]any{"id": id, "selfUri": "/api/v2/taskmanagement/worktypes/" + str(e, "id") + "/statuses/" + id}
		case "defaultQueueId":
			id, _ := v.(string)
			q, ok := s.queues.get(id)
			if !ok {
				return badRequest("defaultQueueId %v does not name a queue", v)
			}
			e["defaultQueue"] = queueRef(q)
		case "defaultSkillIds":
			ids, ok := v.([]any)
			if !ok {
				return badRequest("defaultSkillIds must be an array of skill ids")
			}
			if len(ids) > 20 {
				return badRequest("defaultSkillIds allows a maximum of 20 IDs, got %d", len(ids))
			}
			refs := make([]any, 0, len(ids))
			for i, iv := range ids {
				id, _ := iv.(string)
				if _, ok := s.skills.get(id); !ok {
					return badRequest("defaultSkillIds[%d] %v does not name an active skill", i, iv)
				}
				refs = append(refs, map[string]any{"id": id, "selfUri": "/api/v2/routing/skills/" + id})
			}
			if len(refs) == 0 {
				delete(e, "defaultSkills")
			} else {
				e["defaultSkills"] = refs
			}
		case "defaultLanguageId":
			id, _ := v.(string)
			if _, ok := s.languages.get(id); !ok {
				return badRequest("defaultLanguageId %v does not name a routing language", v)
			}
			// The real response is a Languagereference: {id, selfUri}, no name.
			e["defaultLanguage"] = map[string]any{"id": id, "selfUri": "/api/v2/routing/languages/" + id}
		case "defaultScriptId":
			id, ok := v.(string)
			if !ok || id == "" {
				return badRequest("%s must be a string id", k)
			}
			e["defaultScript"] = map[string]any{"id": id, "selfUri": "/api/v2/scripts/" + id}
		case "schemaId":
			id, ok := v.(string)
			if !ok || id == "" {
				return badRequest("schemaId must be a string id")
			}
			sc := map[string]any{"id": id, "selfUri": "/api/v2/taskmanagement/workitems/schemas/" + id}
			if old := obj(e, "schema"); old != nil && str(old, "id") == id && old["version"] != nil {
				sc["version"] = old["version"]
			}
			e["schema"] = sc
		case "schemaVersion":
			if !intIn(v, 1, 1e9) {
				return badRequest("schemaVersion must be a positive integer, got %v", v)
			}
			sc := obj(e, "schema")
			if sc == nil {
				return badRequest("schemaVersion needs schemaId")
			}
			sc["version"] = v
		case "defaultPriority":
			if !intIn(v, -maxPriority, maxPriority) {
				return badRequest("defaultPriority must be an integer between -25000000 and 25000000, got %v", v)
			}
			e[k] = v
		case "defaultDurationSeconds", "defaultExpirationSeconds", "defaultDueDurationSeconds":
			if !intIn(v, 1, maxDurationSec) {
				return badRequest("%s must be an integer between 1 and %d (365 days), got %v", k, maxDurationSec, v)
			}
			e[k] = v
		case "defaultTtlSeconds":
			if !intIn(v, 86400, maxDurationSec) {
				return badRequest("defaultTtlSeconds must be between 1 and 365 days in seconds, got %v", v)
			}
			e[k] = v
		case "serviceLevelTarget":
			if !intIn(v, 0, 100) {
				return badRequest("serviceLevelTarget must be an integer between 0 and 100, got %v", v)
			}
			e[k] = v
		case "assignmentEnabled", "unassignedDivisionContactsEnabled":
			if _, ok := v.(bool); !ok {
				return badRequest("%s must be a boolean, got %v", k, v)
			}
			e[k] = v
		case "ruleSettings":
			if _, ok := v.(map[string]any); !ok {
				return badRequest("ruleSettings must be an object")
			}
			e[k] = v
		}
	}
	return nil
}

func asSlice(v any) []any {
	a, _ := v.([]any)
	return a
}

// ---- cursor queries (worktypes, workbins) ----

type fieldGetter func(e map[string]any) string

var worktypeFields = map[string]fieldGetter{
	"id":               func(e map[string]any) string { return str(e, "id") },
	"name":             func(e map[string]any) string { return str(e, "name") },
	"description":      func(e map[string]any) string { return str(e, "description") },
	"divisionId":       func(e map[string]any) string { return str(obj(e, "division"), "id") },
	"defaultQueueId":   func(e map[string]any) string { return str(obj(e, "defaultQueue"), "id") },
	"defaultWorkbinId": func(e map[string]any) string { return str(obj(e, "defaultWorkbin"), "id") },
	"dateCreated":      func(e map[string]any) string { return str(e, "dateCreated") },
	"dateModified":     func(e map[string]any) string { return str(e, "dateModified") },
}

var workbinFields = map[string]fieldGetter{
	"id":           worktypeFields["id"],
	"name":         worktypeFields["name"],
	"description":  worktypeFields["description"],
	"divisionId":   worktypeFields["divisionId"],
	"dateCreated":  worktypeFields["dateCreated"],
	"dateModified": worktypeFields["dateModified"],
}

var filterOperators = []string{"EQ", "NEQ", "GT", "LT", "GTE", "LTE", "IN", "CONTAINS", "BEGINS_WITH", "BETWEEN"}

type filter struct {
	name, operator string
	values         []string
}

func parseFilters(body map[string]any, fields []string) ([]filter, *httpError) {
	raw, ok := body["filters"]
	if !ok || raw == nil {
		return nil, nil
	}
	arr, ok := raw.([]any)
	if !ok {
		return nil, badRequest("filters must be an array")
	}
	out := make([]filter, 0, len(arr))
	for i, fv := range arr {
		fm, ok := fv.(map[string]any)
		if !ok {
			return nil, badRequest("filters[%d] must be an object {name, type, operator, values}", i)
		}
		f := filter{name: str(fm, "name"), operator: str(fm, "operator")}
		if !slices.Contains(fields, f.name) {
			return nil, badRequest("filters[%d]: Invalid filter name [%s]. Allowable values are: %s", i, f.name, strings.Join(fields, ", "))
		}
		if !slices.Contains(filterOperators, f.operator) {
			return nil, enumError(f.operator, "Operator", filterOperators)
		}
		vals, ok := fm["values"].([]any)
		if !ok || len(vals) == 0 {
			return nil, badRequest("filters[%d]: values must be a non-empty array", i)
		}
		for _, v := range vals {
			switch x := v.(type) {
			case string:
				f.values = append(f.values, x)
			case float64:
				f.values = append(f.values, strconv.FormatFloat(x, 'f', -1, 64))
			case bool:
				f.values = append(f.values, strconv.FormatBool(x))
			default:
				return nil, badRequest("filters[%d]: values must be strings or numbers", i)
			}
		}
		if f.operator == "BETWEEN" && len(f.values) != 2 {
			return nil, badRequest("filters[%d]: BETWEEN needs exactly two values", i)
		}
		if f.operator != "IN" && f.operator != "BETWEEN" && len(f.values) != 1 {
			return nil, badRequest("filters[%d]: operator %s takes exactly one value", i, f.operator)
		}
		out = append(out, f)
	}
	return out, nil
}

func (f filter) match(v string) bool {
	x := f.values[0]
	switch f.operator {
	case "EQ":
		return v == x
	case "NEQ":
		return v != x
	case "IN":
		return slices.Contains(f.values, v)
	case "CONTAINS":
		return strings.Contains(strings.ToLower(v), strings.ToLower(x))
	case "BEGINS_WITH":
		return strings.HasPrefix(strings.ToLower(v), strings.ToLower(x))
	case "GT":
		return v > x
	case "GTE":
		return v >= x
	case "LT":
		return v < x
	case "LTE":
		return v <= x
	case "BETWEEN":
		return v >= x && v <= f.values[1]
	}
	return false
}

func parseQueryPageSize(body map[string]any) (int, *httpError) {
	v, ok := body["pageSize"]
	if !ok || v == nil {
		return 25, nil
	}
	if !intIn(v, 1, MaxQueryPageSize) {
		return 0, badRequest("pageSize must be an integer between 1 and %d, got %v", MaxQueryPageSize, v)
	}
	f, _ := number(v)
	return int(f), nil
}

type cursor struct {
	Key string `json:"k"`
	ID  string `json:"i"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, bool) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID == "" {
		return c, false
	}
	return c, true
}

// cursorQuery answers a task-management POST .../query over the active entities of c.
// Call with s.mu held (read).
func cursorQuery(c *collection, body map[string]any, fields map[string]fieldGetter, path string, render func(map[string]any) map[string]any) (map[string]any, *httpError) {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	filters, herr := parseFilters(body, names)
	if herr != nil {
		return nil, herr
	}
	size, herr := parseQueryPageSize(body)
	if herr != nil {
		return nil, herr
	}
	sortBy, asc := "name", true
	if sv, ok := body["sort"]; ok && sv != nil {
		sm, ok := sv.(map[string]any)
		if !ok {
			return nil, badRequest("sort must be an object {name, ascending}")
		}
		if n := str(sm, "name"); n != "" {
			if n != "name" && n != "dateModified" && n != "dateCreated" {
				return nil, enumError(n, "SortName", []string{"name", "dateCreated", "dateModified"})
			}
			sortBy = n
		}
		if a, ok := sm["ascending"].(bool); ok {
			asc = a
		}
	}
	var after *cursor
	if a, ok := body["after"].(string); ok && a != "" {
		cur, valid := decodeCursor(a)
		if !valid {
			return nil, badRequest("after %q is not a cursor returned by this query", a)
		}
		after = &cur
	}
	sel := str(body, "select")
	if sel != "" && sel != "Count" {
		return nil, enumError(sel, "Select", []string{"Count"})
	}

	type item struct {
		key cursor
		e   map[string]any
	}
	var items []item
	for _, k := range c.order {
		e := c.byID[k.id]
		ok := true
		for _, f := range filters {
			if !f.match(fields[f.name](e)) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		key := k.name
		if sortBy != "name" {
			key = str(e, sortBy)
		}
		items = append(items, item{cursor{key, k.id}, e})
	}
	if sortBy != "name" {
		slices.SortFunc(items, func(a, b item) int {
			return cmp.Or(strings.Compare(a.key.Key, b.key.Key), strings.Compare(a.key.ID, b.key.ID))
		})
	}
	if !asc {
		slices.Reverse(items)
	}
	if sel == "Count" {
		return map[string]any{"entities": []any{}, "count": len(items), "selfUri": path}, nil
	}
	start := 0
	if after != nil {
		start = len(items)
		for i, it := range items {
			c := cmp.Or(strings.Compare(it.key.Key, after.Key), strings.Compare(it.key.ID, after.ID))
			if (asc && c > 0) || (!asc && c < 0) {
				start = i
				break
			}
		}
	}
	end := min(start+size, len(items))
	entities := make([]map[string]any, 0, end-start)
	for _, it := range items[start:end] {
		entities = append(entities, render(it.e))
	}
	out := map[string]any{"entities": entities, "selfUri": path}
	if end < len(items) {
		out["after"] = encodeCursor(items[end-1].key)
		out["nextUri"] = path
	}
	return out, nil
}

func (s *Server) queryWorktypes(w http.ResponseWriter, r *http.Request, _ caller) {
	body, herr := readObject(w, r)
	if herr != nil {
		writeHTTPError(w, herr)
		return
	}
	if ex, ok := body["expands"]; ok && ex != nil {
		if _, isArr := ex.([]any); !isArr {
			writeHTTPError(w, badRequest("expands must be an array"))
			return
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out, herr := cursorQuery(s.worktypes, body, worktypeFields, r.URL.Path, s.renderWorktype)
	if herr != nil {
		writeHTTPError(w, herr)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) queryWorkbins(w http.ResponseWriter, r *http.Request, _ caller) {
	body, herr := readObject(w, r)
	if herr != nil {
		writeHTTPError(w, herr)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out, herr := cursorQuery(s.workbins, body, workbinFields, r.URL.Path, func(e map[string]any) map[string]any { return e })
	if herr != nil {
		writeHTTPError(w, herr)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// ---- workitems ----

var (
	workitemFilterNames   = []string{"assigneeId", "divisionId", "queueId", "statusCategory", "typeId", "workbinId"}
	workitemRequiredNames = []string{"workbinId", "assigneeId", "queueId", "typeId"}
	// workitemEpoch is the dateCreated of every synthetic workitem.
	workitemEpoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
)

// queryWorkitems counts and lists the synthetic workitems set with SetWorkitemCount:
// open, unassigned items in a queue, of the worktype whose defaultQueue is that queue
// (first by name) and in that worktype's default workbin.
func (s *Server) queryWorkitems(w http.ResponseWriter, r *http.Request, _ caller) {
	body, herr := readObject(w, r)
	if herr != nil {
		writeHTTPError(w, herr)
		return
	}
	filters, herr := parseFilters(body, workitemFilterNames)
	if herr != nil {
		writeHTTPError(w, herr)
		return
	}
	if len(filters) > 3 {
		writeHTTPError(w, badRequest("A maximum of three filters are allowed, got %d", len(filters)))
		return
	}
	if !slices.ContainsFunc(filters, func(f filter) bool {
		return f.operator == "EQ" && slices.Contains(workitemRequiredNames, f.name)
	}) {
		writeHTTPError(w, badRequest("The query requires at least one EQ filter on the workbinId, assigneeId, queueId or typeId attributes"))
		return
	}
	size, herr := parseQueryPageSize(body)
	if herr != nil {
		writeHTTPError(w, herr)
		return
	}
	sel := str(body, "select")
	if sel != "" && sel != "Count" {
		writeHTTPError(w, enumError(sel, "Select", []string{"Count"}))
		return
	}
	offset := 0
	if a, ok := body["after"].(string); ok && a != "" {
		b, err := base64.RawURLEncoding.DecodeString(a)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
		if err != nil || err2 != nil || n < 0 || !strings.HasPrefix(string(b), "o:") {
			writeHTTPError(w, badRequest("after %q is not a cursor returned by this query", a))
			return
		}
		offset = n
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	typeOf := map[string]map[string]any{}
	for _, k := range s.worktypes.order {
		wt := s.worktypes.byID[k.id]
		if qid := str(obj(wt, "defaultQueue"), "id"); qid != "" && typeOf[qid] == nil {
			typeOf[qid] = wt
		}
	}
	qids := make([]string, 0, len(s.workitemCounts))
	for qid := range s.workitemCounts {
		qids = append(qids, qid)
	}
	slices.Sort(qids)
	type group struct {
		queueID string
		n       int
		wt      map[string]any
	}
	var groups []group
	total := 0
	for _, qid := range qids {
		wt := typeOf[qid]
		attrs := map[string]string{
			"queueId": qid, "statusCategory": "Open", "assigneeId": "",
			"typeId": str(wt, "id"), "workbinId": str(obj(wt, "defaultWorkbin"), "id"),
			"divisionId": str(obj(wt, "division"), "id"),
		}
		ok := true
		for _, f := range filters {
			if !f.match(attrs[f.name]) {
				ok = false
				break
			}
		}
		if ok {
			groups = append(groups, group{qid, s.workitemCounts[qid], wt})
			total += s.workitemCounts[qid]
		}
	}
	if sel == "Count" {
		writeJSON(w, http.StatusOK, map[string]any{"entities": []any{}, "count": total, "selfUri": r.URL.Path})
		return
	}
	entities := []map[string]any{}
	pos := 0
	for _, g := range groups {
		for i := 0; i < g.n && len(entities) < size; i++ {
			if pos++; pos <= offset {
				continue
			}
			entities = append(entities, s.syntheticWorkitem(g.queueID, i, g.wt))
		}
		if len(entities) == size {
			break
		}
	}
	out := map[string]any{"entities": entities, "selfUri": r.URL.Path}
	if next := offset + len(entities); next < total {
		out["after"] = base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("o:%d", next)))
		out["nextUri"] = r.URL.Path
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) syntheticWorkitem(queueID string, i int, wt map[string]any) map[string]any {
	id := uuid.NewSHA1(simNamespace, []byte(fmt.Sprintf("workitem:%s:%d", queueID, i))).String()
	qname := queueID
	if q, ok := s.queues.get(queueID); ok {
		qname = str(q, "name")
	}
	e := map[string]any{
		"id":             id,
		"name":           fmt.Sprintf("%s task %d", qname, i+1),
		"queue":          map[string]any{"id": queueID, "name": qname, "selfUri": "/api/v2/routing/queues/" + queueID},
		"statusCategory": "Open",
		"priority":       0.0,
		"dateCreated":    fmtTime(workitemEpoch.Add(time.Duration(i) * time.Minute)),
		"selfUri":        "/api/v2/taskmanagement/workitems/" + id,
	}
	if wt != nil {
		e["type"] = map[string]any{"id": str(wt, "id"), "name": str(wt, "name"), "selfUri": "/api/v2/taskmanagement/worktypes/" + str(wt, "id")}
		if wb := obj(wt, "defaultWorkbin"); wb != nil {
			e["workbin"] = map[string]any{"id": str(wb, "id"), "selfUri": "/api/v2/taskmanagement/workbins/" + str(wb, "id")}
		}
		if p, ok := wt["defaultPriority"]; ok {
			e["priority"] = p
		}
		if d := obj(wt, "division"); d != nil {
			e["division"] = d
		}
	}
	return e
}
