package sim

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWorktypeCreate(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 4, Skills: 25, Worktypes: 2, Workbins: 2, Seed: 20})
	f := Generate(GenerateOptions{Queues: 4, Skills: 25, Worktypes: 2, Workbins: 2, Seed: 20})
	bin, queue := str(f.Workbins[0], "id"), f.Queues[0]
	skills := []string{str(f.Skills[0], "id"), str(f.Skills[1], "id")}
	lang := str(f.Languages[1], "id")
	st, _, wt := e.call(t, "POST", "/api/v2/taskmanagement/worktypes", map[string]any{
		"name": "Claims Tasks New", "defaultWorkbinId": bin, "defaultQueueId": str(queue, "id"),
		"defaultSkillIds": skills, "defaultPriority": 12_500_000, "description": "New claims",
		"defaultLanguageId": lang,
	})
	if st != 200 {
		t.Fatalf("POST worktype: got %d %v", st, wt)
	}
	id := wt["id"].(string)
	want := map[string]any{
		"defaultQueue":   map[string]any{"id": str(queue, "id"), "name": str(queue, "name"), "selfUri": "/api/v2/routing/queues/" + str(queue, "id")},
		"defaultWorkbin": map[string]any{"id": bin, "selfUri": "/api/v2/taskmanagement/workbins/" + bin},
		"defaultSkills": []any{
			map[string]any{"id": skills[0], "selfUri": "/api/v2/routing/skills/" + skills[0]},
			map[string]any{"id": skills[1], "selfUri": "/api/v2/routing/skills/" + skills[1]},
		},
		"defaultPriority": 12_500_000.0,
		"defaultLanguage": map[string]any{"id": lang, "selfUri": "/api/v2/routing/languages/" + lang},
		"selfUri":         "/api/v2/taskmanagement/worktypes/" + id,
	}
	for k, w := range want {
		if diff := cmp.Diff(w, wt[k]); diff != "" {
			t.Errorf("created %s (-want +got):\n%s", k, diff)
		}
	}
	if d := obj(wt, "division"); d["name"] != "Home" || d["selfUri"] == nil {
		t.Errorf("created division: got %v, want Home {id,name,selfUri}", d)
	}
	if mb := obj(wt, "modifiedBy"); mb["id"] != userIDFor(DefaultClientID) {
		t.Errorf("modifiedBy: got %v", mb)
	}

	tooMany := make([]string, 21)
	for i := range tooMany {
		tooMany[i] = str(f.Skills[i], "id")
	}
	tests := []struct {
		name       string
		body       map[string]any
		wantStatus int
		wantCode   string
	}{
		{"missing name", map[string]any{"defaultWorkbinId": bin}, 400, "bad.request"},
		{"missing workbin", map[string]any{"name": "No Bin Tasks"}, 400, "bad.request"},
		{"unknown workbin", map[string]any{"name": "Bad Bin Tasks", "defaultWorkbinId": "nope"}, 400, "bad.request"},
		{"unknown key", map[string]any{"name": "Odd Tasks", "defaultWorkbinId": bin, "colour": "red"}, 400, "bad.request"},
		{"short name", map[string]any{"name": "ab", "defaultWorkbinId": bin}, 400, "bad.request"},
		{"priority out of range", map[string]any{"name": "Hot Tasks", "defaultWorkbinId": bin, "defaultPriority": 25_000_001}, 400, "bad.request"},
		{"21 skills", map[string]any{"name": "Skilled Tasks", "defaultWorkbinId": bin, "defaultSkillIds": tooMany}, 400, "bad.request"},
		{"unknown queue", map[string]any{"name": "Lost Tasks", "defaultWorkbinId": bin, "defaultQueueId": "nope"}, 400, "bad.request"},
		{"unknown language", map[string]any{"name": "Mute Tasks", "defaultWorkbinId": bin, "defaultLanguageId": "nope"}, 400, "bad.request"},
		{"language by name", map[string]any{"name": "Named Tasks", "defaultWorkbinId": bin, "defaultLanguageId": "English"}, 400, "bad.request"},
		{"duplicate name", map[string]any{"name": "claims tasks new", "defaultWorkbinId": bin}, 409, "general.conflict"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, h, body := e.call(t, "POST", "/api/v2/taskmanagement/worktypes", tc.body)
			wantError(t, tc.name, st, h, body, tc.wantStatus, tc.wantCode)
		})
	}
}

