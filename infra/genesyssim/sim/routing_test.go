package sim

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestQueueListPagination(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 60, Skills: 5, Divisions: 3, Seed: 3})
	var all []string
	for pageNum := 1; pageNum <= 3; pageNum++ {
		st, _, body := e.call(t, "GET", "/api/v2/routing/queues"+q("pageSize", "25", "pageNumber", itoa(pageNum)), nil)
		if st != 200 {
			t.Fatalf("page %d: got %d %v", pageNum, st, body)
		}
		for k, want := range map[string]any{"pageSize": 25.0, "pageNumber": float64(pageNum), "total": 60.0, "pageCount": 3.0} {
			if body[k] != want {
				t.Errorf("page %d: got %s %v, want %v", pageNum, k, body[k], want)
			}
		}
		for _, k := range []string{"firstUri", "lastUri", "selfUri"} {
			if u, _ := body[k].(string); !strings.HasPrefix(u, "/api/v2/routing/queues?") {
				t.Errorf("page %d: got %s %v, want a /api/v2/routing/queues URI", pageNum, k, body[k])
			}
		}
		_, hasNext := body["nextUri"]
		_, hasPrev := body["previousUri"]
		if hasNext != (pageNum < 3) || hasPrev != (pageNum > 1) {
			t.Errorf("page %d: got nextUri %v previousUri %v", pageNum, body["nextUri"], body["previousUri"])
		}
		if pageNum == 1 && body["nextUri"] != "/api/v2/routing/queues?pageNumber=2&pageSize=25" {
			t.Errorf("got nextUri %v, want /api/v2/routing/queues?pageNumber=2&pageSize=25", body["nextUri"])
		}
		ents := entities(t, body)
		wantLen := 25
		if pageNum == 3 {
			wantLen = 10
		}
		if len(ents) != wantLen {
			t.Errorf("page %d: got %d entities, want %d", pageNum, len(ents), wantLen)
		}
		for _, q := range ents {
			all = append(all, strings.ToLower(q["name"].(string)))
		}
	}
	if !slices.IsSorted(all) || len(all) != 60 {
		t.Errorf("got %d names, sorted=%v; want 60 sorted by name", len(all), slices.IsSorted(all))
	}

	st, _, body := e.call(t, "GET", "/api/v2/routing/queues"+q("pageSize", "25", "pageNumber", "9"), nil)
	if st != 200 || len(entities(t, body)) != 0 || body["total"] != 60.0 {
		t.Errorf("page past the end: got %d %v, want 200 with no entities and total 60", st, body)
	}
}

func TestQueueListFilters(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 40, Divisions: 3, Seed: 4})
	f := Generate(GenerateOptions{Queues: 40, Divisions: 3, Seed: 4})
	first, second := f.Queues[0], f.Queues[1]
	div := f.Divisions[1]
	var inDiv int
	for _, q := range f.Queues {
		if str(obj(q, "division"), "id") == str(div, "id") {
			inDiv++
		}
	}
	word := strings.Fields(str(first, "name"))[0]
	var withWord int
	for _, q := range f.Queues {
		if strings.Contains(strings.ToLower(str(q, "name")), strings.ToLower(word)) {
			withWord++
		}
	}
	tests := []struct {
		name      string
		query     string
		wantTotal int
	}{
		{"exact name, other case", q("name", strings.ToUpper(str(first, "name"))), 1},
		{"wildcard", q("name", "*"+word+"*", "pageSize", "500"), withWord},
		{"ids", q("id", str(first, "id"), "id", str(second, "id")), 2},
		{"division", q("divisionId", str(div, "id")), inDiv},
		{"no match", q("name", "Nope"), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, _, body := e.call(t, "GET", "/api/v2/routing/queues"+tc.query, nil)
			if st != 200 || body["total"] != float64(tc.wantTotal) {
				t.Errorf("GET queues%s: got %d total %v, want 200 total %d", tc.query, st, body["total"], tc.wantTotal)
			}
		})
	}
	st, _, body := e.call(t, "GET", "/api/v2/routing/queues"+q("sortOrder", "desc", "pageSize", "500"), nil)
	var names []string
	for _, q := range entities(t, body) {
		names = append(names, strings.ToLower(q["name"].(string)))
	}
	if st != 200 || !slices.IsSortedFunc(names, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("sortOrder=desc: got %d, names not descending", st)
	}
}

