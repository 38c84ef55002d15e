package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// File is one named config file's content, the input of ParseFiles.
type File struct {
	Name string // shown in diagnostics, e.g. routing/prod.yaml
	Data []byte
}

// Limits that keep a hostile document from exhausting memory or stack: configs are a few
// hundred nodes deep at most, so these never bind on real input.
const (
	maxDepth     = 64           // nesting of mappings and sequences
	maxNodes     = 1_000_000    // nodes visited per document, aliases expanded
	maxFileBytes = MaxFileBytes // bytes per file
)

// MaxFileBytes is the largest file Load reads: a bigger config is split into several
// files of a directory (export --out DIR does that itself).
const MaxFileBytes = 16 << 20

// Load reads the config at path: a file, or a directory whose *.yaml, *.yml and *.json
// files (not subdirectories) are merged in name order. An invalid config yields a
// *ValidationError (errors.Is(err, ErrInvalid)); anything else is an I/O or usage error.
func Load(path string) (*Config, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	names := []string{path}
	if fi.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("load config: %w", err)
		}
		names = names[:0]
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".yaml", ".yml", ".json":
				if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
					names = append(names, filepath.Join(path, e.Name()))
				}
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("load config %s: directory has no .yaml, .yml or .json files: point at a config file or a directory of them", path)
		}
	}
	files := make([]File, 0, len(names))
	for _, name := range names {
		data, err := readFile(name)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: name, Data: data})
	}
	return ParseFiles(files)
}

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("load config %s: %w", name, err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("load config %s: file is larger than %d MiB: split the config into several files of a directory (routekeeper export --out DIR writes an org that way)", name, maxFileBytes>>20)
	}
	return data, nil
}

// Parse parses and validates one config file.
func Parse(name string, data []byte) (*Config, error) {
	return ParseFiles([]File{{Name: name, Data: data}})
}

// ParseFiles parses the files of one config, merges them and validates the result. It
// returns a *ValidationError listing every problem found, or the merged config.
//
// Every problem is reported in one run wherever the documents can still be read: a value
// the schema refuses is reported and left out (an entity whose name is unusable, as a
// whole), and the semantic checks run on the rest. Only a document that is not YAML the
// loader can read (a syntax error, a duplicate key, an unsupported YAML feature) stops
// the semantic checks, which would then see a config with pieces missing.
func ParseFiles(files []File) (*Config, error) {
	var (
		diags      []Diagnostic
		frags      []fragment
		unreadable bool
	)
	for _, f := range files {
		fr, ds, ok := parseFile(f)
		diags = append(diags, ds...)
		frags = append(frags, fr...)
		unreadable = unreadable || !ok
	}
	if unreadable {
		return nil, &ValidationError{Diagnostics: sortDiagnostics(diags)}
	}
	cfg, mds := merge(files, frags)
	diags = append(diags, mds...)
	diags = append(diags, cfg.semanticDiagnostics()...)
	if len(diags) > 0 {
		return nil, &ValidationError{Diagnostics: sortDiagnostics(diags)}
	}
	cfg.markValidated()
	return cfg, nil
}

// fragment is one YAML document, decoded: what of it the schema accepts.
type fragment struct {
	doc *yamlDoc
	cfg Config
	// kept holds, per top-level list, the document index of each element of cfg's list,
	// when the schema made some leave out (nil: every element, in order).
	kept map[string][]int
	// flawed holds, per top-level list, the indexes in cfg's list of the elements the
	// schema refused parts of; flawedTop the top-level members it refused ("" for the
	// document itself). Checks that would only repeat those problems skip them.
	flawed    map[string]map[int]bool
	flawedTop map[string]bool
}

// flawTop records that the schema refused the top-level values at cuts.
func (fr *fragment) flawTop(cuts []path) {
	for _, p := range cuts {
		if fr.flawedTop == nil {
			fr.flawedTop = map[string]bool{}
		}
		key := ""
		if len(p) > 0 {
			key, _ = p[0].(string)
		}
		fr.flawedTop[key] = true
	}
}

// pos is a 1-based line and column.
type pos struct{ line, col int32 }