func TestWorktypePatch(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 6, Skills: 6, Worktypes: 3, Seed: 21})
	f := Generate(GenerateOptions{Queues: 6, Skills: 6, Worktypes: 3, Seed: 21})
	var wt0 map[string]any
	for _, w := range f.Worktypes {
		if w["defaultQueue"] != nil {
			wt0 = w
			break
		}
	}
	id := str(wt0, "id")
	path := "/api/v2/taskmanagement/worktypes/" + id
	_, _, before := e.call(t, "GET", path, nil)

	st, _, after := e.call(t, "PATCH", path, map[string]any{"defaultPriority": 100})
	if st != 200 {
		t.Fatalf("PATCH: got %d %v", st, after)
	}
	want := normObj(before)
	want["defaultPriority"] = 100.0
	want["dateModified"] = after["dateModified"]
	want["modifiedBy"] = map[string]any{"id": userIDFor(DefaultClientID), "selfUri": "/api/v2/users/" + userIDFor(DefaultClientID)}
	if diff := cmp.Diff(want, after); diff != "" {
		t.Errorf("PATCH defaultPriority (-want +got):\n%s", diff)
	}
	if !(after["dateModified"].(string) > before["dateModified"].(string)) {
		t.Errorf("PATCH: dateModified %v did not move past %v", after["dateModified"], before["dateModified"])
	}

	st, _, cleared := e.call(t, "PATCH", path, `{"defaultQueueId": null, "description": null}`)
	if st != 200 || cleared["defaultQueue"] != nil || cleared["description"] != nil || cleared["defaultPriority"] != 100.0 {
		t.Errorf("PATCH with nulls: got %d %v, want defaultQueue and description cleared, priority kept", st, cleared)
	}
	english, _ := e.s.IDByName("language", "English")
	st, _, withLang := e.call(t, "PATCH", path, map[string]any{"defaultLanguageId": english})
	if want := (map[string]any{"id": english, "selfUri": "/api/v2/routing/languages/" + english}); st != 200 || !cmp.Equal(want, withLang["defaultLanguage"]) {
		t.Errorf("PATCH defaultLanguageId: got %d %v, want %v", st, withLang["defaultLanguage"], want)
	}
	if st, _, got := e.call(t, "PATCH", path, `{"defaultLanguageId": null}`); st != 200 || got["defaultLanguage"] != nil {
		t.Errorf("PATCH defaultLanguageId null: got %d %v, want it cleared", st, got["defaultLanguage"])
	}
	statusID := str(asSlice(wt0["statuses"])[1].(map[string]any), "id")
	if st, _, got := e.call(t, "PATCH", path, map[string]any{"defaultStatusId": statusID}); st != 200 || str(obj(got, "defaultStatus"), "id") != statusID {
		t.Errorf("PATCH defaultStatusId: got %d %v", st, got["defaultStatus"])
	}

	other := str(f.Worktypes[1], "name")
	if str(f.Worktypes[1], "id") == id {
		other = str(f.Worktypes[0], "name")
	}
	tests := []struct {
		name       string
		body       any
		wantStatus int
		wantCode   string
	}{
		{"unknown key", map[string]any{"defaultPriority": 1, "priority": 2}, 400, "bad.request"},
		{"divisionId is create-only", map[string]any{"divisionId": "x"}, 400, "bad.request"},
		{"null name", `{"name": null}`, 400, "bad.request"},
		{"null workbin", `{"defaultWorkbinId": null}`, 400, "bad.request"},
		{"unknown status", map[string]any{"defaultStatusId": "nope"}, 400, "bad.request"},
		{"unknown language", map[string]any{"defaultLanguageId": "nope"}, 400, "bad.request"},
		{"language not a string", map[string]any{"defaultLanguageId": 7}, 400, "bad.request"},
		{"ttl too short", map[string]any{"defaultTtlSeconds": 60}, 400, "bad.request"},
		{"name taken", map[string]any{"name": other}, 409, "general.conflict"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, h, body := e.call(t, "PATCH", path, tc.body)
			wantError(t, tc.name, st, h, body, tc.wantStatus, tc.wantCode)
		})
	}
	st, h, body := e.call(t, "PATCH", "/api/v2/taskmanagement/worktypes/nope", map[string]any{"defaultPriority": 1})
	wantError(t, "PATCH unknown", st, h, body, 404, "not.found")
}