func TestPageParamErrors(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 2, Skills: 2, Seed: 1})
	for _, path := range []string{"/api/v2/routing/queues", "/api/v2/routing/skills", "/api/v2/authorization/divisions"} {
		for _, query := range []string{q("pageSize", "501"), q("pageSize", "0"), q("pageNumber", "0"), q("pageSize", "x"), q("sortOrder", "sideways")} {
			st, h, body := e.call(t, "GET", path+query, nil)
			wantError(t, "GET "+path+query, st, h, body, 400, "bad.request")
		}
		if st, _, body := e.call(t, "GET", path+q("pageSize", "500"), nil); st != 200 {
			t.Errorf("GET %s pageSize=500: got %d %v, want 200", path, st, body)
		}
	}
}

func TestQueuePutFullReplace(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 5, Seed: 5})
	id, _ := e.s.IDByName("queue", Generate(GenerateOptions{Queues: 5, Seed: 5}).Queues[0]["name"].(string))
	st, _, before := e.call(t, "GET", "/api/v2/routing/queues/"+id, nil)
	if st != 200 {
		t.Fatalf("GET queue: %d %v", st, before)
	}
	body := normObj(before)
	body["defaultMediaLanguage"] = "en-us" // a field the SDK does not know yet
	body["description"] = "Changed by routekeeper"
	body["memberCount"] = 999.0 // read-only: ignored
	delete(body, "enableTranscription")
	delete(body, "acwSettings")
	delete(obj(body, "mediaSettings"), "chat")
	obj(obj(body, "mediaSettings"), "call")["alertingTimeoutSeconds"] = 17.0

	st, _, got := e.call(t, "PUT", "/api/v2/routing/queues/"+id, body)
	if st != 200 {
		t.Fatalf("PUT queue: got %d %v", st, got)
	}
	_, _, reread := e.call(t, "GET", "/api/v2/routing/queues/"+id, nil)
	if diff := cmp.Diff(got, reread); diff != "" {
		t.Errorf("PUT response and GET differ (-put +get):\n%s", diff)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"unknown field kept", got["defaultMediaLanguage"], "en-us"},
		{"description", got["description"], "Changed by routekeeper"},
		{"omitted bool removed", got["enableTranscription"], nil},
		{"omitted acwSettings reset", got["acwSettings"], map[string]any{"wrapupPrompt": "OPTIONAL"}},
		{"omitted chat settings reset", obj(obj(got, "mediaSettings"), "chat")["alertingTimeoutSeconds"], 30.0},
		{"call alerting", obj(obj(got, "mediaSettings"), "call")["alertingTimeoutSeconds"], 17.0},
		{"memberCount read-only", got["memberCount"], before["memberCount"]},
		{"id", got["id"], id},
		{"dateCreated kept", got["dateCreated"], before["dateCreated"]},
		{"modifiedBy", got["modifiedBy"], userIDFor(DefaultClientID)},
	}
	for _, c := range checks {
		if !cmp.Equal(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
	if !(got["dateModified"].(string) > before["dateModified"].(string)) {
		t.Errorf("dateModified did not move: before %v after %v", before["dateModified"], got["dateModified"])
	}
	// A second write under the frozen clock still moves dateModified.
	_, _, again := e.call(t, "PUT", "/api/v2/routing/queues/"+id, got)
	if !(again["dateModified"].(string) > got["dateModified"].(string)) {
		t.Errorf("second PUT at the same instant: dateModified %v did not move past %v", again["dateModified"], got["dateModified"])
	}
}

func TestQueueWriteErrors(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 3, Seed: 6})
	f := Generate(GenerateOptions{Queues: 3, Seed: 6})
	id, other := str(f.Queues[0], "id"), str(f.Queues[1], "name")
	base := func(mut func(m map[string]any)) map[string]any {
		m := map[string]any{"name": "Fresh Queue"}
		mut(m)
		return m
	}
	tests := []struct {
		name, method, path string
		body               any
		wantStatus         int
		wantCode           string
	}{
		{"workitem media type", "PUT", "/api/v2/routing/queues/" + id, base(func(m map[string]any) {
			m["mediaSettings"] = map[string]any{"workitem": map[string]any{"alertingTimeoutSeconds": 8}}
		}), 400, "bad.request"},
		{"bad skillEvaluationMethod", "POST", "/api/v2/routing/queues", base(func(m map[string]any) { m["skillEvaluationMethod"] = "SOME" }), 400, "bad.request"},
		{"bad wrapupPrompt", "POST", "/api/v2/routing/queues", base(func(m map[string]any) {
			m["acwSettings"] = map[string]any{"wrapupPrompt": "SOMETIMES"}
		}), 400, "bad.request"},
		{"acw timeout too long", "POST", "/api/v2/routing/queues", base(func(m map[string]any) {
			m["acwSettings"] = map[string]any{"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 3600001}
		}), 400, "bad.request"},
		{"service level over 1", "POST", "/api/v2/routing/queues", base(func(m map[string]any) {
			m["mediaSettings"] = map[string]any{"call": map[string]any{"serviceLevel": map[string]any{"percentage": 80}}}
		}), 400, "bad.request"},
		{"unknown division", "POST", "/api/v2/routing/queues", base(func(m map[string]any) { m["division"] = map[string]any{"id": "nope"} }), 400, "bad.request"},
		{"missing name", "POST", "/api/v2/routing/queues", map[string]any{"description": "x"}, 400, "bad.request"},
		{"malformed JSON", "POST", "/api/v2/routing/queues", `{"name":`, 400, "bad.request"},
		{"name taken on create", "POST", "/api/v2/routing/queues", map[string]any{"name": strings.ToUpper(other)}, 409, "general.conflict"},
		{"name taken on PUT", "PUT", "/api/v2/routing/queues/" + id, map[string]any{"name": other}, 409, "general.conflict"},
		{"PUT unknown id", "PUT", "/api/v2/routing/queues/nope", map[string]any{"name": "x"}, 404, "not.found"},
		{"GET unknown id", "GET", "/api/v2/routing/queues/nope", nil, 404, "not.found"},
		{"DELETE unknown id", "DELETE", "/api/v2/routing/queues/nope", nil, 404, "not.found"},
		{"unknown route", "GET", "/api/v2/routing/nothing", nil, 404, "not.found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, h, body := e.call(t, tc.method, tc.path, tc.body)
			wantError(t, tc.method+" "+tc.path, st, h, body, tc.wantStatus, tc.wantCode)
		})
	}
	if q, _ := e.s.Queue(id); q["name"] != f.Queues[0]["name"] {
		t.Errorf("failed writes changed the queue: got name %v, want %v", q["name"], f.Queues[0]["name"])
	}
}

