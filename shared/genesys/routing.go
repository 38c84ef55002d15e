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

// send sends one request (body JSON-encoded unless nil) under the client's
// policy and decodes the 2xx answer into a new T. Every single-entity call
// goes through it; lists page with listPages and queryAfter.
func send[T any](ctx context.Context, c *Client, method, path string, body any) (*T, error) {
	req, err := newRequest(method, path, body)
	if err != nil {
		return nil, err
	}
	var out T
	if err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// getByID is GET base/{id} after checking that id is not empty.
func getByID[T any](ctx context.Context, c *Client, kind, base, id string) (*T, error) {
	if err := requireID(kind, id); err != nil {
		return nil, err
	}
	return send[T](ctx, c, http.MethodGet, entityPath(base, id), nil)
}

// ListQueues returns every routing queue (GET /api/v2/routing/queues, all pages).
func (c *Client) ListQueues(ctx context.Context) ([]Queue, error) {
	return listPages(ctx, c, queuesPath, nil, func(q *Queue) string { return q.ID })
}

// GetQueue returns one queue (GET /api/v2/routing/queues/{queueId}); ErrNotFound if it does not exist.
func (c *Client) GetQueue(ctx context.Context, id string) (*Queue, error) {
	return getByID[Queue](ctx, c, "queue", queuesPath, id)
}

// GetQueueRaw returns one queue as the raw JSON object the server sent
// (numbers as json.Number, so nothing loses precision). Edit it and pass it to
// UpdateQueueRaw: a queue PUT is a full replace, and this way every member
// routekeeper does not model is sent back unchanged.
func (c *Client) GetQueueRaw(ctx context.Context, id string) (map[string]any, error) {
	raw, err := getByID[json.RawMessage](ctx, c, "queue", queuesPath, id)
	if err != nil {
		return nil, err
	}
	return decodeRawObject(*raw)
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
	return send[Queue](ctx, c, http.MethodPost, queuesPath, body)
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
	return send[Queue](ctx, c, http.MethodPut, entityPath(queuesPath, id), body)
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
	return getByID[Skill](ctx, c, "skill", skillsPath, id)
}

// CreateSkill creates a skill (POST /api/v2/routing/skills, CreateRoutingSkill{name}).
func (c *Client) CreateSkill(ctx context.Context, name string) (*Skill, error) {
	if name == "" {
		return nil, fmt.Errorf("genesys: CreateSkill: name is empty")
	}
	return send[Skill](ctx, c, http.MethodPost, skillsPath, map[string]string{"name": name})
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
	return send[Utilization](ctx, c, http.MethodGet, utilizationPath, nil)
}

// UpdateUtilization replaces the organization's utilization (PUT
// /api/v2/routing/utilization). Omitted media types revert to the system
// defaults, so pass the value from GetUtilization, edited.
func (c *Client) UpdateUtilization(ctx context.Context, u *Utilization) (*Utilization, error) {
	if u == nil {
		return nil, fmt.Errorf("genesys: UpdateUtilization: utilization is nil")
	}
	return send[Utilization](ctx, c, http.MethodPut, utilizationPath, u)
}