func TestWorktypeQueueNameFollowsRename(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 3, Worktypes: 1, Seed: 22})
	f := Generate(GenerateOptions{Queues: 3, Worktypes: 1, Seed: 22})
	wt := f.Worktypes[0]
	qid := str(obj(wt, "defaultQueue"), "id")
	if err := e.s.EditQueue(qid, func(q map[string]any) { q["name"] = "Renamed Queue" }); err != nil {
		t.Fatal(err)
	}
	_, _, got := e.call(t, "GET", "/api/v2/taskmanagement/worktypes/"+str(wt, "id"), nil)
	if n := obj(got, "defaultQueue")["name"]; n != "Renamed Queue" {
		t.Errorf("defaultQueue.name after queue rename: got %v, want Renamed Queue", n)
	}
}

func TestWorktypeDelete(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 1, Worktypes: 2, Seed: 23})
	id := str(Generate(GenerateOptions{Queues: 1, Worktypes: 2, Seed: 23}).Worktypes[0], "id")
	if st, _, body := e.call(t, "DELETE", "/api/v2/taskmanagement/worktypes/"+id, nil); st != 204 {
		t.Fatalf("DELETE: got %d %v, want 204", st, body)
	}
	for _, m := range []string{"GET", "DELETE"} {
		st, h, body := e.call(t, m, "/api/v2/taskmanagement/worktypes/"+id, nil)
		wantError(t, m+" deleted worktype", st, h, body, 404, "not.found")
	}
}

