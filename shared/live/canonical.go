package live

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// The canonical form of a live entity
//
// Canonical(kind, raw, names) turns the JSON object Genesys returned for a
// skill, queue or worktype into exactly the shape of the routekeeper spec
// (shared/routing Skill, Queue, Worktype), so that canonical(live) compares
// field by field with the JSON of a spec and `routekeeper export` is
// canonical(live) per entity. It is the one canonicalisation: export, plan,
// diff, apply, the webhook and the drift scan all call it, and ETags are
// computed over its output (Entity.ETag). The rules:
//
//   - Only the fields the spec models are kept; everything else Genesys sends
//     (server-managed fields such as id, selfUri, dateCreated, dateModified,
//     modifiedBy, createdBy, member counts and version, and settings
//     routekeeper does not model such as flows, prompts, scripts, statuses,
//     callingPartyName) stays only in the raw document. Unmodelled keys inside
//     modelled objects (mediaSettings.callback.enableAutoDialAndEnd,
//     mediaSettings.message.subTypeSettings, ring memberGroups) are dropped too.
//   - References become names: division, worktype defaultWorkbin,
//     defaultQueue, defaultSkills, defaultLanguage, bullseye skillsToRemove,
//     conditional-group-routing queue and groups. Names come from Names (the
//     org's lists); a reference whose id Names does not know keeps the name
//     Genesys embedded in it, if any, and is otherwise written as
//     entity.IDPrefix+id.
//   - Unordered sets are sorted exactly as routing.Canonical sorts them:
//     defaultSkills and skillsToRemove by name, conditional-group-routing
//     groups by type then name. Ordered lists (routingRules, bullseye rings,
//     conditional-group-routing rules) keep their order.
//   - JSON null is treated as absent.
//   - Values Genesys ignores are left out: acwSettings.timeoutMs when
//     wrapupPrompt is present and takes no timeout ("Can only be used when
//     ACW is AGENT_REQUESTED, MANDATORY_TIMEOUT or MANDATORY_FORCED_TIMEOUT"),
//     so a queue whose prompt was switched away from a timeout exports as a
//     valid config and does not drift when the inert value changes. It stays
//     in the raw document, so a PUT keeps it.
//   - A conditional-group-routing group without a type has no "type" key.
//   - Documented defaults are made explicit when Genesys omits the field, so
//     an omitted field and its default compare equal: queue
//     skillEvaluationMethod "ALL" and scoringMethod "TimestampAndPriority"
//     (the Terraform provider's defaults), routingRules [] (no rules),
//     enableTranscription and enableManualAssignment false; in every media
//     setting present enableAutoAnswer false, and in message
//     enableInactivityTimeout false; worktype defaultSkills [] (none),
//     assignmentEnabled false ("Default value is false") and
//     serviceLevelTarget 100 ("default 100").
//   - Numbers are kept as the decoder produced them (json.Number with Decode);
//     every comparison in this package is by value.
//
// A field of the wrong JSON type (a string where a number belongs) is an
// error (*ShapeError, ErrNotCanonical): guessing would hide a change in the
// API.

// ErrNotCanonical is matched by every *ShapeError: a live document that cannot
// be put in canonical form.
var ErrNotCanonical error = permanentError("live: live entity has no canonical form")

// ShapeError reports a live document whose field does not have the JSON type
// the spec models.
type ShapeError struct {
	Kind entity.Kind // entity
	Name string
	Path string // field, e.g. mediaSettings.call.alertingTimeoutSeconds
	Msg  string
}

func (e *ShapeError) Error() string {
	who := string(e.Kind)
	if e.Name != "" {
		who += fmt.Sprintf(" %q", e.Name)
	}
	if e.Path == "" {
		return fmt.Sprintf("canonicalise %s: %s", who, e.Msg)
	}
	return fmt.Sprintf("canonicalise %s: %s: %s", who, e.Path, e.Msg)
}

// Is reports whether target is ErrNotCanonical.
func (e *ShapeError) Is(target error) bool { return target == ErrNotCanonical }

