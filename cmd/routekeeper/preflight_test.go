package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
)

// preflightConfig references, besides what it declares, a division, a workbin, a routing
// language and a team the generated org does not have; the skill and queue it references
// it creates itself. Line numbers matter: the test checks them.
const preflightConfig = `apiVersion: routekeeper/v1
environment: dev
skills:
  - name: Preflight Skill
queues:
  - name: Preflight Queue
    division: Claims Division
    bullseye:
      rings:
        - actions: {skillsToRemove: [Preflight Skill]}
    conditionalGroupRouting:
      rules:
        - metric: EstimatedWaitTime
          operator: GreaterThan
          conditionValue: 60
          waitSeconds: 2
          groups: [{name: Claims Team, type: TEAM}]
worktypes:
  - name: Preflight Worktype
    defaultWorkbin: Missing Bin
    defaultLanguage: Klingon
assignmentRules:
  - name: preflight
    worktype: Preflight Worktype
    queue: Preflight Queue
    skills: [Preflight Skill]
`

// TestPlanAndApplyResolveReferences: plan resolves every reference against the live org
// and reports, as file:line:column, each one apply would refuse (exit 1, the JSON plan
// listing them); apply runs the same check and writes nothing. References to what the
// plan itself creates resolve.
func TestPlanAndApplyResolveReferences(t *testing.T) {
	clearGenesysEnv(t)
	t.Setenv("TABLE_NAME", "")
	s := startOrg(t, "", applyOrg)
	path := writeConfig(t, "dev.yaml", preflightConfig)

	code, stdout, stderr := execute(t, "plan", "-f", path)
	if code != planExitError {
		t.Fatalf("plan: exit %d, want %d\n%s%s", code, planExitError, stdout, stderr)
	}
	for _, want := range []string{
		path + `:7:5: queue "Preflight Queue": division: division "Claims Division" does not exist in the org: routekeeper never creates a division`,
		path + `:17:20: queue "Preflight Queue": conditionalGroupRouting.rules[0].groups[0]: member group "Claims Team" (TEAM) is not one of the groups this queue routes to`,
		path + `:20:5: worktype "Preflight Worktype": defaultWorkbin: workbin "Missing Bin" does not exist in the org`,
		path + `:21:5: worktype "Preflight Worktype": defaultLanguage: language "Klingon" does not exist in the org`,
		"4 problems that apply would refuse",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("plan stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "Preflight Skill") {
		t.Errorf("plan reports the skill it creates itself as unresolved:\n%s", stderr)
	}
	if strings.Contains(stderr, "re-run") || strings.Contains(stderr, "retry") {
		t.Errorf("plan advises a retry that cannot help:\n%s", stderr)
	}

	code, stdout, _ = execute(t, "plan", "-f", path, "--format", "json")
	var out struct {
		Problems []problemView `json:"problems"`
		Summary  struct{ Create int }
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != planExitError {
		t.Fatalf("plan --format json: exit %d, %v:\n%s", code, err, stdout)
	}
	if len(out.Problems) != 4 || out.Summary.Create != 3 || out.Problems[1].Line != 7 || out.Problems[1].Ref != "Claims Division" {
		t.Errorf("JSON plan: %d problems (second %+v), %d creates; want 4 problems, the second at line 7, and 3 creates", len(out.Problems), out.Problems[1], out.Summary.Create)
	}

	s.ResetCalls()
	code, stdout, stderr = execute(t, "apply", "--auto-approve", "-f", path, "--direct")
	if code != applyExitError || !strings.Contains(stderr, "nothing was sent") || !strings.Contains(stderr, path+":7:5:") {
		t.Errorf("apply --direct: exit %d, want %d with the problems and nothing sent\n%s%s", code, applyExitError, stdout, stderr)
	}
	if _, ok := s.IDByName("skill", "Preflight Skill"); ok {
		t.Errorf("apply created the skill although the plan cannot be applied whole")
	}
	for route := range s.Calls() {
		if !strings.HasPrefix(route, "GET ") && !strings.HasSuffix(route, "/query") {
			t.Errorf("apply called %s; want reads only", route)
		}
	}

	// The same config with references the org has: nothing to refuse.
	fixed := strings.NewReplacer("Claims Division", "Home", "Missing Bin", firstWorkbin(t), "    defaultLanguage: Klingon\n", "",
		"          groups: [{name: Claims Team, type: TEAM}]\n", "").Replace(preflightConfig)
	if err := os.WriteFile(path, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := execute(t, "plan", "-f", path); code != planExitChanges {
		t.Errorf("plan of the fixed config: exit %d, want %d\n%s%s", code, planExitChanges, stdout, stderr)
	}
}

// firstWorkbin is the name of a workbin of the org the Genesys variables point at.
func firstWorkbin(t *testing.T) string {
	t.Helper()
	_, cfg := exportTo(t)
	return cfg.Workbins[0]
}

// refusingGenesys stands in front of the simulator as Genesys would answer: a 400 for a
// queue create (a value Genesys refuses), and a 429 asking to wait ten minutes for a
// queue update.
func refusingGenesys(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/v2/routing/queues":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"message":"The queue name is reserved","code":"bad.request","status":400}`))
		case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/api/v2/routing/queues/"):
			w.Header().Set("Retry-After", "600")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message":"Rate limit exceeded","code":"too.many.requests","status":429}`))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// TestApplyDirectRejectedExitsConflict: under --direct a REJECTED change exits 3, as
// documented, even when a later change is left unapplied by a failure that may pass; the
// advice to re-run says when it can help.
func TestApplyDirectRejectedExitsConflict(t *testing.T) {
	clearGenesysEnv(t)
	t.Setenv("TABLE_NAME", "")
	startOrgVia(t, "", applyOrg, refusingGenesys)
	path, cfg := exportEnv(t, "dev")
	desc := "updated"
	cfg.Queues[0].Description = &desc
	b := []byte(strings.Replace(string(mustMarshal(t, cfg)), "queues:\n", "queues:\n  - name: \"0 Refused Queue\"\n", 1))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := execute(t, "apply", "--auto-approve", "-f", path, "--direct")
	if code != applyExitConflict {
		t.Fatalf("apply --direct: exit %d, want %d (REJECTED)\n%s%s", code, applyExitConflict, stdout, stderr)
	}
	for _, want := range []string{"1 REJECTED, 1 NOT_APPLIED", "Genesys asked to wait 10m0s: re-run apply after that"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "The queue name is reserved") {
		t.Errorf("stdout does not say why the create was rejected:\n%s", stdout)
	}
}