func TestWorktypeQueryPaging(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 10, Worktypes: 45, Seed: 24})
	f := Generate(GenerateOptions{Queues: 10, Worktypes: 45, Seed: 24})
	var names []string
	after := ""
	for pages := 0; ; pages++ {
		body := map[string]any{"pageSize": 20}
		if after != "" {
			body["after"] = after
		}
		st, _, got := e.call(t, "POST", "/api/v2/taskmanagement/worktypes/query", body)
		if st != 200 || got["selfUri"] != "/api/v2/taskmanagement/worktypes/query" {
			t.Fatalf("query page %d: got %d %v", pages, st, got)
		}
		for _, w := range entities(t, got) {
			names = append(names, strings.ToLower(w["name"].(string)))
			if w["defaultWorkbin"] == nil || w["division"] == nil {
				t.Errorf("query entity lacks expanded references: %v", w)
			}
		}
		a, more := got["after"].(string)
		if !more {
			break
		}
		if pages > 5 {
			t.Fatal("query never ended")
		}
		after = a
	}
	if len(names) != 45 || !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != 45 {
		t.Errorf("paged %d names (sorted %v), want 45 unique sorted", len(names), slices.IsSorted(names))
	}
	target := f.Worktypes[7]
	tests := []struct {
		name      string
		body      any
		wantCount int
		wantFirst string
	}{
		{"name EQ", map[string]any{"filters": []any{map[string]any{"name": "name", "type": "String", "operator": "EQ", "values": []string{str(target, "name")}}}}, 1, str(target, "id")},
		{"id IN", map[string]any{"filters": []any{map[string]any{"name": "id", "type": "String", "operator": "IN", "values": []string{str(target, "id"), str(f.Worktypes[8], "id")}}}}, 2, ""},
		{"count", map[string]any{"select": "Count"}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, _, got := e.call(t, "POST", "/api/v2/taskmanagement/worktypes/query", tc.body)
			if st != 200 {
				t.Fatalf("got %d %v", st, got)
			}
			if tc.name == "count" {
				if got["count"] != 45.0 {
					t.Errorf("select Count: got count %v, want 45", got["count"])
				}
				return
			}
			ents := entities(t, got)
			if len(ents) != tc.wantCount || (tc.wantFirst != "" && ents[0]["id"] != tc.wantFirst) {
				t.Errorf("got %d entities %v, want %d (first %s)", len(ents), ents, tc.wantCount, tc.wantFirst)
			}
		})
	}
	st, _, got := e.call(t, "POST", "/api/v2/taskmanagement/worktypes/query", map[string]any{"pageSize": 200, "sort": map[string]any{"name": "dateModified", "ascending": false}})
	var dates []string
	for _, w := range entities(t, got) {
		dates = append(dates, w["dateModified"].(string))
	}
	if st != 200 || len(dates) != 45 || !slices.IsSortedFunc(dates, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("sort dateModified descending: got %d, %d entities, sorted=%v", st, len(dates), slices.IsSorted(dates))
	}
	for name, body := range map[string]any{
		"page size 201":   map[string]any{"pageSize": 201},
		"bad cursor":      map[string]any{"after": "!!"},
		"unknown filter":  map[string]any{"filters": []any{map[string]any{"name": "colour", "operator": "EQ", "values": []string{"x"}}}},
		"bad operator":    map[string]any{"filters": []any{map[string]any{"name": "name", "operator": "LIKE", "values": []string{"x"}}}},
		"no values":       map[string]any{"filters": []any{map[string]any{"name": "name", "operator": "EQ"}}},
		"bad select":      map[string]any{"select": "Everything"},
		"bad sort":        map[string]any{"sort": map[string]any{"name": "priority"}},
		"body not object": `[1,2]`,
	} {
		st, h, b := e.call(t, "POST", "/api/v2/taskmanagement/worktypes/query", body)
		wantError(t, name, st, h, b, 400, "bad.request")
	}
}

func TestWorkbins(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Worktypes: 20, Workbins: 6, Seed: 25})
	f := Generate(GenerateOptions{Worktypes: 20, Workbins: 6, Seed: 25})
	st, _, got := e.call(t, "POST", "/api/v2/taskmanagement/workbins/query", map[string]any{"pageSize": 4})
	if st != 200 || len(entities(t, got)) != 4 || got["after"] == nil {
		t.Fatalf("workbins query: got %d %v, want 4 entities and an after cursor", st, got)
	}
	st, _, got = e.call(t, "POST", "/api/v2/taskmanagement/workbins/query", map[string]any{"pageSize": 4, "after": got["after"]})
	if st != 200 || len(entities(t, got)) != 2 || got["after"] != nil {
		t.Errorf("workbins page 2: got %d %v, want the last 2 and no cursor", st, got)
	}
	id := str(f.Workbins[0], "id")
	if st, _, wb := e.call(t, "GET", "/api/v2/taskmanagement/workbins/"+id, nil); st != 200 || wb["name"] != f.Workbins[0]["name"] {
		t.Errorf("GET workbin: got %d %v", st, wb)
	}
	st, h, body := e.call(t, "GET", "/api/v2/taskmanagement/workbins/nope", nil)
	wantError(t, "GET unknown workbin", st, h, body, 404, "not.found")
}

