package genesys

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"golang.org/x/sync/errgroup"
)

// entityPage is the pageNumber-based envelope (SDK QueueEntityListing,
// SkillEntityListing, AuthzDivisionEntityListing; GENESYS-API.md §2).
type entityPage[T any] struct {
	Entities   []T   `json:"entities"`
	PageSize   int   `json:"pageSize"`
	PageNumber int   `json:"pageNumber"`
	Total      int64 `json:"total"`
	PageCount  int   `json:"pageCount"`
}

// maxPages bounds a listing whose envelope never says how many pages there are.
const maxPages = 10000

// listPages fetches every page of a pageNumber-paged list. Page 1 tells
// pageCount; pages 2..N are fetched concurrently (Config.PageConcurrency at a
// time), each attempt passing through the client's request budget. Results
// keep page order; an entity seen twice (the list shifted between pages) is kept once.
func listPages[T any](ctx context.Context, c *Client, path string, query url.Values, id func(*T) string) ([]T, error) {
	fetch := func(ctx context.Context, n int) (*entityPage[T], error) {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("pageSize", strconv.Itoa(c.pageSize))
		q.Set("pageNumber", strconv.Itoa(n))
		var p entityPage[T]
		if err := c.do(ctx, request{method: http.MethodGet, path: path, query: q, idempotent: true}, &p); err != nil {
			return nil, fmt.Errorf("list %s page %d: %w", path, n, err)
		}
		return &p, nil
	}
	first, err := fetch(ctx, 1)
	if err != nil {
		return nil, err
	}
	pages := [][]T{first.Entities}
	count := first.PageCount
	if count == 0 && first.Total > 0 && first.PageSize > 0 {
		count = int((first.Total + int64(first.PageSize) - 1) / int64(first.PageSize))
	}
	switch {
	case count > 1:
		if count > maxPages {
			return nil, fmt.Errorf("list %s: server reports %d pages, more than %d; raise the page size", path, count, maxPages)
		}
		rest := make([][]T, count-1)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(c.pageWorkers)
		for n := 2; n <= count; n++ {
			g.Go(func() error {
				p, err := fetch(gctx, n)
				if err != nil {
					return err
				}
				rest[n-2] = p.Entities
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		pages = append(pages, rest...)
	case count == 0 && len(first.Entities) > 0 && len(first.Entities) >= c.pageSize:
		// No pageCount and no total: walk pages until a short or empty one.
		for n := 2; n <= maxPages; n++ {
			p, err := fetch(ctx, n)
			if err != nil {
				return nil, err
			}
			pages = append(pages, p.Entities)
			if len(p.Entities) < c.pageSize {
				break
			}
		}
	}
	seen := make(map[string]bool)
	var all []T
	for _, p := range pages {
		for i := range p {
			if k := id(&p[i]); k != "" {
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			all = append(all, p[i])
		}
	}
	return all, nil
}

// cursorPage is the `after`-cursor envelope of the task-management query
// endpoints (SDK WorktypeQueryEntityListing, WorkbinQueryEntityListing).
type cursorPage[T any] struct {
	Entities []T    `json:"entities"`
	After    string `json:"after"`
	Count    *int64 `json:"count"`
}

// queryPageSize is the documented maximum pageSize of the task-management
// query endpoints ("Maximum of 200").
const queryPageSize = 200

// queryAfter POSTs body to a task-management query endpoint, following the
// `after` cursor until the server returns none (or repeats one). A short or
// even empty page does not end the listing: the SDK's query request says "It
// is not guaranteed that the requested number of entities will be filled in a
// single request. If an `after` key is returned ... more entities ... may
// exist". Cursor pages are inherently sequential.
func queryAfter[T any](ctx context.Context, c *Client, path string, body map[string]any) ([]T, error) {
	var all []T
	after := ""
	for n := 1; n <= maxPages; n++ {
		b := map[string]any{"pageSize": queryPageSize}
		for k, v := range body {
			b[k] = v
		}
		if after != "" {
			b["after"] = after
		}
		req, err := newRequest(http.MethodPost, path, b)
		if err != nil {
			return nil, err
		}
		req.idempotent = true // a query changes nothing
		var p cursorPage[T]
		if err := c.do(ctx, req, &p); err != nil {
			return nil, fmt.Errorf("query %s page %d: %w", path, n, err)
		}
		all = append(all, p.Entities...)
		if p.After == "" || p.After == after {
			return all, nil
		}
		after = p.After
	}
	return nil, fmt.Errorf("query %s: more than %d pages; the cursor does not end", path, maxPages)
}