// Permanent reports true: a document Genesys sent in another shape stays in that shape
// (shared/retry).
func (e *ShapeError) Permanent() bool { return true }

// Unresolved is a reference whose id Names does not know and Genesys did not
// name; the canonical form holds entity.IDPrefix+ID for it.
type Unresolved struct {
	Kind entity.Kind // kind of the referenced object, e.g. "skill"
	ID   string
	Path string // where, in the referencing entity
}

// CanonicalSkill returns the canonical form of a live routing skill: {"name"}.
func CanonicalSkill(raw map[string]any, n *Names) (map[string]any, error) {
	c := &canonicaliser{n: n, kind: entity.Skill}
	return c.skill(raw)
}

// CanonicalQueue returns the canonical form of a live routing queue.
func CanonicalQueue(raw map[string]any, n *Names) (map[string]any, error) {
	c := &canonicaliser{n: n, kind: entity.Queue}
	return c.queue(raw)
}

// CanonicalWorktype returns the canonical form of a live worktype.
func CanonicalWorktype(raw map[string]any, n *Names) (map[string]any, error) {
	c := &canonicaliser{n: n, kind: entity.Worktype}
	return c.worktype(raw)
}

// Canonical dispatches on kind ("skill", "queue" or "worktype").
func Canonical(kind entity.Kind, raw map[string]any, n *Names) (map[string]any, error) {
	doc, _, err := canonical(kind, raw, n)
	return doc, err
}

// canonical is Canonical that also reports the unresolved references.
func canonical(kind entity.Kind, raw map[string]any, n *Names) (map[string]any, []Unresolved, error) {
	c := &canonicaliser{n: n, kind: kind}
	var doc map[string]any
	var err error
	switch kind {
	case entity.Skill:
		doc, err = c.skill(raw)
	case entity.Queue:
		doc, err = c.queue(raw)
	case entity.Worktype:
		doc, err = c.worktype(raw)
	default:
		return nil, nil, fmt.Errorf("canonicalise: unknown kind %q: use skill, queue or worktype", kind)
	}
	return doc, c.unresolved, err
}

type canonicaliser struct {
	n          *Names
	kind       entity.Kind
	name       string
	unresolved []Unresolved
}

func (c *canonicaliser) errorf(path, format string, args ...any) error {
	return &ShapeError{Kind: c.kind, Name: c.name, Path: path, Msg: fmt.Sprintf(format, args...)}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

type jsonType int

const (
	tString jsonType = iota
	tBool
	tNumber
)

func (t jsonType) String() string {
	return [...]string{"a string", "a boolean", "a number"}[t]
}

func hasType(v any, t jsonType) bool {
	switch t {
	case tString:
		_, ok := v.(string)
		return ok
	case tBool:
		_, ok := v.(bool)
		return ok
	}
	switch v.(type) {
	case json.Number, float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	}
	return false
}

// scalars copies the named scalar fields of src that are present and not null.
func (c *canonicaliser) scalars(dst, src map[string]any, path string, t jsonType, keys ...string) error {
	for _, k := range keys {
		v, ok := src[k]
		if !ok || v == nil {
			continue
		}
		if !hasType(v, t) {
			return c.errorf(join(path, k), "got %s, want %s", describe(v), t)
		}
		dst[k] = v
	}
	return nil
}

func describe(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	if hasType(v, tNumber) {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

func defaults(dst map[string]any, kv ...any) {
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if _, ok := dst[k]; !ok {
			dst[k] = kv[i+1]
		}
	}
}

// object returns src[key] as an object; nil when absent or null.
func (c *canonicaliser) object(src map[string]any, key, path string) (map[string]any, error) {
	v, ok := src[key]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, c.errorf(join(path, key), "got %s, want an object", describe(v))
	}
	return m, nil
}

// array returns src[key] as an array; present reports whether it was there and not null.
func (c *canonicaliser) array(src map[string]any, key, path string) (arr []any, present bool, err error) {
	v, ok := src[key]
	if !ok || v == nil {
		return nil, false, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, false, c.errorf(join(path, key), "got %s, want an array", describe(v))
	}
	return a, true, nil
}

func (c *canonicaliser) element(v any, path string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, c.errorf(path, "got %s, want an object", describe(v))
	}
	return m, nil
}

