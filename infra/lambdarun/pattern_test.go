package lambdarun

import (
	"errors"
	"strings"
	"testing"
)

// The events of the EventBridge guide's examples, and some of our own.
const (
	ec2Event = `{
  "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
  "account": "111122223333", "time": "2017-12-22T18:43:48Z", "region": "us-west-1",
  "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated",
    "c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.33",
    "FileName": "Report.PNG", "flag": true, "nothing": null, "empty": "",
    "tags": ["blue", "green"], "sizes": [1, 20, 300], "nested": {"deep": {"x": 1}}}
}`
	arrayEvent = `{"detail": {"employees": [
  {"firstName": "John", "lastName": "Doe"},
  {"firstName": "Anna", "lastName": "Smith"},
  [{"firstName": "Peter", "lastName": "Jones"}]
], "none": [], "mixed": ["a", 1, null, {"k": "v"}]}}`
)

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		name, pattern string
		event         string // ec2Event when empty
		want          bool
	}{
		// Exact values.
		{"source equals", `{"source": ["aws.ec2"]}`, "", true},
		{"source differs", `{"source": ["aws.s3"]}`, "", false},
		{"string match is case-sensitive", `{"source": ["AWS.EC2"]}`, "", false},
		{"any of the alternatives", `{"source": ["aws.s3", "aws.ec2"]}`, "", true},
		{"all fields must match", `{"source": ["aws.ec2"], "detail-type": ["nope"]}`, "", false},
		{"nested field", `{"detail": {"state": ["terminated"]}}`, "", true},
		{"nested field differs", `{"detail": {"state": ["running"]}}`, "", false},
		{"missing field never matches a value", `{"detail": {"missing": ["x"]}}`, "", false},
		{"missing intermediate object", `{"nope": {"state": ["terminated"]}}`, "", false},
		{"number equals", `{"detail": {"c-count": [5]}}`, "", true},
		{"numbers compare numerically", `{"detail": {"x-limit": [3.018e2]}}`, "", true},
		{"5.0 equals 5", `{"detail": {"c-count": [5.0]}}`, "", true},
		{"number is not its string", `{"detail": {"c-count": ["5"]}}`, "", false},
		{"string is not a number", `{"detail": {"state": [5]}}`, "", false},
		{"boolean true", `{"detail": {"flag": [true]}}`, "", true},
		{"boolean false does not match true", `{"detail": {"flag": [false]}}`, "", false},
		{"true is not the string true", `{"detail": {"flag": ["true"]}}`, "", false},
		{"null matches null", `{"detail": {"nothing": [null]}}`, "", true},
		{"null does not match a missing field", `{"detail": {"missing": [null]}}`, "", false},
		{"empty string matches empty string", `{"detail": {"empty": [""]}}`, "", true},
		{"empty string does not match null", `{"detail": {"nothing": [""]}}`, "", false},
		{"null does not match empty string", `{"detail": {"empty": [null]}}`, "", false},
		{"a leaf pattern does not match an object", `{"detail": {"nested": ["x"]}}`, "", false},
		{"an object pattern does not match a leaf", `{"detail": {"state": {"x": ["terminated"]}}}`, "", false},
		{"three levels deep", `{"detail": {"nested": {"deep": {"x": [1]}}}}`, "", true},

		// Arrays in the event.
		{"event array: any element", `{"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]}`, "", true},
		{"event array: tags", `{"detail": {"tags": ["green"]}}`, "", true},
		{"event array: no element", `{"detail": {"tags": ["red"]}}`, "", false},
		{"event array: numeric on elements", `{"detail": {"sizes": [{"numeric": [">", 100]}]}}`, "", true},
		{"array of objects", `{"detail": {"employees": {"firstName": ["Anna"]}}}`, arrayEvent, true},
		{"array of objects, nested array", `{"detail": {"employees": {"firstName": ["Peter"]}}}`, arrayEvent, true},
		{"fields of one element", `{"detail": {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}}`, arrayEvent, true},
		{"fields of different elements do not combine", `{"detail": {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}}`, arrayEvent, false},
		{"mixed array: string", `{"detail": {"mixed": ["a"]}}`, arrayEvent, true},
		{"mixed array: number", `{"detail": {"mixed": [1]}}`, arrayEvent, true},
		{"mixed array: null", `{"detail": {"mixed": [null]}}`, arrayEvent, true},
		{"mixed array: object's field", `{"detail": {"mixed": {"k": ["v"]}}}`, arrayEvent, true},

		// prefix, suffix, equals-ignore-case.
		{"prefix", `{"time": [{"prefix": "2017-12-22"}]}`, "", true},
		{"prefix differs", `{"time": [{"prefix": "2017-10-02"}]}`, "", false},
		{"prefix is case-sensitive", `{"source": [{"prefix": "AWS."}]}`, "", false},
		{"prefix ignoring case", `{"source": [{"prefix": {"equals-ignore-case": "AWS."}}]}`, "", true},
		{"prefix only matches strings", `{"detail": {"c-count": [{"prefix": "5"}]}}`, "", false},
		{"empty prefix matches any string", `{"detail": {"empty": [{"prefix": ""}]}}`, "", true},
		{"suffix", `{"detail": {"FileName": [{"suffix": ".PNG"}]}}`, "", true},
		{"suffix is case-sensitive", `{"detail": {"FileName": [{"suffix": ".png"}]}}`, "", false},
		{"suffix ignoring case", `{"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}}`, "", true},
		{"suffix longer than the value", `{"detail": {"state": [{"suffix": {"equals-ignore-case": "xxterminated"}}]}}`, "", false},
		{"equals-ignore-case", `{"detail": {"state": [{"equals-ignore-case": "TERMINATED"}]}}`, "", true},
		{"equals-ignore-case differs", `{"detail": {"state": [{"equals-ignore-case": "TERMINATE"}]}}`, "", false},
		{"equals-ignore-case, unicode", `{"n": [{"equals-ignore-case": "ÉTÉ"}]}`, `{"n": "été"}`, true},
		{"prefix ignoring case, unicode", `{"n": [{"prefix": {"equals-ignore-case": "ÉT"}}]}`, `{"n": "été"}`, true},

		// wildcard.
		{"wildcard", `{"source": [{"wildcard": "aws.*"}]}`, "", true},
		{"wildcard in the middle", `{"detail": {"instance-id": [{"wildcard": "i-*def0"}]}}`, "", true},
		{"several wildcards", `{"resources": [{"wildcard": "arn:aws:ec2:*:instance/*"}]}`, "", true},
		{"wildcard must match the whole value", `{"source": [{"wildcard": "ec2*"}]}`, "", false},
		{"wildcard without star is equality", `{"source": [{"wildcard": "aws.ec2"}]}`, "", true},
		{"star matches nothing too", `{"source": [{"wildcard": "aws.ec2*"}]}`, "", true},
		{"escaped star is literal", `{"n": [{"wildcard": "a\\*b"}]}`, `{"n": "a*b"}`, true},
		{"escaped star does not match other text", `{"n": [{"wildcard": "a\\*b"}]}`, `{"n": "axxb"}`, false},
		{"escaped backslash", `{"n": [{"wildcard": "a\\\\*"}]}`, `{"n": "a\\bc"}`, true},
		{"overlapping parts", `{"n": [{"wildcard": "*ab*ab"}]}`, `{"n": "abab"}`, true},
		{"parts must not overlap", `{"n": [{"wildcard": "aba*aba"}]}`, `{"n": "ababa"}`, false},
		{"wildcard only on strings", `{"detail": {"c-count": [{"wildcard": "*"}]}}`, "", false},

		// anything-but.
		{"anything-but string", `{"detail": {"state": [{"anything-but": "initializing"}]}}`, "", true},
		{"anything-but the value", `{"detail": {"state": [{"anything-but": "terminated"}]}}`, "", false},
		{"anything-but list", `{"detail": {"state": [{"anything-but": ["stopped", "terminated"]}]}}`, "", false},
		{"anything-but number", `{"detail": {"c-count": [{"anything-but": 123}]}}`, "", true},
		{"anything-but the number", `{"detail": {"c-count": [{"anything-but": [100, 5.0]}]}}`, "", false},
		{"anything-but a string does not exclude a number", `{"detail": {"c-count": [{"anything-but": "5"}]}}`, "", true},
		{"anything-but needs the field", `{"detail": {"missing": [{"anything-but": "x"}]}}`, "", false},
		{"anything-but matches null", `{"detail": {"nothing": [{"anything-but": "x"}]}}`, "", true},
		{"anything-but prefix", `{"source": [{"anything-but": {"prefix": "aws."}}]}`, "", false},
		{"anything-but other prefix", `{"source": [{"anything-but": {"prefix": "custom."}}]}`, "", true},
		{"anything-but prefix list", `{"detail": {"state": [{"anything-but": {"prefix": ["run", "term"]}}]}}`, "", false},
		{"anything-but suffix", `{"detail": {"FileName": [{"anything-but": {"suffix": ".PNG"}}]}}`, "", false},
		{"anything-but other suffix", `{"detail": {"FileName": [{"anything-but": {"suffix": ".png"}}]}}`, "", true},
		{"anything-but ignoring case", `{"detail": {"state": [{"anything-but": {"equals-ignore-case": "TERMINATED"}}]}}`, "", false},
		{"anything-but ignoring case, list", `{"detail": {"state": [{"anything-but": {"equals-ignore-case": ["A", "B"]}}]}}`, "", true},
		{"anything-but wildcard", `{"detail": {"instance-id": [{"anything-but": {"wildcard": "i-*"}}]}}`, "", false},
		{"anything-but other wildcard", `{"detail": {"instance-id": [{"anything-but": {"wildcard": "*/lib/*"}}]}}`, "", true},
		{"anything-but on an array: one element is enough", `{"detail": {"tags": [{"anything-but": "blue"}]}}`, "", true},
		{"anything-but on an array: all excluded", `{"detail": {"tags": [{"anything-but": ["blue", "green"]}]}}`, "", false},

		// numeric.
		{"numeric range", `{"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}`, "", true},
		{"numeric range excludes", `{"detail": {"c-count": [{"numeric": [">", 5, "<=", 10]}]}}`, "", false},
		{"numeric open top", `{"detail": {"c-count": [{"numeric": [">=", 1, "<", 5]}]}}`, "", false},
		{"numeric less than", `{"detail": {"d-count": [{"numeric": ["<", 10]}]}}`, "", true},
		{"numeric less or equal", `{"detail": {"d-count": [{"numeric": ["<=", 3]}]}}`, "", true},
		{"numeric greater", `{"detail": {"d-count": [{"numeric": [">", 3]}]}}`, "", false},
		{"numeric greater or equal", `{"detail": {"d-count": [{"numeric": [">=", 3]}]}}`, "", true},
		{"numeric equals", `{"detail": {"x-limit": [{"numeric": ["=", 3.018e2]}]}}`, "", true},
		{"numeric only on numbers", `{"detail": {"state": [{"numeric": [">", 0]}]}}`, "", false},
		{"numeric not on numeric strings", `{"n": [{"numeric": [">", 0]}]}`, `{"n": "5"}`, false},
		{"negative numbers", `{"n": [{"numeric": [">", -10, "<", -1]}]}`, `{"n": -2.5}`, true},

		// exists.
		{"exists true", `{"detail": {"state": [{"exists": true}]}}`, "", true},
		{"exists true, missing", `{"detail": {"c": [{"exists": true}]}}`, "", false},
		{"exists false, missing", `{"detail": {"c": [{"exists": false}]}}`, "", true},
		{"exists false, present", `{"detail": {"state": [{"exists": false}]}}`, "", false},
		{"exists true, null is present", `{"detail": {"nothing": [{"exists": true}]}}`, "", true},
		{"exists false on an object: not a leaf", `{"detail": {"nested": [{"exists": false}]}}`, "", true},
		{"exists true on an object: not a leaf", `{"detail": {"nested": [{"exists": true}]}}`, "", false},
		{"exists false, intermediate missing", `{"nope": {"c": [{"exists": false}]}}`, "", true},
		{"exists false, empty array", `{"detail": {"none": [{"exists": false}]}}`, arrayEvent, true},
		{"exists true, array", `{"detail": {"tags": [{"exists": true}]}}`, "", true},
		{"exists or value", `{"detail": {"c": [{"exists": false}, "x"]}}`, "", true},

		// cidr.
		{"cidr", `{"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}`, "", true},
		{"cidr outside", `{"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}`, "", false},
		{"cidr ipv6", `{"ip": [{"cidr": "2001:db8::/32"}]}`, `{"ip": "2001:db8::1"}`, true},
		{"cidr not an address", `{"detail": {"state": [{"cidr": "10.0.0.0/8"}]}}`, "", false},

		// $or.
		{"$or first", `{"$or": [{"source": ["aws.ec2"]}, {"detail-type": ["x"]}]}`, "", true},
		{"$or second", `{"$or": [{"source": ["x"]}, {"detail": {"state": ["terminated"]}}]}`, "", true},
		{"$or none", `{"$or": [{"source": ["x"]}, {"detail-type": ["y"]}]}`, "", false},
		{"$or and a field", `{"source": ["aws.s3"], "$or": [{"source": ["aws.ec2"]}, {"region": ["us-west-1"]}]}`, "", false},
		{"$or nested", `{"detail": {"$or": [{"c-count": [1]}, {"d-count": [3]}]}}`, "", true},
		{"$or of strings is a field name", `{"$or": ["x"]}`, `{"$or": "x"}`, true},

		// The guide's combined example.
		{"complex", `{"time": [{"prefix": "2017-12-22"}], "detail": {"state": [{"anything-but": "initializing"}],
			"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}],
			"x-limit": [{"anything-but": [100, 200, 300]}], "source-ip": [{"cidr": "10.0.0.0/8"}]}}`, "", true},
		{"last duplicate key counts", `{"source": ["x"], "source": ["aws.ec2"]}`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			event := tc.event
			if event == "" {
				event = ec2Event
			}
			p, err := ParsePattern([]byte(tc.pattern))
			if err != nil {
				t.Fatalf("ParsePattern(%s): %v", tc.pattern, err)
			}
			got, err := p.Match([]byte(event))
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tc.want {
				t.Errorf("pattern %s on event %s: matched %v, want %v", tc.pattern, truncate(event, 80), got, tc.want)
			}
		})
	}
}

