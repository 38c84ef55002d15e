package drift

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
)

// Problem is something in a planned change that apply would refuse or could never
// finish: a reference that names no object of the org and none the plan creates (a
// division, workbin, routing language, member group, skill or queue), or a document
// Genesys cannot take (a worktype to create without a defaultWorkbin). A plan with
// problems must not be sent: some of its changes would be written and the rest REJECTED
// or retried in vain.
type Problem struct {
	Kind entity.Kind `json:"kind"` // the planned entity's kind
	Name string      `json:"name"` // the entity as the config declares it
	// Path is the field in the entity's desired document (spec shape, as plan shows it),
	// e.g. defaultSkills[1] or conditionalGroupRouting.rules[0].groups[0]; "" for the
	// entity as a whole.
	Path string `json:"path"`
	// RefKind and Ref are the referenced object's kind and name, for a reference.
	RefKind entity.Kind `json:"refKind,omitempty"`
	Ref     string      `json:"ref,omitempty"`
	Message string      `json:"message"` // what is wrong and what to do
}

func (p Problem) Error() string {
	if p.Path == "" {
		return fmt.Sprintf("%s %q: %s", p.Kind, p.Name, p.Message)
	}
	return fmt.Sprintf("%s %q: %s: %s", p.Kind, p.Name, p.Path, p.Message)
}

// preflightRef stands in for a reference already reported (or one to an entity the plan
// creates) so that the request builders go on to the next one.
const preflightRef = entity.IDPrefix + "routekeeper-preflight"

// Preflight checks every create and update of plan against org (the org the plan was
// made against) as apply will build its requests: with the same request-body builders
// (live.NewQueueBody, live.QueueBody, live.NewWorktypeBody, live.WorktypePatch) and the
// org's names, where a skill or queue the plan creates counts as existing. It returns
// every problem, in plan order; none means apply can build every request.
//
// Member groups (conditional group routing) resolve as apply resolves them: by name and
// type among the groups the live queue already routes to, or written "id:<id>";
// routekeeper does not list teams or groups.
func Preflight(plan *Plan, org *live.Org) []Problem {
	created := map[entity.Kind]map[string]bool{} // kind -> folded names the plan creates
	for _, c := range plan.Changes {
		if c.Action == ActionCreate {
			if created[c.Kind] == nil {
				created[c.Kind] = map[string]bool{}
			}
			created[c.Kind][foldName(c.Name)] = true
		}
	}
	var out []Problem
	for _, c := range plan.Changes {
		if c.Action == ActionCreate || c.Action == ActionUpdate {
			ps := preflightChange(c, org, created)
			// The builders meet references in map order: sort them by field.
			slices.SortStableFunc(ps, func(a, b Problem) int { return cmp.Compare(a.Path, b.Path) })
			out = append(out, ps...)
		}
	}
	return out
}

// preflightChange builds c's request body again and again, each time putting preflightRef
// in place of the reference that did not resolve, until it builds or fails otherwise.
func preflightChange(c Change, org *live.Org, created map[entity.Kind]map[string]bool) []Problem {
	name, _ := c.Desired["name"].(string)
	if name == "" {
		name = c.Name
	}
	var raw map[string]any
	if c.Action == ActionUpdate && c.Kind == entity.Queue {
		l, ok := org.Entity(c.Kind, c.Name)
		if !ok {
			return []Problem{{Kind: c.Kind, Name: name, Message: "the plan updates a queue the org it was made against does not hold: plan again"}}
		}
		raw = l.Raw
	}
	doc, _ := document.Clone(c.Desired).(map[string]any)
	var out []Problem
	seen := map[string]bool{}
	for {
		err := buildBody(c.Kind, c.Action, doc, raw, org.Names)
		if err == nil {
			return out
		}
		re, ok := errors.AsType[*live.ReferenceError](err)
		if !ok {
			return append(out, Problem{Kind: c.Kind, Name: name, Message: bodyMessage(err)})
		}
		if seen[re.Path] || !setReference(doc, re.Path, preflightRef) {
			// Cannot step past it: report it and stop (never loop).
			return append(out, referenceProblem(c.Kind, name, re))
		}
		seen[re.Path] = true
		if !(re.Kind.Managed() && created[re.Kind][foldName(re.Name)]) {
			out = append(out, referenceProblem(c.Kind, name, re))
		}
	}
}

