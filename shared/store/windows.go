package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// WriteWindow is the time one change request's write to an entity was exposed to someone
// else's edit: from just before the engine read the entity to when the write's answer
// arrived. Genesys has no If-Match for queues, so an admin's save landing inside it may
// have been overwritten; the webhook compares audit events against these windows.
type WriteWindow struct {
	Key      entity.Key
	ChangeID string
	Start    time.Time // before the read was sent
	// End is when the write's answer arrived; zero while the write is in flight (or
	// when the engine died before closing the window).
	End time.Time
	// Written lists the managed fields the write set; empty for a window that ended
	// without a write (nothing to overwrite).
	Written []string
	ETag    string // of the entity after the write
	// Until is when the engine's work on the attempt ends at the latest (its claim's
	// end); a window still open after it was abandoned: its runtime died. Zero: unknown.
	Until time.Time
}

// Open reports whether the window is not closed: its write is in flight, or it was
// abandoned.
func (w WriteWindow) Open() bool { return w.End.IsZero() }

// Abandoned reports whether the window was never closed and its attempt's time is up:
// the runtime died between opening it and the write's answer, so whether it wrote, and
// what, is unknown.
func (w WriteWindow) Abandoned(now time.Time) bool {
	return w.Open() && !w.Until.IsZero() && now.After(w.Until)
}

// Covers reports whether an edit at t (Genesys's clock) falls inside the window, widened
// by margin on both sides for the clocks' skew; an open window lasts until now, an
// abandoned one until its Until.
func (w WriteWindow) Covers(t, now time.Time, margin time.Duration) bool {
	end := w.End
	switch {
	case w.Abandoned(now):
		end = w.Until
	case w.Open():
		end = now
	}
	return !t.Before(w.Start.Add(-margin)) && !t.After(end.Add(margin))
}

// WriteWindowRetention is how long a write window is kept: audit events arrive within
// seconds, EventBridge retries within an hour, redrives from the dead-letter queue within
// days.
const WriteWindowRetention = 4 * 24 * time.Hour

type windowItem struct {
	PK       string   `dynamodbav:"pk"`
	SK       string   `dynamodbav:"sk"`
	Env      string   `dynamodbav:"environment"`
	Kind     string   `dynamodbav:"kind"`
	Name     string   `dynamodbav:"name"`
	ChangeID string   `dynamodbav:"changeId"`
	Start    string   `dynamodbav:"start"`
	End      string   `dynamodbav:"end,omitempty"`
	Written  []string `dynamodbav:"written,omitempty"`
	ETag     string   `dynamodbav:"etag,omitempty"`
	Until    string   `dynamodbav:"until,omitempty"`
	TTL      int64    `dynamodbav:"ttl"`
}

func windowPK(k entity.Key) string {
	return "WINDOW#" + k.Environment + "#" + string(k.Kind) + "#" + k.Name
}
func windowSK(start time.Time, changeID string) string {
	return formatTime(start) + "#" + changeID
}

func (w WriteWindow) validate() error {
	if err := validKey(w.Key); err != nil {
		return err
	}
	if w.ChangeID == "" || w.Start.IsZero() {
		return fmt.Errorf("store: write window of %s needs a change id and a start", w.Key)
	}
	if !w.End.IsZero() && w.End.Before(w.Start) {
		return fmt.Errorf("store: write window of %s (change %s) ends before it starts", w.Key, w.ChangeID)
	}
	return nil
}

// PutWriteWindow stores w (opening it, or closing it when End is set: the same change id
// and start replace the open one).
func (s *Store) PutWriteWindow(ctx context.Context, w WriteWindow) error {
	if err := w.validate(); err != nil {
		return err
	}
	item, err := attributevalue.MarshalMap(windowItem{
		PK: windowPK(w.Key), SK: windowSK(w.Start, w.ChangeID), Env: w.Key.Environment, Kind: string(w.Key.Kind), Name: w.Key.Name,
		ChangeID: w.ChangeID, Start: formatTime(w.Start), End: formatOptionalTime(w.End), Written: w.Written, ETag: w.ETag,
		Until: formatOptionalTime(w.Until),
		TTL:   s.now().Add(WriteWindowRetention).Unix(),
	})
	if err != nil {
		return fmt.Errorf("store: write window of %s: %w", w.Key, err)
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("store: put write window of %s (change %s): %w", w.Key, w.ChangeID, err)
	}
	return nil
}

// ListWriteWindows returns the write windows of k that started at or after since, oldest
// first.
func (s *Store) ListWriteWindows(ctx context.Context, k entity.Key, since time.Time) ([]WriteWindow, error) {
	if err := validKey(k); err != nil {
		return nil, err
	}
	kc := expression.Key(attrPK).Equal(expression.Value(windowPK(k))).
		And(expression.Key(attrSK).GreaterThanEqual(expression.Value(formatTime(since))))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, err
	}
	items, err := query[windowItem](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true),
	}, 0)
	if err != nil {
		return nil, fmt.Errorf("store: list write windows of %s: %w", k, err)
	}
	now := s.now()
	out := make([]WriteWindow, 0, len(items))
	for _, it := range items {
		if it.TTL > 0 && time.Unix(it.TTL, 0).Before(now) {
			continue // expired, not yet deleted
		}
		out = append(out, WriteWindow{Key: k, ChangeID: it.ChangeID, Start: parseTime(it.Start), End: parseTime(it.End),
			Written: it.Written, ETag: it.ETag, Until: parseTime(it.Until)})
	}
	return out, nil
}