func TestParsePatternRejects(t *testing.T) {
	tests := []struct {
		name, pattern, wantPath, wantMsg string
	}{
		{"not JSON", `{"source": [`, "", "not valid JSON"},
		{"not an object", `["aws.ec2"]`, "", "must be a JSON object"},
		{"empty pattern", `{}`, "", "empty objects are not allowed"},
		{"empty nested object", `{"detail": {}}`, "detail", "empty objects are not allowed"},
		{"bare value", `{"source": "aws.ec2"}`, "source", `write ["aws.ec2"]`},
		{"empty array", `{"detail": {"state": []}}`, "detail.state", "empty arrays are not allowed"},
		{"nested array", `{"source": [["a"]]}`, "source[0]", "nested arrays"},
		{"unknown operator", `{"source": [{"contains": "ec2"}]}`, "source[0]", `unsupported operator "contains"`},
		{"two operators", `{"source": [{"prefix": "a", "suffix": "b"}]}`, "source[0]", "exactly one operator"},
		{"prefix of a number", `{"source": [{"prefix": 5}]}`, "source[0].prefix", "takes a string"},
		{"prefix with a bad object", `{"source": [{"prefix": {"wildcard": "a"}}]}`, "source[0].prefix", "equals-ignore-case"},
		{"equals-ignore-case of a number", `{"source": [{"equals-ignore-case": 1}]}`, "source[0].equals-ignore-case", "takes a string"},
		{"double star", `{"source": [{"wildcard": "a**b"}]}`, "source[0].wildcard", "consecutive"},
		{"bad escape", `{"source": [{"wildcard": "a\\b"}]}`, "source[0].wildcard", "backslash"},
		{"trailing backslash", `{"source": [{"wildcard": "a\\"}]}`, "source[0].wildcard", "backslash"},
		{"anything-but mixed list", `{"a": [{"anything-but": ["x", 1]}]}`, "a[0].anything-but", "not both"},
		{"anything-but boolean", `{"a": [{"anything-but": true}]}`, "a[0].anything-but", "anything-but takes"},
		{"anything-but null in list", `{"a": [{"anything-but": ["x", null]}]}`, "a[0].anything-but[1]", "only strings or only numbers"},
		{"anything-but empty list", `{"a": [{"anything-but": []}]}`, "a[0].anything-but", "empty arrays"},
		{"anything-but unknown", `{"a": [{"anything-but": {"numeric": [">", 1]}}]}`, "a[0].anything-but", `unsupported anything-but operator "numeric"`},
		{"anything-but two keys", `{"a": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}`, "a[0].anything-but", "takes one of"},
		{"anything-but prefix number", `{"a": [{"anything-but": {"prefix": 1}}]}`, "a[0].anything-but.prefix", "string"},
		{"anything-but bad wildcard", `{"a": [{"anything-but": {"wildcard": ["ok", "x**"]}}]}`, "a[0].anything-but.wildcard[1]", "consecutive"},
		{"numeric not an array", `{"a": [{"numeric": 5}]}`, "a[0].numeric", "takes an array"},
		{"numeric odd length", `{"a": [{"numeric": [">", 1, "<"]}]}`, "a[0].numeric", "got 3 elements"},
		{"numeric unknown operator", `{"a": [{"numeric": ["!=", 1]}]}`, "a[0].numeric[0]", `unknown numeric operator "!="`},
		{"numeric string value", `{"a": [{"numeric": [">", "1"]}]}`, "a[0].numeric[1]", "must be a number"},
		{"numeric range backwards", `{"a": [{"numeric": ["<", 5, ">", 1]}]}`, "a[0].numeric", "numeric range is"},
		{"numeric range empty", `{"a": [{"numeric": [">", 5, "<", 1]}]}`, "a[0].numeric", "low 5 must be less than high 1"},
		{"numeric equals in a range", `{"a": [{"numeric": ["=", 5, "<", 10]}]}`, "a[0].numeric", "numeric range is"},
		{"exists not boolean", `{"a": [{"exists": "yes"}]}`, "a[0].exists", "true or false"},
		{"cidr invalid", `{"a": [{"cidr": "10.0.0.300/8"}]}`, "a[0].cidr", "not an IP prefix"},
		{"$or with one object", `{"$or": [{"a": ["x"]}]}`, "$or", "at least 2"},
		{"$or alternative malformed", `{"$or": [{"a": ["x"]}, {"b": "y"}]}`, "$or[1].b", "must be an object or an array"},
		{"huge number", `{"a": [1e999]}`, "a[0]", "out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePattern([]byte(tc.pattern))
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePattern(%s): got %v, want a *PatternError", tc.pattern, err)
			}
			if pe.Path != tc.wantPath || !strings.Contains(pe.Msg, tc.wantMsg) {
				t.Errorf("ParsePattern(%s): got path %q msg %q, want path %q msg containing %q", tc.pattern, pe.Path, pe.Msg, tc.wantPath, tc.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "lambdarun: event pattern") {
				t.Errorf("error %q should say it is about the event pattern", err)
			}
		})
	}
}

