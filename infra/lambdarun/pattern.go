package lambdarun

// The EventBridge event-pattern matcher of Rule. It is written here because
// the well-known Go implementation, quamina (quamina.net/go/quamina), is not
// served by this project's module proxy.
//
// Semantics, from "Content filtering in Amazon EventBridge event patterns"
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html),
// "Comparison operators for use in event patterns"
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html),
// "Matching events on null values and empty strings"
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html)
// and, for details those pages leave open (array consistency, which values
// anything-but lists may hold, the numeric grammar, wildcard escapes), the
// README of aws/event-ruler, the open-source matcher of EventBridge
// (https://github.com/aws/event-ruler):
//
//   - a pattern is a JSON object; every field it names must match (AND), and
//     the array under a field lists alternatives (OR); "$or" with two or more
//     objects ORs whole sub-patterns;
//   - exact values: strings case-sensitively, numbers numerically (300 matches
//     3.0e2), true, false and null (null and "" are different values);
//   - an array in the event matches when any of its elements matches, and
//     fields of one sub-pattern must all match within the same array element;
//   - operators: prefix, suffix (each also {equals-ignore-case: ...}),
//     equals-ignore-case, wildcard (* any run of characters, \* a literal
//     asterisk, \\ a backslash; ** is not allowed), anything-but (a string, a
//     number, a list of only strings or only numbers, or {prefix|suffix|
//     equals-ignore-case|wildcard: value or list}), numeric ("=", "<", "<=",
//     ">", ">=", or a range [">"|">=", low, "<"|"<=", high]), exists
//     (true/false, leaf fields only: a field holding an object does not
//     exist) and cidr (IPv4 and IPv6);
//   - string operators match only strings and numeric only JSON numbers;
//     anything-but matches every present value it does not exclude, values of
//     another type included (as in event-ruler), and never a missing field;
//   - a key given twice in a pattern: the last one counts (as json.Unmarshal
//     decodes it, and as the EventBridge guide says).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Pattern is a compiled EventBridge event pattern.
type Pattern struct {
	root *objectPattern
}

// PatternError is a malformed event pattern: Path says where (for example
// detail.state[1]), Msg what is wrong there.
type PatternError struct {
	Path string
	Msg  string
}

func (e *PatternError) Error() string {
	if e.Path == "" {
		return "lambdarun: event pattern: " + e.Msg
	}
	return "lambdarun: event pattern: " + e.Path + ": " + e.Msg
}

// objectPattern matches an event object: every child must match, and one of
// the $or alternatives if there are any.
type objectPattern struct {
	children []childPattern
	or       []*objectPattern
}

type childPattern struct {
	key  string
	obj  *objectPattern // a nested object pattern, or
	leaf []matcher      // the alternatives of a leaf
}

// ParsePattern compiles an EventBridge event pattern (the JSON of a rule's
// EventPattern, or of SAM's EventBridgeRule Pattern). A malformed pattern or
// an operator EventBridge does not have is a *PatternError naming the path.
func ParsePattern(pattern []byte) (*Pattern, error) {
	v, err := decodeJSON(pattern)
	if err != nil {
		return nil, &PatternError{Msg: "not valid JSON: " + err.Error()}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &PatternError{Msg: fmt.Sprintf("must be a JSON object, not %s", jsonKind(v))}
	}
	root, err := compileObject(obj, "")
	if err != nil {
		return nil, err
	}
	return &Pattern{root: root}, nil
}

// Match reports whether event (an EventBridge event, a JSON object) matches
// the pattern. The error is about event not being a JSON object.
func (p *Pattern) Match(event []byte) (bool, error) {
	v, err := decodeJSON(event)
	if err != nil {
		return false, fmt.Errorf("lambdarun: event is not valid JSON: %w", err)
	}
	if _, ok := v.(map[string]any); !ok {
		return false, fmt.Errorf("lambdarun: event must be a JSON object, not %s", jsonKind(v))
	}
	return p.root.match(v, true), nil
}