func TestQueueCreateDelete(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 2, Seed: 7})
	st, _, created := e.call(t, "POST", "/api/v2/routing/queues", map[string]any{
		"name": "Claims Tasks", "customFlag": true,
		"mediaSettings": map[string]any{"call": map[string]any{"alertingTimeoutSeconds": 12}},
	})
	if st != 200 {
		t.Fatalf("POST queue: got %d %v", st, created)
	}
	id := created["id"].(string)
	for k, want := range map[string]any{
		"name": "Claims Tasks", "customFlag": true, "memberCount": 0.0, "skillEvaluationMethod": "ALL",
		"scoringMethod": "TimestampAndPriority", "selfUri": "/api/v2/routing/queues/" + id,
	} {
		if !cmp.Equal(created[k], want) {
			t.Errorf("created %s: got %v, want %v", k, created[k], want)
		}
	}
	if d := obj(created, "division"); d["name"] != "Home" {
		t.Errorf("created division: got %v, want the Home division", d)
	}
	if ms := obj(created, "mediaSettings"); len(ms) != 5 || obj(ms, "call")["alertingTimeoutSeconds"] != 12.0 {
		t.Errorf("created mediaSettings: got %v, want 5 media types with call alerting 12", ms)
	}
	if got, ok := e.s.IDByName("queue", "claims tasks"); !ok || got != id {
		t.Errorf("IDByName: got %q %v, want %s", got, ok, id)
	}
	st, _, copyQ := e.call(t, "POST", "/api/v2/routing/queues", map[string]any{"name": "Claims Tasks Copy", "sourceQueueId": id})
	if st != 200 || copyQ["customFlag"] != true || copyQ["sourceQueueId"] != nil {
		t.Errorf("POST with sourceQueueId: got %d %v, want the source's settings copied", st, copyQ)
	}
	if st, _, body := e.call(t, "DELETE", "/api/v2/routing/queues/"+id+"?forceDelete=true", nil); st != 200 {
		t.Fatalf("DELETE: got %d %v", st, body)
	}
	st, h, body := e.call(t, "GET", "/api/v2/routing/queues/"+id, nil)
	wantError(t, "GET deleted queue", st, h, body, 404, "not.found")
	if _, ok := e.s.Queue(id); ok {
		t.Errorf("Queue(%s) still exists after DELETE", id)
	}
}