// yamlDoc is one YAML document of a file with the position of every value: for an
// object member the position of its key, for an array element that of the element.
// Positions are keyed by a 64-bit hash of the value's JSON Pointer, not the pointer: a
// 5,000-queue config has 330,000 of them.
//
// They are appended in the order the converter meets them, which costs next to nothing,
// instead of inserted into one map, where each insert was a cache miss (a tenth of the
// loader's time): those of an element of a big list (queues[12]) lie together and are
// searched there, the few others (top-level members, a document read whole) go to a map
// built at their first lookup. Lookups are rare: one per diagnostic.
type yamlDoc struct {
	file  string
	root  pos
	elems []posEntry           // positions inside elements of the big lists, in order
	spans map[string][]posSpan // list key -> per element index, its run of elems
	rest  []posEntry           // every other position, in order
	mu    sync.Mutex           // guards index
	index map[uint64]pos       // rest by hash, built at the first lookup (last one wins)
	seen  int                  // how much of rest index holds
}

// posEntry is one recorded position: the pointerHash of its JSON Pointer, and where.
type posEntry struct {
	h  uint64
	at pos
}

// posSpan is the run elems[start:end] of one list element's positions.
type posSpan struct{ start, end int32 }

// newYAMLDoc returns the empty index of a document whose elements span about lines lines:
// a config holds about one position per line (a key, or a list element).
func newYAMLDoc(file string, root pos, lines int) *yamlDoc {
	return &yamlDoc{file: file, root: root, elems: make([]posEntry, 0, lines)}
}

// record records the position of the value whose pointer hashes to h: in the run of the
// element being converted (startElement), if any.
func (d *yamlDoc) record(h uint64, at pos, inElement bool) {
	if inElement {
		d.elems = append(d.elems, posEntry{h, at})
		return
	}
	d.rest = append(d.rest, posEntry{h, at})
}

// startElement begins the run of element i of list key; endElement ends it. ok is false
// when i is not the next element of key (never, as parsePieces converts them in order):
// its positions are then recorded with the others.
func (d *yamlDoc) startElement(key string, i int) (ok bool) {
	if d.spans == nil {
		d.spans = map[string][]posSpan{}
	}
	if len(d.spans[key]) != i || len(d.elems) > math.MaxInt32 {
		return false
	}
	n := int32(len(d.elems))
	d.spans[key] = append(d.spans[key], posSpan{n, n})
	return true
}

func (d *yamlDoc) endElement(key string) {
	s := d.spans[key]
	s[len(s)-1].end = int32(len(d.elems))
}

// lineCount is the number of lines of data.
func lineCount(data []byte) int { return bytes.Count(data, []byte{'\n'}) + 1 }

// FNV-1a, the hash of the position index: a pointer's hash extends its parent's.
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

