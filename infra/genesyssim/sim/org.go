package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Fixture is a whole org as raw Genesys JSON objects with the real SDK field names, in
// response shape (e.g. a worktype has defaultQueue{id,name}, not defaultQueueId).
type Fixture struct {
	Divisions []map[string]any `json:"divisions,omitempty"`
	Skills    []map[string]any `json:"skills,omitempty"`
	// Languages are the org's routing languages (SDK Language); worktypes reference them
	// as defaultLanguage {id, selfUri}.
	Languages []map[string]any `json:"languages,omitempty"`
	Queues    []map[string]any `json:"queues,omitempty"`
	Workbins  []map[string]any `json:"workbins,omitempty"`
	Worktypes []map[string]any `json:"worktypes,omitempty"`
	// Utilization is the org-wide utilization (UtilizationResponse); nil means defaults.
	Utilization map[string]any `json:"utilization,omitempty"`
}

// Sentinel errors of the out-of-band edit methods.
var (
	ErrNotFound  = errors.New("sim: entity not found")
	ErrNameTaken = errors.New("sim: name already used by another entity of the same kind")
	ErrInvalid   = errors.New("sim: invalid entity")
)

// homeDivisionID is the id of the Home division the simulator adds when a fixture has none.
const homeDivisionID = "0d1f2c3b-4a59-4e68-8d7c-6b5a49382716"

// LoadFixture reads a JSON fixture file.
func LoadFixture(path string) (Fixture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Fixture{}, fmt.Errorf("load fixture: %w", err)
	}
	var f Fixture
	if err := json.Unmarshal(b, &f); err != nil {
		return Fixture{}, fmt.Errorf("load fixture %s: not a JSON fixture object {divisions, skills, languages, queues, workbins, worktypes}: %w", path, err)
	}
	return f, nil
}

// Load replaces the whole org state (entities, utilization, observations, workitem
// counts) with f. Entities are deep-copied; missing selfUri, skill and language state and
// version are filled in. Names must be unique per kind (case-insensitive) and every entity needs an
// id and a name.
func (s *Server) Load(f Fixture) error {
	copyAll := func(in []map[string]any) []map[string]any {
		out := make([]map[string]any, len(in))
		for i, e := range in {
			out[i] = normObj(e)
			if out[i] == nil {
				out[i] = map[string]any{}
			}
		}
		return out
	}
	divs, skills, queues := copyAll(f.Divisions), copyAll(f.Skills), copyAll(f.Queues)
	bins, types, langs := copyAll(f.Workbins), copyAll(f.Worktypes), copyAll(f.Languages)

	home := ""
	if len(divs) == 0 {
		divs = []map[string]any{{"id": homeDivisionID, "name": "Home", "description": "Home Division", "homeDivision": true}}
	}
	for _, d := range divs {
		if d["homeDivision"] == true && home == "" {
			home = str(d, "id")
		}
		setDefault(d, "selfUri", "/api/v2/authorization/divisions/"+str(d, "id"))
	}
	if home == "" {
		home = str(divs[0], "id")
	}
	for _, e := range skills {
		setDefault(e, "state", "active")
		setDefault(e, "version", "1")
		setDefault(e, "selfUri", "/api/v2/routing/skills/"+str(e, "id"))
	}
	for _, e := range langs {
		setDefault(e, "state", "active")
		setDefault(e, "version", "1")
		setDefault(e, "selfUri", "/api/v2/routing/languages/"+str(e, "id"))
	}
	for _, e := range queues {
		setDefault(e, "selfUri", "/api/v2/routing/queues/"+str(e, "id"))
	}
	for _, e := range bins {
		setDefault(e, "selfUri", "/api/v2/taskmanagement/workbins/"+str(e, "id"))
	}
	for _, e := range types {
		setDefault(e, "selfUri", "/api/v2/taskmanagement/worktypes/"+str(e, "id"))
	}

	cs := map[string]*collection{}
	for _, k := range []struct {
		name string
		es   []map[string]any
	}{{"divisions", divs}, {"skills", skills}, {"languages", langs}, {"queues", queues}, {"workbins", bins}, {"worktypes", types}} {
		c := newCollection()
		if err := c.load(k.name, k.es); err != nil {
			return fmt.Errorf("load fixture: %w", err)
		}
		cs[k.name] = c
	}
	util := normObj(f.Utilization)
	if util == nil {
		util = defaultUtilization(nil)
	}

	s.mu.Lock()
	s.divisions, s.skills, s.queues = cs["divisions"], cs["skills"], cs["queues"]
	s.languages = cs["languages"]
	s.workbins, s.worktypes = cs["workbins"], cs["worktypes"]
	s.homeDivisionID = home
	s.utilization = util
	s.observations = map[string]map[string]float64{}
	s.workitemCounts = map[string]int{}
	s.mu.Unlock()
	return nil
}

func setDefault(m map[string]any, key string, v any) {
	if _, ok := m[key]; !ok {
		m[key] = v
	}
}

