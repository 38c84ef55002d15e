package stack

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/lambdarun"
)

// Scenarios of events/webhook/. The EventBridge ones are the simulator's own audit events,
// as the Genesys partner bus delivers them through the template's rule; the Function URL
// ones are payload format 2.0 requests as lambdarun.URL builds them.
const (
	// WebhookQueueEdit: an admin changes ChangedQueue's description in the UI; the audit
	// event arrives through the EventBridge rule.
	WebhookQueueEdit = "bridge-queue-edit"
	// WebhookSkillDelete: an admin deletes MissingSkill, which routekeeper had created;
	// through the EventBridge rule. (The seeded org has no such skill: the webhook's read
	// answers 404 and it records the deletion under the event's name.)
	WebhookSkillDelete = "bridge-skill-delete"
	// WebhookWorktypeURL: an admin changes ChangedWorktype's default priority; a Genesys
	// data action POSTs the minimal form to the Function URL with the webhook token.
	WebhookWorktypeURL = "url-worktype-minimal"
	// WebhookQueueURL: the ChangedQueue edit as a Genesys notification (the detail of the
	// EventBridge event) POSTed to the Function URL with the token.
	WebhookQueueURL = "url-queue-notification"
	// WebhookDuplicate: the ChangedQueue edit again, as a data action POSTs the whole
	// EventBridge envelope after the rule delivered it (same event id): 202 duplicate.
	WebhookDuplicate = "url-duplicate"
	// WebhookBadToken: the worktype delivery with a wrong token: 401.
	WebhookBadToken = "url-bad-token"
	// WebhookMalformed: a body that is not JSON, with the right token: 400.
	WebhookMalformed = "url-malformed"
	// WebhookGet: a GET of the Function URL: 405.
	WebhookGet = "url-get"
)

