package sim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type receiver struct {
	mu     sync.Mutex
	events []map[string]any
	fail   bool
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || req.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad event", 400)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		http.Error(w, "down", 503)
		return
	}
	r.events = append(r.events, m)
}

func (r *receiver) take() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func TestAuditEvents(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 3, Skills: 3, Worktypes: 2, Seed: 40})
	f := Generate(GenerateOptions{Queues: 3, Skills: 3, Worktypes: 2, Seed: 40})
	rcv := &receiver{}
	rts := httptest.NewServer(rcv)
	t.Cleanup(rts.Close)
	e.s.SetAuditTarget(rts.URL)

	q0 := f.Queues[0]
	qid, qname := str(q0, "id"), str(q0, "name")
	if err := e.s.EditQueue(qid, func(q map[string]any) {
		q["name"] = "Claims Tasks"
		obj(obj(q, "mediaSettings"), "call")["alertingTimeoutSeconds"] = 99.0
	}); err != nil {
		t.Fatal(err)
	}
	_, _, sk := e.call(t, "POST", "/api/v2/routing/skills", map[string]any{"name": "Audit Skill"})
	wtid := str(f.Worktypes[0], "id")
	e.call(t, "PATCH", "/api/v2/taskmanagement/worktypes/"+wtid, map[string]any{"defaultPriority": 5})
	e.call(t, "DELETE", "/api/v2/routing/queues/"+str(f.Queues[1], "id"), nil)
	e.call(t, "GET", "/api/v2/routing/queues/"+qid, nil) // reads emit nothing
	sk0 := f.Skills[0]
	if err := e.s.Delete("skill", str(sk0, "id")); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Delete("skill", str(sk0, "id")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete of a deleted skill: got %v, want ErrNotFound", err)
	}
	if got, _ := e.s.Skill(str(sk0, "id")); str(got, "state") != "deleted" {
		t.Errorf("skill after Delete: state %v, want deleted", got["state"])
	}

	if err := e.s.FlushAudit(ctxT(t)); err != nil {
		t.Fatalf("FlushAudit: %v", err)
	}
	events := rcv.take()
	if len(events) != 5 {
		t.Fatalf("got %d events, want 5: %v", len(events), events)
	}
	want := []struct {
		entityType, service, action, id, name, user string
		changed                                     []string
	}{
		{"Queue", "Routing", "Update", qid, "Claims Tasks", adminUserID, []string{"mediaSettings.call.alertingTimeoutSeconds", "name"}},
		{"RoutingSkill", "Routing", "Create", str(sk, "id"), "Audit Skill", userIDFor(DefaultClientID), []string{"name", "state"}},
		{"Worktype", "TaskManagement", "Update", wtid, str(f.Worktypes[0], "name"), userIDFor(DefaultClientID), []string{"defaultPriority"}},
		{"Queue", "Routing", "Delete", str(f.Queues[1], "id"), str(f.Queues[1], "name"), userIDFor(DefaultClientID), nil},
		{"RoutingSkill", "Routing", "Delete", str(sk0, "id"), str(sk0, "name"), adminUserID, nil},
	}
	for i, w := range want {
		ev := events[i]
		if ev["detail-type"] != "v2.audits.entitytype.{id}.entityid.{id}" || ev["version"] != "0" ||
			ev["source"] != "aws.partner/genesys.com/cloud/"+DefaultOrgID+"/routekeeper" || ev["region"] != "us-east-1" {
			t.Errorf("event %d envelope: got %v", i, ev)
		}
		detail := obj(ev, "detail")
		if got, wantTopic := detail["topicName"], "v2.audits.entitytype."+w.entityType+".entityid."+w.id; got != wantTopic {
			t.Errorf("event %d topicName: got %v, want %s", i, got, wantTopic)
		}
		body := obj(detail, "eventBody")
		for k, v := range map[string]any{"serviceName": w.service, "action": w.action, "entityType": w.entityType, "userId": w.user} {
			if body[k] != v {
				t.Errorf("event %d %s: got %v, want %v", i, k, body[k], v)
			}
		}
		if diff := cmp.Diff(map[string]any{"id": w.id, "name": w.name}, body["entity"]); diff != "" {
			t.Errorf("event %d entity (-want +got):\n%s", i, diff)
		}
		switch w.user {
		case adminUserID:
			if _, ok := body["clientId"]; ok {
				t.Errorf("event %d: an out-of-band edit with clientId %v", i, body["clientId"])
			}
		default:
			if diff := cmp.Diff(map[string]any{"id": DefaultClientID}, body["clientId"]); diff != "" {
				t.Errorf("event %d clientId (-want +got):\n%s", i, diff)
			}
		}
		if w.changed == nil {
			continue
		}
		var props []string
		for _, pc := range asSlice(body["propertyChanges"]) {
			props = append(props, str(pc.(map[string]any), "property"))
		}
		if diff := cmp.Diff(w.changed, props); diff != "" {
			t.Errorf("event %d changed properties (-want +got):\n%s", i, diff)
		}
	}
	nameChange := asSlice(obj(obj(events[0], "detail"), "eventBody")["propertyChanges"])[1].(map[string]any)
	if diff := cmp.Diff(map[string]any{"property": "name", "oldValues": []any{qname}, "newValues": []any{"Claims Tasks"}}, nameChange); diff != "" {
		t.Errorf("name change (-want +got):\n%s", diff)
	}

	// Delivery failures are reported by FlushAudit, and stopping the target stops events.
	rcv.mu.Lock()
	rcv.fail = true
	rcv.mu.Unlock()
	e.call(t, "POST", "/api/v2/routing/skills", map[string]any{"name": "Audit Skill 2"})
	if err := e.s.FlushAudit(ctxT(t)); err == nil {
		t.Errorf("FlushAudit after a 503 from the target: got nil, want the delivery error")
	}
	e.s.SetAuditTarget("")
	e.call(t, "POST", "/api/v2/routing/skills", map[string]any{"name": "Audit Skill 3"})
	if err := e.s.FlushAudit(ctxT(t)); err != nil || len(rcv.take()) != 0 {
		t.Errorf("with no target: got err %v, want no events", err)
	}
	if got := e.s.AuditDelivered(); got != 5 {
		t.Errorf("AuditDelivered: got %d, want 5", got)
	}
}
