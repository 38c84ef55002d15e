package live

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
)

// Request bodies: the inverse of the canonical form
//
// The builders below take managed fields in spec shape (names, as in a
// routing spec's JSON or a change request's desired document) and produce
// Genesys request bodies (ids). They are the only place that knows how a spec
// field maps back onto the API:
//
//   - queue: the shapes are the same except references: division -> {"id"},
//     bullseye skillsToRemove -> [{"id"}], conditional-group-routing queue ->
//     {"id"} and groups -> [{"id","type"}]. A PUT is a full replace, so
//     QueueBody starts from the raw queue as read and applies the managed
//     fields with Overlay semantics (a declared object manages only the keys
//     it declares; arrays and scalars replace; null removes): every field
//     routekeeper does not manage is sent back unchanged.
//   - worktype: WorktypeUpdate/WorktypeCreate take ids in their own members:
//     defaultWorkbin -> defaultWorkbinId, defaultQueue -> defaultQueueId,
//     defaultSkills -> defaultSkillIds, defaultLanguage -> defaultLanguageId,
//     division -> divisionId (create only: WorktypeUpdate has no division
//     member, so WorktypePatch leaves a declared division out and a division
//     change cannot be applied by PATCH).
//
// Names resolve through Names; a name written as entity.IDPrefix+id resolves to id.
// A name that resolves to nothing is an error (*ReferenceError, ErrUnresolved):
// the object must exist before it is referenced.

// ErrUnresolved is matched by every *ReferenceError.
var ErrUnresolved = errors.New("live: reference does not resolve")

// ErrUnmodelled is returned for a managed field the spec does not model.
var ErrUnmodelled error = permanentError("live: field is not a routekeeper spec field")

// permanentError is a sentinel error that retrying cannot fix (shared/retry reads its
// Permanent method).
type permanentError string

func (e permanentError) Error() string { return string(e) }

// Permanent reports true: see shared/retry.
func (permanentError) Permanent() bool { return true }

// ReferenceError is a name in managed fields that names no object of its kind
// in the org.
type ReferenceError struct {
	Kind entity.Kind // kind of the referenced object
	Name string      // the name that did not resolve
	Path string      // where in the managed document
	// GroupType is the member group's type (TEAM, GROUP, SKILLGROUP) when Kind is Group.
	GroupType string
	// Ambiguous are the org's names that differ from Name only in letter case,
	// when there are several (and so none is the one meant); nil otherwise.
	Ambiguous []string
}

func (e *ReferenceError) Error() string {
	what := string(e.Kind)
	if e.Kind == entity.Group {
		what = "member group (" + e.GroupType + ")"
	}
	if len(e.Ambiguous) > 1 {
		return fmt.Sprintf("%s: %s %q matches %d names in the org ignoring case (%s) and none exactly: write the name exactly as the org spells the one you mean",
			e.Path, what, e.Name, len(e.Ambiguous), strings.Join(quoteAll(e.Ambiguous), ", "))
	}
	return fmt.Sprintf("%s: %s %q does not exist in the org: create it first or fix the name", e.Path, what, e.Name)
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// Is reports whether target is ErrUnresolved.
func (e *ReferenceError) Is(target error) bool { return target == ErrUnresolved }

// QueueBody returns the PUT /api/v2/routing/queues/{id} body (QueueRequest):
// raw, the queue as read, with managed applied. Neither argument is modified.
func QueueBody(raw map[string]any, managed map[string]any, n *Names) (map[string]any, error) {
	if raw == nil {
		return nil, errors.New("queue body: no raw queue: read the queue first (a PUT is a full replace)")
	}
	g, err := queueFields(managed, n, raw)
	if err != nil {
		return nil, err
	}
	body := document.Overlay(raw, g)
	// References and ring lists are whole values: an id-only reference must
	// not keep the old reference's name, and rings were merged one by one.
	for _, k := range []string{"division", "bullseye", "conditionalGroupRouting"} {
		if v, ok := g[k]; ok && v != nil {
			body[k] = v
		}
	}
	return body, nil
}

// NewQueueBody returns the POST /api/v2/routing/queues body
// (CreateQueueRequest) for managed, which must declare name.
func NewQueueBody(managed map[string]any, n *Names) (map[string]any, error) {
	if s, _ := managed["name"].(string); s == "" {
		return nil, errors.New("new queue body: managed fields lack a name")
	}
	g, err := queueFields(managed, n, nil)
	if err != nil {
		return nil, err
	}
	return dropNulls(g), nil
}

// WorktypePatch returns the PATCH /api/v2/taskmanagement/worktypes/{id} body
// (WorktypeUpdate) for managed: only the declared members, explicit null
// clearing a member (for example {"defaultQueueId": null}). A declared
// division is left out (WorktypeUpdate has none).
func WorktypePatch(managed map[string]any, n *Names) (map[string]any, error) {
	return worktypeFields(managed, n, false)
}

// NewWorktypeBody returns the POST /api/v2/taskmanagement/worktypes body
// (WorktypeCreate); managed must declare name and defaultWorkbin.
func NewWorktypeBody(managed map[string]any, n *Names) (map[string]any, error) {
	if s, _ := managed["name"].(string); s == "" {
		return nil, errors.New("new worktype body: managed fields lack a name")
	}
	if s, _ := managed["defaultWorkbin"].(string); s == "" {
		return nil, errors.New("new worktype body: managed fields lack defaultWorkbin, which Genesys requires to create a worktype")
	}
	b, err := worktypeFields(managed, n, true)
	if err != nil {
		return nil, err
	}
	return dropNulls(b), nil
}

func dropNulls(m map[string]any) map[string]any {
	for k, v := range m {
		if v == nil {
			delete(m, k)
		}
	}
	return m
}

func resolveName(n *Names, kind entity.Kind, v any, path string) (string, error) {
	name, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: got %s, want a %s name: %w", path, describe(v), kind, ErrUnmodelled)
	}
	id, ok := n.resolve(kind, name)
	if !ok {
		return "", &ReferenceError{Kind: kind, Name: name, Path: path, Ambiguous: n.Ambiguous(kind, name)}
	}
	return id, nil
}