// refName names a reference object ({id, name?, selfUri?}) to an object of kind.
func (c *canonicaliser) refName(kind entity.Kind, v any, path string) (string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", c.errorf(path, "got %s, want a reference object {\"id\": ...}", describe(v))
	}
	id, _ := m["id"].(string)
	embedded, _ := m["name"].(string)
	if id == "" {
		if embedded != "" {
			return embedded, nil
		}
		return "", c.errorf(path, "reference has neither an id nor a name")
	}
	if name, ok := c.n.Name(kind, id); ok {
		return name, nil
	}
	if embedded != "" {
		return embedded, nil
	}
	c.unresolved = append(c.unresolved, Unresolved{Kind: kind, ID: id, Path: path})
	return entity.IDPrefix + id, nil
}

// ref copies src[key] as a name into dst[key] when present.
func (c *canonicaliser) ref(dst, src map[string]any, key string, kind entity.Kind, path string) error {
	v, ok := src[key]
	if !ok || v == nil {
		return nil
	}
	name, err := c.refName(kind, v, join(path, key))
	if err != nil {
		return err
	}
	dst[key] = name
	return nil
}

// refNames turns an array of references into a sorted array of names.
func (c *canonicaliser) refNames(kind entity.Kind, arr []any, path string) ([]any, error) {
	names := make([]string, 0, len(arr))
	for i, v := range arr {
		name, err := c.refName(kind, v, index(path, i))
		if err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]any, len(names))
	for i, s := range names {
		out[i] = s
	}
	return out, nil
}

func (c *canonicaliser) header(raw map[string]any) (map[string]any, error) {
	if raw == nil {
		return nil, c.errorf("", "no document")
	}
	name, ok := raw["name"].(string)
	if !ok || name == "" {
		return nil, c.errorf("name", "missing or not a non-empty string (got %s)", describe(raw["name"]))
	}
	c.name = name
	return map[string]any{"name": name}, nil
}

func (c *canonicaliser) skill(raw map[string]any) (map[string]any, error) {
	return c.header(raw)
}

// acwTimeoutPrompts are the wrap-up prompts that use acwSettings.timeoutMs.
var acwTimeoutPrompts = []string{"AGENT_REQUESTED", "MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT"}

var mediaTypes = []string{"call", "callback", "chat", "email", "message"}

func (c *canonicaliser) queue(raw map[string]any) (map[string]any, error) {
	out, err := c.header(raw)
	if err != nil {
		return nil, err
	}
	if err := c.scalars(out, raw, "", tString, "description", "skillEvaluationMethod", "scoringMethod", "lastAgentRoutingMode"); err != nil {
		return nil, err
	}
	if err := c.scalars(out, raw, "", tBool, "enableTranscription", "enableManualAssignment"); err != nil {
		return nil, err
	}
	if err := c.ref(out, raw, "division", entity.Division, ""); err != nil {
		return nil, err
	}

	acw, err := c.object(raw, "acwSettings", "")
	if err != nil {
		return nil, err
	}
	if acw != nil {
		a := map[string]any{}
		if err := c.scalars(a, acw, "acwSettings", tString, "wrapupPrompt"); err != nil {
			return nil, err
		}
		if err := c.scalars(a, acw, "acwSettings", tNumber, "timeoutMs"); err != nil {
			return nil, err
		}
		if p, ok := a["wrapupPrompt"].(string); ok && !slices.Contains(acwTimeoutPrompts, p) {
			// Inert: Genesys uses timeoutMs only with a timeout prompt (see
			// acwTimeoutPrompts). Raw keeps it, so a PUT never resets it.
			delete(a, "timeoutMs")
		}
		out["acwSettings"] = a
	}

	ms, err := c.object(raw, "mediaSettings", "")
	if err != nil {
		return nil, err
	}
	if ms != nil {
		m := map[string]any{}
		for _, media := range mediaTypes {
			s, err := c.object(ms, media, "mediaSettings")
			if err != nil {
				return nil, err
			}
			if s == nil {
				continue
			}
			if m[media], err = c.mediaSetting(media, s, join("mediaSettings", media)); err != nil {
				return nil, err
			}
		}
		out["mediaSettings"] = m
	}

	rules, _, err := c.array(raw, "routingRules", "")
	if err != nil {
		return nil, err
	}
	rr := make([]any, 0, len(rules))
	for i, v := range rules {
		at := index("routingRules", i)
		r, err := c.element(v, at)
		if err != nil {
			return nil, err
		}
		o := map[string]any{}
		if err := c.scalars(o, r, at, tString, "operator"); err != nil {
			return nil, err
		}
		if err := c.scalars(o, r, at, tNumber, "threshold", "waitSeconds"); err != nil {
			return nil, err
		}
		rr = append(rr, o)
	}
	out["routingRules"] = rr

	if err := c.bullseye(out, raw); err != nil {
		return nil, err
	}
	if err := c.conditionalGroupRouting(out, raw); err != nil {
		return nil, err
	}
	defaults(out,
		"skillEvaluationMethod", "ALL",
		"scoringMethod", "TimestampAndPriority",
		"enableTranscription", false,
		"enableManualAssignment", false)
	return out, nil
}