func TestWorkitemsQuery(t *testing.T) {
	e := newEnv(t, Options{}, GenerateOptions{Queues: 5, Worktypes: 3, Seed: 26})
	f := Generate(GenerateOptions{Queues: 5, Worktypes: 3, Seed: 26})
	// The items' type is the first worktype by name whose defaultQueue is the queue.
	byName := slices.Clone(f.Worktypes)
	slices.SortFunc(byName, func(a, b map[string]any) int {
		return strings.Compare(strings.ToLower(str(a, "name")), strings.ToLower(str(b, "name")))
	})
	wt := byName[0]
	qid := str(obj(wt, "defaultQueue"), "id")
	var other string
	for _, q := range f.Queues {
		if str(q, "id") != qid {
			other = str(q, "id")
		}
	}
	e.s.SetWorkitemCount(qid, 250)
	e.s.SetWorkitemCount(other, 4)
	eq := func(name, v string) map[string]any {
		return map[string]any{"name": name, "type": "String", "operator": "EQ", "values": []string{v}}
	}
	count := func(filters ...any) any {
		st, _, got := e.call(t, "POST", "/api/v2/taskmanagement/workitems/query", map[string]any{"filters": filters, "select": "Count"})
		if st != 200 {
			t.Fatalf("count query %v: got %d %v", filters, st, got)
		}
		return got["count"]
	}
	tests := []struct {
		name    string
		filters []any
		want    float64
	}{
		{"queue", []any{eq("queueId", qid)}, 250},
		{"other queue", []any{eq("queueId", other)}, 4},
		{"queue and open", []any{eq("queueId", qid), eq("statusCategory", "Open")}, 250},
		{"queue and closed", []any{eq("queueId", qid), eq("statusCategory", "Closed")}, 0},
		{"type", []any{eq("typeId", str(wt, "id"))}, 250},
		{"assignee", []any{eq("assigneeId", "someone")}, 0},
	}
	for _, tc := range tests {
		if got := count(tc.filters...); got != tc.want {
			t.Errorf("%s: got count %v, want %v", tc.name, got, tc.want)
		}
	}
	var ids []string
	after := ""
	for range 3 {
		body := map[string]any{"filters": []any{eq("queueId", qid)}, "pageSize": 200}
		if after != "" {
			body["after"] = after
		}
		st, _, got := e.call(t, "POST", "/api/v2/taskmanagement/workitems/query", body)
		if st != 200 {
			t.Fatalf("list: %d %v", st, got)
		}
		for _, w := range entities(t, got) {
			ids = append(ids, w["id"].(string))
			if str(obj(w, "queue"), "id") != qid || str(obj(w, "type"), "id") != str(wt, "id") {
				t.Fatalf("workitem has wrong queue/type: %v", w)
			}
		}
		a, ok := got["after"].(string)
		if !ok {
			break
		}
		after = a
	}
	slices.Sort(ids)
	if len(ids) != 250 || len(slices.Compact(ids)) != 250 {
		t.Errorf("listed %d workitems, want 250 unique", len(ids))
	}
	for name, body := range map[string]any{
		"no filters":       map[string]any{"select": "Count"},
		"no EQ on key":     map[string]any{"filters": []any{eq("statusCategory", "Open")}},
		"NEQ only":         map[string]any{"filters": []any{map[string]any{"name": "queueId", "operator": "NEQ", "values": []string{qid}}}},
		"four filters":     map[string]any{"filters": []any{eq("queueId", qid), eq("typeId", "a"), eq("workbinId", "b"), eq("statusCategory", "Open")}},
		"unknown filter":   map[string]any{"filters": []any{eq("queueId", qid), eq("colour", "red")}},
		"page size 201":    map[string]any{"filters": []any{eq("queueId", qid)}, "pageSize": 201},
		"bad after cursor": map[string]any{"filters": []any{eq("queueId", qid)}, "after": "zz"},
	} {
		st, h, b := e.call(t, "POST", "/api/v2/taskmanagement/workitems/query", body)
		wantError(t, name, st, h, b, 400, "bad.request")
	}
}