func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func compileObject(obj map[string]any, path string) (*objectPattern, error) {
	if len(obj) == 0 {
		return nil, &PatternError{Path: path, Msg: "empty objects are not allowed"}
	}
	o := &objectPattern{}
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		v := obj[key]
		p := join(path, key)
		if key == "$or" {
			if alts, ok := orAlternatives(v); ok {
				if len(alts) < 2 {
					return nil, &PatternError{Path: p, Msg: "$or needs at least 2 objects"}
				}
				for i, alt := range alts {
					c, err := compileObject(alt, index(p, i))
					if err != nil {
						return nil, err
					}
					o.or = append(o.or, c)
				}
				continue
			}
			// Otherwise "$or" is an ordinary field name, as in event-ruler.
		}
		switch v := v.(type) {
		case map[string]any:
			c, err := compileObject(v, p)
			if err != nil {
				return nil, err
			}
			o.children = append(o.children, childPattern{key: key, obj: c})
		case []any:
			ms, err := compileLeaf(v, p)
			if err != nil {
				return nil, err
			}
			o.children = append(o.children, childPattern{key: key, leaf: ms})
		default:
			return nil, &PatternError{Path: p, Msg: fmt.Sprintf("must be an object or an array of match values, not %s (write [%s])", jsonKind(v), shortJSON(v))}
		}
	}
	return o, nil
}

// orAlternatives returns the objects of a "$or" array when it is one.
func orAlternatives(v any) ([]map[string]any, bool) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, false
	}
	alts := make([]map[string]any, len(arr))
	for i, e := range arr {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		alts[i] = m
	}
	return alts, true
}

func shortJSON(v any) string {
	b, _ := json.Marshal(v)
	return truncate(string(b), 60)
}

func compileLeaf(values []any, path string) ([]matcher, error) {
	if len(values) == 0 {
		return nil, &PatternError{Path: path, Msg: "empty arrays are not allowed"}
	}
	ms := make([]matcher, 0, len(values))
	for i, v := range values {
		p := index(path, i)
		switch v := v.(type) {
		case nil:
			ms = append(ms, exactNull{})
		case bool:
			ms = append(ms, exactBool(v))
		case string:
			ms = append(ms, exactString(v))
		case json.Number:
			f, err := patternNumber(v, p)
			if err != nil {
				return nil, err
			}
			ms = append(ms, exactNumber(f))
		case []any:
			return nil, &PatternError{Path: p, Msg: "nested arrays are not allowed"}
		case map[string]any:
			m, err := compileOperator(v, p)
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
		}
	}
	return ms, nil
}

func patternNumber(n json.Number, path string) (float64, error) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, &PatternError{Path: path, Msg: fmt.Sprintf("number %s is out of range", n)}
	}
	return f, nil
}

const supportedOperators = "prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr"

// compileOperator compiles a match expression such as {"prefix": "us-"}.
func compileOperator(op map[string]any, path string) (matcher, error) {
	if len(op) != 1 {
		keys := slices.Sorted(maps.Keys(op))
		return nil, &PatternError{Path: path, Msg: fmt.Sprintf("a match expression has exactly one operator, got %d (%s)", len(op), strings.Join(keys, ", "))}
	}
	var name string
	var arg any
	for name, arg = range op {
	}
	p := join(path, name)
	switch name {
	case "prefix", "suffix":
		s, fold, err := stringOrIgnoreCase(arg, p)
		if err != nil {
			return nil, err
		}
		if name == "prefix" {
			return prefixMatcher{s: s, fold: fold}, nil
		}
		return suffixMatcher{s: s, fold: fold}, nil
	case "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return nil, &PatternError{Path: p, Msg: "equals-ignore-case takes a string, not " + jsonKind(arg)}
		}
		return ignoreCaseMatcher(s), nil
	case "wildcard":
		s, ok := arg.(string)
		if !ok {
			return nil, &PatternError{Path: p, Msg: "wildcard takes a string, not " + jsonKind(arg)}
		}
		return compileWildcard(s, p)
	case "anything-but":
		return compileAnythingBut(arg, p)
	case "numeric":
		return compileNumeric(arg, p)
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return nil, &PatternError{Path: p, Msg: "exists takes true or false, not " + jsonKind(arg)}
		}
		return existsMatcher(b), nil
	case "cidr":
		s, ok := arg.(string)
		if !ok {
			return nil, &PatternError{Path: p, Msg: "cidr takes a string such as 10.0.0.0/24, not " + jsonKind(arg)}
		}
		prefix, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, &PatternError{Path: p, Msg: fmt.Sprintf("cidr %q is not an IP prefix such as 10.0.0.0/24: %v", s, err)}
		}
		return cidrMatcher{prefix.Masked()}, nil
	}
	return nil, &PatternError{Path: path, Msg: fmt.Sprintf("unsupported operator %q (EventBridge has %s)", name, supportedOperators)}
}