// pointerHash extends h, the hash of a JSON Pointer, with one more reference token.
func pointerHash(h uint64, token string) uint64 {
	h ^= '/'
	h *= fnvPrime
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch c { // escaped as in the pointer (RFC 6901)
		case '~':
			h = (h ^ '~') * fnvPrime
			c = '0'
		case '/':
			h = (h ^ '~') * fnvPrime
			c = '1'
		}
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

// hashOf is the pointerHash of p's JSON Pointer.
func (p path) hash() uint64 {
	h := fnvOffset
	for _, s := range p {
		switch s := s.(type) {
		case int:
			h = pointerHash(h, strconv.Itoa(s))
		case string:
			h = pointerHash(h, s)
		}
	}
	return h
}

// at returns the position of p itself, if it was declared.
func (d *yamlDoc) at(p path) (pos, bool) {
	h := p.hash()
	if len(p) >= 2 {
		key, _ := p[0].(string)
		if i, isIdx := p[1].(int); isIdx && i >= 0 && i < len(d.spans[key]) {
			s := d.spans[key][i]
			for j := s.end - 1; j >= s.start; j-- { // the last one recorded wins
				if e := d.elems[j]; e.h == h {
					return e.at, true
				}
			}
			return pos{}, false
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.index == nil {
		d.index = make(map[uint64]pos, len(d.rest))
	}
	for _, e := range d.rest[d.seen:] {
		d.index[e.h] = e.at
	}
	d.seen = len(d.rest)
	at, ok := d.index[h]
	return at, ok
}

// locate returns the position of p, or of its nearest ancestor that has one.
func (d *yamlDoc) locate(p path) pos {
	for i := len(p); i >= 0; i-- {
		if at, ok := d.at(p[:i]); ok {
			return at
		}
	}
	return d.root
}

func (d *yamlDoc) diag(rule Rule, p path, msg string) Diagnostic {
	at := d.locate(p)
	return Diagnostic{File: d.file, Line: int(at.line), Column: int(at.col), Path: p.String(), Rule: rule, Message: msg}
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the problems yaml.v3 reports from its parser (not its scanner). For
// those it prints a 0-based line (and none at all for the first line), so the loader adds
// one to report the 1-based line of the collection being parsed.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// syntaxDiagnostic turns a yaml.v3 parse error into a diagnostic with a 1-based line.
func syntaxDiagnostic(f File, err error) Diagnostic {
	d := Diagnostic{File: f.Name, Line: 1, Rule: RuleSyntax}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		d.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if parserProblems[msg] {
			d.Line++
		}
	}
	d.Message = "invalid YAML: " + msg
	if l := lineAt(f.Data, d.Line); l != nil {
		if indent := l[:len(l)-len(bytes.TrimLeft(l, " \t"))]; bytes.Contains(indent, []byte("\t")) {
			d.Message += " (indent with spaces, not tabs)"
		}
	}
	return d
}

// lineAt returns the 1-based line n of data, or nil.
func lineAt(data []byte, n int) []byte {
	for i := 1; ; i++ {
		end := bytes.IndexByte(data, '\n')
		if i == n {
			if end < 0 {
				return data
			}
			return data[:end]
		}
		if end < 0 {
			return nil
		}
		data = data[end+1:]
	}
}

// parseFile reads a file into fragments, one per YAML document, in pieces when its shape
// allows (splitFile) and whole otherwise. ok is false when a document could not be read.
func parseFile(f File) (frags []fragment, diags []Diagnostic, ok bool) {
	if entries, split := splitFile(f.Data); split {
		if fr, ds, read := parsePieces(f, entries); read {
			return fr, ds, true
		}
	}
	return parseWhole(f)
}

// parseWhole reads every document of a file as one node tree each.
func parseWhole(f File) (frags []fragment, diags []Diagnostic, ok bool) {
	ok = true
	dec := yaml.NewDecoder(bytes.NewReader(f.Data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return frags, append(diags, syntaxDiagnostic(f, err)), false
		}
		if len(n.Content) == 0 || n.Content[0].ShortTag() == "!!null" {
			continue // empty document: only comments, or "---" alone
		}
		doc := newYAMLDoc(f.Name, pos{int32(n.Line), int32(n.Column)}, 0) // no elements: all in rest
		c := converter{doc: doc, budget: maxNodes}                        // per document: aliases expand within one
		v := c.convert(n.Content[0], fnvOffset, 0)
		if len(c.diags) > 0 {
			diags, ok = append(diags, c.diags...), false
			continue
		}
		fr := fragment{doc: doc}
		diags = append(diags, fr.decodeDoc(v)...)
		frags = append(frags, fr)
	}
	return frags, diags, ok
}

// parsePieces reads a file split by splitFile, one small document per piece. read is
// false when a piece does not parse on its own (the file is then read whole).
func parsePieces(f File, entries []topEntry) (frags []fragment, diags []Diagnostic, read bool) {
	if len(entries) == 0 {
		return nil, nil, true // only comments
	}
	doc := newYAMLDoc(f.Name, pos{int32(entries[0].whole.line), 1}, lineCount(f.Data))
	fr := fragment{doc: doc}
	// Aliases expand within a piece; the budget bounds the whole file.
	c := converter{doc: doc, budget: max(maxNodes, len(f.Data))}
	rest := map[string]any{}
	for _, e := range entries {
		if e.isList {
			doc.record(pointerHash(fnvOffset, e.key), pos{int32(e.whole.line), int32(e.keyCol)}, false)
			continue
		}
		n, err := parsePiece(f.Data, e.whole)
		if err != nil || n == nil || n.Kind != yaml.MappingNode {
			return nil, nil, false
		}
		c.offset = int32(e.whole.line - 1)
		if obj, ok := c.convert(n, fnvOffset, 0).(map[string]any); ok {
			maps.Copy(rest, obj)
		}
	}
	if len(c.diags) > 0 {
		return nil, c.diags, false
	}
	diags = fr.decodeTop(rest)
	for _, e := range entries {
		if !e.isList {
			continue
		}
		listHash := pointerHash(fnvOffset, e.key)
		fr.list(e.key) // present, even if no element is valid
		for i, it := range e.items {
			n, err := parsePiece(f.Data, it)
			if err != nil || n == nil || n.Kind != yaml.SequenceNode || len(n.Content) != 1 {
				return nil, nil, false
			}
			c.offset = int32(it.line - 1)
			v := c.element(n.Content[0], e.key, i, listHash)
			if len(c.diags) > 0 {
				return nil, c.diags, false
			}
			diags = append(diags, fr.decodeElement(e.key, i, v)...)
		}
	}
	return []fragment{fr}, diags, true
}

// parsePiece parses the YAML document of data[s.start:s.end] and returns its root node
// (nil for an empty one).
func parsePiece(data []byte, s span) (*yaml.Node, error) {
	var n yaml.Node
	// Unmarshal reads the bytes in place; a Decoder would copy them through a reader.
	if err := yaml.Unmarshal(data[s.start:s.end], &n); err != nil {
		return nil, err
	}
	if len(n.Content) == 0 {
		return nil, nil
	}
	return n.Content[0], nil
}

// decodeDoc decodes a whole document's value into fr: the top-level members checked
// against the schema as one object, and each element of the big lists on its own, as
// parsePieces does.
func (fr *fragment) decodeDoc(v any) []Diagnostic {
	obj, ok := v.(map[string]any)
	if !ok {
		ds, cuts := schemaCheck(rootSchema, v, fr.doc.diag)
		fr.flawTop(cuts)
		return ds
	}
	lists := map[string][]any{}
	for key := range splitLists {
		if arr, ok := obj[key].([]any); ok {
			lists[key] = arr
			delete(obj, key)
		}
	}
	diags := fr.decodeTop(obj)
	for _, key := range listKeys {
		arr, ok := lists[key]
		if !ok {
			continue
		}
		fr.list(key)
		for i, e := range arr {
			diags = append(diags, fr.decodeElement(key, i, e)...)
		}
	}
	return diags
}

// decodeTop checks the top-level members (the big lists left out) against the schema,
// leaves out what it refuses, and decodes the rest into fr.cfg.
func (fr *fragment) decodeTop(obj map[string]any) []Diagnostic {
	diags, cuts := schemaCheck(rootSchema, obj, fr.doc.diag)
	fr.flawTop(cuts)
	v, whole := prune(obj, cuts)
	if !whole {
		return diags
	}
	if err := decodeStrict(v, &fr.cfg); err != nil {
		diags = append(diags, fr.doc.diag(RuleSchema, nil, bugMessage(err)))
	}
	return diags
}

// decodeElement checks element i of the top-level list key against its schema, leaves
// out what the schema refuses, and appends the rest to fr.cfg's list. An element whose
// name is unusable is left out whole (its name recovered, where a misspelt key holds it,
// so that references to it do not all fail too).
func (fr *fragment) decodeElement(key string, i int, v any) []Diagnostic {
	at := path{key, i}
	diag := func(r Rule, p path, msg string) Diagnostic { return fr.doc.diag(r, at.with(p...), msg) }
	diags, cuts := schemaCheck(elementSchemas[key], v, diag)
	if len(cuts) > 0 {
		var whole bool
		if v, whole = prune(v, cuts); !whole {
			return diags
		}
		if !recoverName(v) {
			return diags
		}
	}
	var err error
	switch key {
	case "skills":
		var x Skill
		if err = decodeStrict(v, &x); err == nil {
			fr.cfg.Skills = append(fr.cfg.Skills, x)
		}
	case "queues":
		var x Queue
		if err = decodeStrict(v, &x); err == nil {
			fr.cfg.Queues = append(fr.cfg.Queues, x)
		}
	case "worktypes":
		var x Worktype
		if err = decodeStrict(v, &x); err == nil {
			fr.cfg.Worktypes = append(fr.cfg.Worktypes, x)
		}
	case "assignmentRules":
		var x AssignmentRule
		if err = decodeStrict(v, &x); err == nil {
			fr.cfg.AssignmentRules = append(fr.cfg.AssignmentRules, x)
		}
	}
	if err != nil {
		return append(diags, diag(RuleSchema, nil, bugMessage(err)))
	}
	if fr.kept == nil {
		fr.kept = map[string][]int{}
	}
	if len(cuts) > 0 {
		if fr.flawed == nil {
			fr.flawed = map[string]map[int]bool{}
		}
		if fr.flawed[key] == nil {
			fr.flawed[key] = map[int]bool{}
		}
		fr.flawed[key][len(fr.kept[key])] = true
	}
	fr.kept[key] = append(fr.kept[key], i)
	return diags
}

// list makes fr.cfg's list key present (non-nil), as the document declares it.
func (fr *fragment) list(key string) {
	switch key {
	case "skills":
		fr.cfg.Skills = concat(fr.cfg.Skills, []Skill{})
	case "queues":
		fr.cfg.Queues = concat(fr.cfg.Queues, []Queue{})
	case "worktypes":
		fr.cfg.Worktypes = concat(fr.cfg.Worktypes, []Worktype{})
	case "assignmentRules":
		fr.cfg.AssignmentRules = concat(fr.cfg.AssignmentRules, []AssignmentRule{})
	}
}

// recoverName gives an element the schema refused a usable name where it can: its own,
// or the value of an unknown key that stands for "name" (nmae:, Name:). false when it
// has none: it is left out.
func recoverName(v any) bool {
	obj, ok := v.(map[string]any)
	if !ok {
		return false
	}
	if s, ok := obj["name"].(string); ok && s != "" {
		return true
	}
	for k, x := range obj {
		if s, ok := x.(string); ok && s != "" && (suggest(k, []string{"name"}) != "" || strings.EqualFold(k, "nmae")) {
			obj["name"] = s
			delete(obj, k)
			return true
		}
	}
	return false
}

// bugMessage is the diagnostic of a value the schema accepted and the Go types do not:
// the two disagree, a bug reported where the user can see it.
func bugMessage(err error) string {
	return "cannot decode document: " + err.Error() + " (this is a routekeeper bug; please report it)"
}

// prune removes from v each value at cuts (paths the schema refused): the member of the
// object that holds it, so no array index moves (an array holding a refused element goes
// as a whole). whole is false when v itself is refused.
func prune(v any, cuts []path) (_ any, whole bool) {
	for _, p := range cuts {
		for len(p) > 0 {
			if _, isIdx := p[len(p)-1].(int); !isIdx {
				break
			}
			p = p[:len(p)-1]
		}
		if len(p) == 0 {
			return nil, false
		}
		parent := v
		for _, seg := range p[:len(p)-1] {
			switch seg := seg.(type) {
			case string:
				m, _ := parent.(map[string]any)
				parent = m[seg]
			case int:
				a, _ := parent.([]any)
				if seg < 0 || seg >= len(a) {
					parent = nil
				} else {
					parent = a[seg]
				}
			}
		}
		if m, ok := parent.(map[string]any); ok {
			delete(m, p[len(p)-1].(string))
		}
	}
	return v, true
}

// converter turns a yaml.v3 node tree into JSON values (map[string]any, []any, string,
// json.Number, bool, nil), recording positions and rejecting what JSON cannot hold.
type converter struct {
	doc    *yamlDoc
	diags  []Diagnostic
	budget int
	offset int32 // lines before the piece being converted (parsePieces)
	// at is the path of the node being converted, as a stack of segments that is only
	// turned into a path for a diagnostic; seen holds one reusable duplicate-key index per
	// depth.
	at   []segment
	seen []map[string]int
	// inElement is set while element converts an element whose positions its document
	// records as one run (yamlDoc.startElement).
	inElement bool
}

// segment is one step of a converter's path: an object key, or an array index.
type segment struct {
	key   string
	index int
	isIdx bool
}

// path returns the path of the node being converted.
func (c *converter) path() path {
	p := make(path, len(c.at))
	for i, s := range c.at {
		if s.isIdx {
			p[i] = s.index
		} else {
			p[i] = s.key
		}
	}
	return p
}

// posOf is n's position in the file.
func (c *converter) posOf(n *yaml.Node) pos { return pos{int32(n.Line) + c.offset, int32(n.Column)} }

func (c *converter) fail(n *yaml.Node, format string, args ...any) {
	at := c.posOf(n)
	c.diags = append(c.diags, Diagnostic{File: c.doc.file, Line: int(at.line), Column: int(at.col),
		Path: c.path().String(), Rule: RuleSyntax, Message: fmt.Sprintf(format, args...)})
}

// element converts n, element i of the top-level list key (whose pointer hashes to
// listHash), recording its position.
func (c *converter) element(n *yaml.Node, key string, i int, listHash uint64) any {
	h := pointerHash(listHash, strconv.Itoa(i))
	c.inElement = c.doc.startElement(key, i)
	c.doc.record(h, c.posOf(n), c.inElement)
	c.at = append(c.at[:0], segment{key: key}, segment{index: i, isIdx: true})
	v := c.convert(n, h, 2)
	c.at = c.at[:0]
	if c.inElement {
		c.doc.endElement(key)
		c.inElement = false
	}
	return v
}

// seenAt returns the empty duplicate-key index for a mapping at depth.
func (c *converter) seenAt(depth, size int) map[string]int {
	for len(c.seen) <= depth {
		c.seen = append(c.seen, nil)
	}
	if c.seen[depth] == nil {
		c.seen[depth] = make(map[string]int, size)
	} else {
		clear(c.seen[depth])
	}
	return c.seen[depth]
}

// convert converts n, whose path is c.at and whose JSON Pointer hashes to h.
func (c *converter) convert(n *yaml.Node, h uint64, depth int) any {
	c.budget--
	if c.budget < 0 {
		if c.budget == -1 {
			c.fail(n, "document is too large (more than %d nodes after expanding aliases)", maxNodes)
		}
		return nil
	}
	if depth > maxDepth {
		c.fail(n, "document is nested more than %d levels deep", maxDepth)
		return nil
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			c.fail(n, "unknown alias")
			return nil
		}
		return c.convert(n.Alias, h, depth+1)
	case yaml.MappingNode:
		obj := make(map[string]any, len(n.Content)/2)
		seen := c.seenAt(depth, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			for k.Kind == yaml.AliasNode && k.Alias != nil {
				k = k.Alias
			}
			if k.Kind != yaml.ScalarNode {
				c.fail(n.Content[i], "mapping keys must be plain strings")
				continue
			}
			if k.ShortTag() == "!!merge" {
				c.fail(n.Content[i], "merge keys (<<) are not supported: write the fields out")
				continue
			}
			key := k.Value
			c.at = append(c.at, segment{key: key})
			if line, dup := seen[key]; dup {
				c.fail(n.Content[i], "duplicate key %q (first defined on line %d): remove one", key, line)
				c.at = c.at[:len(c.at)-1]
				continue
			}
			seen[key] = n.Content[i].Line + int(c.offset)
			kh := pointerHash(h, key)
			c.doc.record(kh, c.posOf(n.Content[i]), c.inElement)
			obj[key] = c.convert(v, kh, depth+1)
			c.at = c.at[:len(c.at)-1]
		}
		return obj
	case yaml.SequenceNode:
		arr := make([]any, 0, len(n.Content))
		for i, e := range n.Content {
			c.at = append(c.at, segment{index: i, isIdx: true})
			eh := pointerHash(h, strconv.Itoa(i))
			c.doc.record(eh, c.posOf(e), c.inElement)
			arr = append(arr, c.convert(e, eh, depth+1))
			c.at = c.at[:len(c.at)-1]
		}
		return arr
	case yaml.ScalarNode:
		return c.scalar(n)
	}
	c.fail(n, "unsupported YAML node")
	return nil
}

func (c *converter) scalar(n *yaml.Node) any {
	switch tag := n.ShortTag(); tag {
	case "!!null":
		return nil
	case "!!str", "!!timestamp":
		// Timestamps stay strings, as with sigs.k8s.io/yaml; no field of the format is one.
		return n.Value
	case "!!bool":
		// The plain spellings straight away: n.Decode builds a yaml.v3 decoder per
		// scalar (a quarter of the loader's allocations on a 5,000-queue config).
		switch n.Value {
		case "true", "True", "TRUE":
			return true
		case "false", "False", "FALSE":
			return false
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			c.fail(n, "invalid boolean %q: write true or false", n.Value)
			return nil
		}
		return b
	case "!!int", "!!float":
		if num, ok := plainNumber(n.Value, tag == "!!float"); ok {
			return num
		}
		var v any
		if err := n.Decode(&v); err != nil {
			c.fail(n, "invalid number %q", n.Value)
			return nil
		}
		switch v := v.(type) {
		case int:
			return json.Number(strconv.Itoa(v))
		case int64:
			return json.Number(strconv.FormatInt(v, 10))
		case uint64:
			return json.Number(strconv.FormatUint(v, 10))
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				c.fail(n, "%s is not a finite number", n.Value)
				return nil
			}
			return json.Number(strconv.FormatFloat(v, 'g', -1, 64))
		}
		c.fail(n, "invalid number %q", n.Value)
		return nil
	default:
		c.fail(n, "unsupported YAML tag %s: remove it", tag)
		return nil
	}
}

// plainNumber returns the number of a scalar written as a plain decimal (-12, 0, 2.5),
// as n.Decode would read it, without its cost; ok is false for any other spelling
// (1e3, 0x1f, 010, 1_000, +1, .5, or a fraction not tagged !!float: "!!int 1.5"),
// which convert leaves to yaml.v3.
func plainNumber(s string, float bool) (_ json.Number, ok bool) {
	digits := strings.TrimPrefix(s, "-")
	intPart, frac, isFloat := strings.Cut(digits, ".")
	if intPart == "" || len(intPart) > 18 || !allDigits(intPart) ||
		(len(intPart) > 1 && intPart[0] == '0') || (isFloat && (!float || frac == "" || !allDigits(frac))) {
		return "", false
	}
	if !isFloat {
		if digits == "0" {
			return "0", true // -0 is 0
		}
		return json.Number(s), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", false
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// source records where a loaded config's entities came from, so diagnostics found on
// the merged config point into the right file.
type source struct {
	first       *yamlDoc
	apiVersion  *origin
	environment *origin
	items       map[string][]origin // top-level list key -> origin per element
	// flawed marks the elements (list key -> index) and flawedTop the top-level members
	// the schema refused parts of: their own problems are reported, and the checks that
	// would only say them again in other words (overflowQueue needs maxCapacity, after an
	// invalid maxCapacity) are skipped.
	flawed    map[string]map[int]bool
	flawedTop map[string]bool
	// validated is the fingerprint of the config as the loader returned it, valid; a
	// config that still has it need not be validated again (fingerprinted says it is set).
	validated     fingerprint
	fingerprinted bool
}

// origin is an element's document and its path there, e.g. queues[0] of b.yaml.
type origin struct {
	doc *yamlDoc
	at  path
}

// listKeys are the top-level lists of a config, in output order.
var listKeys = []string{"divisions", "workbins", "skills", "queues", "worktypes", "assignmentRules"}

func (c *Config) listLen(key string) int {
	switch key {
	case "divisions":
		return len(c.Divisions)
	case "workbins":
		return len(c.Workbins)
	case "skills":
		return len(c.Skills)
	case "queues":
		return len(c.Queues)
	case "worktypes":
		return len(c.Worktypes)
	case "assignmentRules":
		return len(c.AssignmentRules)
	}
	return -1
}

// merge concatenates fragments into one config and checks that they agree.
func merge(files []File, frags []fragment) (*Config, []Diagnostic) {
	cfg := &Config{src: &source{items: map[string][]origin{}, flawed: map[string]map[int]bool{}, flawedTop: map[string]bool{}}}
	if len(frags) > 0 {
		cfg.src.first = frags[0].doc
	} else if len(files) > 0 {
		cfg.src.first = newYAMLDoc(files[0].Name, pos{1, 1}, 0)
	}
	var diags []Diagnostic
	for _, fr := range frags {
		maps.Copy(cfg.src.flawedTop, fr.flawedTop)
		f := fr.cfg
		if f.APIVersion != "" {
			if cfg.APIVersion == "" {
				cfg.APIVersion = f.APIVersion
				cfg.src.apiVersion = &origin{doc: fr.doc, at: path{"apiVersion"}}
			} else if f.APIVersion != cfg.APIVersion {
				prev := cfg.src.apiVersion
				diags = append(diags, fr.doc.diag(RuleMerge, path{"apiVersion"}, fmt.Sprintf(
					"apiVersion %q differs from %q at %s:%d: all files of a config must agree",
					f.APIVersion, cfg.APIVersion, prev.doc.file, prev.doc.locate(prev.at).line)))
			}
		}
		if f.Environment != "" {
			if cfg.Environment == "" {
				cfg.Environment = f.Environment
				cfg.src.environment = &origin{doc: fr.doc, at: path{"environment"}}
			} else if f.Environment != cfg.Environment {
				prev := cfg.src.environment
				diags = append(diags, fr.doc.diag(RuleMerge, path{"environment"}, fmt.Sprintf(
					"environment %q differs from %q at %s:%d: all files of a config must agree (use one directory per environment)",
					f.Environment, cfg.Environment, prev.doc.file, prev.doc.locate(prev.at).line)))
			}
		}
		add := func(key string, n int) {
			kept := fr.kept[key] // the document index of each element, when some were left out
			offset := len(cfg.src.items[key])
			for i := range fr.flawed[key] {
				if cfg.src.flawed[key] == nil {
					cfg.src.flawed[key] = map[int]bool{}
				}
				cfg.src.flawed[key][offset+i] = true
			}
			for i := range n {
				j := i
				if kept != nil {
					j = kept[i]
				}
				cfg.src.items[key] = append(cfg.src.items[key], origin{doc: fr.doc, at: path{key, j}})
			}
		}
		cfg.Divisions = concat(cfg.Divisions, f.Divisions)
		add("divisions", len(f.Divisions))
		cfg.Workbins = concat(cfg.Workbins, f.Workbins)
		add("workbins", len(f.Workbins))
		cfg.Skills = concat(cfg.Skills, f.Skills)
		add("skills", len(f.Skills))
		cfg.Queues = concat(cfg.Queues, f.Queues)
		add("queues", len(f.Queues))
		cfg.Worktypes = concat(cfg.Worktypes, f.Worktypes)
		add("worktypes", len(f.Worktypes))
		cfg.AssignmentRules = concat(cfg.AssignmentRules, f.AssignmentRules)
		add("assignmentRules", len(f.AssignmentRules))
	}
	return cfg, diags
}

// concat appends src to dst keeping presence: a list a file declares empty ("workbins: []")
// stays present (non-nil) in the merged config, since an empty divisions or workbins list
// means "no reference of that kind resolves", not "unchecked".
func concat[T any](dst, src []T) []T {
	if dst == nil && src != nil {
		dst = make([]T, 0, len(src))
	}
	return append(dst, src...)
}

// diag builds a diagnostic for p, a path in the merged config, translating it to the
// file, line and document path it came from when the config was loaded.
func (c *Config) diag(rule Rule, p path, format string, args ...any) Diagnostic {
	msg := fmt.Sprintf(format, args...)
	if c.src == nil {
		return Diagnostic{Path: p.String(), Rule: rule, Message: msg}
	}
	if len(p) >= 2 {
		if key, ok := p[0].(string); ok {
			if i, ok := p[1].(int); ok {
				if origins := c.src.items[key]; len(origins) == c.listLen(key) && i >= 0 && i < len(origins) {
					o := origins[i]
					return o.doc.diag(rule, o.at.with(p[2:]...), msg)
				}
			}
		}
	}
	if len(p) >= 1 {
		var o *origin
		switch p[0] {
		case "apiVersion":
			o = c.src.apiVersion
		case "environment":
			o = c.src.environment
		}
		if o != nil {
			return o.doc.diag(rule, o.at.with(p[1:]...), msg)
		}
	}
	if c.src.first != nil {
		d := c.src.first.diag(rule, nil, msg)
		d.Path = p.String()
		return d
	}
	return Diagnostic{Path: p.String(), Rule: rule, Message: msg}
}

// sameItems reports whether a and b hold the same strings, ignoring order.
func sameItems(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
