package document

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustDecode(t testing.TB, s string) map[string]any {
	t.Helper()
	doc, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("Decode(%q): %v", s, err)
	}
	return doc
}

func TestCanonicalJSONDocuments(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"keys sorted and whitespace removed", `{ "b": 1, "a": {"z": true, "y": null}, "c": [3, 1] }`, `{"a":{"y":null,"z":true},"b":1,"c":[3,1]}`},
		{"key order is byte order", `{"b":1,"B":2,"a":3,"_":4,"é":5,"ab":6}`, `{"B":2,"_":4,"a":3,"ab":6,"b":1,"é":5}`},
		{"empty containers", `{"a":{},"b":[]}`, `{"a":{},"b":[]}`},
		{"no HTML escaping", `{"s":"<a href=\"x\">&</a>"}`, `{"s":"<a href=\"x\">&</a>"}`},
		{"control characters", `{"s":"tab\tnl\ncr\rbs\bff\f\u0001\u001f\u007f"}`, "{\"s\":\"tab\\tnl\\ncr\\rbs\\bff\\f\\u0001\\u001f\x7f\"}"},
		{"escaped unicode written raw", `{"s":"\u00e9\u2028\u2029\ud83d\ude00\/"}`, "{\"s\":\"é\u2028\u2029😀/\"}"},
		{"backslash and quote", `{"s":"a\\b\"c"}`, `{"s":"a\\b\"c"}`},
		{"escaped key", `{"a\"b":1}`, `{"a\"b":1}`},
		{"array order kept", `{"a":["b","a",{"y":1,"x":2}]}`, `{"a":["b","a",{"x":2,"y":1}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CanonicalJSON(mustDecode(t, tc.in))
			if err != nil {
				t.Fatalf("CanonicalJSON(%s): %v", tc.in, err)
			}
			if string(got) != tc.want {
				t.Errorf("CanonicalJSON(%s)\n got %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestCanonicalNumbers(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"0", "0"},
		{"-0", "0"},
		{"0.000", "0"},
		{"-0.0e5", "0"},
		{"30", "30"},
		{"30.0", "30"},
		{"3e1", "30"},
		{"3.0E+1", "30"},
		{"300e-1", "30"},
		{"25000000", "25000000"},
		{"-25000000", "-25000000"},
		{"2.5e7", "25000000"},
		{"9007199254740993", "9007199254740993"}, // not a float64: kept exact
		{"123456789012345678901", "123456789012345678901"},
		{"1234567890123456789012", "1.234567890123456789012e+21"},
		{"1e20", "100000000000000000000"},
		{"1e21", "1e+21"},
		{"1E+30", "1e+30"},
		{"12.50", "12.5"},
		{"-12.5", "-12.5"},
		{"4.50", "4.5"},
		{"2e-3", "0.002"},
		{"0.000001", "0.000001"},
		{"0.0000001", "1e-7"},
		{"1.5e-7", "1.5e-7"},
		{"0.000000000000000000000000001", "1e-27"},
		{"123.456e-2", "1.23456"},
		{"0.1", "0.1"},
		{"1e999999999", "1e+999999999"},
		{"-1.25e-999999999", "-1.25e-999999999"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := CanonicalJSON(json.Number(tc.in))
			if err != nil {
				t.Fatalf("CanonicalJSON(json.Number(%q)): %v", tc.in, err)
			}
			if string(got) != tc.want {
				t.Errorf("CanonicalJSON(json.Number(%q)) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

// Go numeric types and float64 from plain json.Unmarshal must land on the same
// form as json.Number, otherwise a tree decoded either way would get another ETag.
func TestCanonicalNumbersAcrossTypes(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"float64 integral", float64(30), "30"},
		{"float64 fraction", 0.1, "0.1"},
		{"float64 large", 25000000.0, "25000000"},
		{"float64 tiny", 1.5e-7, "1.5e-7"},
		{"float64 huge", 1e21, "1e+21"},
		{"float64 max", math.MaxFloat64, "1.7976931348623157e+308"},
		{"float64 minus zero", math.Copysign(0, -1), "0"},
		{"float32 shortest", float32(0.1), "0.1"},
		{"int", 30, "30"},
		{"int64 min", int64(math.MinInt64), "-9223372036854775808"},
		{"uint64 max", uint64(math.MaxUint64), "18446744073709551615"},
		{"int8", int8(-5), "-5"},
		{"uint16", uint16(500), "500"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CanonicalJSON(tc.in)
			if err != nil {
				t.Fatalf("CanonicalJSON(%T %v): %v", tc.in, tc.in, err)
			}
			if string(got) != tc.want {
				t.Errorf("CanonicalJSON(%T %v) = %s, want %s", tc.in, tc.in, got, tc.want)
			}
		})
	}
}

func TestCanonicalJSONFloatAndNumberDecodingAgree(t *testing.T) {
	const doc = `{"a":30.0,"b":[0.1,2.5e7,-1.5e-7,1e21,123.456],"c":{"d":9007199254740992}}`
	var floats map[string]any
	if err := json.Unmarshal([]byte(doc), &floats); err != nil {
		t.Fatal(err)
	}
	fromFloat, err := CanonicalJSON(floats)
	if err != nil {
		t.Fatal(err)
	}
	fromNumber, err := CanonicalJSON(mustDecode(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	if string(fromFloat) != string(fromNumber) {
		t.Errorf("float64 tree and json.Number tree of %s differ:\nfloat64 %s\nnumber  %s", doc, fromFloat, fromNumber)
	}
}

func TestCanonicalJSONGoValues(t *testing.T) {
	type skill struct {
		Name  string   `json:"name"`
		Tags  []string `json:"tags,omitempty"`
		Score *int     `json:"score,omitempty"`
	}
	five := 5
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"struct via encoding/json", skill{Name: "Billing", Tags: []string{"x"}, Score: &five}, `{"name":"Billing","score":5,"tags":["x"]}`},
		{"struct omitting empty fields", skill{Name: "<b>"}, `{"name":"<b>"}`},
		{"typed map and slice", map[string]any{"m": map[string]int{"b": 2, "a": 1}, "s": []string{"q"}}, `{"m":{"a":1,"b":2},"s":["q"]}`},
		{"invalid UTF-8 replaced", map[string]any{"s": "a\xffb"}, "{\"s\":\"a\uFFFDb\"}"},
		{"nil map", map[string]any(nil), "{}"},
		{"nil", nil, "null"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CanonicalJSON(tc.in)
			if err != nil {
				t.Fatalf("CanonicalJSON(%#v): %v", tc.in, err)
			}
			if string(got) != tc.want {
				t.Errorf("CanonicalJSON(%#v) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestCanonicalJSONErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       any
		wantPath string
	}{
		{"NaN", map[string]any{"a": map[string]any{"b": math.NaN()}}, "a.b"},
		{"infinity in array", map[string]any{"list": []any{1, math.Inf(1)}}, "list[1]"},
		{"number with a plus", map[string]any{"n": json.Number("+1")}, "at n"},
		{"number with a trailing dot", map[string]any{"n": json.Number("1.")}, "at n"},
		{"number with leading zero", map[string]any{"odd key": json.Number("01")}, `["odd key"]`},
		{"empty number", json.Number(""), "(document root)"},
		{"exponent too large", json.Number("1e99999999999999999999"), "exponent"},
		{"unencodable type", map[string]any{"c": make(chan int)}, "at c"},
		{"colliding keys after UTF-8 repair", map[string]any{"a\xff": 1, "a\xfe": 2}, "same once invalid UTF-8 is replaced"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CanonicalJSON(tc.in)
			if err == nil {
				t.Fatalf("CanonicalJSON(%v) = %s, want an error", tc.in, got)
			}
			if !errors.Is(err, ErrInvalidValue) {
				t.Errorf("CanonicalJSON(%v) error %v does not wrap ErrInvalidValue", tc.in, err)
			}
			if !strings.Contains(err.Error(), tc.wantPath) {
				t.Errorf("CanonicalJSON(%v) error %q, want it to mention %q", tc.in, err, tc.wantPath)
			}
			if _, err := ETag(tc.in); !errors.Is(err, ErrInvalidValue) {
				t.Errorf("ETag(%v) error = %v, want ErrInvalidValue", tc.in, err)
			}
		})
	}
}

func TestETag(t *testing.T) {
	const queue = `{"name":"Support","mediaSettings":{"message":{"alertingTimeoutSeconds":30,"serviceLevel":{"percentage":0.8,"durationMs":20000}}},"skillEvaluationMethod":"BEST","defaultPriority":25000000}`
	reordered := `{
	  "defaultPriority": 2.5e7,
	  "skillEvaluationMethod": "BEST",
	  "mediaSettings": {"message": {"serviceLevel": {"durationMs": 20000.0, "percentage": 0.80}, "alertingTimeoutSeconds": 30.0}},
	  "name": "Support"
	}`
	changed := strings.Replace(queue, `"alertingTimeoutSeconds":30`, `"alertingTimeoutSeconds":31`, 1)

	base, err := ETag(mustDecode(t, queue))
	if err != nil {
		t.Fatal(err)
	}
	// Golden value: sha256 of the canonical form below, computed independently
	// with `printf '%s' '<canonical>' | sha256sum`. If this changes, every
	// stored ETag changes: treat it as a breaking change.
	const wantCanonical = `{"defaultPriority":25000000,"mediaSettings":{"message":{"alertingTimeoutSeconds":30,"serviceLevel":{"durationMs":20000,"percentage":0.8}}},"name":"Support","skillEvaluationMethod":"BEST"}`
	const golden = "sha256:7d219b1c8161e9efabebb9784c9085f970cbedb49902d5328d021211384c46dd"
	if c, _ := CanonicalJSON(mustDecode(t, queue)); string(c) != wantCanonical {
		t.Errorf("CanonicalJSON(queue)\n got %s\nwant %s", c, wantCanonical)
	}
	if base != golden {
		t.Errorf("ETag(queue) = %s, want golden %s", base, golden)
	}

	var floats map[string]any
	if err := json.Unmarshal([]byte(reordered), &floats); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		doc      any
		wantSame bool
	}{
		{"same document", mustDecode(t, queue), true},
		{"key order, whitespace and number spelling", mustDecode(t, reordered), true},
		{"decoded as float64", floats, true},
		{"a real change", mustDecode(t, changed), false},
		{"an added field", Overlay(mustDecode(t, queue), map[string]any{"description": "x"}), false},
		{"a type change 30 vs \"30\"", Overlay(mustDecode(t, queue), map[string]any{"defaultPriority": "25000000"}), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ETag(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			if (got == base) != tc.wantSame {
				t.Errorf("ETag = %s, base ETag %s; want same = %v", got, base, tc.wantSame)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b any
		want bool
	}{
		{"json.Number vs float64", json.Number("30"), 30.0, true},
		{"30 vs 30.0 literals", json.Number("30"), json.Number("30.0"), true},
		{"int vs json.Number", 25000000, json.Number("2.5e7"), true},
		{"large ints differ by one", json.Number("9007199254740993"), json.Number("9007199254740992"), false},
		{"number vs string", json.Number("30"), "30", false},
		{"nil vs nil", nil, nil, true},
		{"nil vs false", nil, false, false},
		{"objects by value", map[string]any{"a": 1.0, "b": []any{"x"}}, map[string]any{"b": []any{"x"}, "a": json.Number("1")}, true},
		{"objects with extra key", map[string]any{"a": 1}, map[string]any{"a": 1, "b": nil}, false},
		{"arrays are ordered", []any{"a", "b"}, []any{"b", "a"}, false},
		{"arrays by length", []any{"a"}, []any{"a", "a"}, false},
		{"typed slice vs tree", []string{"a"}, []any{"a"}, true},
		{"NaN equals nothing", math.NaN(), math.NaN(), false},
		{"object vs array", map[string]any{}, []any{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Equal(tc.a, tc.b); got != tc.want {
				t.Errorf("Equal(%#v, %#v) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
			if got := Equal(tc.b, tc.a); got != tc.want {
				t.Errorf("Equal(%#v, %#v) = %v, want %v (symmetry)", tc.b, tc.a, got, tc.want)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	doc, err := Decode([]byte(`{"n": 9007199254740993}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := doc["n"], json.Number("9007199254740993"); got != want {
		t.Errorf("Decode kept n as %#v, want %#v", got, want)
	}
	for _, bad := range []string{``, `null`, `[1]`, `{"a":1} {"b":2}`, `{"a":1}x`, `{"a":}`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%q) succeeded, want an error", bad)
		}
	}
	if _, err := Decode([]byte("{\"a\":1}\n  ")); err != nil {
		t.Errorf("Decode with trailing whitespace: %v, want success", err)
	}
}