// stringOrIgnoreCase reads the argument of prefix and suffix: a string or
// {"equals-ignore-case": string}.
func stringOrIgnoreCase(arg any, path string) (string, bool, error) {
	switch a := arg.(type) {
	case string:
		return a, false, nil
	case map[string]any:
		s, ok := a["equals-ignore-case"].(string)
		if len(a) != 1 || !ok {
			return "", false, &PatternError{Path: path, Msg: `takes a string or {"equals-ignore-case": string}`}
		}
		return s, true, nil
	}
	return "", false, &PatternError{Path: path, Msg: "takes a string, not " + jsonKind(arg)}
}

func compileAnythingBut(arg any, path string) (matcher, error) {
	switch a := arg.(type) {
	case string:
		return anythingBut{strings: []string{a}}, nil
	case json.Number:
		f, err := patternNumber(a, path)
		if err != nil {
			return nil, err
		}
		return anythingBut{numbers: []float64{f}}, nil
	case []any:
		if len(a) == 0 {
			return nil, &PatternError{Path: path, Msg: "empty arrays are not allowed"}
		}
		var ab anythingBut
		for i, e := range a {
			switch e := e.(type) {
			case string:
				ab.strings = append(ab.strings, e)
			case json.Number:
				f, err := patternNumber(e, index(path, i))
				if err != nil {
					return nil, err
				}
				ab.numbers = append(ab.numbers, f)
			default:
				return nil, &PatternError{Path: index(path, i), Msg: "an anything-but list holds only strings or only numbers, not " + jsonKind(e)}
			}
		}
		if len(ab.strings) > 0 && len(ab.numbers) > 0 {
			return nil, &PatternError{Path: path, Msg: "an anything-but list holds only strings or only numbers, not both"}
		}
		return ab, nil
	case map[string]any:
		if len(a) != 1 {
			return nil, &PatternError{Path: path, Msg: "anything-but takes one of prefix, suffix, equals-ignore-case, wildcard"}
		}
		var name string
		var v any
		for name, v = range a {
		}
		switch name {
		case "prefix", "suffix", "equals-ignore-case", "wildcard":
		default:
			return nil, &PatternError{Path: path, Msg: fmt.Sprintf("unsupported anything-but operator %q (EventBridge has prefix, suffix, equals-ignore-case, wildcard)", name)}
		}
		p := join(path, name)
		values, err := stringOrStrings(v, p)
		if err != nil {
			return nil, err
		}
		switch name {
		case "prefix":
			return anythingBut{prefixes: values}, nil
		case "suffix":
			return anythingBut{suffixes: values}, nil
		case "equals-ignore-case":
			return anythingBut{ignoreCase: values}, nil
		case "wildcard":
			ab := anythingBut{}
			for i, s := range values {
				w, err := compileWildcard(s, index(p, i))
				if err != nil {
					return nil, err
				}
				ab.wildcards = append(ab.wildcards, w)
			}
			return ab, nil
		}
	}
	return nil, &PatternError{Path: path, Msg: "anything-but takes a string, a number, a list or an object, not " + jsonKind(arg)}
}

func stringOrStrings(v any, path string) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, &PatternError{Path: path, Msg: "empty arrays are not allowed"}
		}
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, &PatternError{Path: index(path, i), Msg: "must be a string, not " + jsonKind(e)}
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, &PatternError{Path: path, Msg: "takes a string or a list of strings, not " + jsonKind(v)}
}

