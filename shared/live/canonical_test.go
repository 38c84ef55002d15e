package live_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
)

func testNames() *live.Names {
	n := live.NewNames(
		[]genesys.Division{{ID: "div-home", Name: "Home"}, {ID: "div-claims", Name: "Claims"}},
		[]genesys.Skill{{ID: "sk-en", Name: "English"}, {ID: "sk-fr", Name: "French"}, {ID: "sk-de", Name: "German"}, {ID: "sk-old", Name: "Old", State: "deleted"}},
		[]genesys.Queue{{ID: "q-claims", Name: "Claims"}, {ID: "q-over", Name: "Claims Overflow"}},
		[]genesys.Workbin{{ID: "wb-claims", Name: "Claims Work"}},
	)
	n.AddLanguages([]genesys.Language{{ID: "lang-en", Name: "english", State: "active"}, {ID: "lang-xx", Name: "Gone", State: "deleted"}})
	return n
}

func TestNamesLanguages(t *testing.T) {
	n := live.NewNames(nil, nil, nil, nil)
	n.AddLanguages([]genesys.Language{
		{ID: "l-en", Name: "English", State: "active"},
		{ID: "l-fr", Name: "French"}, // no state: listed, so usable
		{ID: "l-de", Name: "German", State: "deleted"},
		{ID: "", Name: "Nameless id"},
	})
	tests := []struct {
		name, lookup string
		byID         bool
		want         string
		wantOK       bool
	}{
		{"id of English", "English", false, "l-en", true},
		{"id of French without state", "French", false, "l-fr", true},
		{"deleted German has no id", "German", false, "", false},
		{"name of l-en", "l-en", true, "English", true},
		{"deleted l-de has no name", "l-de", true, "", false},
		{"a name differing only in case is the same language", "english", false, "l-en", true},
		{"a skill name is not a language", "Claims", false, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			var ok bool
			if tc.byID {
				got, ok = n.Name(entity.Language, tc.lookup)
			} else {
				got, ok = n.ID(entity.Language, tc.lookup)
			}
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("lookup %q: got %q %v, want %q %v", tc.lookup, got, ok, tc.want, tc.wantOK)
			}
		})
	}
	if got := n.Len(entity.Language); got != 2 {
		t.Errorf("got %d languages, want 2 (deleted and id-less ones skipped)", got)
	}
	if got := n.Len(entity.Skill); got != 0 {
		t.Errorf("languages leaked into skills: got %d skills, want 0", got)
	}
}

// liveQueue is a queue as Genesys returns it, with server fields, unmodelled
// fields and references by id.
const liveQueue = `{
  "id": "q-claims", "name": "Claims", "selfUri": "/api/v2/routing/queues/q-claims",
  "division": {"id": "div-claims", "name": "Claims", "selfUri": "/api/v2/authorization/divisions/div-claims"},
  "description": "Claims queue",
  "dateCreated": "2025-01-01T00:00:00.000Z", "dateModified": "2026-01-01T00:00:00.000Z",
  "createdBy": "u1", "modifiedBy": "u2", "memberCount": 12, "userMemberCount": 12, "joinedMemberCount": 3,
  "mediaSettings": {
    "call": {"alertingTimeoutSeconds": 8, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}, "autoAnswerAlertToneSeconds": 0.0, "manualAnswerAlertToneSeconds": 0},
    "callback": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 30, "mode": "AgentFirst", "enableAutoDialAndEnd": true, "autoDialDelaySeconds": 300, "autoEndDelaySeconds": 300},
    "message": {"alertingTimeoutSeconds": 30, "subTypeSettings": {}}
  },
  "routingRules": [{"operator": "MEETS_THRESHOLD", "threshold": 9, "waitSeconds": 10}, {"operator": "ANY", "waitSeconds": 30}],
  "acwSettings": {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000},
  "skillEvaluationMethod": "BEST", "lastAgentRoutingMode": "Disabled",
  "bullseye": {"rings": [
    {"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 15}], "actions": {"skillsToRemove": [{"id": "sk-fr", "selfUri": "x"}, {"id": "sk-en"}]}, "memberGroups": [{"id": "g9", "type": "GROUP"}]},
    {"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 30}]}
  ]},
  "conditionalGroupRouting": {"rules": [{"queue": {"id": "q-over"}, "metric": "EstimatedWaitTime", "operator": "GreaterThan", "conditionValue": 60, "waitSeconds": 2,
    "groups": [{"id": "g2", "name": "Tier 2", "type": "TEAM"}, {"id": "g1", "name": "Seniors", "type": "GROUP"}, {"id": "g3", "name": "Adjusters", "type": "TEAM"}]}]},
  "queueFlow": {"id": "flow-1", "name": "Claims flow"},
  "callingPartyName": "Acme", "enableAudioMonitoring": true, "defaultMediaLanguage": "en-us"
}`

