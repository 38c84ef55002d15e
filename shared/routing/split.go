package routing

import (
	"bytes"
	"regexp"
)

// Splitting a file into pieces
//
// yaml.v3 builds a document's whole node tree before it can be read, about 14 bytes of
// memory per byte of YAML (a 7.8 MB export of 5,000 queues is a 106 MB tree), and the
// loader's JSON values and schema validation come on top. So a file written as most are
// (and as export writes them) is read in pieces instead: each top-level member, and each
// element of the big lists (skills, queues, worktypes, assignmentRules) on its own, each
// piece a small YAML document parsed, checked against its part of the schema, decoded
// and dropped before the next. A piece keeps its place in the file: its lines are
// counted from where it starts, and columns are unchanged.
//
// The split only reads a file's line structure: a block mapping at column 1 whose list
// members are block sequences with every element starting at one indentation. Anything
// else (several documents, a top-level flow mapping, a key written twice, tabs, a line
// that fits none of this) is read whole, as is a file any of whose pieces does not parse
// on its own (an alias to an anchor in another piece, a quoted scalar running across an
// element boundary): the whole read then says exactly what is wrong, where.

// splitLists are the top-level lists whose elements are pieces of their own; their
// schema constrains only the elements (no uniqueItems, minItems or maxItems).
var splitLists = map[string]string{
	"skills": "Skill", "queues": "Queue", "worktypes": "Worktype", "assignmentRules": "AssignmentRule",
}

// span is a byte range of a file and the 1-based line it starts on.
type span struct{ start, end, line int }

// topEntry is a top-level member of a file: its key, its text (key line included) and,
// for a list of splitLists written as a block sequence, the text of each element.
type topEntry struct {
	key     string
	keyCol  int
	whole   span
	items   []span
	isList  bool // a splitLists member with a block sequence value
	seqCol  int  // the column of its elements' "-" (0-based)
	started bool // its first content line was seen
}

// topKey is a top-level key line: "key:" and what follows on the line.
var topKey = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_-]*):(?:[ \t]+(.*))?$`)

// splitFile returns the top-level members of data, or false when it must be read whole.
func splitFile(data []byte) ([]topEntry, bool) {
	var entries []topEntry
	seen := map[string]bool{}
	var cur *topEntry
	docStart := false
	line := 0
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			next = off + end + 1
		} else {
			end = len(data) - off
		}
		text := bytes.TrimRight(data[off:off+end], "\r")
		line++
		lineStart := off
		off = next

		content := bytes.TrimLeft(text, " ")
		indent := len(text) - len(content)
		switch {
		case len(content) == 0 || content[0] == '#':
			continue // blank or comment: belongs to whatever it is in
		case bytes.HasPrefix(text, []byte("\t")) || bytes.HasPrefix(content, []byte("\t")):
			return nil, false // tabs: the whole read says why that is wrong
		}
		if indent == 0 {
			if cur != nil && cur.isList && cur.seqCol == 0 && isSeqEntry(content) {
				cur.items = append(cur.items, span{start: lineStart, line: line})
				continue
			}
			if isDocMarker(content) {
				if docStart || len(entries) > 0 {
					return nil, false // a second document
				}
				docStart = true
				continue
			}
			m := topKey.FindSubmatch(content)
			if m == nil {
				return nil, false // a top-level sequence, a flow mapping, a complex key ...
			}
			key := string(m[1])
			if seen[key] {
				return nil, false // the whole read reports the duplicate key
			}
			seen[key] = true
			if cur != nil {
				cur.close(lineStart)
			}
			entries = append(entries, topEntry{key: key, keyCol: 1, whole: span{start: lineStart, line: line}})
			cur = &entries[len(entries)-1]
			rest := bytes.TrimSpace(m[2])
			if _, ok := splitLists[key]; ok && (len(rest) == 0 || rest[0] == '#') {
				cur.isList = true // decided by its first content line
			}
			continue
		}
		if cur == nil {
			return nil, false // indented content before any key
		}
		if !cur.isList {
			continue
		}
		if !cur.started {
			cur.started = true
			if !isSeqEntry(content) {
				cur.isList = false // a block mapping or scalar: the schema will say
				continue
			}
			cur.seqCol = indent
		}
		switch {
		case indent == cur.seqCol && isSeqEntry(content):
			cur.items = append(cur.items, span{start: lineStart, line: line})
		case indent <= cur.seqCol:
			return nil, false // less indented than the elements: not this shape
		}
	}
	if cur != nil {
		cur.close(len(data))
	}
	return entries, true
}

// close ends the entry (and its last element) at byte end.
func (e *topEntry) close(end int) {
	e.whole.end = end
	for i := range e.items {
		if i+1 < len(e.items) {
			e.items[i].end = e.items[i+1].start
		} else {
			e.items[i].end = end
		}
	}
	if e.isList && len(e.items) == 0 {
		e.isList = false // "queues:" with nothing under it
	}
}

// isSeqEntry reports whether a line's content starts a block sequence entry.
func isSeqEntry(content []byte) bool {
	return len(content) > 0 && content[0] == '-' && (len(content) == 1 || content[1] == ' ')
}

// isDocMarker reports whether a line's content is a document marker (--- or ...) or a
// directive (%YAML, %TAG).
func isDocMarker(content []byte) bool {
	if content[0] == '%' {
		return true
	}
	for _, m := range [][]byte{[]byte("---"), []byte("...")} {
		if bytes.HasPrefix(content, m) && (len(content) == 3 || content[3] == ' ' || content[3] == '#') {
			return true
		}
	}
	return false
}
