package drift_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/routing"
)

func TestCompareSnapshotsLocations(t *testing.T) {
	parse := func(name, text string) *drift.Side {
		t.Helper()
		cfg, err := routing.Parse(name, []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		s, err := configSide(t, name, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	left := parse("dev.yaml", "apiVersion: routekeeper/v1\n"+
		"skills:\n"+
		"  - name: English\n"+ // 3
		"queues:\n"+
		"  - name: Claims\n"+ // 5
		"    enableTranscription: true\n") // 6
	right := parse("prod.yaml", "apiVersion: routekeeper/v1\n"+
		"queues:\n"+
		"  - name: claims\n"+ // 3
		"    enableTranscription: false\n"+ // 4
		"  - name: Billing\n") // 5
	r := drift.Compare(left, right, drift.CompareOptions{OnlyDeclared: false})
	type loc struct{ Kind, Name, Path, Left, Right string }
	var got []loc
	str := func(l *drift.Location) string {
		if l == nil {
			return ""
		}
		return l.String()
	}
	for _, e := range r.Entities {
		got = append(got, loc{string(e.Kind), e.Name, "", str(e.LeftAt), str(e.RightAt)})
		for _, d := range e.Differences {
			got = append(got, loc{string(e.Kind), e.Name, d.Path, str(d.LeftAt), str(d.RightAt)})
		}
	}
	want := []loc{
		{"skill", "English", "", "dev.yaml:3", ""},
		{"queue", "Billing", "", "", "prod.yaml:5"},
		{"queue", "Claims", "", "dev.yaml:5", "prod.yaml:3"},
		{"queue", "Claims", "enableTranscription", "dev.yaml:6", "prod.yaml:4"},
		{"queue", "Claims", "name", "dev.yaml:5", "prod.yaml:3"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("locations (-want +got):\n%s", diff)
	}
}