const wantQueue = `{
  "name": "Claims", "description": "Claims queue", "division": "Claims",
  "mediaSettings": {
    "call": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 8, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}, "autoAnswerAlertToneSeconds": 0, "manualAnswerAlertToneSeconds": 0},
    "callback": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 30, "mode": "AgentFirst", "autoDialDelaySeconds": 300, "autoEndDelaySeconds": 300},
    "message": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 30, "enableInactivityTimeout": false}
  },
  "routingRules": [{"operator": "MEETS_THRESHOLD", "threshold": 9, "waitSeconds": 10}, {"operator": "ANY", "waitSeconds": 30}],
  "acwSettings": {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000},
  "skillEvaluationMethod": "BEST", "scoringMethod": "TimestampAndPriority", "lastAgentRoutingMode": "Disabled",
  "bullseye": {"rings": [
    {"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 15}], "actions": {"skillsToRemove": ["English", "French"]}},
    {"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 30}]}
  ]},
  "conditionalGroupRouting": {"rules": [{"queue": "Claims Overflow", "metric": "EstimatedWaitTime", "operator": "GreaterThan", "conditionValue": 60, "waitSeconds": 2,
    "groups": [{"name": "Seniors", "type": "GROUP"}, {"name": "Adjusters", "type": "TEAM"}, {"name": "Tier 2", "type": "TEAM"}]}]},
  "enableTranscription": false, "enableManualAssignment": false
}`

const liveWorktype = `{
  "id": "wt-1", "name": "Claim Review", "description": "Reviews",
  "division": {"id": "div-home", "name": "Home"}, "dateCreated": "2025-01-01T00:00:00Z", "dateModified": "2026-02-02T00:00:00Z",
  "modifiedBy": {"id": "u1"}, "defaultWorkbin": {"id": "wb-claims", "selfUri": "/w"},
  "defaultStatus": {"id": "st-1"}, "statuses": [{"id": "st-1", "name": "Open", "category": "Open"}],
  "defaultQueue": {"id": "q-claims", "name": "Claims"}, "defaultSkills": [{"id": "sk-fr"}, {"id": "sk-de"}, {"id": "sk-en"}],
  "defaultLanguage": {"id": "lang-en"}, "defaultPriority": 2500000, "defaultTtlSeconds": 7776000,
  "defaultDurationSeconds": 3600, "unassignedDivisionContactsEnabled": false, "selfUri": "/api/v2/taskmanagement/worktypes/wt-1"
}`

const wantWorktype = `{
  "name": "Claim Review", "description": "Reviews", "division": "Home", "defaultWorkbin": "Claims Work",
  "defaultQueue": "Claims", "defaultSkills": ["English", "French", "German"], "defaultLanguage": "english",
  "defaultPriority": 2500000, "defaultTtlSeconds": 7776000, "defaultDurationSeconds": 3600,
  "assignmentEnabled": false, "serviceLevelTarget": 100
}`

