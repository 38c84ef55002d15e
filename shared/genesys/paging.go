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
	return listPagesAs(ctx, c, path, query, typed(id))
}

// typed is the conversion of the typed lists: the entity decoded into its model is kept
// as it is.
func typed[T any](id func(*T) string) func(T) (T, string, error) {
	return func(v T) (T, string, error) { return v, id(&v), nil }
}

// listPagesAs is listPages for entities decoded as E (a model, or json.RawMessage) and
// kept as convert makes them, page by page as each arrives (see ListAs).
func listPagesAs[E, T any](ctx context.Context, c *Client, path string, query url.Values, convert func(E) (T, string, error)) ([]T, error) {
	var prev *listing[T]
	for try := 1; ; try++ {
		l, err := listOnce(ctx, c, path, query, convert)
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

// converted is one page's entities as convert made them, with their ids.
type converted[T any] struct {
	values []T
	ids    []string
	total  *int64
}

// convertPage converts the entities of one page, in order.
func convertPage[E, T any](entities []E, convert func(E) (T, string, error)) (vals []T, ids []string, err error) {
	vals, ids = make([]T, 0, len(entities)), make([]string, 0, len(entities))
	for i := range entities {
		v, id, err := convert(entities[i])
		if err != nil {
			return nil, nil, err
		}
		vals, ids = append(vals, v), append(ids, id)
	}
	return vals, ids, nil
}

func listOnce[E, T any](ctx context.Context, c *Client, path string, query url.Values, convert func(E) (T, string, error)) (*listing[T], error) {
	size := c.pageSize
	type page struct {
		converted[T]
		count, pageSize, entities int
	}
	fetch := func(ctx context.Context, n int) (*page, error) {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("pageSize", strconv.Itoa(size))
		q.Set("pageNumber", strconv.Itoa(n))
		var p entityPage[E]
		if err := c.do(ctx, request{method: http.MethodGet, path: path, query: q, idempotent: true}, &p); err != nil {
			return nil, fmt.Errorf("list %s page %d: %w", path, n, err)
		}
		vals, ids, err := convertPage(p.Entities, convert)
		if err != nil {
			return nil, fmt.Errorf("list %s page %d: %w", path, n, err)
		}
		return &page{converted: converted[T]{values: vals, ids: ids, total: p.Total}, count: p.PageCount, pageSize: p.PageSize, entities: len(p.Entities)}, nil
	}
	first, err := fetch(ctx, 1)
	if err != nil {
		return nil, err
	}
	// A server that caps pageSize below the one asked for says so in the
	// envelope and counts pages by it; asking for page 2 at the larger size
	// would skip the entities between the two sizes.
	if first.pageSize > 0 && first.pageSize < size {
		size = first.pageSize
	}
	l := &listing[T]{total: first.total}
	changed := func(p *page) bool {
		return p.total != nil && first.total != nil && *p.total != *first.total
	}
	pages := []converted[T]{first.converted}
	count := first.count
	if count == 0 && first.total != nil && *first.total > 0 {
		count = int((*first.total + int64(size) - 1) / int64(size))
	}
	switch {
	case count > 1:
		if count > maxPages {
			return nil, fmt.Errorf("list %s: server reports %d pages, more than %d; raise the page size", path, count, maxPages)
		}
		rest := make([]*page, count-1)
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
			pages = append(pages, p.converted)
		}
	case count == 0 && first.entities > 0 && first.entities >= size:
		// No pageCount and no total: walk pages until a short or empty one.
		for n := 2; n <= maxPages; n++ {
			p, err := fetch(ctx, n)
			if err != nil {
				return nil, err
			}
			l.totalChanged = l.totalChanged || changed(p)
			pages = append(pages, p.converted)
			if p.entities < size {
				break
			}
		}
	}
	l.all = dedupe(pages)
	return l, nil
}

// dedupe joins the pages in order, keeping the first of entities with the same id
// (entities without an id are all kept).
func dedupe[T any](pages []converted[T]) []T {
	n := 0
	for _, p := range pages {
		n += len(p.values)
	}
	all := make([]T, 0, n)
	seen := make(map[string]bool, n)
	for _, p := range pages {
		for i, v := range p.values {
			if k := p.ids[i]; k != "" {
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			all = append(all, v)
		}
	}
	return all
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
	return queryAfterAs(ctx, c, path, body, func(v T) (T, string, error) { return v, "", nil })
}

// queryAfterAs is queryAfter for entities decoded as E and kept as convert makes them,
// page by page (see ListAs). Ids play no part: a cursor does not shift.
func queryAfterAs[E, T any](ctx context.Context, c *Client, path string, body map[string]any, convert func(E) (T, string, error)) ([]T, error) {
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
		var p cursorPage[E]
		if err := c.do(ctx, req, &p); err != nil {
			return nil, fmt.Errorf("query %s page %d: %w", path, n, err)
		}
		vals, _, err := convertPage(p.Entities, convert)
		if err != nil {
			return nil, fmt.Errorf("query %s page %d: %w", path, n, err)
		}
		all = append(all, vals...)
		if p.After == "" || p.After == after {
			return all, nil
		}
		after = p.After
	}
	return nil, fmt.Errorf("query %s: more than %d pages; the cursor does not end", path, maxPages)
}
