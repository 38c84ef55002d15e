package sim

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		name string
		o    GenerateOptions
		full bool // also check determinism, Load and PUT validation of every queue
	}{
		{"small", GenerateOptions{Queues: 12, Skills: 10, Worktypes: 5, Seed: 1}, true},
		{"medium", GenerateOptions{Queues: 400, Skills: 120, Worktypes: 40, Divisions: 6, Seed: 9}, true},
		{"benchmark size", GenerateOptions{Queues: 5000, Skills: 1000, Worktypes: 200, Seed: 2}, false},
		{"beyond the name lists", GenerateOptions{Queues: 10, Skills: 1400, Worktypes: 5, Workbins: 30, Divisions: 14, Seed: 3}, false},
		{"empty", GenerateOptions{Seed: 4}, true},
		{"no languages", GenerateOptions{Queues: 3, Worktypes: 4, Languages: -1, Seed: 6}, true},
		{"many languages", GenerateOptions{Worktypes: 30, Languages: 40, Seed: 10}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Generate(tc.o)
			wantBins := tc.o.Workbins
			if wantBins == 0 && tc.o.Worktypes > 0 {
				wantBins = max(1, (tc.o.Worktypes+4)/5)
			}
			wantDivs := tc.o.Divisions
			if wantDivs == 0 {
				wantDivs = 4
			}
			wantLangs := tc.o.Languages
			if wantLangs == 0 {
				wantLangs = 6
			}
			got := []int{len(f.Queues), len(f.Skills), len(f.Worktypes), len(f.Workbins), len(f.Divisions), len(f.Languages)}
			want := []int{tc.o.Queues, tc.o.Skills, tc.o.Worktypes, wantBins, wantDivs, max(wantLangs, 0)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("counts [queues skills worktypes workbins divisions languages] (-want +got):\n%s", diff)
			}
			if len(f.Languages) > 0 && f.Languages[0]["name"] != "English" {
				t.Errorf("first language: got %v, want English", f.Languages[0]["name"])
			}
			for kind, es := range map[string][]map[string]any{"queue": f.Queues, "skill": f.Skills, "worktype": f.Worktypes, "workbin": f.Workbins, "division": f.Divisions, "language": f.Languages} {
				seen := map[string]bool{}
				for _, e := range es {
					n := strings.ToLower(str(e, "name"))
					if n == "" || seen[n] {
						t.Fatalf("%s name %q is empty or not unique (case-insensitive)", kind, str(e, "name"))
					}
					seen[n] = true
				}
			}
			if !tc.full {
				return
			}
			first, _ := json.Marshal(f)
			second, _ := json.Marshal(Generate(tc.o))
			if !bytes.Equal(first, second) {
				t.Fatalf("Generate is not deterministic for %+v", tc.o)
			}
			s := New(Options{})
			if err := s.Load(f); err != nil {
				t.Fatalf("Load: %v", err)
			}
			for _, wt := range f.Worktypes {
				if _, ok := s.queues.get(str(obj(wt, "defaultQueue"), "id")); !ok && len(f.Queues) > 0 {
					t.Fatalf("worktype %s: defaultQueue %v is not a queue", str(wt, "name"), wt["defaultQueue"])
				}
				if _, ok := s.workbins.get(str(obj(wt, "defaultWorkbin"), "id")); !ok {
					t.Fatalf("worktype %s: defaultWorkbin %v is not a workbin", str(wt, "name"), wt["defaultWorkbin"])
				}
				if dl := obj(wt, "defaultLanguage"); dl != nil {
					if _, ok := s.languages.get(str(dl, "id")); !ok || len(dl) != 2 || dl["selfUri"] != "/api/v2/routing/languages/"+str(dl, "id") {
						t.Fatalf("worktype %s: defaultLanguage %v is not a {id, selfUri} reference to a language", str(wt, "name"), dl)
					}
				}
				for _, sk := range asSlice(wt["defaultSkills"]) {
					if _, ok := s.skills.get(str(sk.(map[string]any), "id")); !ok {
						t.Fatalf("worktype %s: skill %v does not exist", str(wt, "name"), sk)
					}
				}
			}
			for _, q := range f.Queues {
				if _, herr := s.buildQueue(normObj(q), q, caller{}); herr != nil {
					t.Fatalf("generated queue %s does not pass the PUT validation: %v", str(q, "name"), herr)
				}
			}
		})
	}
	a, b := Generate(GenerateOptions{Queues: 5, Seed: 1}), Generate(GenerateOptions{Queues: 5, Seed: 2})
	if cmp.Equal(a, b) {
		t.Errorf("seeds 1 and 2 generated the same org")
	}
}

