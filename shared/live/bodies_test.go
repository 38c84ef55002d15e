package live_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
)

func TestQueueBodyRoundTrip(t *testing.T) {
	n := testNames()
	raw := mustDecode(liveQueue)
	managed := mustDecode(`{
	  "name": "Claims",
	  "description": "New description",
	  "division": "Home",
	  "mediaSettings": {"call": {"alertingTimeoutSeconds": 20, "serviceLevel": {"percentage": 0.9}}},
	  "routingRules": [{"operator": "ANY", "waitSeconds": 5}],
	  "bullseye": {"rings": [
	    {"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 20}], "actions": {"skillsToRemove": ["German"]}},
	    {"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 40}]}
	  ]},
	  "conditionalGroupRouting": {"rules": [{"queue": "Claims", "metric": "ServiceLevel", "operator": "LessThan", "conditionValue": 0.8, "waitSeconds": 3,
	    "groups": [{"name": "Seniors", "type": "GROUP"}, {"name": "Adjusters", "type": "TEAM"}]}]},
	  "enableTranscription": true
	}`)
	before := mustDecode(liveQueue)
	body, err := live.QueueBody(raw, managed, n)
	if err != nil {
		t.Fatalf("QueueBody: %v", err)
	}
	if !document.Equal(raw, before) {
		t.Errorf("QueueBody modified raw")
	}
	// The body, read back as Genesys would return it, contains the managed fields.
	got, err := live.CanonicalQueue(body, n)
	if err != nil {
		t.Fatalf("CanonicalQueue(body): %v", err)
	}
	if d := document.Diff(managed, got); len(d) != 0 {
		t.Errorf("CanonicalQueue(QueueBody(raw, managed)) differs from managed: %+v", d)
	}
	// References are ids, whole.
	if d := cmp.Diff(map[string]any{"id": "div-home"}, body["division"]); d != "" {
		t.Errorf("division (-want +got):\n%s", d)
	}
	ring0 := body["bullseye"].(map[string]any)["rings"].([]any)[0].(map[string]any)
	if d := cmp.Diff([]any{map[string]any{"id": "sk-de"}}, ring0["actions"].(map[string]any)["skillsToRemove"]); d != "" {
		t.Errorf("skillsToRemove (-want +got):\n%s", d)
	}
	rule := body["conditionalGroupRouting"].(map[string]any)["rules"].([]any)[0].(map[string]any)
	if d := cmp.Diff(map[string]any{"id": "q-claims"}, rule["queue"]); d != "" {
		t.Errorf("cgr queue (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]any{map[string]any{"id": "g1", "name": "Seniors", "type": "GROUP"}, map[string]any{"id": "g3", "name": "Adjusters", "type": "TEAM"}}, rule["groups"]); d != "" {
		t.Errorf("cgr groups (-want +got):\n%s", d)
	}
	// Unknown and unmanaged raw fields survive the full replace.
	for _, f := range []string{"queueFlow", "callingPartyName", "enableAudioMonitoring", "defaultMediaLanguage", "acwSettings", "skillEvaluationMethod", "memberCount"} {
		if !document.Equal(body[f], raw[f]) {
			t.Errorf("body[%q] = %v, want the raw value %v", f, body[f], raw[f])
		}
	}
	ms := body["mediaSettings"].(map[string]any)
	if ms["callback"].(map[string]any)["enableAutoDialAndEnd"] != true || ms["message"].(map[string]any)["subTypeSettings"] == nil {
		t.Errorf("unmodelled media settings lost: %v", ms)
	}
	call := ms["call"].(map[string]any)
	if !document.Equal(call["serviceLevel"], map[string]any{"percentage": 0.9, "durationMs": 20000}) || !document.Equal(call["autoAnswerAlertToneSeconds"], 0) {
		t.Errorf("call settings = %v, want only declared keys changed", call)
	}
	if ring0["memberGroups"] == nil {
		t.Errorf("bullseye ring memberGroups lost: %v", ring0)
	}
	// Null removes.
	body, err = live.QueueBody(raw, map[string]any{"description": nil}, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := body["description"]; ok {
		t.Errorf("description: null did not remove the field")
	}
}

func TestNewQueueBody(t *testing.T) {
	n := testNames()
	body, err := live.NewQueueBody(mustDecode(`{"name":"New","division":"Claims","description":null,"bullseye":{"rings":[{"actions":{"skillsToRemove":["id:sk-x"]}},{}]}}`), n)
	if err != nil {
		t.Fatal(err)
	}
	want := mustDecode(`{"name":"New","division":{"id":"div-claims"},"bullseye":{"rings":[{"actions":{"skillsToRemove":[{"id":"sk-x"}]}},{}]}}`)
	if !document.Equal(body, want) {
		t.Errorf("NewQueueBody = %v, want %v", body, want)
	}
	if _, err := live.NewQueueBody(map[string]any{"description": "no name"}, n); err == nil {
		t.Errorf("NewQueueBody without a name: no error")
	}
}

func TestWorktypeBodies(t *testing.T) {
	n := testNames()
	managed := mustDecode(`{"name":"Claim Review","division":"Claims","defaultWorkbin":"Claims Work","defaultQueue":"Claims Overflow",
		"defaultSkills":["English","German"],"defaultLanguage":"english","defaultPriority":0,"assignmentEnabled":true}`)
	patch, err := live.WorktypePatch(managed, n)
	if err != nil {
		t.Fatalf("WorktypePatch: %v", err)
	}
	want := mustDecode(`{"name":"Claim Review","defaultWorkbinId":"wb-claims","defaultQueueId":"q-over","defaultSkillIds":["sk-en","sk-de"],
		"defaultLanguageId":"lang-en","defaultPriority":0,"assignmentEnabled":true}`)
	if d := cmp.Diff(want, patch); d != "" {
		t.Errorf("WorktypePatch (-want +got):\n%s", d)
	}

	// Explicit null clears.
	patch, err = live.WorktypePatch(map[string]any{"defaultQueue": nil, "defaultSkills": nil, "defaultLanguage": nil, "description": nil}, n)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]any{"defaultQueueId": nil, "defaultSkillIds": nil, "defaultLanguageId": nil, "description": nil}
	if d := cmp.Diff(want, patch); d != "" {
		t.Errorf("WorktypePatch with nulls (-want +got):\n%s", d)
	}

	create, err := live.NewWorktypeBody(managed, n)
	if err != nil {
		t.Fatalf("NewWorktypeBody: %v", err)
	}
	if create["divisionId"] != "div-claims" || create["defaultWorkbinId"] != "wb-claims" {
		t.Errorf("NewWorktypeBody = %v, want divisionId and defaultWorkbinId", create)
	}

	errs := []struct {
		name    string
		managed string
		create  bool
		is      error
	}{
		{"unknown skill", `{"defaultSkills":["Klingon"]}`, false, live.ErrUnresolved},
		{"unknown queue", `{"defaultQueue":"Nowhere"}`, false, live.ErrUnresolved},
		{"unmodelled field", `{"statuses":[]}`, false, live.ErrUnmodelled},
		{"unknown language", `{"defaultLanguage":"Klingon"}`, false, live.ErrUnresolved},
		{"deleted language", `{"defaultLanguage":"Gone"}`, false, live.ErrUnresolved},
		{"language of a create", `{"name":"X","defaultWorkbin":"Claims Work","defaultLanguage":"Klingon"}`, true, live.ErrUnresolved},
		{"clear workbin", `{"defaultWorkbin":null}`, false, nil},
		{"create without workbin", `{"name":"X"}`, true, nil},
	}
	for _, tc := range errs {
		var err error
		if tc.create {
			_, err = live.NewWorktypeBody(mustDecode(tc.managed), n)
		} else {
			_, err = live.WorktypePatch(mustDecode(tc.managed), n)
		}
		if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%s: error %v, want one matching %v", tc.name, err, tc.is)
		}
	}
	var re *live.ReferenceError
	if _, err := live.WorktypePatch(map[string]any{"defaultLanguage": "Klingon"}, n); !errors.As(err, &re) || re.Kind != entity.Language || re.Name != "Klingon" || re.Path != "defaultLanguage" {
		t.Errorf("WorktypePatch with an unknown language: error %v, want a ReferenceError for language Klingon at defaultLanguage", err)
	}
	if _, err := live.QueueBody(mustDecode(liveQueue), map[string]any{"division": "Atlantis"}, n); !errors.As(err, &re) || re.Name != "Atlantis" || re.Path != "division" {
		t.Errorf("QueueBody with an unknown division: error %v, want a ReferenceError for Atlantis at division", err)
	}
}

