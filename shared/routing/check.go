package routing

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// Validate checks c against the JSON Schema and then the semantic rules, and returns a
// *ValidationError listing every problem, or nil. Configs returned by Load are already
// valid; Validate is for configs built or changed in code (diagnostics then carry paths
// but no lines unless the config was loaded).
func (c *Config) Validate() error {
	if c == nil {
		return errors.New("validate config: config is nil")
	}
	v, err := toJSONValue(c)
	if err != nil {
		return fmt.Errorf("validate config: %w", err)
	}
	diags := schemaDiagnostics(v, func(r Rule, p path, msg string) Diagnostic { return c.diag(r, p, "%s", msg) })
	if len(diags) == 0 {
		diags = c.semanticDiagnostics()
	}
	if len(diags) > 0 {
		return &ValidationError{Diagnostics: sortDiagnostics(diags)}
	}
	return nil
}

// names indexes the names of one kind for reference checks.
type names struct {
	kind  string            // "skill", "queue", ...
	exact map[string]bool   // declared names
	fold  map[string]string // lower-case -> declared name, for "did you mean"
}

func newNames(kind string) *names {
	return &names{kind: kind, exact: map[string]bool{}, fold: map[string]string{}}
}

func (n *names) add(name string) { n.exact[name] = true; n.fold[strings.ToLower(name)] = name }

// resolve returns "" if name resolves, else what is wrong and what to do. A reference by
// id (entity.IDPrefix+id) cannot be checked offline and is accepted.
func (n *names) resolve(name string) string {
	if n.exact[name] || entity.IsIDReference(name) {
		return ""
	}
	if d, ok := n.fold[strings.ToLower(name)]; ok {
		return fmt.Sprintf("%s %q is not declared: did you mean %q? (names are case-sensitive)", n.kind, name, d)
	}
	return fmt.Sprintf("%s %q is not declared in this config: declare it under %s or fix the name", n.kind, name, n.listKey())
}

func (n *names) listKey() string {
	switch n.kind {
	case "skill":
		return "skills"
	case "queue":
		return "queues"
	case "worktype":
		return "worktypes"
	case "workbin":
		return "workbins"
	case "division":
		return "divisions"
	}
	return n.kind
}

// checker collects semantic diagnostics.
type checker struct {
	c     *Config
	diags []Diagnostic
}

func (k *checker) add(rule Rule, p path, format string, args ...any) {
	if k.repeats(rule, p) {
		return
	}
	k.diags = append(k.diags, k.c.diag(rule, p, format, args...))
}

// repeats reports whether a problem of rule at p would only repeat, in other words, a
// schema problem of the same element (or top-level member): an element the schema
// refused parts of is still declared and its references are checked, but the checks of
// how its own fields go together are not.
func (k *checker) repeats(rule Rule, p path) bool {
	src := k.c.src
	if src == nil || len(p) == 0 {
		return false
	}
	key, _ := p[0].(string)
	if rule == RuleMerge && (src.flawedTop[key] || src.flawedTop[""]) {
		return true
	}
	switch rule {
	case RuleReference, RuleDuplicate, RuleName:
		return false
	}
	if i, ok := p.index(1); ok {
		return src.flawed[key][i]
	}
	return false
}

// ref checks a reference if the kind's names are known (idx != nil).
func (k *checker) ref(idx *names, name string, p path) {
	if idx == nil {
		return
	}
	if msg := idx.resolve(name); msg != "" {
		k.add(RuleReference, p, "%s", msg)
	}
}

// declare checks a name and records it, reporting blank names and duplicates.
func (k *checker) declare(idx *names, first map[string]path, name string, p path) {
	np := p.with("name")
	if idx.kind == "division" || idx.kind == "workbin" {
		np = p // plain name lists
	}
	if strings.TrimSpace(name) == "" {
		k.add(RuleName, np, "%s name is blank: give it a name", idx.kind)
		return
	}
	// Leading or trailing spaces are allowed: Genesys stores such names, so a config that
	// manages (or an export of) such an entity must be able to say them. In YAML they
	// survive only in quotes, so they cannot be typed by accident.
	key := strings.ToLower(name)
	if prev, dup := first[key]; dup {
		d := k.c.diag(RuleDuplicate, prev, "")
		where := d.Path
		if d.File != "" {
			where = fmt.Sprintf("%s:%d (%s)", d.File, d.Line, d.Path)
		}
		k.add(RuleDuplicate, np, "%s %q is already declared at %s: names must be unique per kind (compared case-insensitively)", idx.kind, name, where)
		return
	}
	first[key] = np
	idx.add(name)
}

