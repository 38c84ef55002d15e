package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// Event is what the webhook function receives: an HTTP request through its Function URL
// (payload format 2.0), or an audit event from the EventBridge rule. Exactly one is set.
type Event struct {
	HTTP   *events.LambdaFunctionURLRequest
	Bridge *events.EventBridgeEvent
}

// UnmarshalJSON tells the two apart: a Function URL request has requestContext and
// rawPath, an EventBridge event detail-type and source.
func (e *Event) UnmarshalJSON(b []byte) error {
	var probe struct {
		RequestContext json.RawMessage `json:"requestContext"`
		RawPath        *string         `json:"rawPath"`
		DetailType     *string         `json:"detail-type"`
		Source         *string         `json:"source"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return fmt.Errorf("webhook: event is not a JSON object: %w", err)
	}
	switch {
	case probe.RequestContext != nil && probe.RawPath != nil:
		e.HTTP = new(events.LambdaFunctionURLRequest)
		return json.Unmarshal(b, e.HTTP)
	case probe.DetailType != nil && probe.Source != nil:
		e.Bridge = new(events.EventBridgeEvent)
		return json.Unmarshal(b, e.Bridge)
	}
	return errors.New("webhook: event is neither a Function URL request (requestContext, rawPath) nor an EventBridge event (detail-type, source)")
}

// change is one Genesys audit event about an entity, in any of the forms accepted.
type change struct {
	Kind       entity.Kind // "" for an entity type routekeeper does not manage
	EntityType string      // as Genesys names it: Queue, RoutingSkill, Worktype, ...
	EntityID   string
	EntityName string // "" when the event does not name it
	EventID    string
	EventTime  time.Time // zero when the event says nothing
	Action     string    // Create, Update, Delete, ... ("" when not said)
	UserID     string
	ClientID   string
	// Changes are the audit event's property changes (nil when the event does not list
	// them: the minimal form, or an event without propertyChanges).
	Changes []propertyChange
}

// propertyChange is one entry of an audit event's propertyChanges (SDK
// AuditTopicPropertyChange: property, oldValues, newValues; values as strings).
type propertyChange struct {
	Property  string   `json:"property"`
	OldValues []string `json:"oldValues"`
	NewValues []string `json:"newValues"`
}

// entityTypes maps the audit entity types of the kinds routekeeper manages
// (docs/genesys-api.md §9).
var entityTypes = map[string]entity.Kind{"Queue": entity.Queue, "RoutingSkill": entity.Skill, "Worktype": entity.Worktype}

// MaxBody bounds an HTTP body: an audit notification is a few KiB.
const MaxBody = 64 * 1024

// BodyError says what is wrong with a body: the 400 answer's message.
type BodyError struct{ Msg string }

func (e *BodyError) Error() string { return e.Msg }

func malformed(format string, args ...any) error { return &BodyError{fmt.Sprintf(format, args...)} }

// decodeBody reads an HTTP body in one of the three forms the webhook accepts: an
// EventBridge envelope (as the rule delivers it), the Genesys notification the envelope
// carries as its detail ({topicName, version, eventBody, metadata, timestamp}), or the
// minimal form a data-action template writes
// ({"entityType", "entityId", "eventId", "eventTime"} and optionally "entityName",
// "action", "userId", "clientId").
func decodeBody(body []byte) (change, error) {
	var top map[string]json.RawMessage
	if err := strictJSON(body, &top); err != nil {
		return change{}, malformed("body is not a JSON object: %v", err)
	}
	switch {
	case top["detail"] != nil && top["detail-type"] != nil:
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			return change{}, malformed("EventBridge envelope: %v", err)
		}
		return decodeBridge(ev)
	case top["eventBody"] != nil || top["topicName"] != nil:
		return decodeNotification(body, "", time.Time{})
	case top["entityType"] != nil:
		return decodeMinimal(body)
	}
	return change{}, malformed("body is none of the accepted forms: an EventBridge envelope (detail-type, detail), a Genesys notification (topicName, eventBody) or the minimal form (entityType, entityId, eventId, eventTime)")
}

// decodeBridge reads an EventBridge event whose detail is a Genesys notification; the
// envelope's id and time stand in for an event id and time the notification lacks.
func decodeBridge(ev events.EventBridgeEvent) (change, error) {
	if len(ev.Detail) == 0 || bytes.Equal(bytes.TrimSpace(ev.Detail), []byte("null")) {
		return change{}, malformed("EventBridge event %s has no detail", ev.ID)
	}
	return decodeNotification(ev.Detail, ev.ID, ev.Time)
}

// notification is the Genesys notification of an audit topic
// (v2.audits.entitytype.{id}.entityid.{id}; SDK AuditTopicAuditLogMessage as eventBody).
type notification struct {
	TopicName string     `json:"topicName"`
	EventBody *auditBody `json:"eventBody"`
	Timestamp string     `json:"timestamp"`
	Metadata  struct {
		CorrelationID string `json:"CorrelationId"`
	} `json:"metadata"`
}

type auditBody struct {
	ID         string `json:"id"`
	UserID     string `json:"userId"`
	EventTime  string `json:"eventTime"`
	Action     string `json:"action"`
	EntityType string `json:"entityType"`
	Entity     struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"entity"`
	// ClientID is an object {id} in the SDK (Audittopicaddressableentityref); a plain
	// string is accepted too.
	ClientID        flexibleID       `json:"clientId"`
	PropertyChanges []propertyChange `json:"propertyChanges"`
}

// flexibleID is an id sent either as a string or as an object {"id": ...}.
type flexibleID string

func (f *flexibleID) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flexibleID(s)
		return nil
	}
	var o struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return fmt.Errorf("want a string or an object {\"id\": ...}")
	}
	*f = flexibleID(o.ID)
	return nil
}

