package genesys

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// roundTrip decodes doc into a new T and re-encodes it.
func roundTrip[T any](t *testing.T, doc string) (*T, []byte) {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal([]byte(doc), v); err != nil {
		t.Fatalf("decode %s: %v", doc, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return v, b
}

func TestModelsReEmitEverythingReceived(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		rt   func(t *testing.T, doc string) []byte
	}{
		{"queue", liveQueueJSON, func(t *testing.T, d string) []byte { _, b := roundTrip[Queue](t, d); return b }},
		{"queue with nulls and empties", `{"id":"q","description":null,"name":"","memberCount":0,"routingRules":[],"queueFlow":null,"mediaSettings":{}}`,
			func(t *testing.T, d string) []byte { _, b := roundTrip[Queue](t, d); return b }},
		{"queue with a member of an unexpected type", `{"id":"q","memberCount":"many","mediaSettings":{"call":{"alertingTimeoutSeconds":"8"}},"division":"d1"}`,
			func(t *testing.T, d string) []byte { _, b := roundTrip[Queue](t, d); return b }},
		{"skill", `{"id":"s","name":"French","state":"active","version":"3","dateModified":"2026-01-01T00:00:00Z","selfUri":"/x","newThing":[1,2]}`,
			func(t *testing.T, d string) []byte { _, b := roundTrip[Skill](t, d); return b }},
		{"language", `{"id":"l","name":"English","state":"active","version":"2","dateModified":"2026-01-01T00:00:00.000Z","selfUri":"/api/v2/routing/languages/l","code":"en"}`,
			func(t *testing.T, d string) []byte { _, b := roundTrip[Language](t, d); return b }},
		{"worktype with a language reference", `{"id":"w","name":"Claims","defaultLanguage":{"id":"l","selfUri":"/api/v2/routing/languages/l"}}`,
			func(t *testing.T, d string) []byte { _, b := roundTrip[Worktype](t, d); return b }},
		{"division", `{"id":"d","name":"Home","homeDivision":true,"objectCounts":{"queues":3}}`,
			func(t *testing.T, d string) []byte { _, b := roundTrip[Division](t, d); return b }},
		{"worktype", `{"id":"w","name":"Claims","defaultPriority":0,"assignmentEnabled":false,"defaultQueue":{"id":"q","name":"Q","selfUri":"/q"},"defaultSkills":[{"id":"s1","extra":1}],"statuses":[{"id":"st","category":"Open"}],"schema":{"id":"sc","version":2},"defaultTtlSeconds":86400}`,
			func(t *testing.T, d string) []byte { _, b := roundTrip[Worktype](t, d); return b }},
		{"workbin", `{"id":"wb","name":"Claims","division":{"id":"d"},"modifiedBy":{"id":"u","selfUri":"/u"},"dateCreated":"x"}`,
			func(t *testing.T, d string) []byte { _, b := roundTrip[Workbin](t, d); return b }},
		{"utilization", `{"utilization":{"call":{"maximumCapacity":0,"includeNonAcd":true,"extra":null}},"labelUtilizations":{}}`,
			func(t *testing.T, d string) []byte { _, b := roundTrip[Utilization](t, d); return b }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rt(t, tc.doc); !jsonEqual(t, []byte(tc.doc), got) {
				t.Errorf("re-encoded %s\nwant %s", got, tc.doc)
			}
		})
	}
}

func TestModelsTypedFieldsAndUnknown(t *testing.T) {
	q, _ := roundTrip[Queue](t, liveQueueJSON)
	if q.Name != "Billing" || q.Division.ID != "d1" || q.MediaSettings.Call.ServiceLevel.DurationMs != 20000 || q.MemberCount != 4 {
		t.Errorf("typed fields not decoded: %+v", q)
	}
	// Editing a typed field keeps the members the model does not know.
	q.Name = "Billing 2"
	b, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"bullseye", "defaultMediaLanguage", "cannedResponseLibraries"} {
		if _, ok := m[k]; !ok {
			t.Errorf("unmodelled member %q lost on re-encoding: %s", k, b)
		}
	}
	if m["name"] != "Billing 2" {
		t.Errorf("name = %v after the edit, want Billing 2", m["name"])
	}
}

func TestNewModelOmitsEmptyMembers(t *testing.T) {
	b, err := json.Marshal(&Queue{Name: "New", Division: &Ref{ID: "d1"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"division":{"id":"d1"},"name":"New"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

// FuzzDecodeModels: any response body either fails to decode or decodes into
// a value whose encoding carries every member the body had.
func FuzzDecodeModels(f *testing.F) {
	for _, s := range []string{liveQueueJSON, `{}`, `null`, `{"id":1}`, `{"mediaSettings":{"call":null}}`, `{"defaultSkills":[{"id":"a"},null]}`, `[]`, `{"a":`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		for _, v := range []any{new(Queue), new(Worktype), new(Skill), new(Language), new(Utilization)} {
			if err := json.Unmarshal([]byte(doc), v); err != nil {
				continue
			}
			out, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%T: encode after decode of %q: %v", v, doc, err)
			}
			var in, got map[string]any
			if json.Unmarshal([]byte(doc), &in) != nil || in == nil {
				continue // "null": nothing to keep
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%T: re-encoded %q is not an object: %v", v, out, err)
			}
			for k := range in {
				if _, ok := got[k]; !ok {
					t.Errorf("%T: member %q of %q lost in %s", v, k, doc, out)
				}
			}
			if !reflect.DeepEqual(in, got) {
				t.Errorf("%T: %q re-encoded as %s", v, doc, out)
			}
		}
	})
}

// FuzzAPIError: any error body yields an *APIError whose text names the request.
func FuzzAPIError(f *testing.F) {
	for _, s := range []string{`{"message":"m","code":"c","limit":{"key":"k","value":5}}`, `<html>bad gateway</html>`, ``, `{"limit":"x"}`} {
		f.Add(s, 429)
	}
	c, err := New(Config{APIURL: "https://api.example.test", ClientID: "id", ClientSecret: testClientSecret})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string, status int) {
		resp := &http.Response{StatusCode: status, Header: http.Header{"Inin-Correlation-Id": {"corr-f"}}}
		e := c.apiError(request{method: "GET", path: "/api/v2/routing/queues/q"}, resp, []byte(body), "tok-fuzz")
		s := e.Error()
		if !strings.Contains(s, "GET /api/v2/routing/queues/q") || !strings.Contains(s, "corr-f") {
			t.Errorf("error %q does not name the request and correlation id", s)
		}
		if strings.Contains(s, testClientSecret) {
			t.Errorf("error %q leaks the secret", s)
		}
	})
}