func TestSkills(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Skills: 30, Seed: 8})
	st, _, sk := e.call(t, "POST", "/api/v2/routing/skills", map[string]any{"name": "Zulu Claims"})
	if st != 200 || sk["version"] != "1" || sk["state"] != "active" || sk["dateModified"] == nil {
		t.Fatalf("POST skill: got %d %v, want version \"1\" state active", st, sk)
	}
	id := sk["id"].(string)
	st, h, body := e.call(t, "POST", "/api/v2/routing/skills", map[string]any{"name": "zulu claims"})
	wantError(t, "duplicate skill", st, h, body, 409, "general.conflict")
	st, h, body = e.call(t, "POST", "/api/v2/routing/skills", map[string]any{})
	wantError(t, "skill without name", st, h, body, 400, "bad.request")

	_, _, list := e.call(t, "GET", "/api/v2/routing/skills"+q("name", "zulu"), nil)
	if list["total"] != 1.0 {
		t.Errorf("name starts-with filter: got total %v, want 1", list["total"])
	}
	if err := e.s.EditSkill(id, func(m map[string]any) { m["name"] = "Zulu Claims Expert" }); err != nil {
		t.Fatal(err)
	}
	_, _, got := e.call(t, "GET", "/api/v2/routing/skills/"+id, nil)
	if got["version"] != "2" || got["name"] != "Zulu Claims Expert" {
		t.Errorf("after EditSkill: got %v, want version \"2\" and the new name", got)
	}
	if st, _, body := e.call(t, "DELETE", "/api/v2/routing/skills/"+id, nil); st != 200 {
		t.Fatalf("DELETE skill: %d %v", st, body)
	}
	_, _, got = e.call(t, "GET", "/api/v2/routing/skills/"+id, nil)
	if got["state"] != "deleted" || got["version"] != "3" {
		t.Errorf("GET deleted skill: got %v, want state deleted version \"3\"", got)
	}
	_, _, list = e.call(t, "GET", "/api/v2/routing/skills"+q("pageSize", "500"), nil)
	if list["total"] != 30.0 {
		t.Errorf("list after delete: got total %v, want 30", list["total"])
	}
	st, h, body = e.call(t, "DELETE", "/api/v2/routing/skills/"+id, nil)
	wantError(t, "DELETE deleted skill", st, h, body, 404, "not.found")
	st, h, body = e.call(t, "GET", "/api/v2/routing/skills/nope", nil)
	wantError(t, "GET unknown skill", st, h, body, 404, "not.found")
	// The name is free again.
	if st, _, body := e.call(t, "POST", "/api/v2/routing/skills", map[string]any{"name": "Zulu Claims Expert"}); st != 200 {
		t.Errorf("re-create deleted skill's name: got %d %v", st, body)
	}
}

