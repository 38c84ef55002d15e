package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/drift"
)

// TestDriftReportFormatsAndExitCodes: a config published, the org scanned from the CLI
// (--scan), an admin's edit scanned again, then the stored report shown in every format,
// the history listed, and an incomplete scan; each with its exit status.
func TestDriftReportFormatsAndExitCodes(t *testing.T) {
	clearGenesysEnv(t)
	s := startOrg(t, "", applyOrg)
	startStack(t)
	t.Setenv("EVENT_BUS_NAME", "")
	path, cfg := exportEnv(t, "dev")
	if code, stdout, stderr := execute(t, "publish", "-f", path, "--version", "v1"); code != 0 {
		t.Fatalf("publish: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := execute(t, "drift", "--environment", "dev"); code != driftExitError || !strings.Contains(stderr, "no drift report of dev") {
		t.Errorf("drift before any scan: exit %d, %q; want 1 and a message", code, stderr)
	}
	code, stdout, stderr := execute(t, "drift", "--environment", "dev", "--scan")
	if code != driftExitInSync || !strings.Contains(stdout, "No drift: every declared entity read is as git declares it.") {
		t.Fatalf("drift --scan of an org as declared: exit %d\n%s%s", code, stdout, stderr)
	}

	q := cfg.Queues[1]
	qid, _ := s.IDByName("queue", q.Name)
	if err := s.EditQueue(qid, func(m map[string]any) { m["description"] = "edited | by *an* admin" }); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr = execute(t, "drift", "--environment", "dev", "--scan"); code != driftExitDrift {
		t.Fatalf("drift --scan after an edit: exit %d, want 2\n%s%s", code, stdout, stderr)
	}
	file, line, ok := cfg.Position("queue", q.Name, "description")
	if !ok {
		t.Fatalf("the config does not locate queue %q description", q.Name)
	}
	at := file + ":" + itoa(line)

	t.Run("text", func(t *testing.T) {
		code, stdout, _ := execute(t, "drift", "--environment", "dev", "-f", path)
		want := []string{"Drift report of dev, scanned ", "(complete)", `~ queue "` + q.Name + `" (id ` + qid + `) MODIFIED since `,
			`~ description: "` + *q.Description + `" -> "edited | by *an* admin"  (` + at + ")", "# Genesys says last modified at ", " by user ",
			"Drift: 1 modified, 0 missing, 0 unmanaged, "}
		for _, w := range want {
			if code != driftExitDrift || !strings.Contains(stdout, w) {
				t.Errorf("exit %d, text lacks %q:\n%s", code, w, stdout)
			}
		}
	})
	t.Run("markdown", func(t *testing.T) {
		code, stdout, _ := execute(t, "drift", "--environment", "dev", "--format", "markdown", "-f", path)
		for _, w := range []string{"### routekeeper drift: dev", "| queue | " + mdText(q.Name) + " | MODIFIED | 1 | Genesys says last modified",
			"| `description` | `\"" + *q.Description + "\"` | `\"edited \\| by *an* admin\"` | `" + at + "` |", "<details>"} {
			if code != driftExitDrift || !strings.Contains(stdout, w) {
				t.Errorf("exit %d, markdown lacks %q:\n%s", code, w, stdout)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		code, stdout, _ := execute(t, "drift", "--environment", "dev", "--format", "json")
		var r drift.ScanReport
		if err := json.Unmarshal([]byte(stdout), &r); err != nil || code != driftExitDrift {
			t.Fatalf("exit %d, json %v:\n%s", code, err, stdout)
		}
		if r.Schema != drift.ScanReportSchema || r.Summary.Schema != drift.ScanSchema || r.Summary.Entities.Modified != 1 ||
			len(r.Entities) != 1 || r.Entities[0].Differences[0].Path != "description" || r.Entities[0].LastKnown == nil || !r.Entities[0].LastKnown.Changed {
			t.Errorf("report %+v; want %s with the one modified queue, changed since its last observation", r, drift.ScanReportSchema)
		}
	})
	t.Run("sarif", func(t *testing.T) {
		code, stdout, _ := execute(t, "drift", "--environment", "dev", "--format", "sarif", "-f", path)
		var log struct {
			Runs []struct {
				Results []struct {
					RuleID    string `json:"ruleId"`
					Message   struct{ Text string }
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
							Region           struct{ StartLine int }
						}
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(stdout), &log); err != nil || code != driftExitDrift || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 {
			t.Fatalf("exit %d, sarif %v: want one result\n%s", code, err, stdout)
		}
		res := log.Runs[0].Results[0]
		if res.RuleID != "drift-field-modified" || !strings.Contains(res.Message.Text, q.Name) || len(res.Locations) != 1 ||
			res.Locations[0].PhysicalLocation.Region.StartLine != line || !strings.HasSuffix(res.Locations[0].PhysicalLocation.ArtifactLocation.URI, "dev.yaml") {
			t.Errorf("result %+v; want drift-field-modified at %s", res, at)
		}
	})
	t.Run("history", func(t *testing.T) {
		code, stdout, stderr := execute(t, "drift", "--environment", "dev", "--history")
		if code != 0 || strings.Count(stdout, "\n") != 3 || !strings.HasPrefix(stdout, "SCANNED") {
			t.Errorf("history: exit %d, want a header and two scans:\n%s%s", code, stdout, stderr)
		}
		code, stdout, _ = execute(t, "drift", "--environment", "dev", "--history", "--format", "json", "--limit", "1")
		var sums []drift.ScanSummary
		if err := json.Unmarshal([]byte(stdout), &sums); err != nil || code != 0 || len(sums) != 1 || sums[0].Entities.Modified != 1 {
			t.Errorf("history json: exit %d, %v, %+v; want the latest scan", code, err, sums)
		}
	})
	t.Run("incomplete", func(t *testing.T) {
		// A 429 storm whose Retry-After is past what the client waits for.
		s.SetFaults(sim.Faults{Force429: 1000, RetryAfterSeconds: 600})
		defer s.SetFaults(sim.Faults{})
		code, stdout, stderr := execute(t, "drift", "--environment", "dev", "--scan")
		if code != driftExitError || !strings.Contains(stdout, "INCOMPLETE: ") || !strings.Contains(stdout, "Not read (nothing is known of them): skills, queues, worktypes") ||
			!strings.Contains(stdout, "429") || !strings.Contains(stderr, "the report is incomplete") {
			t.Errorf("scan of an unreachable org: exit %d, want 1 with the reason\n%s%s", code, stdout, stderr)
		}
	})
	t.Run("without a table", func(t *testing.T) {
		t.Setenv("TABLE_NAME", "")
		code, stdout, stderr := execute(t, "drift", "--scan", "-f", path)
		if code != driftExitDrift || !strings.Contains(stdout, `~ description: "`+*q.Description+`"`) {
			t.Errorf("drift --scan -f without a table: exit %d, want 2 and the edit\n%s%s", code, stdout, stderr)
		}
	})
}

func TestDriftUsage(t *testing.T) {
	clearGenesysEnv(t)
	t.Setenv("TABLE_NAME", "")
	t.Setenv("ROUTEKEEPER_ENVIRONMENT", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"drift", "--history", "--scan"}, "choose one: --history lists past scans, --scan runs one now"},
		{[]string{"drift", "--format", "yaml"}, `unknown --format "yaml": use text, markdown, json or sarif`},
		{[]string{"drift", "--environment", "dev"}, "no table given"},
		{[]string{"drift", "--table", "t"}, "no environment given"},
		{[]string{"drift", "--environment", "dev", "--table", "t", "--history", "--format", "sarif"}, "--history writes text, markdown or json"},
		{[]string{"drift", "extra"}, "drift takes no arguments"},
	} {
		code, stdout, stderr := execute(t, tc.args...)
		if code != driftExitUsage || stdout != "" || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "see routekeeper drift --help") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2, nothing on stdout and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}
