package entity_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/entity"
)

func TestKinds(t *testing.T) {
	for _, tc := range []struct {
		kind    entity.Kind
		managed bool
		order   int
	}{
		{entity.Skill, true, 0}, {entity.Queue, true, 1}, {entity.Worktype, true, 2},
		{entity.Division, false, 3}, {entity.Workbin, false, 3}, {entity.Language, false, 3}, {entity.Group, false, 3}, {"", false, 3},
	} {
		if got := tc.kind.Managed(); got != tc.managed {
			t.Errorf("%q.Managed() = %v, want %v", tc.kind, got, tc.managed)
		}
		if got := tc.kind.Order(); got != tc.order {
			t.Errorf("%q.Order() = %d, want %d", tc.kind, got, tc.order)
		}
		k, err := entity.ParseKind(string(tc.kind))
		if tc.managed && (err != nil || k != tc.kind) {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", tc.kind, k, err, tc.kind)
		}
		if !tc.managed && err == nil {
			t.Errorf("ParseKind(%q) accepted a kind routekeeper does not manage", tc.kind)
		}
	}
}

func TestKeyString(t *testing.T) {
	k := entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Claims / Tasks #1"}
	if got, want := k.String(), "prod/queue/Claims / Tasks #1"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestIsIDReference(t *testing.T) {
	for name, want := range map[string]bool{"id:3f1c": true, "id:": false, "Id:3f1c": false, "Claims": false, "": false} {
		if got := entity.IsIDReference(name); got != want {
			t.Errorf("IsIDReference(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSortDocs(t *testing.T) {
	docs := []entity.Doc{
		{Kind: entity.Worktype, Name: "A"}, {Kind: entity.Queue, Name: "B"}, {Kind: entity.Skill, Name: "Z"},
		{Kind: entity.Queue, Name: "A", ID: "2"}, {Kind: entity.Queue, Name: "A", ID: "1"}, {Kind: entity.Skill, Name: "M"},
	}
	entity.SortDocs(docs)
	var got []string
	for _, d := range docs {
		got = append(got, string(d.Kind)+"/"+d.Name+"/"+d.ID)
	}
	want := []string{"skill/M/", "skill/Z/", "queue/A/1", "queue/A/2", "queue/B/", "worktype/A/"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SortDocs order (-want +got):\n%s", diff)
	}
}