// queueSame are the queue fields whose spec and API shapes are identical.
var queueSame = map[string]bool{
	"name": true, "description": true, "skillEvaluationMethod": true, "scoringMethod": true,
	"lastAgentRoutingMode": true, "acwSettings": true, "mediaSettings": true, "routingRules": true,
	"enableTranscription": true, "enableManualAssignment": true,
}

// queueFields converts managed queue fields to API shape. raw (may be nil) is
// the live queue, used to keep unmodelled ring members and to find member
// group ids by name.
func queueFields(managed map[string]any, n *Names, raw map[string]any) (map[string]any, error) {
	g := make(map[string]any, len(managed))
	for k, v := range managed {
		switch {
		case queueSame[k]:
			g[k] = document.Clone(v)
		case v == nil:
			g[k] = nil
		case k == "division":
			id, err := resolveName(n, entity.Division, v, "division")
			if err != nil {
				return nil, err
			}
			g[k] = map[string]any{"id": id}
		case k == "bullseye":
			b, err := bullseyeFields(v, n, raw)
			if err != nil {
				return nil, err
			}
			g[k] = b
		case k == "conditionalGroupRouting":
			c, err := cgrFields(v, n, raw)
			if err != nil {
				return nil, err
			}
			g[k] = c
		default:
			return nil, fmt.Errorf("queue field %q: %w", k, ErrUnmodelled)
		}
	}
	return g, nil
}

func asObject(v any, path string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: got %s, want an object: %w", path, describe(v), ErrUnmodelled)
	}
	return m, nil
}

func asArray(v any, path string) ([]any, error) {
	if v == nil {
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: got %s, want an array: %w", path, describe(v), ErrUnmodelled)
	}
	return a, nil
}

func bullseyeFields(v any, n *Names, raw map[string]any) (map[string]any, error) {
	b, err := asObject(v, "bullseye")
	if err != nil {
		return nil, err
	}
	rings, err := asArray(b["rings"], "bullseye.rings")
	if err != nil {
		return nil, err
	}
	var liveRings []any
	if lb, ok := raw["bullseye"].(map[string]any); ok {
		liveRings, _ = lb["rings"].([]any)
	}
	out := make([]any, 0, len(rings))
	for i, rv := range rings {
		at := index("bullseye.rings", i)
		ring, err := asObject(rv, at)
		if err != nil {
			return nil, err
		}
		r := document.Clone(ring).(map[string]any)
		if actions, ok := ring["actions"].(map[string]any); ok {
			a := document.Clone(actions).(map[string]any)
			if str, present := actions["skillsToRemove"]; present && str != nil {
				names, err := asArray(str, at+".actions.skillsToRemove")
				if err != nil {
					return nil, err
				}
				refs := make([]any, 0, len(names))
				for j, nv := range names {
					id, err := resolveName(n, entity.Skill, nv, index(at+".actions.skillsToRemove", j))
					if err != nil {
						return nil, err
					}
					refs = append(refs, map[string]any{"id": id})
				}
				a["skillsToRemove"] = refs
			}
			r["actions"] = a
		}
		// Keep what routekeeper does not model on the live ring (memberGroups).
		if i < len(liveRings) {
			if lr, ok := liveRings[i].(map[string]any); ok {
				r = document.Overlay(lr, r) // arrays (skillsToRemove) replace, objects merge
			}
		}
		out = append(out, r)
	}
	res := document.Clone(b).(map[string]any)
	res["rings"] = out
	return res, nil
}

type groupKey struct{ name, typ string }

