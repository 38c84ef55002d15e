package routing

import (
	"slices"
	"strconv"
	"strings"
)

// positionKinds maps the kinds Position accepts to their top-level list.
var positionKinds = map[string]string{
	"division": "divisions", "workbin": "workbins", "skill": "skills", "queue": "queues",
	"worktype": "worktypes", "assignmentRule": "assignmentRules",
}

// Position returns where the entity of kind called name, or the field at path inside it,
// was declared when the config was loaded: the file and the 1-based line of the field's
// key, or of its nearest declared ancestor (the entity itself when path is empty or not
// declared, e.g. a worktype's defaultQueue set by an assignment rule). Kinds are
// "division", "workbin", "skill", "queue", "worktype" and "assignmentRule"; path is a
// field path as shared/drift writes it (mediaSettings.call.alertingTimeoutSeconds,
// routingRules[1], ["key.with.dots"]). ok is false for a config built in code, an
// unknown kind or an undeclared name. It uses the positions the loader records for its
// diagnostics.
func (c *Config) Position(kind, name, path string) (file string, line int, ok bool) {
	if c == nil || c.src == nil {
		return "", 0, false
	}
	key, known := positionKinds[kind]
	if !known {
		return "", 0, false
	}
	origins := c.src.items[key]
	if len(origins) != c.listLen(key) {
		return "", 0, false // changed in code since it was loaded
	}
	i := c.indexOf(key, name)
	if i < 0 {
		return "", 0, false
	}
	o := origins[i]
	at := o.at
	if key != "divisions" && key != "workbins" { // those elements are plain names
		at = at.with(parseFieldPath(path)...)
	}
	p := o.doc.locate(at)
	return o.doc.file, int(p.line), p.line > 0
}

// indexOf returns the index of the element of list key called name, or -1.
func (c *Config) indexOf(key, name string) int {
	find := func(n int, nameAt func(int) string) int {
		for i := range n {
			if nameAt(i) == name {
				return i
			}
		}
		return -1
	}
	switch key {
	case "divisions":
		return find(len(c.Divisions), func(i int) string { return c.Divisions[i] })
	case "workbins":
		return find(len(c.Workbins), func(i int) string { return c.Workbins[i] })
	case "skills":
		return find(len(c.Skills), func(i int) string { return c.Skills[i].Name })
	case "queues":
		return find(len(c.Queues), func(i int) string { return c.Queues[i].Name })
	case "worktypes":
		return find(len(c.Worktypes), func(i int) string { return c.Worktypes[i].Name })
	case "assignmentRules":
		return find(len(c.AssignmentRules), func(i int) string { return c.AssignmentRules[i].Name })
	}
	return -1
}

// parseFieldPath splits a field path (keys joined by '.', a key that is not an identifier
// as ["key"] in JSON string quoting, an index as [2]) into path segments. It stops at the
// first malformed segment: the position of the part before it is still useful.
func parseFieldPath(s string) path {
	var p path
	for s != "" {
		switch {
		case s[0] == '.':
			s = s[1:]
		case s[0] == '[' && len(s) > 1 && s[1] == '"':
			q, err := strconv.QuotedPrefix(s[1:])
			if err != nil {
				return p
			}
			k, err := strconv.Unquote(q)
			if err != nil || !strings.HasPrefix(s[1+len(q):], "]") {
				return p
			}
			p = append(p, k)
			s = s[1+len(q)+1:]
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			n, err := strconv.Atoi(s[1:max(end, 1)])
			if end < 0 || err != nil {
				return p
			}
			p = append(p, n)
			s = s[end+1:]
		default:
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			p = append(p, s[:end])
			s = s[end:]
		}
	}
	return p
}