// semanticDiagnostics runs every check that the schema cannot express. It assumes the
// config is schema-valid.
func (c *Config) semanticDiagnostics() []Diagnostic {
	k := &checker{c: c}
	if c.APIVersion == "" {
		k.add(RuleMerge, path{"apiVersion"}, "apiVersion is missing: add `apiVersion: %s` to a file of this config", APIVersion)
	}

	var divisions, workbins *names
	if c.Divisions != nil {
		divisions = newNames("division")
		first := map[string]path{}
		for i, d := range c.Divisions {
			k.declare(divisions, first, d, path{"divisions", i})
		}
	}
	if c.Workbins != nil {
		workbins = newNames("workbin")
		first := map[string]path{}
		for i, w := range c.Workbins {
			k.declare(workbins, first, w, path{"workbins", i})
		}
	}
	skills, queues, worktypes, rules := newNames("skill"), newNames("queue"), newNames("worktype"), newNames("assignment rule")
	{
		first := map[string]path{}
		for i, s := range c.Skills {
			k.declare(skills, first, s.Name, path{"skills", i})
		}
	}
	{
		first := map[string]path{}
		for i, q := range c.Queues {
			k.declare(queues, first, q.Name, path{"queues", i})
		}
	}
	wtIndex := map[string]int{}
	{
		first := map[string]path{}
		for i, w := range c.Worktypes {
			k.declare(worktypes, first, w.Name, path{"worktypes", i})
			if _, ok := wtIndex[w.Name]; !ok {
				wtIndex[w.Name] = i
			}
		}
	}
	{
		first := map[string]path{}
		for i, r := range c.AssignmentRules {
			k.declare(rules, first, r.Name, path{"assignmentRules", i})
		}
	}

	for i, q := range c.Queues {
		p := path{"queues", i}
		if q.Division != nil {
			k.ref(divisions, *q.Division, p.with("division"))
		}
		if a := q.AcwSettings; a != nil && a.TimeoutMs != nil {
			// Without a declared prompt the config manages the timeout only, and the live
			// prompt decides whether Genesys uses it (export writes exactly that for a
			// queue Genesys returns without a prompt).
			if a.WrapupPrompt != nil && !slices.Contains(timeoutPrompts, *a.WrapupPrompt) {
				k.add(RuleAcw, p.with("acwSettings", "timeoutMs"), "timeoutMs is only allowed with wrapupPrompt %s, not %s: remove timeoutMs or change the prompt", strings.Join(timeoutPrompts, ", "), *a.WrapupPrompt)
			}
		}
		if b := q.Bullseye; b != nil {
			for r, ring := range b.Rings {
				if ring.Actions == nil {
					continue
				}
				for s, name := range ring.Actions.SkillsToRemove {
					k.ref(skills, name, p.with("bullseye", "rings", r, "actions", "skillsToRemove", s))
				}
			}
		}
		if g := q.ConditionalGroupRouting; g != nil {
			for r, rule := range g.Rules {
				if rule.Queue != nil {
					k.ref(queues, *rule.Queue, p.with("conditionalGroupRouting", "rules", r, "queue"))
				}
			}
		}
	}

	for i, w := range c.Worktypes {
		p := path{"worktypes", i}
		if w.Division != nil {
			k.ref(divisions, *w.Division, p.with("division"))
		}
		if w.DefaultWorkbin != nil {
			k.ref(workbins, *w.DefaultWorkbin, p.with("defaultWorkbin"))
		}
		if w.DefaultQueue != nil {
			k.ref(queues, *w.DefaultQueue, p.with("defaultQueue"))
		}
		for s, name := range w.DefaultSkills {
			k.ref(skills, name, p.with("defaultSkills", s))
		}
	}

	ruleFor := map[string]int{} // worktype -> first rule index
	for i, r := range c.AssignmentRules {
		p := path{"assignmentRules", i}
		k.ref(queues, r.Queue, p.with("queue"))
		for s, name := range r.Skills {
			k.ref(skills, name, p.with("skills", s))
		}
		switch {
		case r.OverflowQueue != nil && r.MaxCapacity == nil:
			k.add(RuleOverflow, p.with("overflowQueue"), "overflowQueue needs maxCapacity: declare the backlog at which tasks overflow")
		case r.OverflowQueue == nil && r.MaxCapacity != nil:
			k.add(RuleOverflow, p.with("maxCapacity"), "maxCapacity needs overflowQueue: declare where tasks go when the backlog passes it")
		}
		k.overflowHysteresis(r, p)
		if r.OverflowQueue != nil {
			if *r.OverflowQueue == r.Queue {
				k.add(RuleOverflow, p.with("overflowQueue"), "overflowQueue %q is the rule's own queue: overflow to a different queue", r.Queue)
			} else {
				k.ref(queues, *r.OverflowQueue, p.with("overflowQueue"))
			}
		}
		if msg := worktypes.resolve(r.Worktype); msg != "" {
			k.add(RuleReference, p.with("worktype"), "%s", msg)
			continue
		}
		if _, ok := wtIndex[r.Worktype]; !ok {
			// An id reference resolves elsewhere, but a rule is applied to a worktype of
			// this config.
			k.add(RuleReference, p.with("worktype"), "worktype %q is not declared in this config: an assignment rule routes a worktype the config declares, by name", r.Worktype)
			continue
		}
		if prev, dup := ruleFor[r.Worktype]; dup {
			k.add(RuleRulePerType, p.with("worktype"), "worktype %q already has assignment rule %q (%s): merge the two rules into one",
				r.Worktype, c.AssignmentRules[prev].Name, c.diagWhere(path{"assignmentRules", prev}))
			continue
		}
		ruleFor[r.Worktype] = i
		wi := wtIndex[r.Worktype]
		w := c.Worktypes[wi]
		wp := path{"worktypes", wi}
		if w.DefaultQueue != nil && *w.DefaultQueue != r.Queue {
			k.add(RuleContradiction, p.with("queue"), "queue %q contradicts defaultQueue %q set on worktype %q (%s): remove one of them",
				r.Queue, *w.DefaultQueue, w.Name, c.diagWhere(wp.with("defaultQueue")))
		}
		if r.Skills != nil && w.DefaultSkills != nil && !sameItems(r.Skills, w.DefaultSkills) {
			k.add(RuleContradiction, p.with("skills"), "skills [%s] contradict defaultSkills [%s] set on worktype %q (%s): remove one of them",
				strings.Join(r.Skills, ", "), strings.Join(w.DefaultSkills, ", "), w.Name, c.diagWhere(wp.with("defaultSkills")))
		}
		if r.PriorityScore != nil && w.DefaultPriority != nil && PriorityFromScore(*r.PriorityScore) != *w.DefaultPriority {
			k.add(RuleContradiction, p.with("priorityScore"), "priorityScore %d means defaultPriority %d, but worktype %q sets defaultPriority %d (%s): remove one of them",
				*r.PriorityScore, PriorityFromScore(*r.PriorityScore), w.Name, *w.DefaultPriority, c.diagWhere(wp.with("defaultPriority")))
		}
	}
	return k.diags
}

