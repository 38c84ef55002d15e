package live

import (
	"slices"
	"strings"

	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
)

// Names maps org ids to names and back, per kind. It is built from the list
// endpoints (NewNames) and is read-only afterwards except through Add, so it is
// safe for concurrent readers once built. A nil *Names knows no names.
//
// Genesys keeps names unique per kind (case-insensitively); when two objects
// of a kind share a name anyway, ID returns the first one added. A name that
// matches no object exactly resolves to the one object whose name differs
// only in letter case (a config's `english` is the org's `English`); when
// several do, it resolves to none (see Ambiguous).
type Names struct {
	byID   map[entity.Kind]map[string]string   // kind -> id -> name
	byName map[entity.Kind]map[string]string   // kind -> name -> id
	byFold map[entity.Kind]map[string][]string // kind -> folded name -> distinct names, in order added
}

// NewNames indexes the names of the org's divisions, skills, queues and
// workbins, the objects canonical documents reference by name. Add routing
// languages with AddLanguages.
func NewNames(divisions []genesys.Division, skills []genesys.Skill, queues []genesys.Queue, workbins []genesys.Workbin) *Names {
	n := &Names{byID: map[entity.Kind]map[string]string{}, byName: map[entity.Kind]map[string]string{}, byFold: map[entity.Kind]map[string][]string{}}
	for _, d := range divisions {
		n.Add(entity.Division, d.ID, d.Name)
	}
	for _, s := range skills {
		if s.State == "deleted" {
			continue
		}
		n.Add(entity.Skill, s.ID, s.Name)
	}
	for _, q := range queues {
		n.Add(entity.Queue, q.ID, q.Name)
	}
	for _, w := range workbins {
		n.Add(entity.Workbin, w.ID, w.Name)
	}
	return n
}

// AddLanguages indexes the org's routing languages (GET
// /api/v2/routing/languages), so a worktype's defaultLanguage, which Genesys
// returns as {id, selfUri} without a name, canonicalises to the language's
// name and a name in a config resolves to its id. Deleted languages are
// skipped, as deleted skills are.
func (n *Names) AddLanguages(languages []genesys.Language) {
	for _, l := range languages {
		if l.State == "deleted" {
			continue
		}
		n.Add(entity.Language, l.ID, l.Name)
	}
}

// Add records that the object of kind with id is called name (for example a
// member group read elsewhere). Empty ids or names are ignored.
func (n *Names) Add(kind entity.Kind, id, name string) {
	if id == "" || name == "" {
		return
	}
	if n.byID == nil { // a zero Names
		n.byID, n.byName, n.byFold = map[entity.Kind]map[string]string{}, map[entity.Kind]map[string]string{}, map[entity.Kind]map[string][]string{}
	}
	if n.byID[kind] == nil {
		n.byID[kind] = map[string]string{}
		n.byName[kind] = map[string]string{}
		n.byFold[kind] = map[string][]string{}
	}
	n.byID[kind][id] = name
	if _, taken := n.byName[kind][name]; !taken {
		n.byName[kind][name] = id
		k := foldName(name)
		n.byFold[kind][k] = append(n.byFold[kind][k], name)
	}
}

// Name returns the name of the object of kind with id.
func (n *Names) Name(kind entity.Kind, id string) (string, bool) {
	if n == nil {
		return "", false
	}
	name, ok := n.byID[kind][id]
	return name, ok
}

// ID returns the id of the object of kind called name: the exact match, else
// the one object whose name differs from name only in letter case (Genesys
// names are unique ignoring case, so that object is the one meant). When
// several objects match ignoring case and none exactly, ID reports no match;
// Ambiguous lists them.
func (n *Names) ID(kind entity.Kind, name string) (string, bool) {
	org, ok := n.Spelling(kind, name)
	if !ok {
		return "", false
	}
	return n.byName[kind][org], true
}

// Spelling returns the org's spelling of name: name itself when an object of
// kind is called exactly that, else the name of the one object whose name
// differs only in letter case. false when there is none, or several.
func (n *Names) Spelling(kind entity.Kind, name string) (string, bool) {
	if n == nil {
		return "", false
	}
	if _, ok := n.byName[kind][name]; ok {
		return name, true
	}
	if c := n.byFold[kind][foldName(name)]; len(c) == 1 {
		return c[0], true
	}
	return "", false
}

// Ambiguous returns the names of kind that differ from name only in letter
// case when there are several and none is name exactly: the reason ID found
// no match for a name the org seems to have. nil otherwise.
func (n *Names) Ambiguous(kind entity.Kind, name string) []string {
	if n == nil {
		return nil
	}
	if _, ok := n.byName[kind][name]; ok {
		return nil
	}
	if c := n.byFold[kind][foldName(name)]; len(c) > 1 {
		return slices.Clone(c)
	}
	return nil
}

// Len returns how many objects of kind are known.
func (n *Names) Len(kind entity.Kind) int {
	if n == nil {
		return 0
	}
	return len(n.byID[kind])
}

// resolve turns a name from a spec into an id: a known name, or a name written
// as entity.IDPrefix+id. The second result is false when neither applies.
func (n *Names) resolve(kind entity.Kind, name string) (string, bool) {
	if id, ok := n.ID(kind, name); ok {
		return id, true
	}
	if id, ok := strings.CutPrefix(name, entity.IDPrefix); ok && id != "" {
		return id, true
	}
	return "", false
}

// foldName is the key under which Genesys compares names for uniqueness; the config
// validator folds the same way (strings.ToLower).
func foldName(name string) string { return strings.ToLower(name) }
