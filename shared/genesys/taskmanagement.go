package genesys

import (
	"context"
	"fmt"
	"net/http"
)

const (
	worktypesPath      = "/api/v2/taskmanagement/worktypes"
	worktypesQueryPath = "/api/v2/taskmanagement/worktypes/query"
	workbinsQueryPath  = "/api/v2/taskmanagement/workbins/query"
	workitemsQueryPath = "/api/v2/taskmanagement/workitems/query"
)

// ListWorktypes returns every worktype (POST /api/v2/taskmanagement/worktypes/query,
// pageSize 200, following the `after` cursor). The query is sent without
// filters, as the Terraform provider lists workbins; that worktypes accept
// an unfiltered query is UNVERIFIED against a live org.
func (c *Client) ListWorktypes(ctx context.Context) ([]Worktype, error) {
	return queryAfter[Worktype](ctx, c, worktypesQueryPath, nil)
}

// GetWorktype returns one worktype (GET /api/v2/taskmanagement/worktypes/{worktypeId}).
func (c *Client) GetWorktype(ctx context.Context, id string) (*Worktype, error) {
	return getByID[Worktype](ctx, c, "worktype", worktypesPath, id)
}

// CreateWorktype creates a worktype (POST /api/v2/taskmanagement/worktypes).
// body is a WorktypeCreate: "name" and "defaultWorkbinId" are required;
// references are ids ("defaultQueueId", "defaultSkillIds", ...).
func (c *Client) CreateWorktype(ctx context.Context, body map[string]any) (*Worktype, error) {
	return send[Worktype](ctx, c, http.MethodPost, worktypesPath, body)
}

// PatchWorktype partially updates a worktype (PATCH
// /api/v2/taskmanagement/worktypes/{worktypeId}, a WorktypeUpdate). Send only
// the members to change; a nil value is sent as JSON null and clears the
// member (e.g. {"defaultQueueId": nil}). There is no version: the PATCH is unconditional.
func (c *Client) PatchWorktype(ctx context.Context, id string, patch map[string]any) (*Worktype, error) {
	if err := requireID("worktype", id); err != nil {
		return nil, err
	}
	if len(patch) == 0 {
		return nil, fmt.Errorf("genesys: PatchWorktype %s: empty patch", id)
	}
	return send[Worktype](ctx, c, http.MethodPatch, entityPath(worktypesPath, id), patch)
}

// DeleteWorktype deletes a worktype (DELETE /api/v2/taskmanagement/worktypes/{worktypeId}).
func (c *Client) DeleteWorktype(ctx context.Context, id string) error {
	if err := requireID("worktype", id); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: entityPath(worktypesPath, id), idempotent: true}, nil)
}

// ListWorkbins returns every workbin (POST /api/v2/taskmanagement/workbins/query
// without filters, pageSize 200, following `after`; the Terraform provider
// lists workbins the same way).
func (c *Client) ListWorkbins(ctx context.Context) ([]Workbin, error) {
	return queryAfter[Workbin](ctx, c, workbinsQueryPath, nil)
}

// WorkitemFilter is one filter of a workitems query (SDK WorkitemFilter).
type WorkitemFilter struct {
	Name     string   `json:"name"`     // e.g. queueId, statusCategory, assigneeId
	Type     string   `json:"type"`     // String | Int | ...
	Operator string   `json:"operator"` // EQ | NEQ | IN | ...
	Values   []string `json:"values"`
}

// CountWorkitems counts the workitems in a queue (POST
// /api/v2/taskmanagement/workitems/query with a queueId EQ filter and
// select "Count"). extra adds up to two more filters (the API allows three),
// e.g. {Name: "statusCategory", Type: "String", Operator: "EQ", Values: ["Open"]}.
func (c *Client) CountWorkitems(ctx context.Context, queueID string, extra ...WorkitemFilter) (int64, error) {
	if err := requireID("queue", queueID); err != nil {
		return 0, err
	}
	if len(extra) > 2 {
		return 0, fmt.Errorf("genesys: CountWorkitems %s: %d extra filters; the workitems query allows three filters in all", queueID, len(extra))
	}
	filters := append([]WorkitemFilter{{Name: "queueId", Type: "String", Operator: "EQ", Values: []string{queueID}}}, extra...)
	req, err := newRequest(http.MethodPost, workitemsQueryPath, map[string]any{"filters": filters, "select": "Count"})
	if err != nil {
		return 0, err
	}
	req.idempotent = true
	var p cursorPage[struct{}]
	if err := c.do(ctx, req, &p); err != nil {
		return 0, err
	}
	if p.Count == nil {
		return 0, fmt.Errorf("genesys: POST %s: response has no count for queue %s", workitemsQueryPath, queueID)
	}
	return *p.Count, nil
}