// Queue returns a deep copy of a queue as the API would return it.
func (s *Server) Queue(id string) (map[string]any, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.queues.get(id)
	if !ok {
		return nil, false
	}
	return normObj(e), true
}

// Worktype returns a deep copy of a worktype as the API would return it.
func (s *Server) Worktype(id string) (map[string]any, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.worktypes.get(id)
	if !ok {
		return nil, false
	}
	return normObj(s.renderWorktype(e)), true
}

// Skill returns a deep copy of a skill, including a deleted one (state "deleted"), as
// GET /api/v2/routing/skills/{skillId} would return it.
func (s *Server) Skill(id string) (map[string]any, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.skills.byID[id]
	if !ok {
		return nil, false
	}
	return normObj(e), true
}

// IDByName returns the id of the active entity of kind ("queue", "skill", "worktype",
// "workbin", "division" or "language") with name (case-insensitive).
func (s *Server) IDByName(kind, name string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.collection(kind)
	if c == nil {
		return "", false
	}
	id, ok := c.byName[strings.ToLower(name)]
	return id, ok
}

func (s *Server) collection(kind string) *collection {
	switch kind {
	case "queue":
		return s.queues
	case "skill":
		return s.skills
	case "worktype":
		return s.worktypes
	case "workbin":
		return s.workbins
	case "division":
		return s.divisions
	case "language":
		return s.languages
	}
	return nil
}

// SetObservation sets a queue observation metric (oWaiting, oInteracting,
// oOnQueueUsers, oMemberUsers, oActiveUsers, ...) returned by the observations query.
func (s *Server) SetObservation(queueID, metric string, value float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.observations[queueID]
	if m == nil {
		m = map[string]float64{}
		s.observations[queueID] = m
	}
	m[metric] = value
}

// SetWorkitemCount sets how many open, unassigned workitems wait in a queue; the
// workitems query counts and lists them.
func (s *Server) SetWorkitemCount(queueID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(s.workitemCounts, queueID)
		return
	}
	s.workitemCounts[queueID] = n
}

// EditQueue changes a queue out of band, as an admin in the UI would: edit gets a deep
// copy to change in place; dateModified moves, modifiedBy becomes the admin user, and an
// audit event is emitted when a target is set. The id cannot change; the name must stay
// non-empty and unique. Concurrent API writes are last-writer-wins, as in Genesys.
func (s *Server) EditQueue(id string, edit func(q map[string]any)) error {
	_, err := s.editOutOfBand("queue", id, edit)
	return err
}

// EditWorktype is EditQueue for worktypes. edit sees the response shape; references may be
// set as {"id": ...} (names are filled in on read).
func (s *Server) EditWorktype(id string, edit func(w map[string]any)) error {
	_, err := s.editOutOfBand("worktype", id, edit)
	return err
}

// EditSkill is EditQueue for skills; the skill version increments.
func (s *Server) EditSkill(id string, edit func(sk map[string]any)) error {
	_, err := s.editOutOfBand("skill", id, edit)
	return err
}

// Delete deletes a queue, skill or worktype (kind "queue", "skill", "worktype") out of
// band, as an admin in the UI would: the audit event names the admin user and no client.
func (s *Server) Delete(kind, id string) error {
	if kind != "queue" && kind != "skill" && kind != "worktype" {
		return fmt.Errorf("delete %s %s: kind must be queue, skill or worktype: %w", kind, id, ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.deleteLocked(kind, id, adminOrigin) {
		return fmt.Errorf("delete %s %s: %w", kind, id, ErrNotFound)
	}
	return nil
}

func (s *Server) editOutOfBand(kind, id string, edit func(map[string]any)) (Write, error) {
	s.mu.RLock()
	c := s.collection(kind)
	old, ok := c.get(id)
	var cp map[string]any
	if ok {
		cp = normObj(old)
	}
	s.mu.RUnlock()
	if !ok {
		return Write{}, fmt.Errorf("edit %s %s: %w", kind, id, ErrNotFound)
	}
	edit(cp)
	cp["id"] = id
	if strings.TrimSpace(str(cp, "name")) == "" {
		return Write{}, fmt.Errorf("edit %s %s: name must be a non-empty string: %w", kind, id, ErrInvalid)
	}
	cp = normObj(cp)

	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok = c.get(id)
	if !ok {
		return Write{}, fmt.Errorf("edit %s %s: %w", kind, id, ErrNotFound)
	}
	if c.nameTaken(str(cp, "name"), id) {
		return Write{}, fmt.Errorf("edit %s %s: name %q: %w", kind, id, str(cp, "name"), ErrNameTaken)
	}
	cp["dateModified"] = s.stamp(old)
	switch kind {
	case "queue":
		cp["modifiedBy"] = adminUserID
	case "worktype":
		cp["modifiedBy"] = map[string]any{"id": adminUserID, "selfUri": "/api/v2/users/" + adminUserID}
	case "skill":
		cp["version"] = nextVersion(str(old, "version"))
	}
	c.put(cp)
	return s.recordLocked(kind, "Update", old, cp, adminOrigin), nil
}
