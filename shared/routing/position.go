package routing

import (
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
	return o.doc.file, p.line, p.line > 0
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
