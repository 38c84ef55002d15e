package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

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
	maxDepth     = 64        // nesting of mappings and sequences
	maxNodes     = 1_000_000 // nodes visited per document, aliases expanded
	maxFileBytes = 16 << 20  // bytes per file
)

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
		return nil, fmt.Errorf("load config %s: file is larger than %d MiB; split the config into several files", name, maxFileBytes>>20)
	}
	return data, nil
}

// Parse parses and validates one config file.
func Parse(name string, data []byte) (*Config, error) {
	return ParseFiles([]File{{Name: name, Data: data}})
}

// ParseFiles parses the files of one config, merges them and validates the result. It
// returns a *ValidationError listing every problem found, or the merged config.
func ParseFiles(files []File) (*Config, error) {
	var (
		diags []Diagnostic
		frags []fragment
	)
	for _, f := range files {
		fr, ds := parseFile(f)
		diags = append(diags, ds...)
		frags = append(frags, fr...)
	}
	if len(diags) > 0 {
		return nil, &ValidationError{Diagnostics: sortDiagnostics(diags)}
	}
	cfg, diags := merge(files, frags)
	diags = append(diags, cfg.semanticDiagnostics()...)
	if len(diags) > 0 {
		return nil, &ValidationError{Diagnostics: sortDiagnostics(diags)}
	}
	cfg.markValidated()
	return cfg, nil
}

// fragment is one schema-valid YAML document, decoded.
type fragment struct {
	doc *yamlDoc
	cfg Config
}

// pos is a 1-based line and column.
type pos struct{ line, col int }

// yamlDoc is one YAML document of a file with the position of every value: for an
// object member the position of its key, for an array element that of the element.
type yamlDoc struct {
	file string
	root pos
	pos  map[string]pos // JSON pointer -> position
}

// locate returns the position of p, or of its nearest ancestor that has one.
func (d *yamlDoc) locate(p path) pos {
	for i := len(p); i >= 0; i-- {
		if at, ok := d.pos[p[:i].pointer()]; ok {
			return at
		}
	}
	return d.root
}

func (d *yamlDoc) diag(rule Rule, p path, msg string) Diagnostic {
	at := d.locate(p)
	return Diagnostic{File: d.file, Line: at.line, Column: at.col, Path: p.String(), Rule: rule, Message: msg}
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
	lines := strings.Split(string(f.Data), "\n")
	if d.Line-1 < len(lines) {
		l := lines[d.Line-1]
		if indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]; strings.Contains(indent, "\t") {
			d.Message += " (indent with spaces, not tabs)"
		}
	}
	return d
}

// parseFile splits a file into YAML documents and turns each into a schema-valid fragment.
func parseFile(f File) ([]fragment, []Diagnostic) {
	var (
		frags []fragment
		diags []Diagnostic
	)
	dec := yaml.NewDecoder(bytes.NewReader(f.Data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return frags, append(diags, syntaxDiagnostic(f, err))
		}
		doc := &yamlDoc{file: f.Name, root: pos{n.Line, n.Column}, pos: map[string]pos{}}
		if len(n.Content) == 0 || n.Content[0].ShortTag() == "!!null" {
			continue // empty document: only comments, or "---" alone
		}
		c := converter{doc: doc, budget: maxNodes}
		v := c.convert(n.Content[0], "", 0)
		if len(c.diags) > 0 {
			diags = append(diags, c.diags...)
			continue
		}
		if ds := schemaDiagnostics(v, doc.diag); len(ds) > 0 {
			diags = append(diags, ds...)
			continue
		}
		fr := fragment{doc: doc}
		raw, err := json.Marshal(v)
		if err == nil {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			err = dec.Decode(&fr.cfg)
		}
		if err != nil {
			// The schema bounds every number and rejects unknown fields, so this means the
			// schema and the Go types disagree: a bug, reported where the user can see it.
			diags = append(diags, doc.diag(RuleSchema, nil, "cannot decode document: "+err.Error()+" (this is a routekeeper bug; please report it)"))
			continue
		}
		frags = append(frags, fr)
	}
	return frags, diags
}

// converter turns a yaml.v3 node tree into JSON values (map[string]any, []any, string,
// json.Number, bool, nil), recording positions and rejecting what JSON cannot hold.
type converter struct {
	doc    *yamlDoc
	diags  []Diagnostic
	budget int
	// at is the path of the node being converted, as a stack of segments that is only
	// turned into a path for a diagnostic; seen holds one reusable duplicate-key index per
	// depth.
	at   []segment
	seen []map[string]int
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

func (c *converter) fail(n *yaml.Node, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{File: c.doc.file, Line: n.Line, Column: n.Column,
		Path: c.path().String(), Rule: RuleSyntax, Message: fmt.Sprintf(format, args...)})
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

// convert converts n, whose path is c.at and whose JSON Pointer is ptr.
func (c *converter) convert(n *yaml.Node, ptr string, depth int) any {
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
		return c.convert(n.Alias, ptr, depth+1)
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
			seen[key] = n.Content[i].Line
			kptr := ptr + "/" + pointerEscaper.Replace(key)
			c.doc.pos[kptr] = pos{n.Content[i].Line, n.Content[i].Column}
			obj[key] = c.convert(v, kptr, depth+1)
			c.at = c.at[:len(c.at)-1]
		}
		return obj
	case yaml.SequenceNode:
		arr := make([]any, 0, len(n.Content))
		for i, e := range n.Content {
			c.at = append(c.at, segment{index: i, isIdx: true})
			eptr := ptr + "/" + strconv.Itoa(i)
			c.doc.pos[eptr] = pos{e.Line, e.Column}
			arr = append(arr, c.convert(e, eptr, depth+1))
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
		var b bool
		if err := n.Decode(&b); err != nil {
			c.fail(n, "invalid boolean %q: write true or false", n.Value)
			return nil
		}
		return b
	case "!!int", "!!float":
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

// source records where a loaded config's entities came from, so diagnostics found on
// the merged config point into the right file.
type source struct {
	first       *yamlDoc
	apiVersion  *origin
	environment *origin
	items       map[string][]origin // top-level list key -> origin per element
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
	cfg := &Config{src: &source{items: map[string][]origin{}}}
	if len(frags) > 0 {
		cfg.src.first = frags[0].doc
	} else if len(files) > 0 {
		cfg.src.first = &yamlDoc{file: files[0].Name, root: pos{1, 1}, pos: map[string]pos{}}
	}
	var diags []Diagnostic
	for _, fr := range frags {
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
			for i := range n {
				cfg.src.items[key] = append(cfg.src.items[key], origin{doc: fr.doc, at: path{key, i}})
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
