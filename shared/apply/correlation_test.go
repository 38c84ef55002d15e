package apply_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// writeWatcher is the real client; it learns the correlation id of every write it passes
// on, the way a caller of genesys.WithCallInfo does.
type writeWatcher struct {
	live.Genesys
	mu     sync.Mutex
	writes []string // correlation ids of successful writes, in order
}

func (w *writeWatcher) watch(ctx context.Context, call func(context.Context) error) error {
	ctx, ci := genesys.WithCallInfo(ctx)
	err := call(ctx)
	if err == nil {
		w.mu.Lock()
		w.writes = append(w.writes, ci.CorrelationID())
		w.mu.Unlock()
	}
	return err
}

func (w *writeWatcher) UpdateQueueRaw(ctx context.Context, id string, raw map[string]any) (q *genesys.Queue, err error) {
	err = w.watch(ctx, func(ctx context.Context) error { q, err = w.Genesys.UpdateQueueRaw(ctx, id, raw); return err })
	return q, err
}

func (w *writeWatcher) PatchWorktype(ctx context.Context, id string, p map[string]any) (wt *genesys.Worktype, err error) {
	err = w.watch(ctx, func(ctx context.Context) error { wt, err = w.Genesys.PatchWorktype(ctx, id, p); return err })
	return wt, err
}

func (w *writeWatcher) CreateSkill(ctx context.Context, name string) (s *genesys.Skill, err error) {
	err = w.watch(ctx, func(ctx context.Context) error { s, err = w.Genesys.CreateSkill(ctx, name); return err })
	return s, err
}

func (w *writeWatcher) DeleteSkill(ctx context.Context, id string) error {
	return w.watch(ctx, func(ctx context.Context) error { return w.Genesys.DeleteSkill(ctx, id) })
}

func (w *writeWatcher) last() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.writes) == 0 {
		return ""
	}
	return w.writes[len(w.writes)-1]
}

// TestCorrelationIDOfWrites: an APPLIED result, its stored record and the completion log
// carry the ININ-Correlation-Id of the Genesys write that applied it (queue PUT, worktype
// PATCH, skill create, skill delete); a NOOP, which writes nothing, carries none.
func TestCorrelationIDOfWrites(t *testing.T) {
	env, qName, wName, _ := newEnv(t, applytest.Options{Memory: true})
	var logs bytes.Buffer
	g := &writeWatcher{Genesys: env.Client}
	eng := apply.New(g, env.Store, apply.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	mem := env.Store.(*store.Memory)

	steps := []struct {
		name      string
		req       func() *changes.Request
		wantWrite bool
	}{
		{"queue PUT", func() *changes.Request {
			return env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"traced"}`))
		}, true},
		{"worktype PATCH", func() *changes.Request {
			return env.Plan(t, changes.OpUpdate, entity.Worktype, wName, applytest.Obj(t, `{"name":"`+wName+`","description":"traced"}`))
		}, true},
		{"skill create", func() *changes.Request {
			return env.Plan(t, changes.OpCreate, entity.Skill, "Traced Skill", applytest.Obj(t, `{"name":"Traced Skill"}`))
		}, true},
		{"skill delete", func() *changes.Request { return env.Plan(t, changes.OpDelete, entity.Skill, "Traced Skill", nil) }, true},
		{"noop", func() *changes.Request {
			return env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"traced"}`))
		}, false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := len(g.writes)
			logs.Reset()
			req := st.req()
			res, err := eng.Apply(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if st.wantWrite {
				if res.Status != store.StatusApplied || len(g.writes) != before+1 {
					t.Fatalf("got %s after %d writes, want APPLIED after 1", res.Status, len(g.writes)-before)
				}
				want = g.last()
				if want == "" {
					t.Fatalf("the simulator sent no correlation id")
				}
			}
			if res.CorrelationID != want {
				t.Errorf("Result.CorrelationID: got %q, want the write's %q", res.CorrelationID, want)
			}
			c, _ := mem.GetChange(context.Background(), req.ChangeID)
			var stored apply.Result
			if err := json.Unmarshal(c.Result, &stored); err != nil || stored.CorrelationID != want {
				t.Errorf("stored correlationId: got %q (%v), want %q", stored.CorrelationID, err, want)
			}
			var line struct {
				Msg           string `json:"msg"`
				CorrelationID string `json:"correlationId"`
			}
			found := false
			for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "change request completed" {
					found = true
					if line.CorrelationID != want {
						t.Errorf("completion log correlationId: got %q, want %q", line.CorrelationID, want)
					}
				}
			}
			if !found {
				t.Errorf("no completion log line in:\n%s", logs.String())
			}
		})
	}
}