// GenerateWebhookEvents returns the events of events/webhook/ (scenario -> JSON): it
// makes the admin edits on this stack's simulator and keeps the audit events the simulator
// emits for them (its audit target is changed, then cleared).
func GenerateWebhookEvents(ctx context.Context, s *Stack) (map[string][]byte, error) {
	c, err := startCapture()
	if err != nil {
		return nil, err
	}
	defer c.close()
	s.Sim.SetAuditTarget(c.url)
	defer s.Sim.SetAuditTarget("")
	// take returns the audit events emitted since the last take.
	take := func(want int) ([][]byte, error) {
		if err := s.Sim.FlushAudit(ctx); err != nil {
			return nil, err
		}
		got := c.take()
		if len(got) != want {
			return nil, fmt.Errorf("the simulator emitted %d audit events, want %d", len(got), want)
		}
		return got, nil
	}
	id := func(kind, name string) (string, error) {
		id, ok := s.Sim.IDByName(kind, name)
		if !ok {
			return "", fmt.Errorf("the seeded org has no %s %q", kind, name)
		}
		return id, nil
	}
	out := map[string][]byte{}

	queueID, err := id("queue", ChangedQueue)
	if err != nil {
		return nil, err
	}
	if err := s.Sim.EditQueue(queueID, func(q map[string]any) { q["description"] = "Edited in the admin UI" }); err != nil {
		return nil, err
	}
	evs, err := take(1)
	if err != nil {
		return nil, err
	}
	queueEdit := evs[0]
	if out[WebhookQueueEdit], err = indent(queueEdit); err != nil {
		return nil, err
	}

	sk, err := s.Genesys.CreateSkill(ctx, MissingSkill)
	if err != nil {
		return nil, err
	}
	if err := s.Sim.Delete("skill", sk.ID); err != nil {
		return nil, err
	}
	if evs, err = take(2); err != nil { // the create, then the delete
		return nil, err
	}
	if out[WebhookSkillDelete], err = indent(evs[1]); err != nil {
		return nil, err
	}

	worktypeID, err := id("worktype", ChangedWorktype)
	if err != nil {
		return nil, err
	}
	if err := s.Sim.EditWorktype(worktypeID, func(w map[string]any) { w["defaultPriority"] = 42.0 }); err != nil {
		return nil, err
	}
	if evs, err = take(1); err != nil {
		return nil, err
	}
	minimal, err := minimalForm(evs[0])
	if err != nil {
		return nil, err
	}

	u, err := lambdarun.NewURL(noInvoke{}, lambdarun.URLOptions{})
	if err != nil {
		return nil, err
	}
	token := map[string]string{"Content-Type": "application/json", "X-Routekeeper-Token": awslocal.LocalWebhookToken}
	var notification struct {
		Detail json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(queueEdit, &notification); err != nil {
		return nil, err
	}
	for _, r := range []struct {
		name, method string
		headers      map[string]string
		body         []byte
	}{
		{WebhookWorktypeURL, http.MethodPost, token, minimal},
		{WebhookQueueURL, http.MethodPost, token, notification.Detail},
		{WebhookDuplicate, http.MethodPost, token, queueEdit},
		{WebhookBadToken, http.MethodPost, map[string]string{"Content-Type": "application/json", "X-Routekeeper-Token": "not-the-token"}, minimal},
		{WebhookMalformed, http.MethodPost, token, []byte(`{"entityType": "Queue", "entityId": `)},
		{WebhookGet, http.MethodGet, nil, nil},
	} {
		if out[r.name], err = urlEvent(u, r.method, r.headers, r.body); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// minimalForm turns a simulator audit event into the minimal form a data action writes.
func minimalForm(envelope []byte) ([]byte, error) {
	var ev struct {
		Detail struct {
			EventBody struct {
				ID         string `json:"id"`
				UserID     string `json:"userId"`
				EventTime  string `json:"eventTime"`
				Action     string `json:"action"`
				EntityType string `json:"entityType"`
				Entity     struct{ ID, Name string }
			} `json:"eventBody"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(envelope, &ev); err != nil {
		return nil, err
	}
	b := ev.Detail.EventBody
	return json.Marshal(map[string]string{
		"entityType": b.EntityType, "entityId": b.Entity.ID, "entityName": b.Entity.Name,
		"eventId": b.ID, "eventTime": b.EventTime, "action": b.Action, "userId": b.UserID,
	})
}

// urlEvent is the Function URL event of one request to u, as events.LambdaFunctionURLRequest
// (the routeKey members lambdarun.URLRequest adds are left out: aws-lambda-go has none).
func urlEvent(u *lambdarun.URL, method string, headers map[string]string, body []byte) ([]byte, error) {
	r, err := http.NewRequest(method, "https://"+u.DomainName()+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.RemoteAddr = "198.51.100.7:44321" // a documentation address (RFC 5737)
	r.TLS = &tls.ConnectionState{}      // a Function URL is HTTPS
	r.Header.Set("User-Agent", "Genesys-Data-Action/1.0")
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	full := u.Event(r, body)
	ev := full.LambdaFunctionURLRequest
	ev.RequestContext = full.RequestContext.LambdaFunctionURLRequestContext
	return indentValue(ev)
}

func indentValue(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return indent(b)
}

func indent(b []byte) ([]byte, error) {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// capture is an HTTP endpoint on loopback that keeps what is POSTed to it.
type capture struct {
	url  string
	srv  *http.Server
	mu   sync.Mutex
	got  [][]byte
	done chan struct{}
}

func startCapture() (*capture, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &capture{url: "http://" + ln.Addr().String(), done: make(chan struct{})}
	c.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil || !json.Valid(b) {
			http.Error(w, "want a JSON body", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.got = append(c.got, b)
		c.mu.Unlock()
	})}
	go func() {
		defer close(c.done)
		_ = c.srv.Serve(ln)
	}()
	return c, nil
}

func (c *capture) take() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.got
	c.got = nil
	return out
}

func (c *capture) close() {
	_ = c.srv.Close()
	<-c.done
}