func TestMergeOnCanonicalDocuments(t *testing.T) {
	// apply's three-way merge works on canonical documents: a disjoint edit
	// made in the UI (ordering noise included) merges with a planned change.
	n := testNames()
	base, err := live.CanonicalQueue(mustDecode(liveQueue), n)
	if err != nil {
		t.Fatal(err)
	}
	theirsRaw := mustDecode(liveQueue)
	theirsRaw["description"] = "edited in the UI"
	theirsRaw["dateModified"] = "2027-01-01T00:00:00Z"
	groups := theirsRaw["conditionalGroupRouting"].(map[string]any)["rules"].([]any)[0].(map[string]any)["groups"].([]any)
	groups[0], groups[1] = groups[1], groups[0]
	theirs, err := live.CanonicalQueue(theirsRaw, n)
	if err != nil {
		t.Fatal(err)
	}
	ours := document.Overlay(base, map[string]any{"enableTranscription": true})
	merged, conflicts := document.Merge(base, ours, theirs)
	if len(conflicts) != 0 {
		t.Fatalf("conflicts = %+v, want none", conflicts)
	}
	if merged["description"] != "edited in the UI" || merged["enableTranscription"] != true {
		t.Errorf("merged description %v, enableTranscription %v; want both edits", merged["description"], merged["enableTranscription"])
	}
}
