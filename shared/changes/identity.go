package changes

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/google/uuid"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
)

// groupHashHex is how many hex digits of SHA-256(name) a group id keeps: 160
// bits, so that "<env>.<type>." with the longest environment (64) and type (8)
// stays within SQS's 128-character MessageGroupId limit.
const groupHashHex = 40

// GroupID returns the SQS FIFO MessageGroupId of the entity in environment:
// "<environment>.<type>.<first 40 hex digits of SHA-256(name)>". The name is
// hashed because SQS allows only ASCII letters, digits and punctuation (no
// spaces) in a group id, and entity names hold spaces and unicode.
func (e Entity) GroupID(environment string) string {
	sum := sha256.Sum256([]byte(e.Name))
	return environment + "." + string(e.Type) + "." + hex.EncodeToString(sum[:])[:groupHashHex]
}

// Key is the key of the request's entity: how people and records name it (its String
// form is "<environment>/<type>/<name>"); GroupID is what SQS needs.
func (r *Request) Key() entity.Key {
	return entity.Key{Environment: r.Environment, Kind: r.Entity.Type, Name: r.Entity.Name}
}

// GroupID is r.Entity.GroupID(r.Environment), the request's MessageGroupId.
func (r *Request) GroupID() string { return r.Entity.GroupID(r.Environment) }

// NewChangeID returns a new change id: "chg-" and a UUIDv7 (time-ordered, so
// records sort by creation), 40 characters, valid as an SQS
// MessageDeduplicationId. Generate it once, when the change is planned; the
// package documentation explains why ids are not content hashes.
func NewChangeID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("changes: new change id: %w", err)
	}
	return "chg-" + id.String(), nil
}

// PayloadHash returns "sha256:<hex>" over the canonical JSON (shared/document's
// canonical form) of the fields that define what a change does: schema,
// environment, entity, operation, desired and baseEtag. changeId is the key
// the hash is stored under; reason, requestedBy and createdAt describe the
// request rather than the change and are left out, so a resubmission with a
// fresh timestamp still matches. The apply Lambda stores the hash with the
// change record and rejects a request whose id is known but whose hash
// differs (the same id reused for a different change).
func PayloadHash(r *Request) (string, error) {
	entity := map[string]any{"type": string(r.Entity.Type), "name": r.Entity.Name}
	if r.Entity.ID != "" {
		entity["id"] = r.Entity.ID
	}
	schema := r.Schema
	if schema == "" {
		schema = SchemaV1 // as Encode writes it
	}
	doc := map[string]any{
		"schema":      schema,
		"environment": r.Environment,
		"entity":      entity,
		"operation":   string(r.Operation),
	}
	if len(r.Desired) > 0 {
		doc["desired"] = r.Desired
	}
	if r.BaseEtag != "" {
		doc["baseEtag"] = r.BaseEtag
	}
	h, err := document.ETag(doc)
	if err != nil {
		return "", fmt.Errorf("changes: payload hash of %s: %w", r.Key(), err)
	}
	return h, nil
}