// compileNumeric reads event-ruler's numeric grammar: ["=", n], [op, n] with
// op one of < <= > >=, or [">"|">=", low, "<"|"<=", high].
func compileNumeric(arg any, path string) (matcher, error) {
	terms, ok := arg.([]any)
	if !ok {
		return nil, &PatternError{Path: path, Msg: "numeric takes an array such as [\">\", 0, \"<=\", 5], not " + jsonKind(arg)}
	}
	if len(terms) != 2 && len(terms) != 4 {
		return nil, &PatternError{Path: path, Msg: fmt.Sprintf("numeric takes [operator, number] or [\">\"|\">=\", number, \"<\"|\"<=\", number], got %d elements", len(terms))}
	}
	var conds []numericCond
	for i := 0; i < len(terms); i += 2 {
		op, ok := terms[i].(string)
		if !ok {
			return nil, &PatternError{Path: index(path, i), Msg: "must be an operator (=, <, <=, >, >=), not " + jsonKind(terms[i])}
		}
		switch op {
		case "=", "<", "<=", ">", ">=":
		default:
			return nil, &PatternError{Path: index(path, i), Msg: fmt.Sprintf("unknown numeric operator %q (use =, <, <=, >, >=)", op)}
		}
		n, ok := terms[i+1].(json.Number)
		if !ok {
			return nil, &PatternError{Path: index(path, i+1), Msg: "must be a number, not " + jsonKind(terms[i+1])}
		}
		f, err := patternNumber(n, index(path, i+1))
		if err != nil {
			return nil, err
		}
		conds = append(conds, numericCond{op: op, v: f})
	}
	if len(conds) == 2 {
		lo, hi := conds[0], conds[1]
		if (lo.op != ">" && lo.op != ">=") || (hi.op != "<" && hi.op != "<=") {
			return nil, &PatternError{Path: path, Msg: "a numeric range is [\">\"|\">=\", low, \"<\"|\"<=\", high]"}
		}
		if lo.v >= hi.v {
			return nil, &PatternError{Path: path, Msg: fmt.Sprintf("numeric range: low %v must be less than high %v", lo.v, hi.v)}
		}
	}
	return numericMatcher(conds), nil
}