// Overwrite is someone else's edit that landed inside a change's write window: it may have
// been overwritten by the change's write (the same field), or reverted by its full
// replace (another field; Restored lists what was put back).
type Overwrite struct {
	EventID   string    `json:"eventId"`
	EventTime time.Time `json:"eventTime"`
	UserID    string    `json:"userId,omitempty"`
	ClientID  string    `json:"clientId,omitempty"`
	// Paths are the fields the other edit changed, as its audit event names them; empty
	// when the event did not say.
	Paths []string `json:"paths,omitempty"`
	// Overwritten are those of Paths the change also wrote: that edit is lost, the
	// change's value stands.
	Overwritten []string `json:"overwritten,omitempty"`
	// Restored are those of Paths the change did not write but its full replace reverted,
	// and that were put back.
	Restored []string `json:"restored,omitempty"`
}

// MarkPossibleOverwrite records o on a completed change request and makes it
// POSSIBLE_OVERWRITE. Any outcome can hide a write: a NOOP, CONFLICT or REJECTED
// redelivery may follow an attempt whose write applied but went unanswered, so the
// caller decides from the write window, not the status. Recording the same event again is
// a no-op; a change still INPROGRESS or FAILED (its outcome unknown yet) is an error
// wrapping ErrInProgress, an unknown one ErrNotFound.
func (s *Store) MarkPossibleOverwrite(ctx context.Context, changeID string, o Overwrite) error {
	if o.EventID == "" {
		return fmt.Errorf("store: mark change %s: the overwrite has no event id", changeID)
	}
	b, _ := json.Marshal(o) // strings and a time
	eid := expression.Value(&types.AttributeValueMemberSS{Value: []string{o.EventID}})
	cond := expression.AttributeExists(expression.Name(attrPK)).
		And(expression.Name("status").NotEqual(expression.Value(StatusInProgress))).
		And(expression.Name("status").NotEqual(expression.Value(StatusFailed))).
		And(expression.Or(expression.AttributeNotExists(expression.Name("overwriteEvents")),
			expression.Not(expression.Contains(expression.Name("overwriteEvents"), o.EventID))))
	upd := expression.
		Set(expression.Name("status"), expression.Value(StatusPossibleOverwrite)).
		Set(expression.Name("updatedAt"), expression.Value(formatTime(s.now()))).
		Set(expression.Name("overwrites"), expression.ListAppend(
			expression.IfNotExists(expression.Name("overwrites"), expression.Value([]string{})),
			expression.Value([]string{string(b)}))).
		Add(expression.Name("overwriteEvents"), eid)
	_, err := s.updateChange(ctx, "mark possible overwrite on", changeID, cond, upd, types.ReturnValueNone)
	if errors.Is(err, ErrAlreadyCompleted) {
		c, gerr := s.GetChange(ctx, changeID)
		switch {
		case gerr != nil:
		case slices.ContainsFunc(c.Overwrites, func(x Overwrite) bool { return x.EventID == o.EventID }):
			return nil
		case !c.Status.Terminal():
			return fmt.Errorf("store: mark possible overwrite on change %s: %s, its outcome not recorded yet: %w", changeID, c.Status, ErrInProgress)
		}
	}
	return err
}

func decodeOverwrites(raw []string) []Overwrite {
	var out []Overwrite
	for _, r := range raw {
		var o Overwrite
		if json.NewDecoder(strings.NewReader(r)).Decode(&o) == nil {
			out = append(out, o)
		}
	}
	return out
}

// ---- Memory ----

// PutWriteWindow is [Store.PutWriteWindow].
func (m *Memory) PutWriteWindow(_ context.Context, w WriteWindow) error {
	if err := w.validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.windows == nil {
		m.windows = map[entity.Key][]WriteWindow{}
	}
	w.Start, w.Written = w.Start.UTC(), slices.Clone(w.Written)
	if !w.End.IsZero() {
		w.End = w.End.UTC()
	}
	if !w.Until.IsZero() {
		w.Until = w.Until.UTC()
	}
	ws := m.windows[w.Key]
	if i := slices.IndexFunc(ws, func(x WriteWindow) bool { return x.ChangeID == w.ChangeID && x.Start.Equal(w.Start) }); i >= 0 {
		ws[i] = w
	} else {
		ws = append(ws, w)
		slices.SortStableFunc(ws, func(a, b WriteWindow) int { return a.Start.Compare(b.Start) })
	}
	m.windows[w.Key] = ws
	return nil
}

// ListWriteWindows is [Store.ListWriteWindows].
func (m *Memory) ListWriteWindows(_ context.Context, k entity.Key, since time.Time) ([]WriteWindow, error) {
	if err := validKey(k); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []WriteWindow
	for _, w := range m.windows[k] {
		if !w.Start.Before(since) {
			w.Written = slices.Clone(w.Written)
			out = append(out, w)
		}
	}
	return out, nil
}

// MarkPossibleOverwrite is [Store.MarkPossibleOverwrite].
func (m *Memory) MarkPossibleOverwrite(_ context.Context, changeID string, o Overwrite) error {
	if o.EventID == "" {
		return fmt.Errorf("store: mark change %s: the overwrite has no event id", changeID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.changes[changeID]
	if !ok {
		return fmt.Errorf("store: mark possible overwrite on change %s: %w", changeID, ErrNotFound)
	}
	if slices.ContainsFunc(c.Overwrites, func(x Overwrite) bool { return x.EventID == o.EventID }) {
		return nil
	}
	if !c.Status.Terminal() {
		return fmt.Errorf("store: mark possible overwrite on change %s: %s, its outcome not recorded yet: %w", changeID, c.Status, ErrInProgress)
	}
	o.EventTime = o.EventTime.UTC()
	c.Status, c.UpdatedAt = StatusPossibleOverwrite, m.now().UTC()
	c.Overwrites = append(c.Overwrites, o)
	return nil
}
