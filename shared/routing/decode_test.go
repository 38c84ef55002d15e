package routing

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/routekeeper/routekeeper/shared/document"
	"go.yaml.in/yaml/v3"
)

// decodeStrict must give what encoding/json gives for the same values: it replaced
// json.Marshal + Decoder.Decode with DisallowUnknownFields.
func TestDecodeStrictMatchesEncodingJSON(t *testing.T) {
	cfg := largeConfig(20, 5, 5)
	cfg.Queues[0].ConditionalGroupRouting = &ConditionalGroupRouting{Rules: []ConditionalGroupRoutingRule{{
		Groups: []MemberGroup{{}}}}}
	cfg.AssignmentRules = []AssignmentRule{{}}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var values any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&values); err != nil {
		t.Fatal(err)
	}
	var want, got Config
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if err := decodeStrict(values, &got); err != nil {
		t.Fatalf("decodeStrict: %v", err)
	}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(Config{})); d != "" {
		t.Errorf("decodeStrict differs from encoding/json (-json +decodeStrict):\n%s", d)
	}
}

func TestDecodeStrictErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string // in the error
	}{
		{"unknown member", map[string]any{"name": "q", "nmae": "q"}, `unknown field "nmae"`},
		{"string for a number", map[string]any{"name": "q", "acwSettings": map[string]any{"timeoutMs": "x"}}, "field acwSettings.timeoutMs: json: cannot unmarshal string"},
		{"fraction for an int", map[string]any{"name": "q", "routingRules": []any{map[string]any{"threshold": json.Number("1.5")}}}, "field routingRules[0].threshold: json: cannot unmarshal number 1.5"},
		{"array for an object", map[string]any{"name": "q", "bullseye": []any{}}, "field bullseye: json: cannot unmarshal array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var q Queue
			err := decodeStrict(tc.v, &q)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("decodeStrict(%v) = %v, want an error containing %q", tc.v, err, tc.want)
			}
		})
	}
}

// The converter's fast path for plain numbers and booleans must read them as yaml.v3's
// Node.Decode does.
func TestScalarFastPathMatchesNodeDecode(t *testing.T) {
	for _, src := range []string{
		"0", "-0", "7", "-12", "123456789012345678", "1234567890123456789", "010", "0x1f", "0o17", "1_000", "+1",
		"2.5", "-2.50", "0.0", "-0.0", "00.5", ".5", "1.", "1e3", "1.5e-3", "!!float 1", "!!float 2.25", "!!int 1.5", "!!int 7",
		"true", "false", "True", "FALSE", "!!bool yes", "!!bool true",
	} {
		t.Run(src, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
				t.Fatal(err)
			}
			n := doc.Content[0]
			c := converter{doc: newYAMLDoc("x.yaml", pos{1, 1}, 0)}
			got := c.scalar(n)
			var want any
			var v any
			if err := n.Decode(&v); err != nil {
				want = nil
			} else {
				switch v := v.(type) {
				case bool:
					want = v
				case int:
					want = json.Number(strconv.Itoa(v))
				case uint64:
					want = json.Number(strconv.FormatUint(v, 10))
				case float64:
					if !math.IsNaN(v) && !math.IsInf(v, 0) {
						want = json.Number(strconv.FormatFloat(v, 'g', -1, 64))
					}
				default:
					t.Skipf("%q decodes to %T, not a number or bool", src, v)
				}
			}
			if got != want {
				t.Errorf("scalar(%q) = %#v, want %#v (as Node.Decode reads it)", src, got, want)
			}
		})
	}
}

// clone must copy as the JSON round trip it replaced did: absent and empty lists apart,
// pointers to zero values kept, the source positions dropped.
func TestCloneMatchesJSONRoundTrip(t *testing.T) {
	cfg := largeConfig(20, 5, 5)
	cfg.Queues[0].RoutingRules = []RoutingRule{}
	cfg.Queues[1].Bullseye = &Bullseye{}
	cfg.Queues[2].ConditionalGroupRouting = &ConditionalGroupRouting{Rules: []ConditionalGroupRoutingRule{{Groups: []MemberGroup{}}}}
	cfg.Queues[3].Description = ptr("")
	cfg.Workbins = []string{}
	cfg.AssignmentRules = []AssignmentRule{{Name: "r", Skills: []string{}}}
	cfg.src = &source{}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var want Config
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	got := clone(cfg)
	if d := cmp.Diff(&want, got, cmp.AllowUnexported(Config{})); d != "" {
		t.Errorf("clone differs from a JSON round trip (-json +clone):\n%s", d)
	}
	got.Queues[0].Name = "changed"
	if cfg.Queues[0].Name == "changed" {
		t.Error("clone shares the queues of the config it copies")
	}
}

// Entity.Doc must give what document.Decode(json.Marshal(spec)) gave before it built the
// document straight from the spec.
func TestDocMatchesJSONRoundTrip(t *testing.T) {
	cfg := largeConfig(30, 5, 5)
	cfg.Queues[0].RoutingRules = []RoutingRule{}
	cfg.Queues[1].Bullseye = &Bullseye{Rings: []BullseyeRing{{}}}
	cfg.Queues[2].ConditionalGroupRouting = &ConditionalGroupRouting{Rules: []ConditionalGroupRoutingRule{{Groups: []MemberGroup{{Name: "g"}, {Name: "t", Type: "TEAM"}}}}}
	cfg.Queues[3].Description = ptr("")
	cfg.Queues[4].MediaSettings.Call = &MediaSetting{AutoAnswerAlertToneSeconds: ptr(1e-7), ManualAnswerAlertToneSeconds: ptr(2147483647.0)}
	cfg.Queues[5].MediaSettings.Chat = &MediaSetting{AutoAnswerAlertToneSeconds: ptr(0.0), ManualAnswerAlertToneSeconds: ptr(123456789.125)}
	cfg.Queues[6].AcwSettings = &AcwSettings{}
	cfg.Worktypes[0].DefaultSkills = []string{}
	d, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range d.Entities() {
		raw, err := json.Marshal(e.Spec)
		if err != nil {
			t.Fatal(err)
		}
		want, err := document.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Doc()
		if err != nil {
			t.Fatalf("%s %q: Doc: %v", e.Kind, e.Name, err)
		}
		if diff := cmp.Diff(want, got.Fields); diff != "" {
			t.Errorf("%s %q: Doc differs from document.Decode(json.Marshal(spec)) (-json +Doc):\n%s", e.Kind, e.Name, diff)
		}
	}
}