func TestCanonical(t *testing.T) {
	n := testNames()
	tests := []struct {
		kind, raw, want string
	}{
		{"queue", liveQueue, wantQueue},
		{"worktype", liveWorktype, wantWorktype},
		{"skill", `{"id":"sk-en","name":"English","state":"active","version":"3","dateModified":"x","selfUri":"y"}`, `{"name":"English"}`},
		// Defaults made explicit when Genesys omits the field.
		{"queue", `{"id":"q","name":"Bare"}`, `{"name":"Bare","skillEvaluationMethod":"ALL","scoringMethod":"TimestampAndPriority","routingRules":[],"enableTranscription":false,"enableManualAssignment":false}`},
		{"worktype", `{"id":"w","name":"Bare"}`, `{"name":"Bare","defaultSkills":[],"assignmentEnabled":false,"serviceLevelTarget":100}`},
		// null is absent.
		{"queue", `{"name":"Nulls","description":null,"bullseye":null,"acwSettings":null,"routingRules":null}`, `{"name":"Nulls","skillEvaluationMethod":"ALL","scoringMethod":"TimestampAndPriority","routingRules":[],"enableTranscription":false,"enableManualAssignment":false}`},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%d_%s", i, tc.kind), func(t *testing.T) {
			got, err := live.Canonical(entity.Kind(tc.kind), mustDecode(tc.raw), n)
			if err != nil {
				t.Fatalf("Canonical(%s): %v", tc.kind, err)
			}
			want := mustDecode(tc.want)
			if !document.Equal(got, want) {
				gj, _ := document.CanonicalJSON(got)
				wj, _ := document.CanonicalJSON(want)
				t.Errorf("Canonical(%s) differs (-want +got):\n%s", tc.kind, cmp.Diff(string(wj), string(gj)))
			}
			for _, f := range []string{"id", "selfUri", "dateCreated", "dateModified", "modifiedBy", "createdBy", "memberCount", "userMemberCount", "joinedMemberCount", "version", "state", "statuses", "queueFlow"} {
				if _, ok := got[f]; ok {
					t.Errorf("Canonical(%s) kept %q", tc.kind, f)
				}
			}
		})
	}
}

func TestCanonicalETagStability(t *testing.T) {
	n := testNames()
	base := mustDecode(liveQueue)
	etag := func(raw map[string]any) string {
		t.Helper()
		l, err := live.NewEntity(entity.Queue, raw, n)
		if err != nil {
			t.Fatalf("NewEntity: %v", err)
		}
		return l.ETag
	}
	want := etag(base)

	// Ordering noise and server-field churn: same ETag.
	noisy := mustDecode(liveQueue)
	noisy["dateModified"] = "2027-01-01T00:00:00Z"
	noisy["memberCount"] = 99
	noisy["modifiedBy"] = "someone-else"
	ring := noisy["bullseye"].(map[string]any)["rings"].([]any)[0].(map[string]any)
	str := ring["actions"].(map[string]any)["skillsToRemove"].([]any)
	str[0], str[1] = str[1], str[0]
	groups := noisy["conditionalGroupRouting"].(map[string]any)["rules"].([]any)[0].(map[string]any)["groups"].([]any)
	groups[0], groups[2] = groups[2], groups[0]
	noisy["mediaSettings"].(map[string]any)["call"].(map[string]any)["alertingTimeoutSeconds"] = 8.0
	noisy["callingPartyName"] = "Unmodelled change"
	if got := etag(noisy); got != want {
		t.Errorf("ETag after ordering noise and server-field churn = %s, want %s", got, want)
	}
	// Reading the same queue through the typed client model gives the same ETag.
	var q genesys.Queue
	b, _ := document.CanonicalJSON(base)
	if err := q.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	raw, err := live.Raw(q)
	if err != nil {
		t.Fatal(err)
	}
	if got := etag(raw); got != want {
		t.Errorf("ETag via genesys.Queue = %s, want %s", got, want)
	}

	// A real change: different ETag.
	for name, edit := range map[string]func(m map[string]any){
		"alerting timeout": func(m map[string]any) {
			m["mediaSettings"].(map[string]any)["call"].(map[string]any)["alertingTimeoutSeconds"] = 9
		},
		"division":        func(m map[string]any) { m["division"] = map[string]any{"id": "div-home"} },
		"ring order":      func(m map[string]any) { r := m["bullseye"].(map[string]any)["rings"].([]any); r[0], r[1] = r[1], r[0] },
		"routing rules":   func(m map[string]any) { m["routingRules"] = []any{} },
		"explicit method": func(m map[string]any) { m["scoringMethod"] = "PriorityOnly" },
	} {
		m := mustDecode(liveQueue)
		edit(m)
		if got := etag(m); got == want {
			t.Errorf("ETag unchanged after a real change (%s)", name)
		}
	}
	// An absent default and the explicit default are the same state.
	a, b2 := mustDecode(`{"name":"Q"}`), mustDecode(`{"name":"Q","scoringMethod":"TimestampAndPriority","enableTranscription":false,"routingRules":[]}`)
	if etag(a) != etag(b2) {
		t.Errorf("absent defaults and explicit defaults have different ETags")
	}
}