func TestPatternMatchRejectsEvents(t *testing.T) {
	p, err := ParsePattern([]byte(`{"source": ["x"]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, event := range []string{``, `{"source":`, `["x"]`, `"x"`, `{} {}`} {
		if ok, err := p.Match([]byte(event)); err == nil || ok {
			t.Errorf("Match(%q): got %v, %v, want an error", event, ok, err)
		}
	}
}

// The matcher parses patterns and events from outside: it must never panic,
// and a pattern that compiles must match any event without panicking.
func FuzzMatch(f *testing.F) {
	seeds := []struct{ pattern, event string }{
		{`{"source": ["aws.ec2"]}`, ec2Event},
		{`{"detail": {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}}`, arrayEvent},
		{`{"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "state": [{"anything-but": {"prefix": "init"}}]}}`, ec2Event},
		{`{"a": [{"wildcard": "x\\**y"}]}`, `{"a": "x*zzy"}`},
		{`{"$or": [{"a": [{"exists": false}]}, {"b": [{"cidr": "::/0"}]}]}`, `{"b": ["::1", {"c": 1}]}`},
		{`{"a": [{"prefix": {"equals-ignore-case": "ÉT"}}, {"suffix": {"equals-ignore-case": "\u00ff"}}]}`, `{"a": "été\u0178"}`},
		{`{"a": [{"anything-but": {"wildcard": ["*", "a*b"]}}, null, true, 1e308]}`, `{"a": [[[1e400]]]}`},
	}
	for _, s := range seeds {
		f.Add(s.pattern, s.event)
	}
	f.Fuzz(func(t *testing.T, pattern, event string) {
		p, err := ParsePattern([]byte(pattern))
		if err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePattern(%q): error %v is not a *PatternError", pattern, err)
			}
			return
		}
		_, _ = p.Match([]byte(event))
		_, _ = p.Match([]byte(pattern))
	})
}
