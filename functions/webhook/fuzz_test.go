package main

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeBody: no body makes the decoder panic, and what it accepts is usable: an event
// id, an entity id, and a kind routekeeper manages or none.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"entityType":"Queue","entityId":"q1","eventId":"e1","eventTime":"2026-12-01T10:00:00Z"}`,
		`{"topicName":"v2.audits.entitytype.Queue.entityid.q1","version":"2","eventBody":{"id":"e1","entityType":"Queue","entity":{"id":"q1","name":"Q"},"eventTime":"2026-12-01T10:00:00.000Z","clientId":{"id":"c"}},"metadata":{"CorrelationId":"x"},"timestamp":"2026-12-01T10:00:00.000Z"}`,
		`{"version":"0","id":"x","detail-type":"v2.audits.entitytype.{id}.entityid.{id}","source":"aws.partner/genesys.com/cloud/o/s","time":"2026-12-01T10:00:00Z","detail":{"eventBody":{"id":"e","entityType":"Worktype","entity":{"id":"w"}}}}`,
		`{"detail":null,"detail-type":"x"}`, `{"eventBody":null}`, `[]`, `null`, `{"entityType":1}`, `{"topicName":"v2.audits.entitytype..entityid."}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := decodeBody(body)
		if err != nil {
			if _, ok := err.(*BodyError); !ok {
				t.Fatalf("decodeBody error %T %v, want a *BodyError (a 400 answer)", err, err)
			}
			return
		}
		if c.EventID == "" || c.EntityID == "" || c.EntityType == "" {
			t.Fatalf("decodeBody accepted %q as %+v without an event id, entity id or type", body, c)
		}
		if c.Kind != "" && !c.Kind.Managed() {
			t.Fatalf("kind %q", c.Kind)
		}
	})
}

// FuzzEvent: any invocation payload decodes into exactly one door or fails, never panics.
func FuzzEvent(f *testing.F) {
	for _, s := range []string{`{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"POST"}},"body":"{}"}`,
		`{"version":"0","detail-type":"x","source":"y","detail":{}}`, `{}`, `[]`, `{"rawPath":1,"requestContext":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev Event
		if err := json.Unmarshal(b, &ev); err != nil {
			return
		}
		if (ev.HTTP == nil) == (ev.Bridge == nil) {
			t.Fatalf("%q decoded into %+v, want exactly one door", b, ev)
		}
	})
}
