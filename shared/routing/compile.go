package routing

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// PriorityFromScore maps an assignment rule's priorityScore (0..100) linearly onto a
// worktype's defaultPriority (-25,000,000..25,000,000):
//
//	defaultPriority = score*500,000 - 25,000,000
//
// so 0 -> -25,000,000, 50 -> 0 and 100 -> 25,000,000, strictly increasing (higher score,
// served first). Scores outside 0..100 are clamped.
func PriorityFromScore(score int) int {
	score = min(max(score, 0), 100)
	return score*priorityStep + MinPriority
}

// priorityStep is the defaultPriority distance between two consecutive scores.
const priorityStep = (MaxPriority - MinPriority) / 100 // 500,000

// ScoreFromPriority is the inverse of PriorityFromScore: it returns the score whose
// priority is nearest to p (clamped to 0..100), and whether p is exactly that score's
// priority. Export uses it to write priorityScore only when it round-trips.
func ScoreFromPriority(p int) (score int, exact bool) {
	f := float64(p-MinPriority) / priorityStep
	score = int(math.Round(min(max(f, 0), 100)))
	return score, PriorityFromScore(score) == p
}

// Desired is the compiled desired state of an environment: one spec per entity, in the
// same name-referenced shape as the config, with assignment rules applied to their
// worktypes. Every list is sorted by name and every unordered set of names is sorted, so
// two compilations of equivalent configs are equal.
type Desired struct {
	APIVersion  string     `json:"apiVersion"`
	Environment string     `json:"environment,omitempty"`
	Skills      []Skill    `json:"skills,omitzero"`
	Queues      []Queue    `json:"queues,omitzero"`
	Worktypes   []Worktype `json:"worktypes,omitzero"`
	// Overflow holds the occupancy side of the assignment rules that declare one.
	Overflow []Overflow `json:"overflow,omitzero"`
}

// Overflow is what the occupancy function needs from an assignment rule: when Queue holds
// MaxCapacity waiting tasks or more for OverflowAfter samples, new tasks of Worktype go to
// OverflowQueue; once the backlog is at or below ResumeBelow for ResumeAfter samples they
// go back to Queue; neither switch happens within MinDwellSeconds of the last one. The
// hysteresis fields hold the rule's values with the defaults applied.
type Overflow struct {
	Rule          string `json:"rule"`
	Worktype      string `json:"worktype"`
	Queue         string `json:"queue"`
	OverflowQueue string `json:"overflowQueue"`
	MaxCapacity   int    `json:"maxCapacity"`
	// PriorityScore is the rule's score, if it declares one.
	PriorityScore   *int `json:"priorityScore,omitempty"`
	OverflowAfter   int  `json:"overflowAfter"`
	ResumeBelow     int  `json:"resumeBelow"`
	ResumeAfter     int  `json:"resumeAfter"`
	MinDwellSeconds int  `json:"minDwellSeconds"`
}

// Entity is one managed entity of a Desired state. Spec is a Skill, Queue or Worktype
// value; json.Marshal(Spec) yields exactly its managed fields.
type Entity struct {
	Kind entity.Kind
	Name string
	Spec any
}

// Doc returns the entity's document: exactly its managed fields, as document.Decode of
// json.Marshal(spec) would give them (jsonValue), so numbers compare exactly with
// canonical live documents.
func (e Entity) Doc() (entity.Doc, error) {
	v, err := jsonValue(reflect.ValueOf(e.Spec))
	if err != nil {
		return entity.Doc{}, fmt.Errorf("%s %q: encode spec: %w", e.Kind, e.Name, err)
	}
	fields, ok := v.(map[string]any)
	if !ok {
		return entity.Doc{}, fmt.Errorf("%s %q: encode spec: got %T, want an object", e.Kind, e.Name, v)
	}
	return entity.Doc{Kind: e.Kind, Name: e.Name, Fields: fields}, nil
}

// jsonValue is document.Decode(json.Marshal(v)) for the format's types without the JSON
// text between (a sixth of plan's time after the load, for 5,000 queues): the same tree
// of map[string]any, []any, string, json.Number, bool and nil, members left out as
// omitempty and omitzero say and embedded structs' members promoted.
func jsonValue(v reflect.Value) (any, error) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		return jsonValue(v.Elem())
	case reflect.Struct:
		obj := map[string]any{}
		if err := addMembers(obj, v); err != nil {
			return nil, err
		}
		return obj, nil
	case reflect.Slice:
		if v.IsNil() {
			return nil, nil
		}
		arr := make([]any, v.Len())
		for i := range arr {
			x, err := jsonValue(v.Index(i))
			if err != nil {
				return nil, err
			}
			arr[i] = x
		}
		return arr, nil
	case reflect.String:
		return v.String(), nil
	case reflect.Bool:
		return v.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return json.Number(strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Float32, reflect.Float64:
		b, err := json.Marshal(v.Interface()) // encoding/json's own float spelling
		if err != nil {
			return nil, err
		}
		return json.Number(b), nil
	}
	return nil, fmt.Errorf("cannot encode %s", v.Type())
}

