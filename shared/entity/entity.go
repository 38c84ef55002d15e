// Package entity is routekeeper's vocabulary for the Genesys objects it knows: the kind
// of an object, the list of kinds routekeeper manages (in the order they can be created),
// the key that names one managed entity of one environment, and an entity's document.
// The config model (shared/routing), change requests (shared/changes), the table
// (shared/store), the live org (shared/live) and plans (shared/drift) all use these types,
// so a kind or a key is never converted between packages.
//
// Entities are identified by name, never by Genesys id: the same config applies to orgs
// whose ids differ, and an entity to create has no id yet.
package entity

import (
	"fmt"
	"slices"
	"strings"
)

// Kind is the kind of a Genesys object: one routekeeper manages (Skill, Queue, Worktype)
// or one it only references by name (Division, Workbin, Language, Group).
type Kind string

// The managed kinds: routekeeper creates, updates and deletes them.
const (
	Skill    Kind = "skill"
	Queue    Kind = "queue"
	Worktype Kind = "worktype"
)

// Kinds that managed entities reference by name. routekeeper never creates them.
const (
	Division Kind = "division"
	Workbin  Kind = "workbin"
	Language Kind = "language" // a routing language (a worktype's defaultLanguage)
	// Group is a member group (team, group or skill group) of conditional group routing.
	// Genesys embeds their names in the queue; routekeeper does not list them.
	Group Kind = "group"
)

// Kinds lists the managed kinds in the order they can be created: queues reference
// skills, worktypes reference skills and queues. Deletes run in the reverse order.
var Kinds = []Kind{Skill, Queue, Worktype}

// Managed reports whether k is a kind routekeeper manages (skill, queue or worktype).
func (k Kind) Managed() bool { return slices.Contains(Kinds, k) }

// Order is k's position in Kinds (creation order); kinds that are not managed sort last.
func (k Kind) Order() int {
	if i := slices.Index(Kinds, k); i >= 0 {
		return i
	}
	return len(Kinds)
}

// ParseKind returns the managed kind named s, or an error listing the kinds.
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); k.Managed() {
		return k, nil
	}
	return "", fmt.Errorf("kind %q: want skill, queue or worktype", s)
}

// IDPrefix marks a reference written by id instead of by name, "id:<id>": export writes it
// for a referenced object the org does not name (a skill deleted since a queue referred to
// it, a member group), and a config may use it for an object it cannot name. The config
// validator accepts it, the canonical form writes it, and the request-body builders read
// it back.
const IDPrefix = "id:"

// IsIDReference reports whether name is written as IDPrefix+id.
func IsIDReference(name string) bool {
	return len(name) > len(IDPrefix) && strings.HasPrefix(name, IDPrefix)
}

// Key names one managed entity of one environment.
type Key struct {
	Environment string `json:"environment"`
	Kind        Kind   `json:"kind"`
	Name        string `json:"name"`
}

// String is the one written form of a key, "<environment>/<kind>/<name>", e.g.
// "prod/queue/Claims Tasks": how people, logs and records name an entity.
func (k Key) String() string { return k.Environment + "/" + string(k.Kind) + "/" + k.Name }

// Doc is one entity's document: a JSON object in the shape of a routekeeper spec (names,
// never ids), as encoding/json decodes it with numbers as json.Number (shared/document
// Decode). A config's declared fields, the desired state stored in the table and the
// canonical form of a live entity are all Docs, so they plan and compare alike.
type Doc struct {
	Kind Kind
	Name string
	// ID is the Genesys id when the document was read from an org; empty otherwise.
	ID     string
	Fields map[string]any
}

// SortDocs orders docs as plans and exports list them: by kind in creation order, then
// by name, then by id.
func SortDocs(docs []Doc) {
	slices.SortStableFunc(docs, func(a, b Doc) int {
		if c := a.Kind.Order() - b.Kind.Order(); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
