package document

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// maxFuzzInput skips inputs larger than a big routing document. The fuzz
// engine minimises every new interesting input for up to a minute, and
// minimising a 10 KB input stalls the run for that long without finding
// anything a 4 KB input cannot.
const maxFuzzInput = 4096

var fuzzSeeds = []string{
	`{}`,
	`{"name":"Support","mediaSettings":{"message":{"alertingTimeoutSeconds":30,"serviceLevel":{"percentage":0.8,"durationMs":20000}}},"defaultSkillIds":["a","b"]}`,
	`{"name":"Support","mediaSettings":{"message":{"alertingTimeoutSeconds":45.0}},"description":"x","defaultPriority":2.5e7}`,
	`{"name":"Sales","mediaSettings":null,"bullseye":{"rings":[{"expansionTimeoutSeconds":10}]},"n":-0.0,"big":9007199254740993}`,
	`{"a\u0000b":"\u2028<&>\ud800","":{"":[]},"x":1e21,"y":1.5e-7,"z":true}`,
}

func FuzzCanonical(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`[1, 2.50, "x", null, {"b":1,"a":[{}]}]`))
	f.Add([]byte(`"\u007f\u0019\\"`))
	f.Add([]byte(`1e99999999999999999999`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		v, err := decodeAny(data)
		if err != nil {
			return
		}
		c1, err := CanonicalJSON(v)
		if err != nil {
			if !errors.Is(err, ErrInvalidValue) {
				t.Fatalf("CanonicalJSON(%s) error %v does not wrap ErrInvalidValue", data, err)
			}
			return // only numbers with absurd exponents get here
		}
		if !json.Valid(c1) {
			t.Fatalf("CanonicalJSON(%s) = %s, not valid JSON", data, c1)
		}
		v2, err := decodeAny(c1)
		if err != nil {
			t.Fatalf("decode canonical %s: %v", c1, err)
		}
		c2, err := CanonicalJSON(v2)
		if err != nil {
			t.Fatalf("CanonicalJSON(parse(%s)): %v", c1, err)
		}
		if !bytes.Equal(c1, c2) {
			t.Fatalf("not idempotent for %s:\nfirst  %s\nsecond %s", data, c1, c2)
		}
		if !Equal(v, v2) {
			t.Fatalf("Equal(original, parse(canonical)) = false for %s -> %s", data, c1)
		}
		// The canonical form means the same thing as the input to any JSON
		// reader: plain encoding/json (float64 numbers) reads both alike.
		var f1, f2 any
		if json.Unmarshal(data, &f1) == nil {
			if err := json.Unmarshal(c1, &f2); err != nil {
				t.Fatalf("encoding/json reads %s but not its canonical form %s: %v", data, c1, err)
			}
			if !reflect.DeepEqual(f1, f2) {
				t.Fatalf("meaning changed: %s read as %#v, canonical %s read as %#v", data, f1, c1, f2)
			}
		}
	})
}

// fuzzDocs decodes fuzz inputs as objects with a canonical form, or reports
// that the input is not interesting.
func fuzzDocs(inputs ...[]byte) ([]map[string]any, bool) {
	docs := make([]map[string]any, len(inputs))
	for i, in := range inputs {
		if len(in) > maxFuzzInput {
			return nil, false
		}
		d, err := Decode(in)
		if err != nil {
			return nil, false
		}
		if _, err := CanonicalJSON(d); err != nil {
			return nil, false
		}
		docs[i] = d
	}
	return docs, true
}

func canon(t *testing.T, v any) string {
	t.Helper()
	b, err := CanonicalJSON(v)
	if err != nil {
		t.Fatalf("CanonicalJSON: %v", err)
	}
	return string(b)
}