func (c *canonicaliser) mediaSetting(media string, s map[string]any, at string) (map[string]any, error) {
	o := map[string]any{}
	if err := c.scalars(o, s, at, tBool, "enableAutoAnswer"); err != nil {
		return nil, err
	}
	if err := c.scalars(o, s, at, tNumber, "alertingTimeoutSeconds", "autoAnswerAlertToneSeconds", "manualAnswerAlertToneSeconds"); err != nil {
		return nil, err
	}
	sl, err := c.object(s, "serviceLevel", at)
	if err != nil {
		return nil, err
	}
	if sl != nil {
		l := map[string]any{}
		if err := c.scalars(l, sl, join(at, "serviceLevel"), tNumber, "percentage", "durationMs"); err != nil {
			return nil, err
		}
		o["serviceLevel"] = l
	}
	switch media {
	case "callback":
		if err := c.scalars(o, s, at, tString, "mode"); err != nil {
			return nil, err
		}
		if err := c.scalars(o, s, at, tNumber, "autoDialDelaySeconds", "autoEndDelaySeconds"); err != nil {
			return nil, err
		}
	case "message":
		if err := c.scalars(o, s, at, tBool, "enableInactivityTimeout"); err != nil {
			return nil, err
		}
		defaults(o, "enableInactivityTimeout", false)
	}
	defaults(o, "enableAutoAnswer", false)
	return o, nil
}

// bullseye copies the rings; a bullseye without rings is no bullseye (the
// spec requires 2 to 6 rings).
func (c *canonicaliser) bullseye(out, raw map[string]any) error {
	b, err := c.object(raw, "bullseye", "")
	if err != nil || b == nil {
		return err
	}
	rings, _, err := c.array(b, "rings", "bullseye")
	if err != nil || len(rings) == 0 {
		return err
	}
	rs := make([]any, 0, len(rings))
	for i, v := range rings {
		at := index("bullseye.rings", i)
		ring, err := c.element(v, at)
		if err != nil {
			return err
		}
		o := map[string]any{}
		crit, present, err := c.array(ring, "expansionCriteria", at)
		if err != nil {
			return err
		}
		if present {
			cs := make([]any, 0, len(crit))
			for j, cv := range crit {
				cat := index(join(at, "expansionCriteria"), j)
				cm, err := c.element(cv, cat)
				if err != nil {
					return err
				}
				co := map[string]any{}
				if err := c.scalars(co, cm, cat, tString, "type"); err != nil {
					return err
				}
				if err := c.scalars(co, cm, cat, tNumber, "threshold"); err != nil {
					return err
				}
				cs = append(cs, co)
			}
			o["expansionCriteria"] = cs
		}
		actions, err := c.object(ring, "actions", at)
		if err != nil {
			return err
		}
		if actions != nil {
			a := map[string]any{}
			str, present, err := c.array(actions, "skillsToRemove", join(at, "actions"))
			if err != nil {
				return err
			}
			if present {
				if a["skillsToRemove"], err = c.refNames(entity.Skill, str, join(at, "actions.skillsToRemove")); err != nil {
					return err
				}
			}
			o["actions"] = a
		}
		rs = append(rs, o)
	}
	out["bullseye"] = map[string]any{"rings": rs}
	return nil
}