func TestSortSet(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"strings", `["c","a","b","a"]`, `["a","a","b","c"]`},
		{"numbers by canonical text", `[3, 1.0, 2]`, `[1.0, 2, 3]`},
		{"objects by canonical form", `[{"name":"b","id":"1"},{"id":"2","name":"a"}]`, `[{"id":"1","name":"b"},{"id":"2","name":"a"}]`},
		{"empty", `[]`, `[]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := mustDecode(t, `{"v":`+tc.in+`}`)["v"].([]any)
			want := mustDecode(t, `{"v":`+tc.want+`}`)["v"].([]any)
			if err := SortSet(in); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, in); d != "" {
				t.Errorf("SortSet(%s) mismatch (-want +got):\n%s", tc.in, d)
			}
		})
	}
	if err := SortSet([]any{math.NaN()}); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("SortSet([NaN]) error = %v, want ErrInvalidValue", err)
	}
}

func TestSortSetBy(t *testing.T) {
	in := mustDecode(t, `{"v":[{"name":"b","id":"9"},{"name":"a","id":"8"},{"id":"7"},{"name":"a","id":"1"},{"name":5},"x"]}`)["v"].([]any)
	want := mustDecode(t, `{"v":["x",{"id":"7"},{"name":5},{"id":"1","name":"a"},{"id":"8","name":"a"},{"id":"9","name":"b"}]}`)["v"].([]any)
	if err := SortSetBy(in, "name"); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, in); d != "" {
		t.Errorf("SortSetBy(name) mismatch (-want +got):\n%s", d)
	}
}
