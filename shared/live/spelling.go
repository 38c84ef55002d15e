package live

import (
	"slices"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
)

// OrgSpelling returns desired (a managed document in spec shape, as PlanLive
// and apply compare it with canonical live) with every reference written as
// the org spells it: a reference that names no object exactly but exactly one
// ignoring letter case (a config's `english` for the org's `English`, see
// Names.Spelling) is replaced by that object's name, and the sets it sits in
// (defaultSkills, skillsToRemove) are sorted again as the canonical form sorts
// them. desired is not modified; it is returned as is when nothing changes.
//
// This is the one place that reconciles the case of references: canonical
// live names references as the org does, so comparing a respelled desired
// document with it reports no difference that is only the case of a
// reference, while Diff itself stays exact (a difference in the case of an
// entity's own name is a rename). References that do not resolve, or resolve
// ambiguously, are left alone: the request-body builders report them.
// Member-group names in conditional group routing are matched by name and
// type against the live queue and are left alone too.
func OrgSpelling(kind entity.Kind, desired map[string]any, n *Names) map[string]any {
	if n == nil || desired == nil {
		return desired
	}
	out := desired
	copied := false
	edit := func() map[string]any {
		if !copied {
			out, copied = document.Clone(desired).(map[string]any), true
		}
		return out
	}
	respell := func(refKind entity.Kind, v any) (string, bool) {
		s, ok := v.(string)
		if !ok || s == "" {
			return "", false
		}
		org, ok := n.Spelling(refKind, s)
		return org, ok && org != s
	}
	// respellSet returns the respelled, sorted copy of a set of names, or nil
	// when nothing changes.
	respellSet := func(refKind entity.Kind, v any) []any {
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		var changed []any
		for i, e := range arr {
			if org, ok := respell(refKind, e); ok {
				if changed == nil {
					changed = slices.Clone(arr)
				}
				changed[i] = org
			}
		}
		if changed != nil {
			sortNames(changed)
		}
		return changed
	}
	switch kind {
	case entity.Worktype:
		for _, f := range []struct {
			key  string
			kind entity.Kind
		}{
			{"division", entity.Division}, {"defaultWorkbin", entity.Workbin},
			{"defaultQueue", entity.Queue}, {"defaultLanguage", entity.Language},
		} {
			if org, ok := respell(f.kind, desired[f.key]); ok {
				edit()[f.key] = org
			}
		}
		if s := respellSet(entity.Skill, desired["defaultSkills"]); s != nil {
			edit()["defaultSkills"] = s
		}
	case entity.Queue:
		if org, ok := respell(entity.Division, desired["division"]); ok {
			edit()["division"] = org
		}
		if b, ok := desired["bullseye"].(map[string]any); ok {
			rings, _ := b["rings"].([]any)
			for i, rv := range rings {
				ring, _ := rv.(map[string]any)
				actions, _ := ring["actions"].(map[string]any)
				if s := respellSet(entity.Skill, actions["skillsToRemove"]); s != nil {
					edit()["bullseye"].(map[string]any)["rings"].([]any)[i].(map[string]any)["actions"].(map[string]any)["skillsToRemove"] = s
				}
			}
		}
		if g, ok := desired["conditionalGroupRouting"].(map[string]any); ok {
			rules, _ := g["rules"].([]any)
			for i, rv := range rules {
				rule, _ := rv.(map[string]any)
				if org, ok := respell(entity.Queue, rule["queue"]); ok {
					edit()["conditionalGroupRouting"].(map[string]any)["rules"].([]any)[i].(map[string]any)["queue"] = org
				}
			}
		}
	}
	return out
}

// sortNames sorts a set of names as the canonical form does (refNames: byte
// order); non-strings sort first, as SortSet would place them.
func sortNames(arr []any) {
	slices.SortStableFunc(arr, func(a, b any) int {
		as, aok := a.(string)
		bs, bok := b.(string)
		switch {
		case aok && bok:
			if as < bs {
				return -1
			} else if as > bs {
				return 1
			}
			return 0
		case aok:
			return 1
		case bok:
			return -1
		}
		return 0
	})
}