func (c *canonicaliser) conditionalGroupRouting(out, raw map[string]any) error {
	g, err := c.object(raw, "conditionalGroupRouting", "")
	if err != nil || g == nil {
		return err
	}
	rules, _, err := c.array(g, "rules", "conditionalGroupRouting")
	if err != nil {
		return err
	}
	rs := make([]any, 0, len(rules))
	for i, v := range rules {
		at := index("conditionalGroupRouting.rules", i)
		r, err := c.element(v, at)
		if err != nil {
			return err
		}
		o := map[string]any{}
		if err := c.ref(o, r, "queue", entity.Queue, at); err != nil {
			return err
		}
		if err := c.scalars(o, r, at, tString, "metric", "operator"); err != nil {
			return err
		}
		if err := c.scalars(o, r, at, tNumber, "conditionValue", "waitSeconds"); err != nil {
			return err
		}
		groups, present, err := c.array(r, "groups", at)
		if err != nil {
			return err
		}
		if present {
			gs := make([]map[string]any, 0, len(groups))
			for j, gv := range groups {
				gat := index(join(at, "groups"), j)
				name, err := c.refName(entity.Group, gv, gat)
				if err != nil {
					return err
				}
				gm := gv.(map[string]any) // refName checked it is an object
				o := map[string]any{"name": name}
				// A group Genesys returns without a type stays without one
				// (routing.MemberGroup allows it) rather than gaining "".
				if typ, _ := gm["type"].(string); typ != "" {
					o["type"] = typ
				}
				gs = append(gs, o)
			}
			slices.SortStableFunc(gs, func(a, b map[string]any) int {
				at, _ := a["type"].(string)
				bt, _ := b["type"].(string)
				return cmp.Or(cmp.Compare(at, bt), cmp.Compare(a["name"].(string), b["name"].(string)))
			})
			arr := make([]any, len(gs))
			for j, gm := range gs {
				arr[j] = gm
			}
			o["groups"] = arr
		}
		rs = append(rs, o)
	}
	out["conditionalGroupRouting"] = map[string]any{"rules": rs}
	return nil
}

func (c *canonicaliser) worktype(raw map[string]any) (map[string]any, error) {
	out, err := c.header(raw)
	if err != nil {
		return nil, err
	}
	if err := c.scalars(out, raw, "", tString, "description"); err != nil {
		return nil, err
	}
	if err := c.scalars(out, raw, "", tNumber, "defaultPriority", "defaultDurationSeconds",
		"defaultExpirationSeconds", "defaultDueDurationSeconds", "defaultTtlSeconds", "serviceLevelTarget"); err != nil {
		return nil, err
	}
	if err := c.scalars(out, raw, "", tBool, "assignmentEnabled"); err != nil {
		return nil, err
	}
	for _, r := range []struct {
		key  string
		kind entity.Kind
	}{
		{"division", entity.Division},
		{"defaultWorkbin", entity.Workbin},
		{"defaultQueue", entity.Queue},
		{"defaultLanguage", entity.Language},
	} {
		if err := c.ref(out, raw, r.key, r.kind, ""); err != nil {
			return nil, err
		}
	}
	skills, _, err := c.array(raw, "defaultSkills", "")
	if err != nil {
		return nil, err
	}
	if out["defaultSkills"], err = c.refNames(entity.Skill, skills, "defaultSkills"); err != nil {
		return nil, err
	}
	defaults(out,
		"assignmentEnabled", false,
		"serviceLevelTarget", json.Number("100"))
	return out, nil
}
