package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

// scanSummaryOf decodes a drift scan function's response.
func scanSummaryOf(t *testing.T, resp []byte) drift.ScanSummary {
	t.Helper()
	var sum drift.ScanSummary
	if err := json.Unmarshal(resp, &sum); err != nil || sum.Schema != drift.ScanSchema {
		t.Fatalf("response %s: want %s (%v)", resp, drift.ScanSchema, err)
	}
	return sum
}

// scheduled (events/driftscan/scheduled.json) on a stack with the example config
// published: the scan finds what plan finds (the missing skill, the two changed entities,
// the unmanaged background, the rest in sync) in a handful of list calls, raises drift for
// the three, stores the report and its drift states, and writes its EMF record.
func checkDriftScanScheduled(t *testing.T, s *Stack, _ events.EventBridgeEvent, resp []byte, metrics map[string]float64) {
	sum := scanSummaryOf(t, resp)
	if calls := s.Sim.TotalCalls(); int64(calls) != sum.GenesysCalls || calls > 10 {
		t.Errorf("%d Genesys calls (the function says %d), want a few list calls", calls, sum.GenesysCalls)
	}
	for route := range s.Sim.Calls() {
		if strings.Contains(route, "{") {
			t.Errorf("the scan read an entity on its own (%s): lists only", route)
		}
	}
	_, org, plan, err := s.PlanExample(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := drift.ScanCounts{Read: len(org.Queues) + len(org.Skills) + len(org.Worktypes), InSync: plan.Summary.Unchanged,
		Modified: plan.Summary.Update, Missing: plan.Summary.Create, Unmanaged: plan.Summary.Unmanaged}
	if sum.Environment != ExampleEnvironment || !sum.Complete || sum.Entities != want || sum.Detected != 3 {
		t.Errorf("summary %+v; want %s complete, counts %+v (as plan counts), 3 drift events", sum, ExampleEnvironment, want)
	}
	wantMetrics(t, metrics, map[string]float64{"ScanIncomplete": 0, "DriftedEntities": 3, "DriftDetected": 3, "UnmanagedEntities": float64(want.Unmanaged)})
	st := storeOf(s)
	r, err := st.LatestDriftReport(t.Context(), ExampleEnvironment)
	if err != nil {
		t.Fatal(err)
	}
	report, err := drift.ReportOf(r)
	if err != nil || report.Summary.GeneratedAt != sum.GeneratedAt {
		t.Fatalf("stored report %+v, %v; want the scan's", report, err)
	}
	var drifted []string
	for _, e := range report.Entities {
		if e.State.Drifted() {
			drifted = append(drifted, string(e.State)+" "+e.Name)
		}
	}
	slices.Sort(drifted)
	if want := []string{"MISSING " + MissingSkill, "MODIFIED " + ChangedWorktype, "MODIFIED " + ChangedQueue}; !slices.Equal(drifted, want) {
		t.Errorf("drifted entities %v, want %v", drifted, want)
	}
	states, err := st.ListDriftStates(t.Context(), ExampleEnvironment)
	if err != nil || len(states) != 3 {
		t.Errorf("drift states %+v, %v; want the three drifted entities'", states, err)
	}
}

// TestDriftScanOnItsSchedule runs the function as the stack runs it, from its template
// schedule: a scan, an admin's edit of a declared queue caught by the next scan (Drift
// Detected on the bus, the edit's field, who and when), then a revert run (DriftMode
// revert) whose corrective change requests the apply function writes through the change
// queue, and a last scan that finds the org in sync.
func TestDriftScanOnItsSchedule(t *testing.T) {
	s := startStack(t)
	ctx := t.Context()
	publishExample(t, s)
	tap, err := awslocal.NewTap(ctx, s.AWS, s.Resources.BusName, s.prefix+"-drift", `{"source":["routekeeper"],"detail-type":["Drift Detected","Drift Resolved"]}`)
	if err != nil {
		t.Fatal(err)
	}
	fire := func(mode string, at time.Time) drift.ScanSummary {
		t.Helper()
		var logs bytes.Buffer
		f, err := s.StartFunction(ctx, "driftscan", FunctionOptions{BuildRoot: buildRoot, Logs: &logs, Env: map[string]string{"DRIFT_MODE": mode}})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = f.Stop() }()
		schedules, err := s.Schedules("driftscan", f, SourceOptions{})
		if err != nil || len(schedules) != 1 {
			t.Fatalf("schedules %v, %v; want the template's one", schedules, err)
		}
		resp, err := schedules[0].Fire(ctx, at)
		if err != nil {
			t.Fatalf("fire at %s: %v\n%s", at, err, logs.String())
		}
		return scanSummaryOf(t, resp)
	}
	t0 := time.Now().UTC().Truncate(time.Minute)
	first := fire("report", t0)
	if !first.Complete || first.Entities.Drifted() != 3 {
		t.Fatalf("first scan %+v; want complete with the seeded org's three drifted entities", first)
	}
	if _, err := tap.ReceiveN(ctx, 3); err != nil {
		t.Fatal(err)
	}

	qid, ok := s.Sim.IDByName("queue", "Claims Overflow")
	if !ok {
		t.Fatal("no queue Claims Overflow in the seeded org")
	}
	if err := s.Sim.EditQueue(qid, func(q map[string]any) { q["description"] = "changed in the admin UI" }); err != nil {
		t.Fatal(err)
	}
	second := fire("report", t0.Add(15*time.Minute))
	if second.Entities.Modified != first.Entities.Modified+1 || second.Detected != 1 || second.Changed != 1 {
		t.Errorf("scan after the edit %+v; want one more modified entity, one drift event, one changed entity", second)
	}
	evs, err := tap.ReceiveN(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var ev drift.Event
	if err := json.Unmarshal(evs[0].Detail, &ev); err != nil {
		t.Fatal(err)
	}
	if evs[0].DetailType != "Drift Detected" || ev.Entity.Name != "Claims Overflow" || ev.State != drift.Modified ||
		len(ev.Differences) != 1 || ev.Differences[0].Path != "description" || ev.Cause == nil || !ev.Cause.Scan {
		t.Errorf("event %s %+v; want Drift Detected for the edited queue's description, caused by the scan", evs[0].DetailType, ev)
	}

	reverted := fire("revert", t0.Add(30*time.Minute))
	if reverted.Reverts.Requested != 4 || reverted.Reverts.Skipped != 0 {
		t.Fatalf("revert run %+v; want the four drifted entities reverted", reverted.Reverts)
	}
	// The apply function's part: the change queue's requests through the engine.
	eng := apply.New(s.Genesys, storeOf(s), apply.Options{Environment: ExampleEnvironment})
	sq := sqs.NewFromConfig(s.AWS)
	applied := 0
	for applied < 4 {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.Resources.ChangeQueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
		if err != nil || len(out.Messages) == 0 {
			t.Fatalf("change queue: %d applied, then %v", applied, err)
		}
		for _, m := range out.Messages {
			req, err := changes.Decode([]byte(aws.ToString(m.Body)))
			if err != nil {
				t.Fatal(err)
			}
			if req.RequestedBy != drift.ScanRequestedBy {
				t.Errorf("request %s by %q, want %q", req.Key(), req.RequestedBy, drift.ScanRequestedBy)
			}
			if res, err := eng.Apply(ctx, req); err != nil || res.Status != store.StatusApplied {
				t.Fatalf("apply %s: %+v, %v", req.Key(), res, err)
			}
			applied++
			if _, err := sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.Resources.ChangeQueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	last := fire("report", t0.Add(45*time.Minute))
	if last.Entities.Drifted() != 0 || last.Resolved != 4 || !last.Complete {
		t.Errorf("scan after the reverts %+v; want no drift, four resolved", last)
	}
	st, err := storeOf(s).GetDriftState(ctx, entity.Key{Environment: ExampleEnvironment, Kind: entity.Skill, Name: MissingSkill})
	if err != nil || st.State != string(drift.InSync) {
		t.Errorf("drift state of %s: %+v, %v; want IN_SYNC", MissingSkill, st, err)
	}
}

// BenchmarkDriftScan runs the drift scan function's real bootstrap under aws-lambda-rie,
// from the template (timeout, memory, environment), against a generated org in the
// simulator paced as Genesys paces a token (300 requests/minute) with 50 ms added to every
// request, and the table on moto: 5,000 queues, 1,000 skills, 200 worktypes (scaled by
// ROUTEKEEPER_BENCH_SCALE). The whole org is declared (its export published), so the
// unchanged scan finds it in sync. Ten times that org is measured without the table
// (shared/drift BenchmarkScanEngine): moto reads the whole table for every page of a Query
// (read-table-s below is mostly that), which at 186,000 items no Lambda timeout covers.
//
// Per org, "first" is the first scan of a fresh table (every observation recorded) and
// "unchanged" the next scan of the unchanged org, each in a fresh function process:
// genesys-calls (the simulator's count), wall-s (the invocation, as the caller waits for
// it), scan-s (the scan's own durationMs), peak-rss-MB (the bootstrap process's VmHWM:
// what Lambda reports as Max Memory Used; aws-lambda-rie's REPORT only repeats the memory
// size) and dynamodb-writes (items written). Run it with -benchtime 1x:
//
//	make bench-driftscan
func BenchmarkDriftScan(b *testing.B) {
	scale := 1.0
	if v := os.Getenv("ROUTEKEEPER_BENCH_SCALE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 10 {
			b.Fatalf("ROUTEKEEPER_BENCH_SCALE=%q: want a number in (0, 10]", v)
		}
		scale = f
	}
	// Queues; skills are a fifth, worktypes a twenty-fifth.
	n := max(1, int(5000*scale))
	b.Run("5k", func(b *testing.B) {
		benchDriftScan(b, sim.GenerateOptions{Queues: n, Skills: max(1, n/5), Worktypes: max(1, n/25), Seed: 42})
	})
}

func benchDriftScan(b *testing.B, g sim.GenerateOptions) {
	ctx := context.Background()
	cfg, res := awslocal.ForTest(b)
	s := startWith(b, Options{AWS: &cfg, Resources: res, Org: func(_ context.Context, sv *sim.Server, _ *genesys.Client) error {
		return sv.Load(sim.Generate(g))
	}})
	l, err := live.List(ctx, s.Genesys)
	if err != nil {
		b.Fatal(err)
	}
	docs := make([]entity.Doc, 0, len(l.Entities))
	for _, e := range l.Entities {
		ent, err := e.Entity()
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, ent.Doc())
	}
	if _, _, err := drift.Publish(ctx, storeOf(s), s.Environment, "bench", docs); err != nil {
		b.Fatal(err)
	}
	total := len(l.Entities)
	l = nil
	s.Sim.SetFaults(sim.Faults{Latency: 50 * time.Millisecond})
	raw, err := ScheduledEvent(s, "driftscan", time.Now().UTC().Truncate(time.Minute), "bench")
	if err != nil {
		b.Fatal(err)
	}
	bootstrap, err := BuildFunction(ctx, "driftscan", buildRoot)
	if err != nil {
		b.Fatal(err)
	}
	for _, phase := range []string{"first", "unchanged"} {
		b.Run(phase, func(b *testing.B) {
			if b.N != 1 {
				b.Fatalf("run with -benchtime 1x: a %s scan happens once", phase)
			}
			var logs bytes.Buffer
			f, err := s.StartFunction(ctx, "driftscan", FunctionOptions{BuildRoot: buildRoot, Logs: &logs})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = f.Stop() }()
			s.Sim.ResetCalls()
			b.ResetTimer()
			start := time.Now()
			inv, err := f.InvokeDetailed(ctx, raw)
			wall := time.Since(start)
			b.StopTimer()
			if err != nil {
				b.Fatalf("invoke: %v\n%s", err, logs.String())
			}
			var sum drift.ScanSummary
			if err := json.Unmarshal(inv.Payload, &sum); err != nil {
				b.Fatalf("response %s: %v", inv.Payload, err)
			}
			rss, ok := peakRSS(bootstrap)
			if !ok {
				b.Fatalf("no process runs %s: cannot read its peak RSS", bootstrap)
			}
			if sum.Entities.Read != total || (phase == "unchanged" && sum.Entities.InSync != total) {
				b.Errorf("%s scan: %+v; want %d entities read (in sync when unchanged)", phase, sum, total)
			}
			if !sum.Complete {
				b.Logf("%s scan incomplete: %s", phase, sum.Reason)
			}
			b.ReportMetric(float64(s.Sim.TotalCalls()), "genesys-calls")
			b.ReportMetric(wall.Seconds(), "wall-s")
			b.ReportMetric(float64(sum.DurationMs)/1000, "scan-s")
			b.ReportMetric(float64(sum.ReadOrgMs)/1000, "read-org-s")
			b.ReportMetric(float64(sum.ReadTableMs)/1000, "read-table-s")
			b.ReportMetric(rss, "peak-rss-MB")
			b.ReportMetric(float64(sum.DynamoDBWrites), "dynamodb-writes")
			b.ReportMetric(float64(total), "entities")
		})
	}
}

// peakRSS is the VmHWM (peak resident set) of the process running the executable at path,
// in MB.
func peakRSS(path string) (float64, bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || exe != path {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
				if err == nil {
					return float64(kb) / 1024, true
				}
			}
		}
	}
	return 0, false
}
