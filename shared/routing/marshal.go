package routing

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Canonical returns a deep copy of cfg in canonical order: skills, queues, worktypes and
// assignment rules sorted by name; divisions, workbins, defaultSkills, rule skills,
// bullseye skillsToRemove and conditional-group-routing groups sorted. Ordered lists
// (routingRules, bullseye rings, conditional-group-routing rules) keep their order. The
// copy carries no source positions.
func Canonical(cfg *Config) *Config {
	c := clone(cfg)
	slices.Sort(c.Divisions)
	slices.Sort(c.Workbins)
	slices.SortStableFunc(c.Skills, func(a, b Skill) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortStableFunc(c.Queues, func(a, b Queue) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortStableFunc(c.Worktypes, func(a, b Worktype) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortStableFunc(c.AssignmentRules, func(a, b AssignmentRule) int { return cmp.Compare(a.Name, b.Name) })
	for i := range c.Queues {
		q := &c.Queues[i]
		if q.Bullseye != nil {
			for _, r := range q.Bullseye.Rings {
				if r.Actions != nil {
					slices.Sort(r.Actions.SkillsToRemove)
				}
			}
		}
		if q.ConditionalGroupRouting != nil {
			for _, r := range q.ConditionalGroupRouting.Rules {
				slices.SortStableFunc(r.Groups, func(a, b MemberGroup) int {
					return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name))
				})
			}
		}
	}
	for i := range c.Worktypes {
		slices.Sort(c.Worktypes[i].DefaultSkills)
	}
	for i := range c.AssignmentRules {
		slices.Sort(c.AssignmentRules[i].Skills)
	}
	return c
}

// clone deep-copies cfg as a JSON round trip would (absent and empty lists kept apart,
// unexported fields such as the source positions left out), without the JSON: through
// JSON it was most of Compile's time on a 5,000-queue config.
func clone(cfg *Config) *Config {
	var c Config
	copyValue(reflect.ValueOf(&c).Elem(), reflect.ValueOf(cfg).Elem())
	return &c
}

// copyValue deep-copies src into dst (zero, of src's type): the exported, JSON-visible
// fields of structs, pointers and slices (nil stays nil, empty stays empty).
func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		copyValue(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Struct:
		t := src.Type()
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && f.Tag.Get("json") != "-" {
				copyValue(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			copyValue(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Map, reflect.Interface, reflect.Array:
		panic(fmt.Sprintf("routing: clone: %s is not a kind the format holds", src.Type())) // a new field's type: teach copyValue
	default:
		dst.Set(src)
	}
}

// MarshalJSON writes cfg in canonical order (see Canonical) as indented JSON with a
// trailing newline. Equal configs give byte-identical output.
func MarshalJSON(cfg *Config) ([]byte, error) {
	out, err := json.MarshalIndent(Canonical(cfg), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	return append(out, '\n'), nil
}

// MarshalYAML writes cfg in canonical order (see Canonical) as block-style YAML indented
// by two spaces, fields in the order of the Go types. Equal configs give byte-identical
// output, and Parse reads it back to an equal config. Callers that want an editor
// modeline write "# yaml-language-server: $schema=..." before it.
//
// The output is what yaml.v3 writes for the config as one node tree
// (TestMarshalYAMLChunked), but the block structure is written here, streaming from the
// config's JSON, and yaml.v3 is asked only how to write a string that may need quoting
// (most names are plain and written as they are). yaml.v3's emitter keeps every event of
// an encoder queued until it is dropped, so one tree of an org of 5,000 queues cost over
// a gigabyte of allocations, and even one encoder per queue 1 GB.
func MarshalYAML(cfg *Config) ([]byte, error) {
	raw, err := json.Marshal(Canonical(cfg))
	if err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	w := &yamlWriter{dec: dec}
	w.buf.Grow(len(raw) + len(raw)/4)
	if err := w.document(); err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	return w.buf.Bytes(), nil
}

// yamlWriter writes the JSON value read from dec as block YAML.
type yamlWriter struct {
	dec *json.Decoder
	buf bytes.Buffer
}

func (w *yamlWriter) document() error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("top level is %v, want an object", tok)
	}
	if !w.dec.More() {
		w.buf.WriteString("{}\n")
		_, err := w.dec.Token()
		return err
	}
	return w.mapping(0, false)
}

func (w *yamlWriter) indent(n int) {
	for range n {
		w.buf.WriteByte(' ')
	}
}

// mapping writes the members of an object whose '{' was read, keys at column indent; the
// first on the current line when inline (after "- ").
func (w *yamlWriter) mapping(indent int, inline bool) error {
	for first := true; w.dec.More(); first = false {
		kt, err := w.dec.Token()
		if err != nil {
			return err
		}
		key, ok := kt.(string)
		if !ok {
			return fmt.Errorf("object key %v is not a string", kt)
		}
		if !first || !inline {
			w.indent(indent)
		}
		k, err := yamlString(key, indent, false)
		if err != nil {
			return err
		}
		w.buf.WriteString(k)
		w.buf.WriteByte(':')
		if err := w.member(indent); err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // '}'
	return err
}

// member writes the value of a mapping member whose "key:" is written, the key at indent.
func (w *yamlWriter) member(indent int) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		if !w.dec.More() {
			w.buf.WriteString(" {}\n")
			_, err := w.dec.Token()
			return err
		}
		w.buf.WriteByte('\n')
		return w.mapping(indent+2, false)
	case json.Delim('['):
		if !w.dec.More() {
			w.buf.WriteString(" []\n")
			_, err := w.dec.Token()
			return err
		}
		w.buf.WriteByte('\n')
		return w.sequence(indent+2, false)
	}
	s, err := yamlScalar(tok, indent, false)
	if err != nil {
		return err
	}
	w.buf.WriteByte(' ')
	w.buf.WriteString(s)
	w.buf.WriteByte('\n')
	return nil
}

// sequence writes the elements of a non-empty array whose '[' was read, each "- " at
// column indent; the first on the current line when inline.
func (w *yamlWriter) sequence(indent int, inline bool) error {
	for first := true; w.dec.More(); first = false {
		if !first || !inline {
			w.indent(indent)
		}
		w.buf.WriteByte('-')
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			if !w.dec.More() {
				w.buf.WriteString(" {}\n")
				_, err = w.dec.Token()
			} else {
				w.buf.WriteByte(' ')
				err = w.mapping(indent+2, true)
			}
		case json.Delim('['):
			if !w.dec.More() {
				w.buf.WriteString(" []\n")
				_, err = w.dec.Token()
			} else {
				w.buf.WriteByte(' ')
				err = w.sequence(indent+2, true)
			}
		default:
			var s string
			if s, err = yamlScalar(tok, indent, true); err == nil {
				w.buf.WriteByte(' ')
				w.buf.WriteString(s)
				w.buf.WriteByte('\n')
			}
		}
		if err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // ']'
	return err
}

// yamlScalar renders a JSON scalar token as the YAML value of a mapping member whose key
// is at column indent (or of a sequence entry whose "-" is there, inSeq).
func yamlScalar(tok json.Token, indent int, inSeq bool) (string, error) {
	switch t := tok.(type) {
	case string:
		return yamlString(t, indent, inSeq)
	case json.Number:
		return t.String(), nil
	case bool:
		if t {
			return "true", nil
		}
		return "false", nil
	case nil:
		return "null", nil
	}
	return "", fmt.Errorf("unexpected JSON token %v", tok)
}

// yamlBreaks are the line breaks yaml.v3 writes as such (is_break).
const yamlBreaks = "\n\u0085\u2028\u2029"

// plainSafe matches strings yaml.v3 writes plain and reads back as the same string:
// starting with a letter, no ':' or '#', no quotes, no trailing space.
var plainSafe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9 ._()/&+,=-]*$`)

// yamlString renders s as yaml.v3 writes it in that place: plain when that is certainly
// what yaml.v3 does, else as yaml.v3 renders it (quoted, or a block scalar whose lines
// are indented from indent).
func yamlString(s string, indent int, inSeq bool) (string, error) {
	if plainSafe.MatchString(s) && !strings.HasSuffix(s, " ") {
		lower := strings.ToLower(s)
		if yaml11Bool[lower] {
			return `"` + s + `"`, nil // as jsonToNode asks: YAML 1.1 readers would see a boolean
		}
		if lower != "null" {
			return s, nil
		}
	}
	// One entry of a one-entry mapping (or sequence) at column 0, re-indented.
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if yaml11Bool[strings.ToLower(s)] {
		n.Style = yaml.DoubleQuotedStyle
	}
	var doc *yaml.Node
	prefix := "k: "
	if inSeq {
		doc, prefix = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{n}}, "- "
	} else {
		doc = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: "k"}, n}}
	}
	var b bytes.Buffer
	if err := encodeYAML(&b, doc); err != nil {
		return "", err
	}
	out, ok := strings.CutPrefix(strings.TrimSuffix(b.String(), "\n"), prefix)
	if !ok {
		return "", fmt.Errorf("yaml.v3 wrote %q for %q", b.String(), s)
	}
	if indent > 0 && strings.ContainsAny(out, yamlBreaks) {
		// yaml.v3 indents the line after each line break it writes (in a block scalar or
		// a folded quoted one); here those lines are indent further right.
		pad := strings.Repeat(" ", indent)
		var b strings.Builder
		for _, r := range out {
			b.WriteRune(r)
			if strings.ContainsRune(yamlBreaks, r) {
				b.WriteString(pad)
			}
		}
		out = b.String()
	}
	return out, nil
}

// encodeYAML writes n as one YAML document (no "---"), indented by two spaces.
func encodeYAML(w io.Writer, n *yaml.Node) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return err
	}
	return enc.Close()
}

// yaml11Bool holds the strings YAML 1.1 reads as booleans (compared lower-case).
var yaml11Bool = map[string]bool{"y": true, "yes": true, "n": true, "no": true, "on": true, "off": true, "true": true, "false": true}

// jsonToNode reads one JSON value from dec into a yaml.Node, keeping object key order.
func jsonToNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	return tokenToNode(dec, tok)
}

// tokenToNode is jsonToNode for a value whose first token, tok, was already read.
func tokenToNode(dec *json.Decoder, tok json.Token) (*yaml.Node, error) {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", kt)
				}
				v, err := jsonToNode(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
			}
			_, err := dec.Token() // '}'
			return n, err
		case '[':
			n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			for dec.More() {
				v, err := jsonToNode(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
			_, err := dec.Token() // ']'
			return n, err
		}
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}
		if yaml11Bool[strings.ToLower(t)] {
			// yaml.v3 leaves these plain, but YAML 1.1 readers (sigs.k8s.io/yaml,
			// many editors) would read a boolean: quote them.
			n.Style = yaml.DoubleQuotedStyle
		}
		return n, nil
	case json.Number:
		tag := "!!int"
		if _, err := t.Int64(); err != nil {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}, nil
	case bool:
		v := "false"
		if t {
			v = "true"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: v}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}
