package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/routekeeper/routekeeper/infra/lambdarun"
	"github.com/routekeeper/routekeeper/infra/localstack/stack"
	"github.com/routekeeper/routekeeper/shared/drift"
)

// driftscan is the demo's drift scan section: the drift scan bootstrap under the RIE, its
// schedule (template.yaml DriftScanFunction.Events) fired at chosen times, no waiting. The
// first scan finds what the admin's edit of the conflict section left in Genesys, and
// `routekeeper drift` shows the stored report; a run in revert mode (DriftMode revert)
// enqueues the corrective change request, which the poller delivers to the apply
// function; the next scan finds the org in sync, and the history lists the scans. (Scans
// are stamped with the time they read the org, not the fire's.)
func (d *demo) driftscan(ctx context.Context, s *stack.Stack, poller *lambdarun.Poller, stderr io.Writer) error {
	d.section("7. The whole org compared on a schedule: the drift scan Lambda")
	logPath := filepath.Join(d.work, "driftscan.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	start := time.Now().UTC().Truncate(time.Minute)
	fire := func(mode string, at time.Time) (drift.ScanSummary, error) {
		fn, err := s.StartFunction(ctx, "driftscan", stack.FunctionOptions{BuildRoot: filepath.Join(d.root, ".build", "host"), Logs: logFile,
			Env: map[string]string{"DRIFT_MODE": mode}})
		if err != nil {
			return drift.ScanSummary{}, err
		}
		defer stopping(stderr, "the drift scan function", fn.Stop)
		schedules, err := s.Schedules("driftscan", fn, stack.SourceOptions{})
		if err != nil {
			return drift.ScanSummary{}, err
		}
		if len(schedules) != 1 {
			return drift.ScanSummary{}, fmt.Errorf("demo: template.yaml gives the drift scan function %d schedules, want 1", len(schedules))
		}
		if mode == string(drift.ModeReport) && at.Equal(start) {
			d.say(fmt.Sprintf("The bootstrap runs under aws-lambda-rie; its schedule (%s, %s) fires at chosen times:", schedules[0].ARN(), schedules[0].Expression()))
		}
		resp, err := schedules[0].Fire(ctx, at)
		if err != nil {
			return drift.ScanSummary{}, fmt.Errorf("demo: the drift scan at %s: %w; see %s", at.Format(time.TimeOnly), err, rel(logPath))
		}
		var sum drift.ScanSummary
		if err := json.Unmarshal(resp, &sum); err != nil {
			return drift.ScanSummary{}, fmt.Errorf("demo: the drift scan answered %s: %w", resp, err)
		}
		c := sum.Entities
		d.say(fmt.Sprintf("  fire %s  DriftMode %-6s  read %d entities with %d Genesys calls in %d ms: %d modified, %d missing, %d unmanaged, %d in sync; %d DynamoDB writes",
			at.Format(time.TimeOnly), mode, c.Read, sum.GenesysCalls, sum.DurationMs, c.Modified, c.Missing+c.Deleted, c.Unmanaged, c.InSync, sum.DynamoDBWrites))
		if n := sum.Reverts.Requested; n > 0 {
			d.say(fmt.Sprintf("  fire %s  %d corrective change request(s) sent to the change queue: %v", at.Format(time.TimeOnly), n, sum.Reverts.ChangeIDs))
		}
		if !sum.Complete {
			return sum, fmt.Errorf("demo: the drift scan at %s was incomplete: %s", at.Format(time.TimeOnly), sum.Reason)
		}
		return sum, nil
	}
	d.say("Every DriftScanSchedule (15 minutes) the drift scan reads the whole org with list endpoints,")
	d.say("compares it with the desired state in the table and with what routekeeper last saw, and")
	d.say("stores a report. The admin's edit of \"" + stack.ChangedQueue + "\" in section 5 is still in Genesys.")
	d.say("")
	first, err := fire(string(drift.ModeReport), start)
	if err != nil {
		return err
	}
	if first.Entities.Drifted() == 0 {
		return fmt.Errorf("demo: the drift scan found no drift; the admin's edit of %q should be there", stack.ChangedQueue)
	}
	d.say("")
	d.say("The report, as `routekeeper drift` reads it from the table (exit status 2: drift):")
	if _, err := d.run(ctx, []int{2}, "drift", "--environment", stack.ExampleEnvironment, "--table", "$TABLE_NAME", "-f", stack.ExampleConfig); err != nil {
		return err
	}
	d.say("With DriftMode revert the scan also sends corrective change requests (at most MaxRevertsPerScan,")
	d.say("guarded by the live ETag, never for unmanaged entities); the apply function writes them:")
	d.say("")
	if _, err := fire(string(drift.ModeRevert), start.Add(15*time.Minute)); err != nil {
		return err
	}
	if err := d.drain(ctx, poller); err != nil {
		return err
	}
	d.say("The next scan finds the org as declared (the webhook, still running, saw the apply too):")
	d.say("")
	last, err := fire(string(drift.ModeReport), start.Add(30*time.Minute))
	if err != nil {
		return err
	}
	if last.Entities.Drifted() != 0 {
		return fmt.Errorf("demo: after the revert the drift scan still finds %d drifted entities; see %s", last.Entities.Drifted(), rel(logPath))
	}
	d.say("")
	if _, err := d.run(ctx, []int{0}, "drift", "--environment", stack.ExampleEnvironment, "--table", "$TABLE_NAME", "--history"); err != nil {
		return err
	}
	return nil
}