// buildBody builds the request body apply sends for a create or update of kind.
func buildBody(kind entity.Kind, action Action, doc, raw map[string]any, n *live.Names) error {
	var err error
	switch {
	case kind == entity.Queue && action == ActionCreate:
		_, err = live.NewQueueBody(doc, n)
	case kind == entity.Queue:
		_, err = live.QueueBody(raw, doc, n)
	case kind == entity.Worktype && action == ActionCreate:
		_, err = live.NewWorktypeBody(doc, n)
	case kind == entity.Worktype:
		_, err = live.WorktypePatch(doc, n)
	}
	return err // a skill's only field is its name
}

// referenceProblem says what an unresolved reference is and what to do about it.
func referenceProblem(kind entity.Kind, name string, re *live.ReferenceError) Problem {
	p := Problem{Kind: kind, Name: name, Path: re.Path, RefKind: re.Kind, Ref: re.Name}
	switch {
	case len(re.Ambiguous) > 1:
		quoted := make([]string, len(re.Ambiguous))
		for i, a := range re.Ambiguous {
			quoted[i] = strconv.Quote(a)
		}
		p.Message = fmt.Sprintf("%s %q matches %d names in the org ignoring case (%s) and none exactly: write the name exactly as the org spells the one you mean",
			re.Kind, re.Name, len(re.Ambiguous), strings.Join(quoted, ", "))
	case re.Kind == entity.Group:
		p.Message = fmt.Sprintf("member group %q (%s) is not one of the groups this queue routes to in Genesys: apply finds a member group by name only among the live queue's own groups (routekeeper does not list teams or groups), so add the group to the queue in Genesys first, or fix the name", re.Name, re.GroupType)
	case re.Kind.Managed():
		p.Message = fmt.Sprintf("%s %q does not exist in the org and this config does not declare it: declare it under %ss (the plan then creates it) or fix the name", re.Kind, re.Name, re.Kind)
	default:
		p.Message = fmt.Sprintf("%s %q does not exist in the org: routekeeper never creates a %s, so add it in Genesys or fix the name", re.Kind, re.Name, re.Kind)
	}
	return p
}

// bodyMessage is a request builder's other refusal, without the builder's prefix.
func bodyMessage(err error) string {
	msg := err.Error()
	for _, prefix := range []string{"new worktype body: ", "new queue body: ", "queue body: "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	return msg + ": apply would refuse this change"
}

// setReference replaces the reference at path (as live.ReferenceError names it: keys
// joined by '.', indexes as [n]) in doc with v; a member group's path names the group
// object, whose name is replaced. false when path does not lead to a value.
func setReference(doc map[string]any, path, v string) bool {
	segs, ok := splitPath(path)
	if !ok || len(segs) == 0 {
		return false
	}
	var cur any = doc
	for i, s := range segs {
		last := i == len(segs)-1
		switch s := s.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return false
			}
			if last {
				return setLeaf(m, s, v)
			}
			cur = m[s]
		case int:
			a, ok := cur.([]any)
			if !ok || s < 0 || s >= len(a) {
				return false
			}
			if last {
				if g, ok := a[s].(map[string]any); ok {
					g["name"] = v
				} else {
					a[s] = v
				}
				return true
			}
			cur = a[s]
		}
	}
	return false
}

func setLeaf(m map[string]any, key, v string) bool {
	if g, ok := m[key].(map[string]any); ok {
		g["name"] = v
		return true
	}
	if _, ok := m[key]; !ok {
		return false
	}
	m[key] = v
	return true
}

// splitPath splits "a.b[2].c" into "a", "b", 2, "c".
func splitPath(path string) ([]any, bool) {
	var segs []any
	for part := range strings.SplitSeq(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			segs = append(segs, key)
		}
		for rest != "" {
			num, after, ok := strings.Cut(rest, "]")
			n, err := strconv.Atoi(num)
			if !ok || err != nil {
				return nil, false
			}
			segs = append(segs, n)
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return segs, true
}
