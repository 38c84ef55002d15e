package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// TestStatusView: a record names its entity, or (an invalid message) says it names none
// and which environment it was listed under.
func TestStatusView(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name       string
		entity     entity.Key
		op         string
		wantEntity string // changeView.Entity
		wantText   string // in the detail view
	}{
		{"entity", entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Claims"}, "update", "prod/queue/Claims", "entity:     prod/queue/Claims"},
		{"invalid message without entity", entity.Key{Environment: "prod"}, store.OperationInvalid, "", "entity:     (none: invalid message in prod)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &store.Change{ID: "c1", Info: store.ChangeInfo{Entity: tc.entity, Operation: tc.op, RequestedAt: at},
				Status: store.StatusRejected, Result: json.RawMessage(`{"changeId":"c1","status":"REJECTED","reason":"bad"}`), UpdatedAt: at}
			v := viewOf(c)
			if v.Entity != tc.wantEntity || v.Environment != "prod" {
				t.Errorf("viewOf: entity %q, environment %q; want %q, prod", v.Entity, v.Environment, tc.wantEntity)
			}
			var b bytes.Buffer
			writeChangeDetail(&b, v)
			if !strings.Contains(b.String(), tc.wantText) {
				t.Errorf("detail view got:\n%s\nwant a line %q", b.String(), tc.wantText)
			}
		})
	}
}

// TestStatusViewOtherEnvironment: a request for another environment, rejected by this
// stack, is listed under this stack's environment and shows the entity as the request
// named it.
func TestStatusViewOtherEnvironment(t *testing.T) {
	c := &store.Change{ID: "c2", Info: store.ChangeInfo{Entity: entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Claims"}, Operation: "update"},
		Status: store.StatusRejected, Result: json.RawMessage(`{"changeId":"c2","entity":"dev/queue/Claims","status":"REJECTED","reason":"request is for environment \"dev\", but this engine applies \"prod\""}`)}
	v := viewOf(c)
	if v.Environment != "prod" || v.Entity != "dev/queue/Claims" {
		t.Errorf("viewOf: environment %q, entity %q; want prod, dev/queue/Claims", v.Environment, v.Entity)
	}
}