// addMembers adds the JSON members of struct v to obj.
func addMembers(obj map[string]any, v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if sf.Anonymous && name == "" && fv.Kind() == reflect.Struct {
			if err := addMembers(obj, fv); err != nil {
				return err
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if opts == "omitzero" && fv.IsZero() || opts == "omitempty" && isEmptyJSON(fv) {
			continue
		}
		x, err := jsonValue(fv)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		obj[name] = x
	}
	return nil
}

// isEmptyJSON is encoding/json's omitempty test.
func isEmptyJSON(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// Entities lists every entity: skills, then queues, then worktypes (the order in which
// they can be created, since queues and worktypes reference skills and queues).
func (d *Desired) Entities() []Entity {
	out := make([]Entity, 0, len(d.Skills)+len(d.Queues)+len(d.Worktypes))
	for _, s := range d.Skills {
		out = append(out, Entity{Kind: entity.Skill, Name: s.Name, Spec: s})
	}
	for _, q := range d.Queues {
		out = append(out, Entity{Kind: entity.Queue, Name: q.Name, Spec: q})
	}
	for _, w := range d.Worktypes {
		out = append(out, Entity{Kind: entity.Worktype, Name: w.Name, Spec: w})
	}
	return out
}

// Docs returns the document of every entity, in the order of Entities.
func (d *Desired) Docs() ([]entity.Doc, error) {
	ents := d.Entities()
	out := make([]entity.Doc, len(ents))
	for i, e := range ents {
		doc, err := e.Doc()
		if err != nil {
			return nil, err
		}
		out[i] = doc
	}
	return out, nil
}

// Entity returns the spec of the named entity of kind k.
func (d *Desired) Entity(k entity.Kind, name string) (Entity, bool) {
	switch k {
	case entity.Skill:
		if i := slices.IndexFunc(d.Skills, func(s Skill) bool { return s.Name == name }); i >= 0 {
			return Entity{Kind: k, Name: name, Spec: d.Skills[i]}, true
		}
	case entity.Queue:
		if i := slices.IndexFunc(d.Queues, func(q Queue) bool { return q.Name == name }); i >= 0 {
			return Entity{Kind: k, Name: name, Spec: d.Queues[i]}, true
		}
	case entity.Worktype:
		if i := slices.IndexFunc(d.Worktypes, func(w Worktype) bool { return w.Name == name }); i >= 0 {
			return Entity{Kind: k, Name: name, Spec: d.Worktypes[i]}, true
		}
	}
	return Entity{}, false
}

// Compile validates cfg and turns it into the desired state per entity. Each assignment
// rule is applied to its worktype: queue -> defaultQueue, skills -> defaultSkills,
// priorityScore -> defaultPriority (PriorityFromScore). A rule that contradicts a value
// set directly on its worktype is reported by Validate, so Compile returns its
// *ValidationError. cfg is not modified.
//
// A config returned by Load, Parse or ParseFiles and not changed since is known to be
// valid, so Compile does not validate it again; any change made to it in code (detected
// by a fingerprint of its values) makes Compile validate it in full.
func Compile(cfg *Config) (*Desired, error) {
	if !cfg.validatedSince() {
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
	}
	c := Canonical(cfg)
	d := &Desired{
		APIVersion:  c.APIVersion,
		Environment: c.Environment,
		Skills:      c.Skills,
		Queues:      c.Queues,
		Worktypes:   c.Worktypes,
	}
	for _, r := range c.AssignmentRules {
		i := slices.IndexFunc(d.Worktypes, func(w Worktype) bool { return w.Name == r.Worktype })
		w := &d.Worktypes[i] // Validate guarantees the worktype exists
		w.DefaultQueue = ptr(r.Queue)
		if r.Skills != nil {
			w.DefaultSkills = slices.Clone(r.Skills)
		}
		if r.PriorityScore != nil {
			w.DefaultPriority = ptr(PriorityFromScore(*r.PriorityScore))
		}
		if r.OverflowQueue != nil && r.MaxCapacity != nil {
			o := Overflow{Rule: r.Name, Worktype: r.Worktype, Queue: r.Queue,
				OverflowQueue: *r.OverflowQueue, MaxCapacity: *r.MaxCapacity,
				OverflowAfter:   orDefault(r.OverflowAfter, DefaultOverflowAfter),
				ResumeBelow:     orDefault(r.ResumeBelow, ResumeBelowDefault(*r.MaxCapacity)),
				ResumeAfter:     orDefault(r.ResumeAfter, DefaultResumeAfter),
				MinDwellSeconds: orDefault(r.MinDwellSeconds, DefaultMinDwellSeconds)}
			if r.PriorityScore != nil {
				o.PriorityScore = ptr(*r.PriorityScore)
			}
			d.Overflow = append(d.Overflow, o)
		}
	}
	slices.SortFunc(d.Overflow, func(a, b Overflow) int { return cmp.Compare(a.Rule, b.Rule) })
	return d, nil
}

func ptr[T any](v T) *T { return &v }

// orDefault is *p, or def when p is nil.
func orDefault(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}
