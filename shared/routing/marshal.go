package routing

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
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

// clone deep-copies cfg through JSON, which keeps absent and empty lists apart.
func clone(cfg *Config) *Config {
	raw, err := json.Marshal(cfg)
	if err != nil {
		panic(fmt.Sprintf("routing: marshal config: %v", err)) // only plain data: cannot fail
	}
	var c Config
	if err := json.Unmarshal(raw, &c); err != nil {
		panic(fmt.Sprintf("routing: unmarshal config: %v", err))
	}
	return &c
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
// The output is emitted one top-level list element at a time rather than as one YAML
// node tree: yaml.v3's emitter keeps every event of a document queued until the
// document ends, so one tree for an org of 5,000 queues cost over a gigabyte of
// allocations. A block sequence element is rendered independently of its siblings, so
// the pieces concatenate to exactly what one tree gives (TestMarshalYAMLChunked).
func MarshalYAML(cfg *Config) ([]byte, error) {
	raw, err := json.Marshal(Canonical(cfg))
	if err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := writeYAMLChunks(&buf, dec); err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	return buf.Bytes(), nil
}

// writeYAMLChunks writes the JSON object read from dec as a YAML mapping: each top-level
// member separately and, for a non-empty array member, each element separately.
func writeYAMLChunks(buf *bytes.Buffer, dec *json.Decoder) error {
	if tok, err := dec.Token(); err != nil {
		return err
	} else if tok != json.Delim('{') {
		return fmt.Errorf("top level is %v, want an object", tok)
	}
	var chunk bytes.Buffer
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := kt.(string)
		if !ok {
			return fmt.Errorf("object key %v is not a string", kt)
		}
		keyNode := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok != json.Delim('[') || !dec.More() {
			v, err := tokenToNode(dec, tok)
			if err != nil {
				return err
			}
			if err := encodeYAML(buf, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{keyNode, v}}); err != nil {
				return err
			}
			continue
		}
		// key:\n  - element ... one element per document, the "key:" line written once.
		head := key + ":\n"
		for first := true; dec.More(); first = false {
			e, err := jsonToNode(dec)
			if err != nil {
				return err
			}
			chunk.Reset()
			seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{e}}
			if err := encodeYAML(&chunk, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{keyNode, seq}}); err != nil {
				return err
			}
			body, ok := bytes.CutPrefix(chunk.Bytes(), []byte(head))
			if !ok {
				return fmt.Errorf("key %q is not written as a plain %q line", key, head)
			}
			if first {
				buf.WriteString(head)
			}
			buf.Write(body)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
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
