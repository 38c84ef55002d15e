package genesys

import (
	"context"
	"encoding/json"
	"errors"
)

// List is one of the org lists routekeeper reads whole: a pageNumber-paged list or a
// task-management query followed by its `after` cursor.
type List struct {
	name, path string
	query      bool // a task-management query (POST, `after` cursor)
}

// The lists ListAs reads, each as its typed method reads it (ListDivisions, ...).
var (
	DivisionList = List{name: "divisions", path: divisionsPath}
	LanguageList = List{name: "languages", path: languagesPath}
	SkillList    = List{name: "skills", path: skillsPath}
	QueueList    = List{name: "queues", path: queuesPath}
	WorkbinList  = List{name: "workbins", path: workbinsQueryPath, query: true}
	WorktypeList = List{name: "worktypes", path: worktypesQueryPath, query: true}
)

// String names the list ("queues").
func (l List) String() string { return l.name }

// ListAs reads every entity of list l exactly as the typed list methods do (every page,
// inside the client's request budget, pages of a pageNumber list fetched concurrently, the
// list read again when it changed while it was read, an entity listed twice kept once),
// but instead of decoding each entity into a model it hands the entity's JSON, as the
// server sent it, to convert as soon as its page arrives, and keeps only what convert
// returns. A reader of a big org then holds what it needs of each entity rather than every
// page of models (shared/live List). convert also returns the entity's id, which
// de-duplicates the pageNumber lists; it is called from the goroutines fetching pages, so
// concurrently, and its error ends the listing. (A function, not a method: Go methods
// cannot have type parameters.)
func ListAs[T any](ctx context.Context, c *Client, l List, convert func(raw json.RawMessage) (T, string, error)) ([]T, error) {
	if l.path == "" {
		return nil, errors.New("genesys: ListAs: no list given (use QueueList, SkillList, ...)")
	}
	if l.query {
		return queryAfterAs(ctx, c, l.path, nil, convert)
	}
	return listPagesAs(ctx, c, l.path, nil, convert)
}