func TestCanonicalUnresolvedAndErrors(t *testing.T) {
	n := testNames()
	raw := mustDecode(`{"name":"W","defaultSkills":[{"id":"sk-old"},{"id":"sk-en"}],"defaultQueue":{"id":"q-gone"},"division":{"id":"div-x","name":"Embedded"},
		"defaultLanguage":{"id":"lang-xx","selfUri":"/api/v2/routing/languages/lang-xx"}}`)
	got, err := live.CanonicalWorktype(raw, n)
	if err != nil {
		t.Fatal(err)
	}
	// A deleted skill or language and an unknown queue keep their ids; an embedded name is used.
	if !document.Equal(got["defaultSkills"], []any{"English", "id:sk-old"}) || got["defaultQueue"] != "id:q-gone" || got["division"] != "Embedded" || got["defaultLanguage"] != "id:lang-xx" {
		t.Errorf("unresolved references: got defaultSkills %v, defaultQueue %v, division %v, defaultLanguage %v",
			got["defaultSkills"], got["defaultQueue"], got["division"], got["defaultLanguage"])
	}
	raw["defaultLanguage"] = map[string]any{"id": "lang-en", "selfUri": "/api/v2/routing/languages/lang-en"}
	if got, err := live.CanonicalWorktype(raw, n); err != nil || got["defaultLanguage"] != "english" {
		t.Errorf("defaultLanguage {id: lang-en}: got %v (%v), want the listed name english", got["defaultLanguage"], err)
	}

	bad := []struct{ kind, raw, path string }{
		{"queue", `{"name":"Q","mediaSettings":{"call":{"alertingTimeoutSeconds":"8"}}}`, "mediaSettings.call.alertingTimeoutSeconds"},
		{"queue", `{"name":"Q","routingRules":{}}`, "routingRules"},
		{"queue", `{"name":"Q","division":"Home"}`, "division"},
		{"queue", `{"description":"no name"}`, "name"},
		{"worktype", `{"name":"W","defaultSkills":[{"selfUri":"x"}]}`, "defaultSkills[0]"},
		{"queue", `{"name":"Q","bullseye":{"rings":[{"actions":{"skillsToRemove":[1]}}]}}`, "bullseye.rings[0].actions.skillsToRemove[0]"},
	}
	for _, tc := range bad {
		_, err := live.Canonical(entity.Kind(tc.kind), mustDecode(tc.raw), n)
		var se *live.ShapeError
		if !errors.Is(err, live.ErrNotCanonical) || !errors.As(err, &se) || se.Path != tc.path {
			t.Errorf("Canonical(%s, %s) error = %v, want a ShapeError at %s", tc.kind, tc.raw, err, tc.path)
		}
	}
	if _, err := live.Canonical("workbin", map[string]any{"name": "x"}, n); err == nil {
		t.Errorf("Canonical(workbin): no error for an unmanaged kind")
	}
}

