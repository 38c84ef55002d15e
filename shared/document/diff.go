package drift

import (
	"slices"
	"strconv"
	"strings"
)

// Change says how a field differs between the desired and the live document.
type Change string

const (
	// ChangeChanged: the field is declared and present in live with another value.
	ChangeChanged Change = "changed"
	// ChangeMissing: the field is declared but absent from live.
	ChangeMissing Change = "missing"
	// ChangeUndeclared: the field is present in live but not declared. Only
	// reported with IncludeUndeclared.
	ChangeUndeclared Change = "undeclared"
)

// Difference is one field that differs between a desired and a live entity.
// Desired is nil for ChangeUndeclared, Live is nil for ChangeMissing.
type Difference struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Path    string `json:"path"`
	Desired any    `json:"desired"`
	Live    any    `json:"live"`
	Change  Change `json:"change"`
}

// DiffOption adjusts Diff and Plan.
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
// absent or null": it differs from a present non-null value (ChangeChanged)
// and matches an absent field, the same rule Overlay applies.
func Diff(kind, name string, desired, live map[string]any, opts ...DiffOption) []Difference {
	var o diffOptions
	for _, opt := range opts {
		opt(&o)
	}
	d := differ{kind: kind, name: name, opts: o}
	d.objects(nil, desired, live)
	return d.out
}

type differ struct {
	kind, name string
	opts       diffOptions
	out        []Difference
}

func (d *differ) add(path []string, desired, live any, c Change) {
	d.out = append(d.out, Difference{
		Kind: d.kind, Name: d.name, Path: joinPath(path),
		Desired: desired, Live: live, Change: c,
	})
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
			d.add(p, nil, lv, ChangeUndeclared)
		case !present:
			if dv != nil {
				d.add(p, dv, nil, ChangeMissing)
			}
		default:
			dm, dok := dv.(map[string]any)
			lm, lok := lv.(map[string]any)
			if dok && lok {
				d.objects(p, dm, lm)
			} else if !Equal(dv, lv) {
				d.add(p, dv, lv, ChangeChanged)
			}
		}
	}
}

// Action is what a plan does to one entity.
type Action string

const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
	ActionNoop   Action = "noop"
)

// EntityChange is the plan for one entity: what to do and, for create and
// update, which fields differ.
type EntityChange struct {
	Kind        string       `json:"kind"`
	Name        string       `json:"name"`
	Action      Action       `json:"action"`
	Differences []Difference `json:"differences,omitempty"`
}

// Plan decides what bringing live to desired takes for one entity. A nil
// desired means the entity should not exist (delete, when live exists); a nil
// live means it does not exist yet (create, with every declared field
// reported as ChangeMissing). Otherwise the action is update when Diff finds
// differences and noop when it does not. Whether undeclared entities are
// deleted at all is the caller's policy: Plan only plans what it is given.
func Plan(kind, name string, desired, live map[string]any, opts ...DiffOption) EntityChange {
	ec := EntityChange{Kind: kind, Name: name, Action: ActionNoop}
	switch {
	case desired == nil && live == nil:
	case desired == nil:
		ec.Action = ActionDelete
	case live == nil:
		ec.Action = ActionCreate
		ec.Differences = Diff(kind, name, desired, map[string]any{})
	default:
		ec.Differences = Diff(kind, name, desired, live, opts...)
		if len(ec.Differences) > 0 {
			ec.Action = ActionUpdate
		}
	}
	return ec
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