func TestLanguages(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Languages: 9, Seed: 8})
	st, _, first := e.call(t, "GET", "/api/v2/routing/languages"+q("pageSize", "4"), nil)
	if st != 200 {
		t.Fatalf("GET languages: got %d %v", st, first)
	}
	for k, want := range map[string]any{"total": 9.0, "pageCount": 3.0, "pageSize": 4.0, "pageNumber": 1.0,
		"nextUri": "/api/v2/routing/languages?pageNumber=2&pageSize=4"} {
		if first[k] != want {
			t.Errorf("page 1 %s: got %v, want %v", k, first[k], want)
		}
	}
	var names []string
	for n := 1; n <= 3; n++ {
		_, _, body := e.call(t, "GET", "/api/v2/routing/languages"+q("pageSize", "4", "pageNumber", itoa(n)), nil)
		for _, l := range entities(t, body) {
			if l["state"] != "active" || l["version"] == nil || l["selfUri"] != "/api/v2/routing/languages/"+str(l, "id") {
				t.Errorf("language %v: want state active, a version and its selfUri", l)
			}
			names = append(names, str(l, "name"))
		}
	}
	if len(names) != 9 || !slices.IsSortedFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) || !slices.Contains(names, "English") {
		t.Errorf("got languages %v, want 9 sorted by name including English", names)
	}
	_, _, one := e.call(t, "GET", "/api/v2/routing/languages"+q("name", "english"), nil)
	if got := entities(t, one); len(got) != 1 || got[0]["name"] != "English" {
		t.Errorf("name filter english: got %v, want English only", got)
	}
	st, h, body := e.call(t, "GET", "/api/v2/routing/languages"+q("pageSize", "501"), nil)
	wantError(t, "pageSize 501", st, h, body, 400, "bad.request")
	if id, ok := e.s.IDByName("language", "ENGLISH"); !ok || id == "" {
		t.Errorf("IDByName(language, ENGLISH): got %q %v, want English's id", id, ok)
	}

	// A deleted language in a fixture is not listed.
	s := New(Options{})
	if err := s.Load(Fixture{Languages: []map[string]any{{"id": "l1", "name": "English"}, {"id": "l2", "name": "Klingon", "state": "deleted"}}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.IDByName("language", "Klingon"); ok {
		t.Errorf("deleted language Klingon is listed")
	}
	if _, ok := s.IDByName("language", "English"); !ok {
		t.Errorf("language English from the fixture is not listed")
	}
}

func TestDivisions(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Divisions: 3, Seed: 9})
	st, _, body := e.call(t, "GET", "/api/v2/authorization/divisions", nil)
	if st != 200 || body["total"] != 3.0 {
		t.Fatalf("GET divisions: got %d %v, want 3", st, body)
	}
	var home map[string]any
	for _, d := range entities(t, body) {
		if d["homeDivision"] == true {
			home = d
		}
	}
	if home == nil || home["name"] != "Home" {
		t.Fatalf("no Home division in %v", body)
	}
	if st, _, d := e.call(t, "GET", "/api/v2/authorization/divisions/"+home["id"].(string), nil); st != 200 || d["name"] != "Home" {
		t.Errorf("GET division: got %d %v", st, d)
	}
}

func TestUtilization(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Seed: 1})
	st, _, got := e.call(t, "GET", "/api/v2/routing/utilization", nil)
	if st != 200 || obj(obj(got, "utilization"), "chat")["maximumCapacity"] != 4.0 {
		t.Fatalf("GET utilization: got %d %v, want defaults (chat 4)", st, got)
	}
	st, _, got = e.call(t, "PUT", "/api/v2/routing/utilization", map[string]any{
		"utilization": map[string]any{"call": map[string]any{"maximumCapacity": 2, "interruptableMediaTypes": []string{"email"}}},
	})
	if st != 200 || obj(obj(got, "utilization"), "call")["maximumCapacity"] != 2.0 || obj(obj(got, "utilization"), "chat")["maximumCapacity"] != 4.0 {
		t.Fatalf("PUT utilization: got %d %v, want call 2 and chat reset to 4", st, got)
	}
	for name, body := range map[string]any{
		"unknown media":    map[string]any{"utilization": map[string]any{"fax": map[string]any{"maximumCapacity": 1}}},
		"capacity over 25": map[string]any{"utilization": map[string]any{"chat": map[string]any{"maximumCapacity": 26}}},
		"bad interrupt":    map[string]any{"utilization": map[string]any{"chat": map[string]any{"maximumCapacity": 2, "interruptableMediaTypes": []string{"fax"}}}},
	} {
		st, h, b := e.call(t, "PUT", "/api/v2/routing/utilization", body)
		wantError(t, name, st, h, b, 400, "bad.request")
	}
}

