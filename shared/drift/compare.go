package drift

import (
	"slices"
	"strconv"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
)

// ReportSchema is the schema of the JSON environment drift report
// (`routekeeper diff --format json`).
const ReportSchema = "routekeeper.diff/v1"

// Side is one side of an environment comparison: the documents of every
// entity in spec shape (names, never ids), by kind and name. Kinds are
// division and workbin (documents {"name"}, present only when the side
// lists them) and skill, queue and worktype.
type Side struct {
	Label string
	// File is the config file the side was read from, when it is one file.
	File string
	Docs map[entity.Kind]map[string]map[string]any

	at Locator // where a config declares things; nil for a live org
}

// Locator says where a config declares an entity, or a field inside it (*routing.Config
// satisfies it with the positions its loader recorded).
type Locator interface {
	Position(kind, name, path string) (file string, line int, ok bool)
}

// Location is where a config declares an entity or a field: a file and a
// 1-based line.
type Location struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// String formats l as file:line.
func (l *Location) String() string { return l.File + ":" + strconv.Itoa(l.Line) }

// locate returns where the side declares the entity or field, or nil when the
// side is not a loaded config.
func (s *Side) locate(kind entity.Kind, name, path string) *Location {
	if s.at == nil {
		return nil
	}
	file, line, ok := s.at.Position(string(kind), name, path)
	if !ok {
		return nil
	}
	return &Location{File: file, Line: line}
}

// ConfigSide is the side of a config: its compiled documents (routing.Desired.Docs:
// assignment rules applied to their worktypes) and its division and workbin lists
// (nil: the config lists none). at, if not nil, locates declarations (the loaded
// *routing.Config).
func ConfigSide(label string, docs []entity.Doc, divisions, workbins []string, at Locator) *Side {
	s := newSide(label)
	s.at = at
	s.names(entity.Division, divisions)
	s.names(entity.Workbin, workbins)
	for _, d := range docs {
		s.Docs[d.Kind][d.Name] = d.Fields
	}
	return s
}

// LiveSide is the side of a live org: the canonical form of every entity and the org's
// division and workbin names.
func LiveSide(label string, org *live.Org) *Side {
	s := newSide(label)
	s.names(entity.Division, org.Divisions)
	s.names(entity.Workbin, org.Workbins)
	for _, k := range entity.Kinds {
		for name, e := range org.Kind(k) {
			s.Docs[k][name] = e.Canonical
		}
	}
	return s
}

func newSide(label string) *Side {
	s := &Side{Label: label, Docs: map[entity.Kind]map[string]map[string]any{}}
	for _, k := range entity.Kinds {
		s.Docs[k] = map[string]map[string]any{}
	}
	return s
}

func (s *Side) names(kind entity.Kind, names []string) {
	if names == nil {
		return
	}
	m := make(map[string]map[string]any, len(names))
	for _, n := range names {
		m[n] = map[string]any{"name": n}
	}
	s.Docs[kind] = m
}

// Status says how an entity differs between two environments.
type Status string

// Statuses of an EntityDiff.
const (
	OnlyLeft  Status = "only-left"  // the entity exists only on the left
	OnlyRight Status = "only-right" // the entity exists only on the right
	Different Status = "different"  // both have it; fields differ
)

// FieldDiff is one field that differs between the two sides.
type FieldDiff struct {
	Path  string `json:"path"`
	Left  any    `json:"left,omitempty"`
	Right any    `json:"right,omitempty"`
	// Change: "changed" (both have it, different values), "only-left" (the
	// right side lacks the field) or "only-right".
	Change string `json:"change"`
	// LeftAt and RightAt are where each side's config declares the field (or
	// its nearest declared ancestor); absent for a live side.
	LeftAt  *Location `json:"leftAt,omitempty"`
	RightAt *Location `json:"rightAt,omitempty"`
}

// EntityDiff is one entity that differs.
type EntityDiff struct {
	Kind        entity.Kind `json:"kind"`
	Name        string      `json:"name"`
	Status      Status      `json:"status"`
	Differences []FieldDiff `json:"differences"`
	// LeftAt and RightAt are where each side's config declares the entity;
	// absent for a live side or a side without it.
	LeftAt  *Location `json:"leftAt,omitempty"`
	RightAt *Location `json:"rightAt,omitempty"`
}

// ReportSummary counts entities by status.
type ReportSummary struct {
	Same      int `json:"same"`
	Different int `json:"different"`
	OnlyLeft  int `json:"onlyLeft"`
	OnlyRight int `json:"onlyRight"`
}

