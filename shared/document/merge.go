package document

import "slices"

// Overlay returns a copy of doc with the managed fields applied: each key of
// managed replaces the same key of doc, except that an object in managed is
// overlaid onto the object in doc key by key (it manages only the keys it
// declares), and an explicit JSON null in managed removes the key. Arrays
// and scalars replace whole values. Neither argument is modified, and the
// result shares no maps or slices with them.
//
// Overlay(base, desired) is how apply builds "ours" for Merge, and
// Diff(kind, name, managed, Overlay(doc, managed)) is always empty.
func Overlay(doc, managed map[string]any) map[string]any {
	out := make(map[string]any, len(doc)+len(managed))
	for k, v := range doc {
		out[k] = Clone(v)
	}
	for k, mv := range managed {
		switch m := mv.(type) {
		case nil:
			delete(out, k)
		case map[string]any:
			inner, _ := out[k].(map[string]any)
			out[k] = Overlay(inner, m)
		default:
			out[k] = Clone(mv)
		}
	}
	return out
}

// ConflictReason says why a field could not be merged.
type ConflictReason string

const (
	// ConflictBothChanged: ours and theirs changed the field to different values.
	ConflictBothChanged ConflictReason = "both-changed"
	// ConflictBothAdded: the field was absent in base; ours and theirs added
	// different values.
	ConflictBothAdded ConflictReason = "both-added"
	// ConflictOursDeleted: ours removed the field, theirs changed it.
	ConflictOursDeleted ConflictReason = "ours-deleted"
	// ConflictTheirsDeleted: ours changed the field, theirs removed it.
	ConflictTheirsDeleted ConflictReason = "theirs-deleted"
)

// Conflict is one field that ours and theirs changed incompatibly. Base,
// Ours and Theirs hold the field's value on each side; a side on which the
// field is absent holds nil (Reason tells absence from a JSON null).
type Conflict struct {
	Path   string         `json:"path"`
	Base   any            `json:"base"`
	Ours   any            `json:"ours"`
	Theirs any            `json:"theirs"`
	Reason ConflictReason `json:"reason"`
}

// Merge is the three-way merge apply runs when the live entity's ETag no
// longer matches the change request's baseEtag. All three arguments are full
// canonical documents of the same entity:
//
//   - base: the last-known canonical document, the one the change was planned against;
//   - ours: base with the change's desired managed fields applied, Overlay(base, desired);
//   - theirs: the live canonical document read just before writing.
//
// Merging is per field at leaf paths; objects are merged key by key, arrays
// and scalars are whole values, and values compare with Equal. For each path:
// changed only in ours -> ours; changed only in theirs (or in neither) ->
// theirs; changed in both to the same value, or deleted in both -> that
// result; changed in both differently, added in both differently, or deleted
// on one side and changed on the other -> a Conflict. Conflicts are ordered by
// path. When conflicts is non-empty the merged document keeps theirs at the
// conflicting paths and must not be written. A nil document is treated as
// empty (base is nil for an entity routekeeper has not seen before).
// The result shares no maps or slices with the arguments.
func Merge(base, ours, theirs map[string]any) (merged map[string]any, conflicts []Conflict) {
	var m merger
	merged = m.objects(nil, base, ours, theirs)
	return merged, m.conflicts
}

type merger struct {
	conflicts []Conflict
}

func (m *merger) objects(path []string, base, ours, theirs map[string]any) map[string]any {
	keys := make([]string, 0, len(base)+len(ours)+len(theirs))
	for _, doc := range []map[string]any{base, ours, theirs} {
		for k := range doc {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)

	out := make(map[string]any, len(theirs)+len(ours))
	for _, k := range keys {
		bv, bok := base[k]
		ov, ook := ours[k]
		tv, tok := theirs[k]
		om, oIsMap := ov.(map[string]any)
		tm, tIsMap := tv.(map[string]any)
		switch {
		case same(bok, bv, ook, ov): // ours left it alone
			if tok {
				out[k] = Clone(tv)
			}
		case same(bok, bv, tok, tv): // theirs left it alone
			if ook {
				out[k] = Clone(ov)
			}
		case same(ook, ov, tok, tv): // both made the same change (or both deleted)
			if ook {
				out[k] = Clone(ov)
			}
		case oIsMap && tIsMap:
			bm, _ := bv.(map[string]any) // nil when base had no object here
			out[k] = m.objects(append(path[:len(path):len(path)], pathSegment(k)), bm, om, tm)
		default:
			c := Conflict{
				Path: joinPath(append(path[:len(path):len(path)], pathSegment(k))),
				Base: bv, Ours: ov, Theirs: tv,
				Reason: ConflictBothChanged,
			}
			switch {
			case !ook:
				c.Reason = ConflictOursDeleted
			case !tok:
				c.Reason = ConflictTheirsDeleted
			case !bok:
				c.Reason = ConflictBothAdded
			}
			m.conflicts = append(m.conflicts, c)
			if tok {
				out[k] = Clone(tv)
			}
		}
	}
	return out
}

// same reports whether two optional values are the same: both absent, or
// both present and Equal.
func same(aok bool, a any, bok bool, b any) bool {
	return aok == bok && (!aok || Equal(a, b))
}

// deepCopy copies the maps and slices of a JSON tree; other values are
// immutable or not ours to copy and are shared.
func Clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Clone(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Clone(e)
		}
		return out
	}
	return v
}

// Project returns the values doc holds at the fields shape declares (recursing into
// objects both hold), with null for a declared field doc lacks: the managed fields of a
// merged document, in the form Diff and the request-body builders take.
func Project(doc, shape map[string]any) map[string]any {
	out := make(map[string]any, len(shape))
	for k, sv := range shape {
		dv, ok := doc[k]
		if !ok {
			out[k] = nil
			continue
		}
		if so, ok := sv.(map[string]any); ok {
			if do, ok := dv.(map[string]any); ok {
				out[k] = Project(do, so)
				continue
			}
		}
		out[k] = dv
	}
	return out
}
