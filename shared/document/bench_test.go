package document

import (
	"encoding/json"
	"testing"
)

// typicalQueue is a Genesys queue as GET /api/v2/routing/queues/{id} returns
// it for a mid-sized contact centre (about 2.5 KB).
const typicalQueue = `{
  "id": "5a1f1e9c-2b0e-4c5f-9d55-8f8f1a0c3b21",
  "name": "Support - Tier 1",
  "division": {"id": "8e2f0d7c-1111-4a2b-9c3d-5e6f7a8b9c0d", "name": "Home", "selfUri": "/api/v2/authorization/divisions/8e2f0d7c-1111-4a2b-9c3d-5e6f7a8b9c0d"},
  "description": "First-line support for consumer customers",
  "dateCreated": "2024-03-01T09:00:00.000Z",
  "dateModified": "2025-06-12T14:22:31.512Z",
  "modifiedBy": "b7c6d5e4-0000-4000-8000-000000000001",
  "createdBy": "b7c6d5e4-0000-4000-8000-000000000002",
  "memberCount": 48, "userMemberCount": 48, "joinedMemberCount": 31,
  "mediaSettings": {
    "call": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 8, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}, "autoAnswerAlertToneSeconds": 0, "manualAnswerAlertToneSeconds": 0, "subTypeSettings": {}},
    "callback": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 30, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}, "enableAutoDialAndEnd": false, "autoEndDelaySeconds": 300, "autoDialDelaySeconds": 300},
    "chat": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 30, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}},
    "email": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 300, "serviceLevel": {"percentage": 0.8, "durationMs": 86400000}},
    "message": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 30, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}, "subTypeSettings": {"whatsapp": {"enableAutoAnswer": false}}}
  },
  "routingRules": [{"operator": "MEETS_THRESHOLD", "threshold": 9, "waitSeconds": 300}],
  "bullseye": {"rings": [
    {"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 15}], "actions": {"skillsToRemove": []}},
    {"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 30}], "actions": {"skillsToRemove": [{"id": "aa11"}, {"id": "bb22"}]}},
    {"expansionCriteria": [], "actions": {"skillsToRemove": []}}
  ]},
  "scoringMethod": "TimestampAndPriority",
  "lastAgentRoutingMode": "Disabled",
  "acwSettings": {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000},
  "skillEvaluationMethod": "BEST",
  "memberGroups": [{"id": "g1", "name": "Tier 1 agents", "type": "GROUP", "memberCount": 40}],
  "queueFlow": {"id": "f1", "name": "Support in-queue", "selfUri": "/api/v2/flows/f1"},
  "messageInQueueFlow": {"id": "f2", "name": "Messaging in-queue", "selfUri": "/api/v2/flows/f2"},
  "whisperPrompt": {"id": "p1", "name": "Support whisper", "selfUri": "/api/v2/architect/prompts/p1"},
  "autoAnswerOnly": false,
  "enableTranscription": true,
  "enableAudioMonitoring": false,
  "enableManualAssignment": true,
  "agentOwnedRouting": {"enableAgentOwnedCallbacks": false, "maxOwnedCallbackHours": 1, "maxOwnedCallbackDelayHours": 1},
  "directRouting": {"callUseAgentAddressOutbound": false, "emailUseAgentAddressOutbound": false, "messageUseAgentAddressOutbound": false, "waitForAgent": false, "agentWaitSeconds": 60},
  "callingPartyName": "Example Support",
  "callingPartyNumber": "+15551230000",
  "defaultScripts": {},
  "outboundMessagingAddresses": {"smsAddress": {"id": "sms1", "selfUri": "/api/v2/routing/sms/phonenumbers/sms1"}},
  "outboundEmailAddress": {"domain": {"id": "example.com"}, "route": {"id": "r1", "name": "support"}},
  "suppressInQueueCallRecording": true,
  "peerId": null,
  "selfUri": "/api/v2/routing/queues/5a1f1e9c-2b0e-4c5f-9d55-8f8f1a0c3b21"
}`

func benchQueue(b *testing.B) map[string]any {
	doc, err := Decode([]byte(typicalQueue))
	if err != nil {
		b.Fatal(err)
	}
	return withoutServerFields(doc)
}

// BenchmarkETag: the cost apply and the drift scan pay per entity.
func BenchmarkETag(b *testing.B) {
	doc := benchQueue(b)
	c, err := CanonicalJSON(doc)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(c)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ETag(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkETagFloat64 is ETag over a tree decoded by plain json.Unmarshal.
func BenchmarkETagFloat64(b *testing.B) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(typicalQueue), &doc); err != nil {
		b.Fatal(err)
	}
	doc = withoutServerFields(doc)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ETag(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeAndETag includes parsing the HTTP body, as the webhook does.
func BenchmarkDecodeAndETag(b *testing.B) {
	b.SetBytes(int64(len(typicalQueue)))
	b.ReportAllocs()
	for b.Loop() {
		doc, err := Decode([]byte(typicalQueue))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ETag(withoutServerFields(doc)); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDesired(b *testing.B) map[string]any {
	d, err := Decode([]byte(`{"name":"Support - Tier 1","description":"First-line support","mediaSettings":{"message":{"alertingTimeoutSeconds":45,"serviceLevel":{"percentage":0.8,"durationMs":20000}},"call":{"alertingTimeoutSeconds":8}},"acwSettings":{"wrapupPrompt":"MANDATORY_TIMEOUT","timeoutMs":60000},"skillEvaluationMethod":"BEST"}`))
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func BenchmarkDiff(b *testing.B) {
	live, desired := benchQueue(b), benchDesired(b)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = len(Diff(desired, live))
	}
	b.ReportMetric(float64(n), "differences")
}

func BenchmarkMerge(b *testing.B) {
	base, desired := benchQueue(b), benchDesired(b)
	ours := Overlay(base, desired)
	theirs := Overlay(base, map[string]any{"description": "edited by hand", "enableTranscription": false})
	b.ReportAllocs()
	for b.Loop() {
		if _, c := Merge(base, ours, theirs); len(c) != 1 {
			b.Fatalf("Merge conflicts = %v, want the description conflict", c)
		}
	}
}

func BenchmarkPatch(b *testing.B) {
	live, desired := benchQueue(b), benchDesired(b)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		p, err := Patch(live, desired)
		if err != nil {
			b.Fatal(err)
		}
		n = len(p)
	}
	b.ReportMetric(float64(n), "operations")
}

// withoutServerFields drops the top-level fields Genesys manages itself, as the live org's
// canonical form does before an ETag is taken.
func withoutServerFields(doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		switch k {
		case "id", "selfUri", "dateCreated", "dateModified", "modifiedBy", "createdBy", "memberCount", "userMemberCount", "joinedMemberCount", "version":
		default:
			out[k] = v
		}
	}
	return out
}
