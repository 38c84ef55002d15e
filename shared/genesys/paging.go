package genesys

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"golang.org/x/sync/errgroup"
)

// entityPage is the pageNumber-based envelope (SDK QueueEntityListing,
// SkillEntityListing, AuthzDivisionEntityListing; docs/genesys-api.md §2).
type entityPage[T any] struct {
	Entities   []T    `json:"entities"`
	PageSize   int    `json:"pageSize"`
	PageNumber int    `json:"pageNumber"`
	Total      *int64 `json:"total"` // nil: not sent (0 is an empty list)
	PageCount  int    `json:"pageCount"`
}

// maxPages bounds a listing whose envelope never says how many pages there are.
const maxPages = 10000

// listAttempts bounds how often listPages reads a list again because it
// changed while it was being read.
const listAttempts = 3

// listPages fetches every page of a pageNumber-paged list. Page 1 tells
// pageCount; pages 2..N are fetched concurrently (Config.PageConcurrency at a
// time), each attempt passing through the client's request budget. Results
// keep page order; an entity seen twice (the list shifted between pages) is
// kept once.
//
// Offset paging over a list sorted by name can also lose an entity: one
// deleted from an earlier page, or renamed to sort before the pages already
// read, shifts the rest back by one between two requests. A lost entity would
// read as "missing live" to the drift engine, which plans a create. So the
// listing is read again (at most listAttempts times in all) when a page's
// total differs from page 1's, or when the entities read do not number the
// total. A count that disagrees with an unchanging total in two readings in a
// row is the server's counting, not a change, and is accepted as read.
func listPages[T any](ctx context.Context, c *Client, path string, query url.Values, id func(*T) string) ([]T, error) {
	var prev *listing[T]
	for try := 1; ; try++ {
		l, err := listOnce(ctx, c, path, query, id)
		if err != nil {
			return nil, err
		}
		switch {
		case !l.totalChanged && (l.total == nil || int64(len(l.all)) == *l.total):
			return l.all, nil
		case !l.totalChanged && prev != nil && !prev.totalChanged &&
			*prev.total == *l.total && len(prev.all) == len(l.all):
			c.log.LogAttrs(ctx, slog.LevelWarn, "genesys list: entity count differs from the total the server reports, twice alike; keeping what was read",
				slog.String("path", path), slog.Int64("total", *l.total), slog.Int("read", len(l.all)))
			return l.all, nil
		case try >= listAttempts:
			return nil, fmt.Errorf("list %s: the list changed while it was being read, %d times in a row (entities created, deleted or renamed between page requests); retry later", path, listAttempts)
		}
		c.log.LogAttrs(ctx, slog.LevelDebug, "genesys list changed while it was read; reading it again",
			slog.String("path", path), slog.Int("attempt", try))
		prev = l
	}
}

// listing is one reading of a pageNumber-paged list.
type listing[T any] struct {
	all          []T
	total        *int64 // page 1's total
	totalChanged bool   // a later page reported another total
}

func listOnce[T any](ctx context.Context, c *Client, path string, query url.Values, id func(*T) string) (*listing[T], error) {
	size := c.pageSize
	fetch := func(ctx context.Context, n int) (*entityPage[T], error) {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("pageSize", strconv.Itoa(size))
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
	// A server that caps pageSize below the one asked for says so in the
	// envelope and counts pages by it; asking for page 2 at the larger size
	// would skip the entities between the two sizes.
	if first.PageSize > 0 && first.PageSize < size {
		size = first.PageSize
	}
	l := &listing[T]{total: first.Total}
	changed := func(p *entityPage[T]) bool {
		return p.Total != nil && first.Total != nil && *p.Total != *first.Total
	}
	pages := [][]T{first.Entities}
	count := first.PageCount
	if count == 0 && first.Total != nil && *first.Total > 0 {
		count = int((*first.Total + int64(size) - 1) / int64(size))
	}
	switch {
	case count > 1:
		if count > maxPages {
			return nil, fmt.Errorf("list %s: server reports %d pages, more than %d; raise the page size", path, count, maxPages)
		}
		rest := make([]*entityPage[T], count-1)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(c.pageWorkers)
		for n := 2; n <= count; n++ {
			g.Go(func() error {
				p, err := fetch(gctx, n)
				if err != nil {
					return err
				}
				rest[n-2] = p
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		for _, p := range rest {
			l.totalChanged = l.totalChanged || changed(p)
			pages = append(pages, p.Entities)
		}
	case count == 0 && len(first.Entities) > 0 && len(first.Entities) >= size:
		// No pageCount and no total: walk pages until a short or empty one.
		for n := 2; n <= maxPages; n++ {
			p, err := fetch(ctx, n)
			if err != nil {
				return nil, err
			}
			l.totalChanged = l.totalChanged || changed(p)
			pages = append(pages, p.Entities)
			if len(p.Entities) < size {
				break
			}
		}
	}
	seen := make(map[string]bool)
	for _, p := range pages {
		for i := range p {
			if k := id(&p[i]); k != "" {
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			l.all = append(l.all, p[i])
		}
	}
	return l, nil
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
