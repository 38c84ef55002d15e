package genesys

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

const (
	queuesPath      = "/api/v2/routing/queues"
	skillsPath      = "/api/v2/routing/skills"
	utilizationPath = "/api/v2/routing/utilization"
	divisionsPath   = "/api/v2/authorization/divisions"
	languagesPath   = "/api/v2/routing/languages"
)

func entityPath(base, id string) string { return base + "/" + url.PathEscape(id) }

func requireID(kind, id string) error {
	if id == "" {
		return fmt.Errorf("genesys: %s id is empty", kind)
	}
	return nil
}

// ListQueues returns every routing queue (GET /api/v2/routing/queues, all pages).
func (c *Client) ListQueues(ctx context.Context) ([]Queue, error) {
	return listPages(ctx, c, queuesPath, nil, func(q *Queue) string { return q.ID })
}

// GetQueue returns one queue (GET /api/v2/routing/queues/{queueId}); ErrNotFound if it does not exist.
func (c *Client) GetQueue(ctx context.Context, id string) (*Queue, error) {
	if err := requireID("queue", id); err != nil {
		return nil, err
	}
	var q Queue
	if err := c.do(ctx, request{method: http.MethodGet, path: entityPath(queuesPath, id), idempotent: true}, &q); err != nil {
		return nil, err
	}
	return &q, nil
}

// GetQueueRaw returns one queue as the raw JSON object the server sent
// (numbers as json.Number, so nothing loses precision). Edit it and pass it to
// UpdateQueueRaw: a queue PUT is a full replace, and this way every member
// routekeeper does not model is sent back unchanged.
func (c *Client) GetQueueRaw(ctx context.Context, id string) (map[string]any, error) {
	if err := requireID("queue", id); err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := c.do(ctx, request{method: http.MethodGet, path: entityPath(queuesPath, id), idempotent: true}, &raw); err != nil {
		return nil, err
	}
	return decodeRawObject(raw)
}

func decodeRawObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("genesys: decode object: %w", err)
	}
	return m, nil
}

// CreateQueue creates a queue (POST /api/v2/routing/queues). body is a
// CreateQueueRequest: a *Queue or a map[string]any with at least "name".
// A create is never resent after a transport error that may have reached the server.
func (c *Client) CreateQueue(ctx context.Context, body any) (*Queue, error) {
	req, err := newRequest(http.MethodPost, queuesPath, body)
	if err != nil {
		return nil, err
	}
	var q Queue
	if err := c.do(ctx, req, &q); err != nil {
		return nil, err
	}
	return &q, nil
}

// UpdateQueue replaces queue q.ID with q (PUT /api/v2/routing/queues/{queueId}).
// q should come from GetQueue or ListQueues and be edited in place: it
// re-emits every member the server sent, so unmodelled settings survive the full replace.
func (c *Client) UpdateQueue(ctx context.Context, q *Queue) (*Queue, error) {
	if q == nil {
		return nil, fmt.Errorf("genesys: UpdateQueue: queue is nil")
	}
	return c.putQueue(ctx, q.ID, q)
}

// UpdateQueueRaw replaces queue id with raw, a queue object from GetQueueRaw
// that the caller edited (PUT /api/v2/routing/queues/{queueId}).
func (c *Client) UpdateQueueRaw(ctx context.Context, id string, raw map[string]any) (*Queue, error) {
	if raw == nil {
		return nil, fmt.Errorf("genesys: UpdateQueueRaw %s: body is nil", id)
	}
	return c.putQueue(ctx, id, raw)
}

func (c *Client) putQueue(ctx context.Context, id string, body any) (*Queue, error) {
	if err := requireID("queue", id); err != nil {
		return nil, err
	}
	req, err := newRequest(http.MethodPut, entityPath(queuesPath, id), body)
	if err != nil {
		return nil, err
	}
	var q Queue
	if err := c.do(ctx, req, &q); err != nil {
		return nil, err
	}
	return &q, nil
}

