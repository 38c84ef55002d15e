package sim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// ---- queues ----

// createQueue builds a queue from a CreateQueueRequest; sourceQueueId copies the
// source's settings the body does not set (not its name, division or server fields).
func (s *Server) createQueue(_, body map[string]any, c caller) (map[string]any, *httpError) {
	if src := str(body, "sourceQueueId"); src != "" {
		from, ok := s.queues.get(src)
		if !ok {
			return nil, badRequest("sourceQueueId %s does not name a queue", src)
		}
		for k, v := range from {
			if _, set := body[k]; !set && k != "name" && !serverManaged[k] && k != "division" {
				body[k] = norm(v)
			}
		}
	}
	delete(body, "sourceQueueId")
	return s.buildQueue(body, nil, c)
}

// putQueue is a full replace: the stored queue becomes the body plus server-managed
// fields; omitted settings are reset to defaults or removed, unknown fields are kept.
func (s *Server) putQueue(old, body map[string]any, c caller) (map[string]any, *httpError) {
	return s.buildQueue(body, old, c)
}

func (s *Server) deleteQueue(w http.ResponseWriter, r *http.Request, c caller) {
	id := r.PathValue("queueId")
	if v := r.URL.Query().Get("forceDelete"); v != "" && v != "true" && v != "false" {
		writeHTTPError(w, badRequest("forceDelete must be true or false, got %q", v))
		return
	}
	s.before(r, "queue", id, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.deleteLocked("queue", id, apiOrigin(r, c, nil)) {
		writeHTTPError(w, notFound("Queue", id))
		return
	}
	w.WriteHeader(http.StatusOK)
}

var (
	mediaTypes      = []string{"call", "callback", "chat", "email", "message"}
	skillEvalValues = []string{"NONE", "BEST", "ALL"}
	scoringValues   = []string{"TimestampAndPriority", "PriorityOnly"}
	lastAgentValues = []string{"Disabled", "QueueMembersOnly", "AnyAgent"}
	wrapupValues    = []string{"MANDATORY", "OPTIONAL", "MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT", "AGENT_REQUESTED"}
	ruleOperators   = []string{"MEETS_THRESHOLD", "ANY"}
	callbackModes   = []string{"AgentFirst", "CustomerFirst"}
)

func enumError(v any, field string, allowed []string) *httpError {
	return badRequest("Value [%v] is not valid for field type [%s]. Allowable values are: %s", v, field, strings.Join(allowed, ", "))
}

func checkEnum(m map[string]any, key, field string, allowed []string) *httpError {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	sv, isStr := v.(string)
	if !isStr || !slices.Contains(allowed, sv) {
		return enumError(v, field, allowed)
	}
	return nil
}

// defaultMediaSettings is what a new queue gets for an omitted media type.
func defaultMediaSettings(media string) map[string]any {
	m := map[string]any{
		"enableAutoAnswer":             false,
		"alertingTimeoutSeconds":       8.0,
		"serviceLevel":                 map[string]any{"percentage": 0.8, "durationMs": 20000.0},
		"autoAnswerAlertToneSeconds":   0.0,
		"manualAnswerAlertToneSeconds": 0.0,
	}
	switch media {
	case "email":
		m["alertingTimeoutSeconds"] = 300.0
		m["serviceLevel"] = map[string]any{"percentage": 0.8, "durationMs": 86400000.0}
	case "message":
		m["alertingTimeoutSeconds"] = 30.0
		m["serviceLevel"] = map[string]any{"percentage": 0.8, "durationMs": 60000.0}
		m["enableInactivityTimeout"] = false
		m["subTypeSettings"] = map[string]any{}
	case "chat":
		m["alertingTimeoutSeconds"] = 30.0
	case "callback":
		m["mode"] = "AgentFirst"
		m["enableAutoDialAndEnd"] = false
		m["autoDialDelaySeconds"] = 300.0
		m["autoEndDelaySeconds"] = 300.0
	}
	return m
}

// buildQueue validates a QueueRequest/CreateQueueRequest body and returns the stored
// queue. old is nil on create. Call with s.mu held.
func (s *Server) buildQueue(body, old map[string]any, c caller) (map[string]any, *httpError) {
	name, ok := body["name"].(string)
	if !ok || strings.TrimSpace(name) == "" {
		return nil, badRequest("name is required and must be a non-empty string")
	}
	oldID := ""
	if old != nil {
		oldID = str(old, "id")
	}
	if s.queues.nameTaken(name, oldID) {
		return nil, conflict("queue", name)
	}
	if v, ok := body["description"]; ok && v != nil {
		if _, isStr := v.(string); !isStr {
			return nil, badRequest("description must be a string")
		}
	}
	if herr := validateMediaSettings(body["mediaSettings"]); herr != nil {
		return nil, herr
	}
	for _, e := range []struct {
		key, field string
		allowed    []string
	}{
		{"skillEvaluationMethod", "SkillEvaluationMethod", skillEvalValues},
		{"scoringMethod", "ScoringMethod", scoringValues},
		{"lastAgentRoutingMode", "LastAgentRoutingMode", lastAgentValues},
	} {
		if herr := checkEnum(body, e.key, e.field, e.allowed); herr != nil {
			return nil, herr
		}
	}
	if v, ok := body["acwSettings"]; ok && v != nil {
		acw, isObj := v.(map[string]any)
		if !isObj {
			return nil, badRequest("acwSettings must be an object")
		}
		if herr := checkEnum(acw, "wrapupPrompt", "WrapupPrompt", wrapupValues); herr != nil {
			return nil, herr
		}
		if t, ok := acw["timeoutMs"]; ok && t != nil {
			f, isNum := number(t)
			if !isNum || !isInt(f) || f < 1000 || f > 3600000 {
				return nil, badRequest("acwSettings.timeoutMs must be an integer between 1000 (1 sec) and 3600000 (60 min), got %v", t)
			}
		}
	}
	if v, ok := body["routingRules"]; ok && v != nil {
		rules, isArr := v.([]any)
		if !isArr {
			return nil, badRequest("routingRules must be an array")
		}
		for i, rr := range rules {
			rule, isObj := rr.(map[string]any)
			if !isObj {
				return nil, badRequest("routingRules[%d] must be an object", i)
			}
			if herr := checkEnum(rule, "operator", "Operator", ruleOperators); herr != nil {
				return nil, herr
			}
		}
	}
	if v, ok := body["bullseye"]; ok && v != nil {
		if herr := validateBullseye(v); herr != nil {
			return nil, herr
		}
	}

	e := body
	for k := range serverManaged {
		delete(e, k)
	}
	var div map[string]any
	if v, ok := body["division"]; ok && v != nil {
		d, isObj := v.(map[string]any)
		if !isObj || str(d, "id") == "" {
			return nil, badRequest("division must be an object with an id")
		}
		found, ok := s.divisions.get(str(d, "id"))
		if !ok {
			return nil, badRequest("division %s does not exist", str(d, "id"))
		}
		div = divisionRef(found)
	} else if old != nil {
		div = normObj(obj(old, "division"))
	} else {
		div = divisionRef(s.divisions.byID[s.homeDivisionID])
	}
	e["division"] = div

	ms, _ := e["mediaSettings"].(map[string]any)
	if ms == nil {
		ms = map[string]any{}
		e["mediaSettings"] = ms
	}
	for _, m := range mediaTypes {
		if ms[m] == nil {
			ms[m] = defaultMediaSettings(m)
		}
	}
	if e["acwSettings"] == nil {
		e["acwSettings"] = map[string]any{"wrapupPrompt": "OPTIONAL"}
	}
	if e["skillEvaluationMethod"] == nil {
		e["skillEvaluationMethod"] = "ALL"
	}
	if e["scoringMethod"] == nil {
		e["scoringMethod"] = "TimestampAndPriority"
	}

	now := s.stamp(old)
	if old == nil {
		id := s.newID("queue", str(e, "name"))
		e["id"] = id
		e["dateCreated"] = now
		e["createdBy"] = c.userID
		e["memberCount"], e["userMemberCount"], e["joinedMemberCount"] = 0.0, 0.0, 0.0
	} else {
		e["id"] = old["id"]
		for _, k := range []string{"dateCreated", "createdBy", "memberCount", "userMemberCount", "joinedMemberCount"} {
			if v, ok := old[k]; ok {
				e[k] = v
			}
		}
	}
	e["dateModified"] = now
	e["modifiedBy"] = c.userID
	e["selfUri"] = "/api/v2/routing/queues/" + str(e, "id")
	return e, nil
}

func validateMediaSettings(v any) *httpError {
	if v == nil {
		return nil
	}
	ms, ok := v.(map[string]any)
	if !ok {
		return badRequest("mediaSettings must be an object keyed by media type (%s)", strings.Join(mediaTypes, ", "))
	}
	for media, sv := range ms {
		if !slices.Contains(mediaTypes, media) {
			return badRequest("Unrecognized field \"%s\" in mediaSettings: allowable media types are %s", media, strings.Join(mediaTypes, ", "))
		}
		if sv == nil {
			continue
		}
		set, ok := sv.(map[string]any)
		if !ok {
			return badRequest("mediaSettings.%s must be an object", media)
		}
		if t, ok := set["alertingTimeoutSeconds"]; ok && t != nil {
			f, isNum := number(t)
			if !isNum || !isInt(f) || f < 0 {
				return badRequest("mediaSettings.%s.alertingTimeoutSeconds must be a non-negative integer, got %v", media, t)
			}
		}
		if sl, ok := set["serviceLevel"]; ok && sl != nil {
			slo, isObj := sl.(map[string]any)
			if !isObj {
				return badRequest("mediaSettings.%s.serviceLevel must be an object", media)
			}
			if p, ok := slo["percentage"]; ok && p != nil {
				if f, isNum := number(p); !isNum || f < 0 || f > 1 {
					return badRequest("mediaSettings.%s.serviceLevel.percentage must be between 0 and 1, got %v", media, p)
				}
			}
			if d, ok := slo["durationMs"]; ok && d != nil {
				if f, isNum := number(d); !isNum || f < 0 {
					return badRequest("mediaSettings.%s.serviceLevel.durationMs must be a non-negative number, got %v", media, d)
				}
			}
		}
		if media == "callback" {
			if herr := checkEnum(set, "mode", "Mode", callbackModes); herr != nil {
				return herr
			}
		}
	}
	return nil
}

func validateBullseye(v any) *httpError {
	b, ok := v.(map[string]any)
	if !ok {
		return badRequest("bullseye must be an object with rings")
	}
	rings, ok := b["rings"].([]any)
	if b["rings"] != nil && !ok {
		return badRequest("bullseye.rings must be an array")
	}
	for i, rv := range rings {
		ring, ok := rv.(map[string]any)
		if !ok {
			return badRequest("bullseye.rings[%d] must be an object", i)
		}
		crit, _ := ring["expansionCriteria"].([]any)
		for j, cv := range crit {
			c, ok := cv.(map[string]any)
			if !ok {
				return badRequest("bullseye.rings[%d].expansionCriteria[%d] must be an object", i, j)
			}
			if herr := checkEnum(c, "type", "Type", []string{"TIMEOUT_SECONDS"}); herr != nil {
				return herr
			}
			if t, ok := c["threshold"]; ok && t != nil {
				if f, isNum := number(t); !isNum || f < 0 || f > 259200 {
					return badRequest("bullseye.rings[%d].expansionCriteria[%d].threshold must be between 0 and 259200, got %v", i, j, t)
				}
			}
		}
	}
	return nil
}

func divisionRef(d map[string]any) map[string]any {
	return map[string]any{"id": str(d, "id"), "name": str(d, "name"), "selfUri": "/api/v2/authorization/divisions/" + str(d, "id")}
}

// ---- skills ----

// getSkill also answers for a deleted skill (state "deleted"), as Genesys does for a
// while after DELETE (the Terraform provider's delete check accepts either 404 or that).
func (s *Server) getSkill(w http.ResponseWriter, r *http.Request, _ caller) {
	id := r.PathValue("skillId")
	s.before(r, "skill", id, nil)
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.skills.byID[id]
	if !ok {
		writeHTTPError(w, notFound("Skill", id))
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) createSkill(_, body map[string]any, _ caller) (map[string]any, *httpError) {
	name, ok := body["name"].(string)
	if !ok || strings.TrimSpace(name) == "" {
		return nil, badRequest("name is required and must be a non-empty string")
	}
	if s.skills.nameTaken(name, "") {
		return nil, conflict("skill", name)
	}
	id := s.newID("skill", name)
	return map[string]any{
		"id": id, "name": name, "dateModified": s.stamp(nil), "state": "active", "version": "1",
		"selfUri": "/api/v2/routing/skills/" + id,
	}, nil
}

func (s *Server) deleteSkill(w http.ResponseWriter, r *http.Request, c caller) {
	id := r.PathValue("skillId")
	s.before(r, "skill", id, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.deleteLocked("skill", id, apiOrigin(r, c, nil)) {
		writeHTTPError(w, notFound("Skill", id))
		return
	}
	w.WriteHeader(http.StatusOK)
}

// deleteLocked deletes entity id of kind as a DELETE by o does (a skill is soft-deleted:
// state "deleted", kept for GET) and records it (write log, audit event); false when there
// is no such entity (or the skill is deleted already). Call with s.mu held.
func (s *Server) deleteLocked(kind, id string, o origin) bool {
	c := s.collection(kind)
	old, ok := c.get(id)
	if !ok || (kind == "skill" && str(old, "state") == "deleted") {
		return false
	}
	switch kind {
	case "skill":
		c.unindex(id)
		e := normObj(old)
		e["state"] = "deleted"
		e["version"] = nextVersion(str(old, "version"))
		e["dateModified"] = s.stamp(old)
		c.byID[id] = e
		c.invalidate(id)
	case "queue":
		c.remove(id)
		delete(s.observations, id)
		delete(s.workitemCounts, id)
	default:
		c.remove(id)
	}
	s.recordLocked(kind, "Delete", old, nil, o)
	return true
}

func nextVersion(v string) string {
	n, err := strconv.Atoi(v)
	if err != nil {
		n = 0
	}
	return strconv.Itoa(n + 1)
}

// ---- languages ----

// ---- languages and divisions ----
//
// Both are only listed and read (listHandler, getHandler in store.go). The routing
// languages list takes the SDK's GetRoutingLanguages parameters (pageNumber/pageSize,
// sortOrder, name); its name filter matching exactly (case-insensitive, * wildcards as
// for queues) is UNVERIFIED, the SDK documents only "Name". Deleted languages (a
// fixture's state "deleted") are not listed.
