package routing

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
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
func MarshalYAML(cfg *Config) ([]byte, error) {
	raw, err := json.Marshal(Canonical(cfg))
	if err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	node, err := jsonToNode(dec)
	if err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	return buf.Bytes(), nil
}

// yaml11Bool holds the strings YAML 1.1 reads as booleans (compared lower-case).
var yaml11Bool = map[string]bool{"y": true, "yes": true, "n": true, "no": true, "on": true, "off": true, "true": true, "false": true}

// jsonToNode reads one JSON value from dec into a yaml.Node, keeping object key order.
func jsonToNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
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