// overflowHysteresis checks the fields that tune when a rule's tasks overflow and come
// back: they need an overflow (overflowQueue), and resumeBelow must be below maxCapacity,
// or the backlog would be both at capacity and drained.
func (k *checker) overflowHysteresis(r AssignmentRule, p path) {
	if r.OverflowQueue == nil {
		for _, f := range []struct {
			name string
			set  bool
		}{{"overflowAfter", r.OverflowAfter != nil}, {"resumeBelow", r.ResumeBelow != nil},
			{"resumeAfter", r.ResumeAfter != nil}, {"minDwellSeconds", r.MinDwellSeconds != nil}} {
			if f.set {
				k.add(RuleOverflow, p.with(f.name), "%s tunes the overflow, but the rule has no overflowQueue: declare overflowQueue and maxCapacity, or remove %s", f.name, f.name)
			}
		}
		return
	}
	if r.ResumeBelow != nil && r.MaxCapacity != nil && *r.ResumeBelow >= *r.MaxCapacity {
		k.add(RuleOverflow, p.with("resumeBelow"), "resumeBelow %d is not below maxCapacity %d: tasks would go back to the queue while it is still at capacity; set resumeBelow to at most %d, or leave it out (default %d %% of maxCapacity: %d)",
			*r.ResumeBelow, *r.MaxCapacity, *r.MaxCapacity-1, DefaultResumePercent, ResumeBelowDefault(*r.MaxCapacity))
	}
}

// diagWhere renders where p is, as "file:line" for loaded configs or the path otherwise.
func (c *Config) diagWhere(p path) string {
	d := c.diag("", p, "")
	if d.File != "" && d.Line > 0 {
		return fmt.Sprintf("%s:%d", d.File, d.Line)
	}
	return d.Path
}