func FuzzMerge(f *testing.F) {
	for _, a := range fuzzSeeds {
		for _, b := range fuzzSeeds[1:3] {
			f.Add([]byte(fuzzSeeds[1]), []byte(a), []byte(b))
		}
	}
	f.Fuzz(func(t *testing.T, bb, xb, yb []byte) {
		docs, ok := fuzzDocs(bb, xb, yb)
		if !ok {
			return
		}
		base, x, y := docs[0], docs[1], docs[2]
		before := canon(t, base) + canon(t, x) + canon(t, y)

		for _, tc := range []struct {
			name               string
			base, ours, theirs map[string]any
			want               map[string]any
		}{
			{"merge(base, x, base) == x", base, x, base, x},
			{"merge(base, base, y) == y", base, base, y, y},
			{"merge(base, x, x) == x", base, x, x, x},
			{"merge(nil, x, x) == x", nil, x, x, x},
		} {
			got, conflicts := Merge(tc.base, tc.ours, tc.theirs)
			if len(conflicts) != 0 {
				t.Fatalf("%s: conflicts %v", tc.name, conflicts)
			}
			if g, w := canon(t, got), canon(t, tc.want); g != w {
				t.Fatalf("%s:\n got %s\nwant %s", tc.name, g, w)
			}
		}

		// The general case: no panic, deterministic, and symmetric in ours/theirs.
		m1, c1 := Merge(base, x, y)
		m1again, c1again := Merge(base, x, y)
		if canon(t, m1) != canon(t, m1again) || !cmp.Equal(c1, c1again) {
			t.Fatalf("Merge is not deterministic")
		}
		m2, c2 := Merge(base, y, x)
		paths := func(cs []Conflict) []string {
			var ps []string
			for _, c := range cs {
				ps = append(ps, c.Path)
			}
			return ps
		}
		if !slices.Equal(paths(c1), paths(c2)) {
			t.Fatalf("conflict paths differ when swapping ours and theirs: %v vs %v", paths(c1), paths(c2))
		}
		if !slices.IsSorted(paths(c1)) && len(c1) > 0 {
			// Paths are in depth-first sorted-key order, which is not always
			// string order; only check the conflicts are unique.
			if len(slices.Compact(slices.Clone(paths(c1)))) != len(c1) {
				t.Fatalf("duplicate conflict paths: %v", paths(c1))
			}
		}
		if len(c1) == 0 && canon(t, m1) != canon(t, m2) {
			t.Fatalf("conflict-free merge depends on side:\n%s\n%s", canon(t, m1), canon(t, m2))
		}
		if after := canon(t, base) + canon(t, x) + canon(t, y); after != before {
			t.Fatalf("Merge modified its inputs")
		}

		// Overlay applies exactly what it is given.
		if d := Diff(x, Overlay(y, x)); len(d) != 0 {
			t.Fatalf("Diff(x, Overlay(y, x)) = %v, want none", d)
		}
	})
}

func FuzzPatch(f *testing.F) {
	for _, a := range fuzzSeeds {
		f.Add([]byte(fuzzSeeds[1]), []byte(a))
	}
	f.Add([]byte(`{"a/b":{"~0":[1,2,3]}}`), []byte(`{"a/b":{"~0":[3]}}`))
	f.Fuzz(func(t *testing.T, liveb, desiredb []byte) {
		docs, ok := fuzzDocs(liveb, desiredb)
		if !ok {
			return
		}
		roundTripPatch(t, docs[0], docs[1])
	})
}

// FuzzFloatForm checks the integral fast path for float64 against the general
// route through the shortest 'e' form, and that the canonical text reads back
// as the same float64.
func FuzzFloatForm(f *testing.F) {
	for _, x := range []float64{0, 1, -5, 30, 0.1, 1e20, 1e21, 123456789012345680000, 9007199254740994, -1.5e-7, 5e-324, 1.7976931348623157e308} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		got, ok, err := numberForm(x)
		if !ok {
			t.Fatalf("numberForm(%v) does not treat float64 as a number", x)
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			if err == nil {
				t.Fatalf("numberForm(%v) = %q, want an error", x, got)
			}
			return
		}
		if err != nil {
			t.Fatalf("numberForm(%v): %v", x, err)
		}
		want, err := normalNumber(strconv.FormatFloat(x, 'e', -1, 64))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("numberForm(%v) = %q, general route gives %q", x, got, want)
		}
		back, err := strconv.ParseFloat(got, 64)
		if err != nil || back != x && !(x == 0 && back == 0) {
			t.Fatalf("canonical %q of %v reads back as %v (%v)", got, x, back, err)
		}
	})
}
