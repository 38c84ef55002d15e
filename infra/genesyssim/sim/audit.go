package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
)

// auditQueue delivers audit events in order, one goroutine at a time, so tests can wait
// for delivery (FlushAudit) instead of sleeping.
type auditQueue struct {
	mu      sync.Mutex
	target  string
	pending []auditDelivery
	busy    bool
	idle    chan struct{} // closed when the queue drains
	errs    []error       // delivery failures since the last FlushAudit
	sent    int
	client  *http.Client
}

type auditDelivery struct {
	target string
	body   []byte
}

// SetAuditTarget makes the simulator POST an EventBridge-envelope audit event
// (docs/genesys-api.md §9) to url for every change: API writes and out-of-band edits. "" stops.
func (s *Server) SetAuditTarget(url string) {
	s.audit.mu.Lock()
	s.audit.target = url
	s.audit.mu.Unlock()
}

// SetAuditTimeout bounds each audit delivery (10 s when not set): a target that answers
// only once it has handled the event (a local partner bus delivering to a function) may
// need longer.
func (s *Server) SetAuditTimeout(d time.Duration) {
	s.audit.mu.Lock()
	s.audit.client = &http.Client{Timeout: d}
	s.audit.mu.Unlock()
}

// FlushAudit waits until every queued audit event has been delivered (or failed) and
// returns the delivery failures since the previous FlushAudit, joined.
func (s *Server) FlushAudit(ctx context.Context) error {
	a := &s.audit
	a.mu.Lock()
	busy, idle := a.busy, a.idle
	a.mu.Unlock()
	if busy {
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("flush audit events: %w", ctx.Err())
		}
	}
	a.mu.Lock()
	errs := a.errs
	a.errs = nil
	a.mu.Unlock()
	return errors.Join(errs...)
}

// AuditDelivered returns how many audit events were delivered with a 2xx answer.
func (s *Server) AuditDelivered() int {
	s.audit.mu.Lock()
	defer s.audit.mu.Unlock()
	return s.audit.sent
}

func (a *auditQueue) enqueue(body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.target == "" {
		return
	}
	a.pending = append(a.pending, auditDelivery{a.target, body})
	if !a.busy {
		a.busy = true
		a.idle = make(chan struct{})
		if a.client == nil {
			a.client = &http.Client{Timeout: 10 * time.Second}
		}
		go a.deliver()
	}
}

func (a *auditQueue) deliver() {
	for {
		a.mu.Lock()
		if len(a.pending) == 0 {
			a.busy = false
			close(a.idle)
			a.mu.Unlock()
			return
		}
		d := a.pending[0]
		a.pending = a.pending[1:]
		client := a.client
		a.mu.Unlock()

		err := post(client, d)
		a.mu.Lock()
		if err != nil {
			a.errs = append(a.errs, err)
		} else {
			a.sent++
		}
		a.mu.Unlock()
	}
}

func post(client *http.Client, d auditDelivery) error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, d.target, bytes.NewReader(d.body))
	if err != nil {
		return fmt.Errorf("deliver audit event to %s: %w", d.target, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("deliver audit event to %s: %w", d.target, err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("deliver audit event to %s: answered %s", d.target, resp.Status)
	}
	return nil
}

var auditEntity = map[string]struct{ entityType, service string }{
	"queue":    {"Queue", "Routing"},
	"skill":    {"RoutingSkill", "Routing"},
	"worktype": {"Worktype", "TaskManagement"},
}

// emitLocked queues an audit event for a change of kind from old to new (either may be
// nil for Create/Delete). Call with s.mu held; it takes only the audit lock.
func (s *Server) emitLocked(kind, action string, old, new map[string]any, userID, clientID string) {
	s.audit.mu.Lock()
	on := s.audit.target != ""
	s.audit.mu.Unlock()
	if !on {
		return
	}
	meta := auditEntity[kind]
	ent := new
	if ent == nil {
		ent = old
	}
	id, name := str(ent, "id"), str(ent, "name")
	now := s.now().UTC()
	body := map[string]any{
		"id":              uuid.NewString(),
		"userId":          userID,
		"serviceName":     meta.service,
		"eventTime":       fmtTime(now),
		"action":          action,
		"entityType":      meta.entityType,
		"entity":          map[string]any{"id": id, "name": name},
		"propertyChanges": propertyChanges(old, new),
	}
	if clientID != "" {
		// An object {id} in the SDK (AuditTopicAuditLogMessage.clientId).
		body["clientId"] = map[string]any{"id": clientID}
	}
	env := map[string]any{
		"version":     "0",
		"id":          uuid.NewString(),
		"detail-type": "v2.audits.entitytype.{id}.entityid.{id}",
		"source":      "aws.partner/genesys.com/cloud/" + s.opts.OrgID + "/" + s.opts.EventSourceSuffix,
		"account":     "000000000000",
		"time":        now.Format(time.RFC3339),
		"region":      "us-east-1",
		"resources":   []any{},
		"detail": map[string]any{
			"topicName": "v2.audits.entitytype." + meta.entityType + ".entityid." + id,
			"version":   "2",
			"eventBody": body,
			"metadata":  map[string]any{"CorrelationId": uuid.NewString()},
			"timestamp": fmtTime(now),
		},
	}
	b, err := json.Marshal(env)
	if err != nil {
		return // entities are decoded JSON; they always marshal
	}
	s.audit.enqueue(b)
}

// serverManaged are fields that change on every write and are not audited.
var serverManaged = map[string]bool{
	"id": true, "selfUri": true, "dateModified": true, "dateCreated": true, "modifiedBy": true,
	"createdBy": true, "version": true, "memberCount": true, "userMemberCount": true, "joinedMemberCount": true,
}

// propertyChanges flattens both objects to dotted leaf paths (arrays compared whole, as
// JSON) and lists every differing path with string values, as the audit service does.
func propertyChanges(old, new map[string]any) []any {
	o, n := Flatten(old), Flatten(new)
	var props []string
	for k, v := range o {
		if nv, ok := n[k]; !ok || nv != v {
			props = append(props, k)
		}
	}
	for k := range n {
		if _, ok := o[k]; !ok {
			props = append(props, k)
		}
	}
	slices.Sort(props)
	out := make([]any, 0, len(props))
	for _, p := range props {
		change := map[string]any{"property": p, "oldValues": []any{}, "newValues": []any{}}
		if v, ok := o[p]; ok {
			change["oldValues"] = []any{v}
		}
		if v, ok := n[p]; ok {
			change["newValues"] = []any{v}
		}
		out = append(out, change)
	}
	return out
}

// Flatten flattens a document as the audit events and the write log do: dotted paths to
// objects' leaves (server-managed top-level fields left out), strings as they are,
// numbers in decimal, booleans as true/false, null as "", arrays whole as JSON.
func Flatten(m map[string]any) map[string]string {
	out := map[string]string{}
	flatten("", m, out)
	return out
}

func flatten(prefix string, m map[string]any, out map[string]string) {
	for k, v := range m {
		if prefix == "" && serverManaged[k] {
			continue
		}
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		switch x := v.(type) {
		case map[string]any:
			flatten(path, x, out)
		case string:
			out[path] = x
		case float64:
			out[path] = strconv.FormatFloat(x, 'f', -1, 64)
		case json.Number:
			if f, err := x.Float64(); err == nil {
				out[path] = strconv.FormatFloat(f, 'f', -1, 64)
			} else {
				out[path] = x.String()
			}
		case bool:
			out[path] = strconv.FormatBool(x)
		case nil:
			out[path] = ""
		default:
			b, _ := json.Marshal(x)
			out[path] = string(b)
		}
	}
}