func decodeNotification(b []byte, envelopeID string, envelopeTime time.Time) (change, error) {
	var n notification
	if err := json.Unmarshal(b, &n); err != nil {
		return change{}, malformed("Genesys notification: %v", err)
	}
	if n.EventBody == nil {
		return change{}, malformed("Genesys notification has no eventBody")
	}
	eb := n.EventBody
	c := change{
		EntityType: eb.EntityType, EntityID: eb.Entity.ID, EntityName: eb.Entity.Name,
		EventID: eb.ID, Action: eb.Action, UserID: eb.UserID, ClientID: string(eb.ClientID),
		Changes: eb.PropertyChanges,
	}
	// The topic names the entity too: v2.audits.entitytype.<type>.entityid.<id>.
	if typ, id, ok := topicEntity(n.TopicName); ok {
		c.EntityType = cmpOr(c.EntityType, typ)
		c.EntityID = cmpOr(c.EntityID, id)
	}
	c.EventID = cmpOr(c.EventID, envelopeID, n.Metadata.CorrelationID)
	var err error
	if c.EventTime, err = firstTime(eb.EventTime, n.Timestamp); err != nil {
		return change{}, err
	}
	if c.EventTime.IsZero() {
		c.EventTime = envelopeTime
	}
	return c, c.check()
}

// minimal is the documented minimal form.
type minimal struct {
	EntityType string     `json:"entityType"`
	EntityID   string     `json:"entityId"`
	EventID    string     `json:"eventId"`
	EventTime  string     `json:"eventTime"`
	EntityName string     `json:"entityName"`
	Action     string     `json:"action"`
	UserID     string     `json:"userId"`
	ClientID   flexibleID `json:"clientId"`
}

var minimalKeys = []string{"entityType", "entityId", "eventId", "eventTime", "entityName", "action", "userId", "clientId"}

func decodeMinimal(b []byte) (change, error) {
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(b, &keys)
	for k := range keys {
		if !slices.Contains(minimalKeys, k) {
			return change{}, malformed("minimal form: unknown member %q (members: %s)", k, strings.Join(minimalKeys, ", "))
		}
	}
	var m minimal
	if err := json.Unmarshal(b, &m); err != nil {
		return change{}, malformed("minimal form: %v", err)
	}
	c := change{EntityType: m.EntityType, EntityID: m.EntityID, EntityName: m.EntityName, EventID: m.EventID,
		Action: m.Action, UserID: m.UserID, ClientID: string(m.ClientID)}
	var err error
	if c.EventTime, err = firstTime(m.EventTime); err != nil {
		return change{}, err
	}
	if c.EventTime.IsZero() {
		return change{}, malformed("minimal form: eventTime is required (RFC 3339, e.g. 2026-12-01T10:00:00.000Z)")
	}
	return c, c.check()
}

// check fills Kind and refuses a change without what processing needs.
func (c *change) check() error {
	var missing []string
	if c.EntityType == "" {
		missing = append(missing, "entityType")
	}
	if c.EntityID == "" {
		missing = append(missing, "entity id")
	}
	if c.EventID == "" {
		missing = append(missing, "event id")
	}
	if len(missing) > 0 {
		return malformed("the event has no %s", strings.Join(missing, ", "))
	}
	if len(c.EntityID) > 128 || len(c.EventID) > 256 {
		return malformed("entity id or event id too long")
	}
	c.Kind = entityTypes[c.EntityType]
	return nil
}

func topicEntity(topic string) (typ, id string, ok bool) {
	rest, ok := strings.CutPrefix(topic, "v2.audits.entitytype.")
	if !ok {
		return "", "", false
	}
	typ, id, ok = strings.Cut(rest, ".entityid.")
	return typ, id, ok && typ != "" && id != ""
}

// firstTime parses the first non-empty value as an RFC 3339 time.
func firstTime(vals ...string) (time.Time, error) {
	for _, v := range vals {
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return time.Time{}, malformed("time %q is not RFC 3339 (e.g. 2026-12-01T10:00:00.000Z)", truncate(v, 64))
		}
		return t.UTC(), nil
	}
	return time.Time{}, nil
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// truncate cuts s to at most n bytes at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// strictJSON decodes exactly one JSON value.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}