// Report is the environment drift report of two sides.
type Report struct {
	Schema   string        `json:"schema"`
	Left     string        `json:"left"`
	Right    string        `json:"right"`
	Summary  ReportSummary `json:"summary"`
	Entities []EntityDiff  `json:"entities"`
}

// HasDrift reports whether anything differs.
func (r *Report) HasDrift() bool { return len(r.Entities) > 0 }

// CompareOptions adjusts Compare.
type CompareOptions struct {
	// OnlyDeclared compares only the fields the left side declares (fields only
	// the right side has are not reported). Use it when the left side is a
	// hand-written config that manages a few fields and the right a full
	// export or a live org.
	OnlyDeclared bool
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// reportKinds orders the report: referenced objects first, then managed kinds.
var reportKinds = []entity.Kind{entity.Division, entity.Workbin, entity.Skill, entity.Queue, entity.Worktype}

// Compare matches the two sides' entities by kind and name (ids play no part;
// names that differ only in letter case match, and the difference is reported at the
// path "name", under the left side's name) and reports every entity that exists on one
// side only or whose documents differ. Division and workbin lists are compared only when
// both sides have them.
func Compare(left, right *Side, opts CompareOptions) *Report {
	r := &Report{Schema: ReportSchema, Left: left.Label, Right: right.Label, Entities: []EntityDiff{}}
	var diffOpts []document.DiffOption
	if !opts.OnlyDeclared {
		diffOpts = append(diffOpts, document.IncludeUndeclared())
	}
	for _, kind := range reportKinds {
		l, lok := left.Docs[kind]
		rt, rok := right.Docs[kind]
		if !lok || !rok {
			continue
		}
		// Pair names exactly, else ignoring letter case (Genesys names are
		// unique case-insensitively, so `claims` and `Claims` are one entity
		// whose name differs). rightOf maps a left name to its right name.
		rightOf := make(map[string]string, len(l))
		pairedRight := make(map[string]bool, len(rt))
		for n := range l {
			if _, ok := rt[n]; ok {
				rightOf[n], pairedRight[n] = n, true
			}
		}
		foldedRight := map[string]string{}
		for _, n := range sortedKeys(rt) {
			if k := foldName(n); !pairedRight[n] && foldedRight[k] == "" {
				foldedRight[k] = n
			}
		}
		for _, n := range sortedKeys(l) {
			if _, ok := rightOf[n]; ok {
				continue
			}
			if rn := foldedRight[foldName(n)]; rn != "" {
				rightOf[n], pairedRight[rn] = rn, true
				delete(foldedRight, foldName(n))
			}
		}
		names := make([]string, 0, len(l)+len(rt))
		for n := range l {
			names = append(names, n)
		}
		for n := range rt {
			if !pairedRight[n] {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			ld, inL := l[name]
			rname, paired := rightOf[name]
			rd, inR := rt[rname]
			if !inL {
				rd, inR = rt[name], true
			} else if !paired {
				inR = false
			}
			switch {
			case !inR:
				r.Entities = append(r.Entities, EntityDiff{Kind: kind, Name: name, Status: OnlyLeft, Differences: []FieldDiff{},
					LeftAt: left.locate(kind, name, "")})
				r.Summary.OnlyLeft++
			case !inL:
				if opts.OnlyDeclared {
					continue
				}
				r.Entities = append(r.Entities, EntityDiff{Kind: kind, Name: name, Status: OnlyRight, Differences: []FieldDiff{},
					RightAt: right.locate(kind, name, "")})
				r.Summary.OnlyRight++
			default:
				diffs := document.Diff(ld, rd, diffOpts...)
				if len(diffs) == 0 {
					r.Summary.Same++
					continue
				}
				fds := make([]FieldDiff, len(diffs))
				for i, d := range diffs {
					fd := FieldDiff{Path: d.Path, Left: d.Desired, Right: d.Live,
						LeftAt: left.locate(kind, name, d.Path), RightAt: right.locate(kind, rname, d.Path)}
					switch d.Delta {
					case document.Changed:
						fd.Change = "changed"
					case document.Missing:
						fd.Change = "only-left"
					case document.Undeclared:
						fd.Change = "only-right"
					}
					fds[i] = fd
				}
				r.Entities = append(r.Entities, EntityDiff{Kind: kind, Name: name, Status: Different, Differences: fds,
					LeftAt: left.locate(kind, name, ""), RightAt: right.locate(kind, rname, "")})
				r.Summary.Different++
			}
		}
	}
	return r
}