func TestObservations(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 3, Seed: 10})
	f := Generate(GenerateOptions{Queues: 3, Seed: 10})
	a, b := str(f.Queues[0], "id"), str(f.Queues[1], "id")
	e.s.SetObservation(a, "oWaiting", 7)
	e.s.SetObservation(b, "oOnQueueUsers", 3)
	pred := func(id string) map[string]any {
		return map[string]any{"type": "dimension", "dimension": "queueId", "operator": "matches", "value": id}
	}
	st, _, got := e.call(t, "POST", "/api/v2/analytics/queues/observations/query", map[string]any{
		"filter":  map[string]any{"type": "or", "predicates": []any{pred(a), pred(b)}},
		"metrics": []string{"oWaiting", "oOnQueueUsers"},
	})
	if st != 200 {
		t.Fatalf("observations: got %d %v", st, got)
	}
	want := map[string]any{"results": []any{
		map[string]any{"group": map[string]any{"queueId": a}, "data": []any{
			map[string]any{"metric": "oWaiting", "stats": map[string]any{"count": 7.0}},
			map[string]any{"metric": "oOnQueueUsers", "stats": map[string]any{"count": 0.0}},
		}},
		map[string]any{"group": map[string]any{"queueId": b}, "data": []any{
			map[string]any{"metric": "oWaiting", "stats": map[string]any{"count": 0.0}},
			map[string]any{"metric": "oOnQueueUsers", "stats": map[string]any{"count": 3.0}},
		}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("observations (-want +got):\n%s", diff)
	}
	many := []any{}
	for i := range MaxObservationQueues + 1 {
		many = append(many, pred("q"+itoa(i%10)+string(rune('a'+i%26))+itoa(i/26)))
	}
	tests := []struct {
		name string
		body any
	}{
		{"101 predicates", map[string]any{"filter": map[string]any{"type": "or", "predicates": many}, "metrics": []string{"oWaiting"}}},
		{"unknown metric", map[string]any{"filter": map[string]any{"type": "or", "predicates": []any{pred(a)}}, "metrics": []string{"oBusy"}}},
		{"no filter", map[string]any{"metrics": []string{"oWaiting"}}},
		{"bad filter type", map[string]any{"filter": map[string]any{"type": "xor", "predicates": []any{pred(a)}}, "metrics": []string{"oWaiting"}}},
		{"no metrics", map[string]any{"filter": map[string]any{"type": "or", "predicates": []any{pred(a)}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, h, body := e.call(t, "POST", "/api/v2/analytics/queues/observations/query", tc.body)
			wantError(t, tc.name, st, h, body, 400, "bad.request")
		})
	}
	// Exactly the limit is fine, also in a nested clause.
	st, _, got = e.call(t, "POST", "/api/v2/analytics/queues/observations/query", map[string]any{
		"filter":  map[string]any{"type": "and", "clauses": []any{map[string]any{"type": "or", "predicates": many[:MaxObservationQueues]}}},
		"metrics": []string{"oWaiting"},
	})
	if st != 200 || len(got["results"].([]any)) != MaxObservationQueues {
		t.Errorf("100 predicates in a clause: got %d with %d results, want 200 with 100", st, len(asSlice(got["results"])))
	}
}

func TestCallCounters(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 3, Seed: 11})
	id := str(Generate(GenerateOptions{Queues: 3, Seed: 11}).Queues[0], "id")
	e.call(t, "GET", "/api/v2/routing/queues", nil)
	e.call(t, "GET", "/api/v2/routing/queues/"+id, nil)
	e.call(t, "GET", "/api/v2/routing/queues/nope", nil)
	e.callWith(t, "", "GET", "/api/v2/routing/skills", nil)
	e.token(t)
	want := map[string]int{
		"GET /api/v2/routing/queues":           1,
		"GET /api/v2/routing/queues/{queueId}": 2,
		"GET /api/v2/routing/skills":           1,
	}
	if diff := cmp.Diff(want, e.s.Calls()); diff != "" {
		t.Errorf("Calls (-want +got):\n%s", diff)
	}
	if got := e.s.TotalCalls(); got != 4 {
		t.Errorf("TotalCalls: got %d, want 4", got)
	}
	e.s.ResetCalls()
	if got := e.s.TotalCalls(); got != 0 || len(e.s.Calls()) != 0 {
		t.Errorf("after ResetCalls: got %d %v, want 0 and empty", got, e.s.Calls())
	}
}