func TestGenerateRealistic(t *testing.T) {
	f := Generate(GenerateOptions{Queues: 200, Skills: 50, Worktypes: 30, Seed: 5})
	var bullseye, timeouts int
	for _, q := range f.Queues {
		if q["bullseye"] != nil {
			bullseye++
		}
		if obj(q, "acwSettings")["timeoutMs"] != nil {
			timeouts++
		}
		ms := obj(q, "mediaSettings")
		if len(ms) != 5 || obj(obj(ms, "call"), "serviceLevel")["percentage"] == nil {
			t.Fatalf("queue %s mediaSettings: %v", str(q, "name"), ms)
		}
	}
	if bullseye == 0 || bullseye == len(f.Queues) || timeouts == 0 {
		t.Errorf("got %d/%d queues with bullseye and %d with ACW timeouts, want some but not all", bullseye, len(f.Queues), timeouts)
	}
	var withSkills, withPriority, withLanguage int
	for _, wt := range f.Worktypes {
		if wt["defaultLanguage"] != nil {
			withLanguage++
		}
		if len(asSlice(wt["defaultSkills"])) > 0 {
			withSkills++
		}
		if wt["defaultPriority"].(float64) > 0 {
			withPriority++
		}
		if !strings.Contains(str(wt, "name"), " ") || wt["defaultStatus"] == nil || len(asSlice(wt["statuses"])) != 4 {
			t.Errorf("worktype %v lacks a realistic name or statuses", str(wt, "name"))
		}
	}
	if withSkills == 0 || withPriority == 0 || withLanguage == 0 || withLanguage == len(f.Worktypes) {
		t.Errorf("got %d worktypes with skills, %d with priority and %d/%d with a language, want some (languages: not all)",
			withSkills, withPriority, withLanguage, len(f.Worktypes))
	}
	// Languages draw from their own random stream: every other entity is what the seed
	// generated before languages existed.
	none := Generate(GenerateOptions{Queues: 200, Skills: 50, Worktypes: 30, Languages: -1, Seed: 5})
	for _, wt := range f.Worktypes {
		delete(wt, "defaultLanguage")
	}
	f.Languages = nil
	if diff := cmp.Diff(normFixture(none), normFixture(f)); diff != "" {
		t.Errorf("languages changed the rest of the generated org (-without +with):\n%s", diff)
	}
}

func TestLoadFixtureFile(t *testing.T) {
	path := filepath.Join("..", "fixtures", "org.json")
	f, err := LoadFixture(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Queues) != 12 || len(f.Skills) != 10 || len(f.Worktypes) != 5 || len(f.Divisions) != 3 || len(f.Languages) != 6 {
		t.Fatalf("fixture counts: got %d queues %d skills %d worktypes %d divisions %d languages, want 12 10 5 3 6",
			len(f.Queues), len(f.Skills), len(f.Worktypes), len(f.Divisions), len(f.Languages))
	}
	if diff := cmp.Diff(normFixture(Generate(GenerateOptions{Queues: 12, Skills: 10, Worktypes: 5, Divisions: 3, Seed: 7})), normFixture(f)); diff != "" {
		t.Errorf("fixtures/org.json is not the seed-7 org; regenerate with go run ./infra/genesyssim --seed 7 --queues 12 --skills 10 --worktypes 5 --divisions 3 --write-fixture infra/genesyssim/fixtures/org.json (-generated +file):\n%s", diff)
	}
	s := New(Options{})
	if err := s.Load(f); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	e := &env{s: s, ts: ts}
	e.tok = e.token(t)
	if st, _, body := e.call(t, "GET", "/api/v2/routing/queues", nil); st != 200 || body["total"] != 12.0 {
		t.Errorf("GET queues from the fixture org: got %d total %v", st, body["total"])
	}
}

func normFixture(f Fixture) map[string]any {
	return normObj(map[string]any{"d": f.Divisions, "s": f.Skills, "l": f.Languages, "q": f.Queues, "b": f.Workbins, "w": f.Worktypes})
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		f    Fixture
	}{
		{"queue without id", Fixture{Queues: []map[string]any{{"name": "A"}}}},
		{"duplicate id", Fixture{Skills: []map[string]any{{"id": "1", "name": "A"}, {"id": "1", "name": "B"}}}},
		{"duplicate name", Fixture{Queues: []map[string]any{{"id": "1", "name": "Claims"}, {"id": "2", "name": "CLAIMS"}}}},
	}
	for _, tc := range tests {
		if err := New(Options{}).Load(tc.f); err == nil {
			t.Errorf("%s: got nil error, want one", tc.name)
		}
	}
	if _, err := LoadFixture(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Errorf("LoadFixture of a missing file: got nil error")
	}
}

func BenchmarkGenerateLoad(b *testing.B) {
	o := GenerateOptions{Queues: 5000, Skills: 1000, Worktypes: 200, Seed: 1}
	for b.Loop() {
		s := New(Options{})
		if err := s.Load(Generate(o)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListQueuesPage500(b *testing.B) {
	s := New(Options{RequestsPerMinute: -1})
	if err := s.Load(Generate(GenerateOptions{Queues: 5000, Seed: 1})); err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	e := &env{s: s, ts: ts}
	e.tok = e.token(b)
	pages := 0
	for b.Loop() {
		pages++
		st, _, body := e.call(b, "GET", "/api/v2/routing/queues"+q("pageSize", "500", "pageNumber", itoa(1+pages%10)), nil)
		if st != 200 || len(entities(b, body)) != 500 {
			b.Fatalf("got %d", st)
		}
	}
}
