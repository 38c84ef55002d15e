package document

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/wI2L/jsondiff"
)

// applyPatch is a small RFC 6902 applier over generic JSON trees, enough to
// check that the patches Patch produces do what they claim. jsondiff does not
// export one.
func applyPatch(doc any, patch jsondiff.Patch) (any, error) {
	doc = Clone(doc)
	for i, op := range patch {
		var err error
		switch op.Type {
		case jsondiff.OperationAdd:
			doc, err = mutate(doc, op.Path, func(c any, tok string) (any, error) { return addAt(c, tok, Clone(op.Value)) })
		case jsondiff.OperationRemove:
			doc, err = mutate(doc, op.Path, removeAt)
		case jsondiff.OperationReplace:
			doc, err = mutate(doc, op.Path, func(c any, tok string) (any, error) {
				c, err := removeAt(c, tok)
				if err != nil {
					return nil, err
				}
				return addAt(c, tok, Clone(op.Value))
			})
		case jsondiff.OperationTest:
			var v any
			if v, err = get(doc, op.Path); err == nil && !Equal(v, op.Value) {
				err = fmt.Errorf("test failed: %s is %v, want %v", op.Path, v, op.Value)
			}
		case jsondiff.OperationCopy, jsondiff.OperationMove:
			var v any
			if v, err = get(doc, op.From); err != nil {
				break
			}
			if op.Type == jsondiff.OperationMove {
				if doc, err = mutate(doc, op.From, removeAt); err != nil {
					break
				}
			}
			doc, err = mutate(doc, op.Path, func(c any, tok string) (any, error) { return addAt(c, tok, Clone(v)) })
		default:
			err = fmt.Errorf("unknown op %q", op.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("op %d %s: %w", i, op, err)
		}
	}
	return doc, nil
}

func pointerTokens(ptr string) ([]string, error) {
	if ptr == "" {
		return nil, nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("pointer %q does not start with /", ptr)
	}
	toks := strings.Split(ptr[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

func mutate(doc any, ptr string, leaf func(container any, tok string) (any, error)) (any, error) {
	toks, err := pointerTokens(ptr)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("operations on the whole document are not supported")
	}
	var rec func(node any, toks []string) (any, error)
	rec = func(node any, toks []string) (any, error) {
		if len(toks) == 1 {
			return leaf(node, toks[0])
		}
		child, err := child(node, toks[0])
		if err != nil {
			return nil, err
		}
		nc, err := rec(child, toks[1:])
		if err != nil {
			return nil, err
		}
		switch n := node.(type) {
		case map[string]any:
			n[toks[0]] = nc
		case []any:
			i, _ := strconv.Atoi(toks[0])
			n[i] = nc
		}
		return node, nil
	}
	return rec(doc, toks)
}

func child(node any, tok string) (any, error) {
	switch n := node.(type) {
	case map[string]any:
		v, ok := n[tok]
		if !ok {
			return nil, fmt.Errorf("no key %q", tok)
		}
		return v, nil
	case []any:
		i, err := strconv.Atoi(tok)
		if err != nil || i < 0 || i >= len(n) {
			return nil, fmt.Errorf("bad index %q for array of %d", tok, len(n))
		}
		return n[i], nil
	}
	return nil, fmt.Errorf("cannot descend into %T with %q", node, tok)
}

func get(doc any, ptr string) (any, error) {
	toks, err := pointerTokens(ptr)
	if err != nil {
		return nil, err
	}
	for _, t := range toks {
		if doc, err = child(doc, t); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

func addAt(c any, tok string, v any) (any, error) {
	switch n := c.(type) {
	case map[string]any:
		n[tok] = v
		return n, nil
	case []any:
		if tok == "-" {
			return append(n, v), nil
		}
		i, err := strconv.Atoi(tok)
		if err != nil || i < 0 || i > len(n) {
			return nil, fmt.Errorf("bad index %q for array of %d", tok, len(n))
		}
		n = append(n, nil)
		copy(n[i+1:], n[i:])
		n[i] = v
		return n, nil
	}
	return nil, fmt.Errorf("cannot add %q to %T", tok, c)
}

func removeAt(c any, tok string) (any, error) {
	switch n := c.(type) {
	case map[string]any:
		if _, ok := n[tok]; !ok {
			return nil, fmt.Errorf("no key %q to remove", tok)
		}
		delete(n, tok)
		return n, nil
	case []any:
		i, err := strconv.Atoi(tok)
		if err != nil || i < 0 || i >= len(n) {
			return nil, fmt.Errorf("bad index %q for array of %d", tok, len(n))
		}
		return append(n[:i:i], n[i+1:]...), nil
	}
	return nil, fmt.Errorf("cannot remove %q from %T", tok, c)
}

// roundTripPatch computes Patch(live, desired), sends it through its JSON
// form as a machine would, applies it to live and checks the result.
func roundTripPatch(t testing.TB, live, desired map[string]any, opts ...jsondiff.Option) jsondiff.Patch {
	t.Helper()
	p, err := Patch(live, desired, opts...)
	if err != nil {
		t.Fatalf("Patch: %v", err)
	}
	wire, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("marshal patch: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(wire))
	dec.UseNumber()
	var fromWire jsondiff.Patch
	if err := dec.Decode(&fromWire); err != nil {
		t.Fatalf("decode patch %s: %v", wire, err)
	}
	got, err := applyPatch(map[string]any(live), fromWire)
	if err != nil {
		t.Fatalf("apply patch %s: %v", wire, err)
	}
	if want := Overlay(live, desired); !Equal(got, want) {
		g, _ := CanonicalJSON(got)
		w, _ := CanonicalJSON(want)
		t.Fatalf("applying %s to live\n got %s\nwant %s", wire, g, w)
	}
	if d := Diff(desired, got.(map[string]any)); len(d) != 0 {
		t.Fatalf("after applying %s, Diff(desired, result) = %v, want none", wire, d)
	}
	return p
}

func TestPatchRoundTrip(t *testing.T) {
	const live = `{"id":"q1","name":"Support","description":"hand","memberCount":4,
	  "mediaSettings":{"message":{"alertingTimeoutSeconds":45,"serviceLevel":{"percentage":0.8,"durationMs":20000}},"call":{"alertingTimeoutSeconds":8}},
	  "bullseye":{"rings":[{"expansionTimeoutSeconds":10},{"expansionTimeoutSeconds":20}]},
	  "defaultSkillIds":["a","b","c"],"a/b":{"~x":1}}`
	tests := []struct {
		name, desired string
		wantOps       int
	}{
		{"nothing to do", `{"name":"Support","mediaSettings":{"message":{"alertingTimeoutSeconds":45.0}}}`, 0},
		{"nested scalar", `{"mediaSettings":{"message":{"alertingTimeoutSeconds":30}}}`, 1},
		{"remove by null", `{"description":null}`, 1},
		{"add missing field and object", `{"queueFlow":{"id":"f1"},"mediaSettings":{"email":{"alertingTimeoutSeconds":300}}}`, 2},
		{"shrink array", `{"defaultSkillIds":["a"]}`, -1},
		{"grow array", `{"defaultSkillIds":["a","b","c","d","e"]}`, -1},
		{"replace array of objects", `{"bullseye":{"rings":[{"expansionTimeoutSeconds":15}]}}`, -1},
		{"keys needing pointer escapes", `{"a/b":{"~x":2}}`, 1},
		{"type change", `{"mediaSettings":"none"}`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, d := mustDecode(t, live), mustDecode(t, tc.desired)
			p := roundTripPatch(t, l, d)
			if tc.wantOps >= 0 && len(p) != tc.wantOps {
				t.Errorf("Patch(live, %s) has %d operations, want %d: %v", tc.desired, len(p), tc.wantOps, p)
			}
			// Only managed fields appear in the patch.
			for _, op := range p {
				toks, _ := pointerTokens(op.Path)
				if _, declared := d[toks[0]]; !declared {
					t.Errorf("Patch(live, %s) touches undeclared field: %v", tc.desired, op)
				}
			}
		})
	}
}

func TestPatchExact(t *testing.T) {
	live := mustDecode(t, `{"name":"S","description":"d","mediaSettings":{"message":{"alertingTimeoutSeconds":45}},"memberCount":3}`)
	desired := mustDecode(t, `{"description":null,"mediaSettings":{"message":{"alertingTimeoutSeconds":30.0}}}`)
	p, err := Patch(live, desired)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(p)
	const want = `[{"op":"remove","path":"/description"},{"value":30,"op":"replace","path":"/mediaSettings/message/alertingTimeoutSeconds"}]`
	if string(got) != want {
		t.Errorf("Patch(live, desired)\n got %s\nwant %s", got, want)
	}
}

func TestPatchInvertibleFailsOnConcurrentEdit(t *testing.T) {
	live := mustDecode(t, `{"name":"S","description":"d"}`)
	p, err := Patch(live, mustDecode(t, `{"description":"new"}`), jsondiff.Invertible())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := applyPatch(live, p); err != nil {
		t.Fatalf("invertible patch on the document it was made from: %v", err)
	}
	edited := mustDecode(t, `{"name":"S","description":"someone else"}`)
	if _, err := applyPatch(edited, p); err == nil {
		t.Errorf("invertible patch %v applied to a concurrently edited document, want a failed test op", p)
	}
}

func TestPatchInvalidDocuments(t *testing.T) {
	bad := map[string]any{"n": json.Number("1.")}
	if _, err := Patch(bad, nil); err == nil || !strings.Contains(err.Error(), "live document") {
		t.Errorf("Patch(bad live) error = %v, want one naming the live document", err)
	}
	if _, err := Patch(nil, bad); err == nil || !strings.Contains(err.Error(), "desired document") {
		t.Errorf("Patch(bad desired) error = %v, want one naming the desired document", err)
	}
}