// TestConcurrentPages fetches pages concurrently while writes happen (run with -race).
func TestConcurrentPages(t *testing.T) {
	e := newEnv(t, Options{RequestsPerMinute: -1}, GenerateOptions{Queues: 500, Skills: 50, Seed: 12})
	f := Generate(GenerateOptions{Queues: 500, Skills: 50, Seed: 12})
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for p := 1; p <= 10; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, _, body := e.call(t, "GET", "/api/v2/routing/queues"+q("pageSize", "50", "pageNumber", itoa(p)), nil)
			if st != 200 || len(entities(t, body)) != 50 {
				errs <- "page " + itoa(p) + " failed"
			}
		}()
	}
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := str(f.Queues[i], "id")
			if err := e.s.EditQueue(id, func(q map[string]any) { q["description"] = "edited " + itoa(i) }); err != nil {
				errs <- err.Error()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestOutOfBandEdits(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 3, Worktypes: 2, Seed: 13})
	f := Generate(GenerateOptions{Queues: 3, Worktypes: 2, Seed: 13})
	id := str(f.Queues[0], "id")
	before, _ := e.s.Queue(id)
	e.clock.Advance(time.Minute)
	if err := e.s.EditQueue(id, func(q map[string]any) { q["skillEvaluationMethod"] = "NONE"; q["id"] = "hijack" }); err != nil {
		t.Fatal(err)
	}
	after, _ := e.s.Queue(id)
	if after["skillEvaluationMethod"] != "NONE" || after["id"] != id || after["modifiedBy"] != adminUserID ||
		after["dateModified"] != fmtTime(e.clock.Now()) || after["dateModified"] == before["dateModified"] {
		t.Errorf("EditQueue: got %v", after)
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"unknown queue", e.s.EditQueue("nope", func(map[string]any) {}), ErrNotFound},
		{"name clash", e.s.EditQueue(id, func(q map[string]any) { q["name"] = f.Queues[1]["name"] }), ErrNameTaken},
		{"empty name", e.s.EditQueue(id, func(q map[string]any) { q["name"] = "" }), ErrInvalid},
		{"unknown worktype", e.s.EditWorktype("nope", func(map[string]any) {}), ErrNotFound},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got error %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

// With Options.IDSeed, two simulators given the same creates give the same ids, and a
// name created again after a delete gets a new one; without it ids are random.
func TestIDSeed(t *testing.T) {
	create := func(opts Options) (skill, queue, again string) {
		e := newEnv(t, opts, GenerateOptions{})
		_, _, s := e.call(t, "POST", "/api/v2/routing/skills", map[string]any{"name": "Seeded Skill"})
		_, _, q := e.call(t, "POST", "/api/v2/routing/queues", map[string]any{"name": "Seeded Queue"})
		if code, _, body := e.call(t, "DELETE", "/api/v2/routing/queues/"+str(q, "id"), nil); code/100 != 2 {
			t.Fatalf("delete queue: %d %v", code, body)
		}
		_, _, q2 := e.call(t, "POST", "/api/v2/routing/queues", map[string]any{"name": "Seeded Queue"})
		return str(s, "id"), str(q, "id"), str(q2, "id")
	}
	s1, q1, a1 := create(Options{IDSeed: "x"})
	s2, q2, a2 := create(Options{IDSeed: "x"})
	if s1 == "" || q1 == "" || s1 != s2 || q1 != q2 || a1 != a2 {
		t.Errorf("same seed: skill %s/%s, queue %s/%s, re-created queue %s/%s; want equal pairs", s1, s2, q1, q2, a1, a2)
	}
	if a1 == q1 {
		t.Errorf("a queue created again after its delete got the deleted queue's id %s", a1)
	}
	if s3, q3, _ := create(Options{IDSeed: "y"}); s3 == s1 || q3 == q1 {
		t.Error("another seed gave the same ids")
	}
	if s4, _, _ := create(Options{}); s4 == s1 {
		t.Error("no seed gave the seeded id")
	}
}
