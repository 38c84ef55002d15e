package live

import (
	"context"
	"errors"
	"fmt"

	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
)

// Genesys is the part of the Genesys client the live org uses (*genesys.Client satisfies
// it): the list endpoints of Read and, per managed kind, the calls of its Adapter.
type Genesys interface {
	Reader

	GetQueueRaw(ctx context.Context, id string) (map[string]any, error)
	UpdateQueueRaw(ctx context.Context, id string, raw map[string]any) (*genesys.Queue, error)
	CreateQueue(ctx context.Context, body any) (*genesys.Queue, error)
	DeleteQueue(ctx context.Context, id string, forceDelete bool) error

	GetSkill(ctx context.Context, id string) (*genesys.Skill, error)
	CreateSkill(ctx context.Context, name string) (*genesys.Skill, error)
	DeleteSkill(ctx context.Context, id string) error

	GetWorktype(ctx context.Context, id string) (*genesys.Worktype, error)
	CreateWorktype(ctx context.Context, body map[string]any) (*genesys.Worktype, error)
	PatchWorktype(ctx context.Context, id string, patch map[string]any) (*genesys.Worktype, error)
	DeleteWorktype(ctx context.Context, id string) error
}

// Adapter reads and writes the entities of one managed kind, in the raw form Genesys
// sends and takes (every member kept, for a full-replace PUT). It is the one place that
// knows which endpoint and which request body each kind uses; managed documents are in
// spec shape (names) and are turned into request bodies here (QueueBody, WorktypePatch,
// NewQueueBody, NewWorktypeBody).
type Adapter interface {
	Kind() entity.Kind
	// Get reads the entity with id; (nil, nil) when it does not exist (a skill Genesys
	// soft-deleted counts as gone).
	Get(ctx context.Context, g Genesys, id string) (map[string]any, error)
	// Create creates the entity name with the managed fields desired.
	Create(ctx context.Context, g Genesys, name string, desired map[string]any, n *Names) (map[string]any, error)
	// Write writes the managed fields onto the entity current (as read just before).
	Write(ctx context.Context, g Genesys, current *Entity, managed map[string]any, n *Names) (map[string]any, error)
	// Delete deletes the entity with id (queues without forceDelete: Genesys refuses a
	// queue in use).
	Delete(ctx context.Context, g Genesys, id string) error
}

// ErrNotWritable is returned by the skill adapter's Write: a skill has no field but its
// name, and Genesys has no endpoint to rename one.
var ErrNotWritable error = permanentError("live: a skill has no field but its name, and Genesys cannot rename skills: create the new skill and delete the old one")

// AdapterFor returns the adapter of a managed kind; false for another kind.
func AdapterFor(k entity.Kind) (Adapter, bool) {
	switch k {
	case entity.Skill:
		return skills{}, true
	case entity.Queue:
		return queues{}, true
	case entity.Worktype:
		return worktypes{}, true
	}
	return nil, false
}

// found turns a not-found answer into (nil, nil) and a model into its raw object.
func found(v any, err error) (map[string]any, error) {
	if errors.Is(err, genesys.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return Raw(v)
}

type skills struct{}

func (skills) Kind() entity.Kind { return entity.Skill }

func (skills) Get(ctx context.Context, g Genesys, id string) (map[string]any, error) {
	s, err := g.GetSkill(ctx, id)
	if err == nil && s.State == "deleted" { // Genesys soft-deletes skills
		return nil, nil
	}
	return found(s, err)
}

func (skills) Create(ctx context.Context, g Genesys, name string, _ map[string]any, _ *Names) (map[string]any, error) {
	s, err := g.CreateSkill(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("create skill: %w", err)
	}
	return Raw(s)
}

func (skills) Write(context.Context, Genesys, *Entity, map[string]any, *Names) (map[string]any, error) {
	return nil, ErrNotWritable
}

func (skills) Delete(ctx context.Context, g Genesys, id string) error { return g.DeleteSkill(ctx, id) }

type queues struct{}

func (queues) Kind() entity.Kind { return entity.Queue }

func (queues) Get(ctx context.Context, g Genesys, id string) (map[string]any, error) {
	raw, err := g.GetQueueRaw(ctx, id)
	if errors.Is(err, genesys.ErrNotFound) {
		return nil, nil
	}
	return raw, err
}

func (queues) Create(ctx context.Context, g Genesys, _ string, desired map[string]any, n *Names) (map[string]any, error) {
	body, err := NewQueueBody(desired, n)
	if err != nil {
		return nil, err
	}
	q, err := g.CreateQueue(ctx, body)
	if err != nil {
		return nil, fmt.Errorf("create queue: %w", err)
	}
	return Raw(q)
}

func (queues) Write(ctx context.Context, g Genesys, current *Entity, managed map[string]any, n *Names) (map[string]any, error) {
	body, err := QueueBody(current.Raw, managed, n)
	if err != nil {
		return nil, err
	}
	q, err := g.UpdateQueueRaw(ctx, current.ID, body)
	if err != nil {
		return nil, fmt.Errorf("update queue %s: %w", current.ID, err)
	}
	return Raw(q)
}

func (queues) Delete(ctx context.Context, g Genesys, id string) error {
	return g.DeleteQueue(ctx, id, false)
}

type worktypes struct{}

func (worktypes) Kind() entity.Kind { return entity.Worktype }

func (worktypes) Get(ctx context.Context, g Genesys, id string) (map[string]any, error) {
	return found(g.GetWorktype(ctx, id))
}

func (worktypes) Create(ctx context.Context, g Genesys, _ string, desired map[string]any, n *Names) (map[string]any, error) {
	body, err := NewWorktypeBody(desired, n)
	if err != nil {
		return nil, err
	}
	w, err := g.CreateWorktype(ctx, body)
	if err != nil {
		return nil, fmt.Errorf("create worktype: %w", err)
	}
	return Raw(w)
}

func (worktypes) Write(ctx context.Context, g Genesys, current *Entity, managed map[string]any, n *Names) (map[string]any, error) {
	patch, err := WorktypePatch(managed, n)
	if err != nil {
		return nil, err
	}
	w, err := g.PatchWorktype(ctx, current.ID, patch)
	if err != nil {
		return nil, fmt.Errorf("patch worktype %s: %w", current.ID, err)
	}
	return Raw(w)
}

func (worktypes) Delete(ctx context.Context, g Genesys, id string) error {
	return g.DeleteWorktype(ctx, id)
}