// DeleteQueue deletes a queue (DELETE /api/v2/routing/queues/{queueId}?forceDelete=).
// forceDelete also deletes a queue that still has members or flows referencing it.
func (c *Client) DeleteQueue(ctx context.Context, id string, forceDelete bool) error {
	if err := requireID("queue", id); err != nil {
		return err
	}
	q := url.Values{"forceDelete": {strconv.FormatBool(forceDelete)}}
	return c.do(ctx, request{method: http.MethodDelete, path: entityPath(queuesPath, id), query: q, idempotent: true}, nil)
}

// ListSkills returns every routing skill (GET /api/v2/routing/skills, all pages).
func (c *Client) ListSkills(ctx context.Context) ([]Skill, error) {
	return listPages(ctx, c, skillsPath, nil, func(s *Skill) string { return s.ID })
}

// GetSkill returns one skill (GET /api/v2/routing/skills/{skillId}).
func (c *Client) GetSkill(ctx context.Context, id string) (*Skill, error) {
	if err := requireID("skill", id); err != nil {
		return nil, err
	}
	var s Skill
	if err := c.do(ctx, request{method: http.MethodGet, path: entityPath(skillsPath, id), idempotent: true}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// CreateSkill creates a skill (POST /api/v2/routing/skills, CreateRoutingSkill{name}).
func (c *Client) CreateSkill(ctx context.Context, name string) (*Skill, error) {
	if name == "" {
		return nil, fmt.Errorf("genesys: CreateSkill: name is empty")
	}
	req, err := newRequest(http.MethodPost, skillsPath, map[string]string{"name": name})
	if err != nil {
		return nil, err
	}
	var s Skill
	if err := c.do(ctx, req, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// DeleteSkill deletes a skill (DELETE /api/v2/routing/skills/{skillId}).
func (c *Client) DeleteSkill(ctx context.Context, id string) error {
	if err := requireID("skill", id); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: entityPath(skillsPath, id), idempotent: true}, nil)
}

// ListDivisions returns every authorization division (GET
// /api/v2/authorization/divisions, all pages), to map division ids to names.
// The maximum pageSize of this endpoint is not documented (UNVERIFIED); it uses Config.PageSize.
func (c *Client) ListDivisions(ctx context.Context) ([]Division, error) {
	return listPages(ctx, c, divisionsPath, nil, func(d *Division) string { return d.ID })
}

// ListLanguages returns every routing language (GET /api/v2/routing/languages,
// all pages), to map the ids of worktype defaultLanguage references to names.
// The path and the pageNumber/pageSize parameters (defaults 1 and 25) are the
// SDK's GetRoutingLanguages; the maximum pageSize is not documented
// (UNVERIFIED), so it uses Config.PageSize like the other lists. Whether the
// list includes deleted languages is UNVERIFIED too: callers skip state "deleted".
func (c *Client) ListLanguages(ctx context.Context) ([]Language, error) {
	return listPages(ctx, c, languagesPath, nil, func(l *Language) string { return l.ID })
}

// GetUtilization returns the organization's utilization (GET /api/v2/routing/utilization).
func (c *Client) GetUtilization(ctx context.Context) (*Utilization, error) {
	var u Utilization
	if err := c.do(ctx, request{method: http.MethodGet, path: utilizationPath, idempotent: true}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// UpdateUtilization replaces the organization's utilization (PUT
// /api/v2/routing/utilization). Omitted media types revert to the system
// defaults, so pass the value from GetUtilization, edited.
func (c *Client) UpdateUtilization(ctx context.Context, u *Utilization) (*Utilization, error) {
	if u == nil {
		return nil, fmt.Errorf("genesys: UpdateUtilization: utilization is nil")
	}
	req, err := newRequest(http.MethodPut, utilizationPath, u)
	if err != nil {
		return nil, err
	}
	var out Utilization
	if err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
