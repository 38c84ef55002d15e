package document

import (
	"slices"
	"strconv"
	"strings"
)

// Delta says how a field differs between the desired and the live document.
type Delta string

const (
	// Changed: the field is declared and present in live with another value.
	Changed Delta = "changed"
	// Missing: the field is declared but absent from live.
	Missing Delta = "missing"
	// Undeclared: the field is present in live but not declared. Only reported with
	// IncludeUndeclared.
	Undeclared Delta = "undeclared"
)

// Difference is one field that differs between a desired and a live document. Desired is
// nil for Undeclared, Live is nil for Missing.
type Difference struct {
	Path    string `json:"path"`
	Desired any    `json:"desired"`
	Live    any    `json:"live"`
	Delta   Delta  `json:"change"`
}

// DiffOption adjusts Diff.
type DiffOption func(*diffOptions)

type diffOptions struct {
	undeclared bool
}

// IncludeUndeclared makes Diff also report fields that live has and desired
// does not declare, at every level where desired declares an object. Use it
// to compare two full documents (the environment diff of two configs); leave
// it off to compare desired config with a live entity, where undeclared
// fields are deliberately unmanaged.
func IncludeUndeclared() DiffOption {
	return func(o *diffOptions) { o.undeclared = true }
}

// Diff compares the fields that desired declares with live and returns the
// differences ordered by path (object keys in sorted order, depth first).
//
// A declared object manages only the keys it declares: Diff recurses into it
// when live holds an object at the same path. Arrays, strings, numbers and
// booleans are compared as whole values with Equal (30 equals 30.0), so sets
// must be sorted beforehand (SortSet). A declared JSON null means "must be
// absent or null": it differs from a present non-null value (Changed)
// and matches an absent field, the same rule Overlay applies.
func Diff(desired, live map[string]any, opts ...DiffOption) []Difference {
	var o diffOptions
	for _, opt := range opts {
		opt(&o)
	}
	d := differ{opts: o}
	d.objects(nil, desired, live)
	return d.out
}

type differ struct {
	opts diffOptions
	out  []Difference
}

func (d *differ) add(path []string, desired, live any, delta Delta) {
	d.out = append(d.out, Difference{Path: joinPath(path), Desired: desired, Live: live, Delta: delta})
}

func (d *differ) objects(path []string, desired, live map[string]any) {
	keys := make([]string, 0, len(desired))
	for k := range desired {
		keys = append(keys, k)
	}
	if d.opts.undeclared {
		for k := range live {
			if _, ok := desired[k]; !ok {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := append(path[:len(path):len(path)], pathSegment(k))
		dv, declared := desired[k]
		lv, present := live[k]
		switch {
		case !declared:
			d.add(p, nil, lv, Undeclared)
		case !present:
			if dv != nil {
				d.add(p, dv, nil, Missing)
			}
		default:
			dm, dok := dv.(map[string]any)
			lm, lok := lv.(map[string]any)
			if dok && lok {
				d.objects(p, dm, lm)
			} else if !Equal(dv, lv) {
				d.add(p, dv, lv, Changed)
			}
		}
	}
}

// Paths returns the paths of diffs, in order.
func Paths(diffs []Difference) []string {
	out := make([]string, len(diffs))
	for i, d := range diffs {
		out[i] = d.Path
	}
	return out
}

// pathSegment renders one object key as a path segment: the key itself when
// it is a plain identifier, otherwise ["key"] with JSON string quoting, so
// that a key holding '.' or '[' cannot be mistaken for structure.
func pathSegment(key string) string {
	if isIdentifier(key) {
		return key
	}
	return "[" + string(appendString(nil, key)) + "]"
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// indexSegment renders an array index as a path segment.
func indexSegment(i int) string { return "[" + strconv.Itoa(i) + "]" }

// joinPath joins segments with '.', except before bracketed segments.
func joinPath(segs []string) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}
