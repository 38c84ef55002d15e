package stack

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
)

func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }

// startStack starts a stack on the test binary's shared moto, stopped when t ends.
func startStack(t testing.TB) *Stack {
	t.Helper()
	cfg, res := awslocal.ForTest(t)
	return startWith(t, Options{AWS: &cfg, Resources: res})
}

// startWith starts a stack with opts, stopped when t ends.
func startWith(t testing.TB, opts Options) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

// The seeded org differs from the example config in exactly the three documented ways, so
// `routekeeper plan` on a fresh stack shows a small readable plan and applies cleanly.
func TestSeededOrgPlansTheDocumentedChanges(t *testing.T) {
	s := startStack(t)
	_, live, plan, err := s.PlanExample(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	type change struct {
		Kind, Name, Action string
		Fields             []string
	}
	var got []change
	for _, c := range plan.Changes {
		ch := change{Kind: string(c.Kind), Name: c.Name, Action: string(c.Action)}
		for _, d := range c.Differences {
			ch.Fields = append(ch.Fields, d.Path)
		}
		slices.Sort(ch.Fields)
		got = append(got, ch)
	}
	want := []change{
		{Kind: "skill", Name: MissingSkill, Action: "create", Fields: []string{"name"}},
		{Kind: "queue", Name: ChangedQueue, Action: "update", Fields: []string{"acwSettings.wrapupPrompt", "description"}},
		{Kind: "worktype", Name: ChangedWorktype, Action: "update", Fields: []string{"defaultPriority"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan of %s against the seeded org (-want +got):\n%s\nwarnings: %v", ExampleConfig, diff, live.Warnings)
	}
	if len(plan.Unmanaged) == 0 {
		t.Errorf("seeded org has no unmanaged entities; want a generated background besides the config's entities")
	}
	// Genesys returns a worktype's defaultLanguage as {id, selfUri}; the languages list names it.
	if w := live.Worktypes["Motor Claim"]; w == nil || w.Canonical["defaultLanguage"] != "English" {
		t.Errorf("live worktype Motor Claim: got %+v, want defaultLanguage English", w)
	}
	for _, w := range live.Warnings {
		if strings.Contains(w, "language") {
			t.Errorf("warning about a language: %s", w)
		}
	}
}
