package live_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
)

func TestNamesIDIgnoresCase(t *testing.T) {
	n := live.NewNames(nil, nil, nil, nil)
	n.Add(entity.Language, "l-1", "English")
	n.Add(entity.Skill, "s-1", "Claims")
	n.Add(entity.Skill, "s-2", "claims") // against Genesys's rule: both exist
	n.Add(entity.Skill, "s-3", "Billing")
	n.Add(entity.Skill, "s-4", "BILLING")
	tests := []struct {
		kind      entity.Kind
		name      string
		wantID    string
		wantOK    bool
		wantAmbig []string
	}{
		{kind: entity.Language, name: "English", wantID: "l-1", wantOK: true},
		{kind: entity.Language, name: "english", wantID: "l-1", wantOK: true},
		{kind: entity.Language, name: "ENGLISH", wantID: "l-1", wantOK: true},
		{kind: entity.Language, name: "Englis", wantOK: false},
		{kind: entity.Skill, name: "english", wantOK: false}, // other kind
		{kind: entity.Skill, name: "claims", wantID: "s-2", wantOK: true},
		{kind: entity.Skill, name: "Claims", wantID: "s-1", wantOK: true},
		{kind: entity.Skill, name: "CLAIMS", wantOK: false, wantAmbig: []string{"Claims", "claims"}},
		{kind: entity.Skill, name: "billing", wantOK: false, wantAmbig: []string{"Billing", "BILLING"}},
	}
	for _, tc := range tests {
		id, ok := n.ID(tc.kind, tc.name)
		if id != tc.wantID || ok != tc.wantOK {
			t.Errorf("ID(%s, %q): got %q, %v; want %q, %v", tc.kind, tc.name, id, ok, tc.wantID, tc.wantOK)
		}
		if diff := cmp.Diff(tc.wantAmbig, n.Ambiguous(tc.kind, tc.name)); diff != "" {
			t.Errorf("Ambiguous(%s, %q) (-want +got):\n%s", tc.kind, tc.name, diff)
		}
	}

	// An ambiguous reference fails the request body with an error naming the candidates.
	_, err := live.WorktypePatch(map[string]any{"defaultSkills": []any{"billing"}}, n)
	var re *live.ReferenceError
	if !errors.As(err, &re) || !errors.Is(err, live.ErrUnresolved) {
		t.Fatalf("WorktypePatch with ambiguous skill billing: got %v, want a *ReferenceError", err)
	}
	for _, want := range []string{`skill "billing" matches 2 names`, `"Billing", "BILLING"`, "write the name exactly"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// One case-insensitive match resolves to its id.
	body, err := live.WorktypePatch(map[string]any{"defaultLanguage": "english"}, n)
	if err != nil || !cmp.Equal(body["defaultLanguageId"], "l-1") && !cmp.Equal(body["defaultLanguage"], map[string]any{"id": "l-1"}) {
		t.Errorf("WorktypePatch defaultLanguage english: got %v (%v), want the id l-1", body, err)
	}
}