// ReferencePosition is where the config declares a reference of a compiled entity: the
// field at path of the document Compile made for the entity of kind called name (as
// shared/drift reports it, e.g. defaultSkills[1]), whose value is ref. It differs from
// Position in two ways, both because Compile rewrote the entity: an element of a set of
// names (defaultSkills, bullseye skillsToRemove, member groups), which Compile sorts, is
// found by its value ref rather than its index; and a worktype's defaultQueue,
// defaultSkills or defaultPriority the worktype does not declare is located where its
// assignment rule declares queue, skills or priorityScore. col is 1-based.
func (c *Config) ReferencePosition(kind, name, path, ref string) (file string, line, col int, ok bool) {
	if c == nil || c.src == nil {
		return "", 0, 0, false
	}
	p := c.declaredPath(kind, name, parseFieldPath(path), ref)
	key, known := positionKinds[kind]
	if !known {
		return "", 0, 0, false
	}
	if kind == "worktype" && len(p) > 0 {
		if _, declared := c.lookup(key, name, p); !declared {
			if rp, ok := c.rulePath(name, p, ref); ok {
				key, name, p = "assignmentRules", c.ruleFor(name), rp
			}
		}
	}
	origins := c.src.items[key]
	i := c.indexOf(key, name)
	if len(origins) != c.listLen(key) || i < 0 {
		return "", 0, 0, false
	}
	o := origins[i]
	at := o.doc.locate(o.at.with(p...))
	return o.doc.file, int(at.line), int(at.col), at.line > 0
}

// declaredPath maps a path of a compiled entity's document onto the declared entity:
// the index of an element of a sorted set of names becomes the declared index of ref.
func (c *Config) declaredPath(kind, name string, p path, ref string) path {
	if ref == "" || len(p) < 2 {
		return p
	}
	last, isIdx := p[len(p)-1].(int)
	if !isIdx {
		return p
	}
	var names []string
	switch kind {
	case "worktype":
		if i := c.indexOf("worktypes", name); i >= 0 && len(p) == 2 && p[0] == "defaultSkills" {
			names = c.Worktypes[i].DefaultSkills
		}
	case "queue":
		i := c.indexOf("queues", name)
		if i < 0 || len(p) < 4 {
			break
		}
		q := c.Queues[i]
		switch {
		case p[0] == "bullseye" && q.Bullseye != nil:
			if r, ok := p[2].(int); ok && r < len(q.Bullseye.Rings) && q.Bullseye.Rings[r].Actions != nil {
				names = q.Bullseye.Rings[r].Actions.SkillsToRemove
			}
		case p[0] == "conditionalGroupRouting" && q.ConditionalGroupRouting != nil:
			if r, ok := p[2].(int); ok && r < len(q.ConditionalGroupRouting.Rules) {
				for _, g := range q.ConditionalGroupRouting.Rules[r].Groups {
					names = append(names, g.Name)
				}
			}
		}
	}
	if j := slices.Index(names, ref); j >= 0 && j != last {
		return append(p[:len(p)-1:len(p)-1], j)
	}
	return p
}

// lookup returns the position of p inside the element of list key called name, and
// whether p itself (not only an ancestor) was declared.
func (c *Config) lookup(key, name string, p path) (pos, bool) {
	origins := c.src.items[key]
	i := c.indexOf(key, name)
	if len(origins) != c.listLen(key) || i < 0 {
		return pos{}, false
	}
	o := origins[i]
	return o.doc.at(o.at.with(p...))
}

// ruleFor is the name of the first assignment rule of worktype, or "".
func (c *Config) ruleFor(worktype string) string {
	for _, r := range c.AssignmentRules {
		if r.Worktype == worktype {
			return r.Name
		}
	}
	return ""
}

// rulePath maps a worktype field an assignment rule sets onto the rule's field.
func (c *Config) rulePath(worktype string, p path, ref string) (path, bool) {
	rule := c.ruleFor(worktype)
	if rule == "" {
		return nil, false
	}
	switch p[0] {
	case "defaultQueue":
		return path{"queue"}, true
	case "defaultPriority":
		return path{"priorityScore"}, true
	case "defaultSkills":
		r := c.AssignmentRules[c.indexOf("assignmentRules", rule)]
		if j := slices.Index(r.Skills, ref); j >= 0 {
			return path{"skills", j}, true
		}
		return path{"skills"}, true
	}
	return nil, false
}