func TestManagedOnlyDiff(t *testing.T) {
	n := testNames()
	lq, err := live.CanonicalQueue(mustDecode(liveQueue), n)
	if err != nil {
		t.Fatal(err)
	}
	// The spec declares three fields; everything else on the live queue is unmanaged.
	desired := mustDecode(`{"name":"Claims","division":"Home","mediaSettings":{"call":{"alertingTimeoutSeconds":8}},"enableManualAssignment":true}`)
	got := document.Diff(desired, lq)
	want := []document.Difference{
		{Path: "division", Desired: "Home", Live: "Claims", Delta: document.Changed},
		{Path: "enableManualAssignment", Desired: true, Live: false, Delta: document.Changed},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Diff (-want +got):\n%s", d)
	}
}

func ExampleCanonicalWorktype() {
	names := live.NewNames(nil,
		[]genesys.Skill{{ID: "11", Name: "French"}, {ID: "12", Name: "English"}},
		[]genesys.Queue{{ID: "21", Name: "Claims"}},
		[]genesys.Workbin{{ID: "31", Name: "Claims Work"}})
	names.AddLanguages([]genesys.Language{{ID: "41", Name: "English", State: "active"}})
	// Genesys returns defaultLanguage as {id, selfUri}: the name comes from the languages list.
	raw := mustDecode(`{"id": "w1", "name": "Claim", "dateModified": "2026-01-01T00:00:00Z",
		"defaultWorkbin": {"id": "31"}, "defaultQueue": {"id": "21", "name": "Claims"},
		"defaultLanguage": {"id": "41", "selfUri": "/api/v2/routing/languages/41"},
		"defaultSkills": [{"id": "11"}, {"id": "12"}], "defaultPriority": 2500000,
		"statuses": [{"id": "s1", "name": "Open"}], "selfUri": "/api/v2/taskmanagement/worktypes/w1"}`)
	doc, err := live.CanonicalWorktype(raw, names)
	if err != nil {
		panic(err)
	}
	b, _ := document.CanonicalJSON(doc)
	fmt.Println(string(b))
	etag, _ := document.ETag(doc)
	fmt.Println(etag[:7])
	// Output:
	// {"assignmentEnabled":false,"defaultLanguage":"English","defaultPriority":2500000,"defaultQueue":"Claims","defaultSkills":["English","French"],"defaultWorkbin":"Claims Work","name":"Claim","serviceLevelTarget":100}
	// sha256:
}

// FuzzCanonicalLive feeds arbitrary Genesys responses to the canonicaliser:
// it must never panic, and whatever it accepts must have an ETag and fit the
// routekeeper/v1 model's JSON types.
func FuzzCanonicalLive(f *testing.F) {
	f.Add("queue", liveQueue)
	f.Add("worktype", liveWorktype)
	f.Add("skill", `{"name":"English"}`)
	f.Add("queue", `{"name":"Q","conditionalGroupRouting":{"rules":[{"groups":[{"id":"g","type":"TEAM"},{"name":"n"}]}]}}`)
	f.Add("queue", `{"name":"Q","bullseye":{"rings":[{"actions":{"skillsToRemove":[{"id":"sk-en"},{"name":"x"}]}}]}}`)
	n := testNames()
	f.Fuzz(func(t *testing.T, kind, data string) {
		raw, err := document.Decode([]byte(data))
		if err != nil {
			return
		}
		doc, err := live.Canonical(entity.Kind(kind), raw, n)
		if err != nil {
			return
		}
		if _, err := document.ETag(doc); err != nil && !errors.Is(err, document.ErrInvalidValue) {
			t.Fatalf("ETag of an accepted document: %v", err)
		}
		if name, _ := doc["name"].(string); name == "" {
			t.Fatalf("accepted document without a name: %v", doc)
		}
	})
}

func mustDecode(s string) map[string]any {
	doc, err := document.Decode([]byte(s))
	if err != nil {
		panic(err)
	}
	return doc
}