// compileWildcard splits a wildcard pattern into the literal runs between
// its unescaped asterisks.
func compileWildcard(s, path string) (wildcardMatcher, error) {
	var parts []string
	var cur strings.Builder
	prevStar := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*':
			if prevStar {
				return nil, &PatternError{Path: path, Msg: fmt.Sprintf("wildcard %q: consecutive * are not allowed", s)}
			}
			parts = append(parts, cur.String())
			cur.Reset()
			prevStar = true
			continue
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return nil, &PatternError{Path: path, Msg: fmt.Sprintf(`wildcard %q: a backslash escapes only * or \`, s)}
			}
			i++
			cur.WriteByte(s[i])
		default:
			cur.WriteByte(c)
		}
		prevStar = false
	}
	return wildcardMatcher(append(parts, cur.String())), nil
}

// match reports whether v (the event value at this object's place, present
// or not) matches.
func (o *objectPattern) match(v any, present bool) bool {
	if arr, ok := v.([]any); ok && present {
		if len(arr) == 0 {
			return o.match(nil, false)
		}
		for _, e := range arr {
			if o.match(e, true) {
				return true
			}
		}
		return false
	}
	obj, _ := v.(map[string]any) // a leaf value has no fields: they are all missing
	for _, c := range o.children {
		cv, ok := obj[c.key]
		if c.obj != nil {
			if !c.obj.match(cv, ok) {
				return false
			}
			continue
		}
		if !matchLeaf(c.leaf, cv, ok) {
			return false
		}
	}
	if len(o.or) == 0 {
		return true
	}
	for _, alt := range o.or {
		if alt.match(v, present) {
			return true
		}
	}
	return false
}

// matchLeaf matches the leaf values of a field (its value, or the elements
// of its arrays) against the alternatives.
func matchLeaf(ms []matcher, v any, present bool) bool {
	var leaves []any
	if present {
		leaves = appendLeaves(leaves, v)
	}
	for _, m := range ms {
		if e, ok := m.(existsMatcher); ok {
			if bool(e) == (len(leaves) > 0) {
				return true
			}
			continue
		}
		for _, l := range leaves {
			if m.match(l) {
				return true
			}
		}
	}
	return false
}

func appendLeaves(out []any, v any) []any {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			out = appendLeaves(out, e)
		}
		return out
	case map[string]any:
		return out
	}
	return append(out, v)
}

// matcher matches one leaf value: nil, bool, string or json.Number.
type matcher interface {
	match(v any) bool
}

type (
	exactNull         struct{}
	exactBool         bool
	exactString       string
	exactNumber       float64
	ignoreCaseMatcher string
	existsMatcher     bool
	prefixMatcher     struct {
		s    string
		fold bool
	}
	suffixMatcher struct {
		s    string
		fold bool
	}
	// wildcardMatcher is the literal runs around the asterisks: one element
	// means no asterisk at all.
	wildcardMatcher []string
	numericMatcher  []numericCond
	numericCond     struct {
		op string
		v  float64
	}
	cidrMatcher struct{ prefix netip.Prefix }
	// anythingBut excludes one kind of value; every other present value
	// matches.
	anythingBut struct {
		strings, prefixes, suffixes, ignoreCase []string
		numbers                                 []float64
		wildcards                               []wildcardMatcher
	}
)

func (exactNull) match(v any) bool { return v == nil }

func (m exactBool) match(v any) bool {
	b, ok := v.(bool)
	return ok && b == bool(m)
}

func (m exactString) match(v any) bool {
	s, ok := v.(string)
	return ok && s == string(m)
}

func (m exactNumber) match(v any) bool {
	f, ok := eventNumber(v)
	return ok && f == float64(m)
}

func (m ignoreCaseMatcher) match(v any) bool {
	s, ok := v.(string)
	return ok && strings.EqualFold(s, string(m))
}

func (existsMatcher) match(any) bool { return false } // handled by matchLeaf

func (m prefixMatcher) match(v any) bool {
	s, ok := v.(string)
	return ok && hasPrefix(s, m.s, m.fold)
}

func (m suffixMatcher) match(v any) bool {
	s, ok := v.(string)
	return ok && hasSuffix(s, m.s, m.fold)
}

func (m wildcardMatcher) match(v any) bool {
	s, ok := v.(string)
	return ok && m.matchString(s)
}

func (m wildcardMatcher) matchString(s string) bool {
	if len(m) == 1 {
		return s == m[0]
	}
	first, last := m[0], m[len(m)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	mid := s[len(first) : len(s)-len(last)]
	for _, part := range m[1 : len(m)-1] {
		i := strings.Index(mid, part)
		if i < 0 {
			return false
		}
		mid = mid[i+len(part):]
	}
	return true
}

func (m numericMatcher) match(v any) bool {
	f, ok := eventNumber(v)
	if !ok {
		return false
	}
	for _, c := range m {
		var ok bool
		switch c.op {
		case "=":
			ok = f == c.v
		case "<":
			ok = f < c.v
		case "<=":
			ok = f <= c.v
		case ">":
			ok = f > c.v
		case ">=":
			ok = f >= c.v
		}
		if !ok {
			return false
		}
	}
	return true
}

func (m cidrMatcher) match(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	addr, err := netip.ParseAddr(s)
	return err == nil && m.prefix.Contains(addr.Unmap())
}

func (m anythingBut) match(v any) bool {
	if f, ok := eventNumber(v); ok {
		return !slices.Contains(m.numbers, f)
	}
	s, ok := v.(string)
	if !ok {
		return true // null and booleans are never excluded
	}
	switch {
	case slices.Contains(m.strings, s):
		return false
	case slices.ContainsFunc(m.prefixes, func(p string) bool { return strings.HasPrefix(s, p) }):
		return false
	case slices.ContainsFunc(m.suffixes, func(p string) bool { return strings.HasSuffix(s, p) }):
		return false
	case slices.ContainsFunc(m.ignoreCase, func(p string) bool { return strings.EqualFold(s, p) }):
		return false
	case slices.ContainsFunc(m.wildcards, func(w wildcardMatcher) bool { return w.matchString(s) }):
		return false
	}
	return true
}

func eventNumber(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// hasPrefix is strings.HasPrefix, optionally under Unicode case folding
// (rune by rune, as strings.EqualFold compares).
func hasPrefix(s, prefix string, fold bool) bool {
	if !fold {
		return strings.HasPrefix(s, prefix)
	}
	n := utf8.RuneCountInString(prefix)
	i := 0
	for k := 0; k < n; k++ {
		if i >= len(s) {
			return false
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return strings.EqualFold(s[:i], prefix)
}

func hasSuffix(s, suffix string, fold bool) bool {
	if !fold {
		return strings.HasSuffix(s, suffix)
	}
	n := utf8.RuneCountInString(suffix)
	i := len(s)
	for k := 0; k < n; k++ {
		if i <= 0 {
			return false
		}
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return strings.EqualFold(s[i:], suffix)
}