func cgrFields(v any, n *Names, raw map[string]any) (map[string]any, error) {
	c, err := asObject(v, "conditionalGroupRouting")
	if err != nil {
		return nil, err
	}
	rules, err := asArray(c["rules"], "conditionalGroupRouting.rules")
	if err != nil {
		return nil, err
	}
	// Member groups are not listed by routekeeper: learn their ids from the
	// live queue's rules, where Genesys names them.
	groupIDs := map[groupKey]string{}
	if lc, ok := raw["conditionalGroupRouting"].(map[string]any); ok {
		lrules, _ := lc["rules"].([]any)
		for _, lr := range lrules {
			lm, _ := lr.(map[string]any)
			groups, _ := lm["groups"].([]any)
			for _, gv := range groups {
				gm, _ := gv.(map[string]any)
				id, _ := gm["id"].(string)
				typ, _ := gm["type"].(string)
				name, _ := gm["name"].(string)
				if nn, ok := n.Name(entity.Group, id); ok {
					name = nn
				}
				if id != "" && name != "" {
					groupIDs[groupKey{name, typ}] = id
				}
			}
		}
	}
	out := make([]any, 0, len(rules))
	for i, rv := range rules {
		at := index("conditionalGroupRouting.rules", i)
		rule, err := asObject(rv, at)
		if err != nil {
			return nil, err
		}
		r := document.Clone(rule).(map[string]any)
		if q, ok := rule["queue"]; ok && q != nil {
			id, err := resolveName(n, entity.Queue, q, at+".queue")
			if err != nil {
				return nil, err
			}
			r["queue"] = map[string]any{"id": id}
		}
		if gs, ok := rule["groups"]; ok && gs != nil {
			groups, err := asArray(gs, at+".groups")
			if err != nil {
				return nil, err
			}
			refs := make([]any, 0, len(groups))
			for j, gv := range groups {
				gat := index(at+".groups", j)
				gm, err := asObject(gv, gat)
				if err != nil {
					return nil, err
				}
				name, _ := gm["name"].(string)
				typ, _ := gm["type"].(string)
				id, ok := groupIDs[groupKey{name, typ}]
				if !ok {
					if id, ok = n.resolve(entity.Group, name); !ok {
						return nil, &ReferenceError{Kind: entity.Group, GroupType: typ, Name: name, Path: gat}
					}
				}
				// Genesys names member groups in responses; sending the name
				// back is harmless (MemberGroup has it) and keeps the body
				// canonicalisable without a member-group lookup.
				ref := map[string]any{"id": id, "name": name, "type": typ}
				if typ == "" {
					delete(ref, "type") // as Genesys returned it; "" is no MemberGroup type
				}
				refs = append(refs, ref)
			}
			r["groups"] = refs
		}
		out = append(out, r)
	}
	res := document.Clone(c).(map[string]any)
	res["rules"] = out
	return res, nil
}

// worktypeSame are the worktype fields whose spec and API members are identical.
var worktypeSame = map[string]bool{
	"name": true, "description": true, "defaultPriority": true, "defaultDurationSeconds": true,
	"defaultExpirationSeconds": true, "defaultDueDurationSeconds": true, "defaultTtlSeconds": true,
	"assignmentEnabled": true, "serviceLevelTarget": true,
}

// worktypeRefs maps spec reference fields to WorktypeUpdate/WorktypeCreate id members.
var worktypeRefs = map[string]struct {
	member string
	kind   entity.Kind
}{
	"defaultWorkbin":  {"defaultWorkbinId", entity.Workbin},
	"defaultQueue":    {"defaultQueueId", entity.Queue},
	"defaultLanguage": {"defaultLanguageId", entity.Language},
	"division":        {"divisionId", entity.Division},
}

func worktypeFields(managed map[string]any, n *Names, create bool) (map[string]any, error) {
	b := make(map[string]any, len(managed))
	keys := make([]string, 0, len(managed))
	for k := range managed {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic first error
	for _, k := range keys {
		v := managed[k]
		if worktypeSame[k] {
			b[k] = document.Clone(v)
			continue
		}
		if k == "defaultSkills" {
			if v == nil {
				b["defaultSkillIds"] = nil
				continue
			}
			names, err := asArray(v, "defaultSkills")
			if err != nil {
				return nil, err
			}
			ids := make([]any, 0, len(names))
			for i, nv := range names {
				id, err := resolveName(n, entity.Skill, nv, index("defaultSkills", i))
				if err != nil {
					return nil, err
				}
				ids = append(ids, id)
			}
			b["defaultSkillIds"] = ids
			continue
		}
		ref, ok := worktypeRefs[k]
		if !ok {
			return nil, fmt.Errorf("worktype field %q: %w", k, ErrUnmodelled)
		}
		if k == "division" && !create {
			continue // WorktypeUpdate has no division member
		}
		if v == nil {
			if k == "defaultWorkbin" {
				return nil, errors.New("worktype defaultWorkbin cannot be cleared: Genesys requires a workbin")
			}
			b[ref.member] = nil
			continue
		}
		id, err := resolveName(n, ref.kind, v, k)
		if err != nil {
			return nil, err
		}
		b[ref.member] = id
	}
	return b, nil
}
