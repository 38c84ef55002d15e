package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/routekeeper/routekeeper/infra/lambdarun"
	"github.com/routekeeper/routekeeper/infra/localstack/stack"
)

// demoCmd runs `make demo`: the local stack and a scripted walk through the product with
// the real CLI binary, then stops everything.
func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("demo", stderr)
	cli := fs.String("cli", filepath.Join(".build", "routekeeper"), "the routekeeper CLI binary (make build)")
	workDir := fs.String("dir", filepath.Join(".build", "demo"), "where the demo writes its files (export, edited config, logs)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := stack.CheckTools(); err != nil {
		return err
	}
	// Everything the demo prints goes through one lock: the function's logs arrive on
	// another goroutine while the demo and the CLI print.
	stdout = &syncWriter{w: stdout}
	started := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()

	cliPath, err := filepath.Abs(*cli)
	if err != nil {
		return err
	}
	if _, err := os.Stat(cliPath); err != nil {
		return fmt.Errorf("demo: the CLI %s is missing: run `make build` (make demo does)", *cli)
	}
	root, err := stack.RepoRoot()
	if err != nil {
		return err
	}
	work, err := filepath.Abs(*workDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	d := &demo{out: stdout, cli: cliPath, root: root, work: work}

	d.section("1. Start the local stack")
	d.say("moto (DynamoDB, SQS, EventBridge, Secrets Manager) on loopback, with the table, the FIFO")
	d.say("change queue + dead-letter queue, the event bus and the Genesys credentials secret created")
	d.say("from template.yaml; the Genesys Cloud simulator seeded with the org of " + stack.ExampleConfig + ".")
	s, err := stack.Start(ctx, stack.Options{})
	if err != nil {
		return err
	}
	defer stopping(stderr, "the local stack", s.Stop)
	d.env = s.CLIEnv()
	d.kv("AWS (moto)", s.AWSEnv()["AWS_ENDPOINT_URL"])
	d.kv("Genesys simulator", s.SimURL)
	d.kv("table", s.Resources.TableName)
	d.kv("change queue", s.Resources.ChangeQueueURL)
	d.kv("dead-letter queue", s.Resources.DLQURL)

	fnDef, ok := s.Template.Function("apply")
	if !ok {
		return errors.New("demo: template.yaml declares no apply function")
	}
	if len(fnDef.SQSEvents) != 1 {
		return fmt.Errorf("demo: %s has %d SQS events, want 1 (the change queue)", fnDef.LogicalID, len(fnDef.SQSEvents))
	}
	logPath := filepath.Join(work, "apply.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	d.say("")
	d.say(fmt.Sprintf("Building functions/apply for this machine and starting its bootstrap under aws-lambda-rie (%s, timeout %s, %d MB).",
		fnDef.LogicalID, fnDef.Timeout, fnDef.MemoryMB))
	fn, err := s.StartFunction(ctx, "apply", stack.FunctionOptions{
		BuildRoot: filepath.Join(root, ".build", "host"),
		Logs:      io.MultiWriter(logFile, &functionLogFilter{w: prefixWriter(stdout, "    apply | ")}),
	})
	if err != nil {
		return err
	}
	defer stopping(stderr, "the apply function", fn.Stop)
	pollers, err := s.Pollers(ctx, "apply", fn, slog.New(slog.NewTextHandler(logFile, nil)))
	if err != nil {
		return err
	}
	poller := pollers[0]
	ev := fnDef.SQSEvents[0]
	d.say(fmt.Sprintf("Event source mapping (emulated from template.yaml %s.Events.%s): batch size %d, partial batch responses %v,",
		fnDef.LogicalID, ev.Name, ev.BatchSize, ev.ReportBatchItemFailures))
	d.say("visibility timeout and redrive to the dead-letter queue as the queue defines them.")

	d.section("2. Export the simulated org")
	exportPath := filepath.Join(work, "export.yaml")
	if _, err := d.run(ctx, []int{0}, "export", "--environment", stack.ExampleEnvironment, "--out", rel(exportPath)); err != nil {
		return err
	}
	d.say("The org as a routekeeper config (first lines of " + rel(exportPath) + "):")
	if err := d.head(exportPath, 12); err != nil {
		return err
	}

	d.section("3. Validate and plan the example config")
	if _, err := d.run(ctx, []int{0}, "validate", stack.ExampleConfig); err != nil {
		return err
	}
	src, err := os.ReadFile(filepath.Join(root, stack.ExampleConfig))
	if err != nil {
		return err
	}
	config := stack.ExampleConfig
	if _, err := d.run(ctx, []int{0, 2}, "plan", "-f", config); err != nil {
		return err
	}

	d.section("4. Apply it through SQS and the apply Lambda")
	d.say("apply plans again, stores the live state each change was planned against, and sends one")
	d.say("change request per entity to the FIFO queue (MessageGroupId = entity, dedup id = changeId).")
	if _, err := d.run(ctx, []int{0}, "apply", "-f", config, "--auto-approve", "--queue-url", "$CHANGE_QUEUE_URL", "--table", "$TABLE_NAME"); err != nil {
		return err
	}
	if err := d.drain(ctx, poller); err != nil {
		return err
	}
	d.say("Planning again shows the org now matches the config:")
	if _, err := d.run(ctx, []int{0}, "plan", "-f", config); err != nil {
		return err
	}

	d.section("5. A concurrent edit: CONFLICT")
	edited := filepath.Join(work, "prod-edited.yaml")
	const from, to = "description: Task queue for claims\n", "description: Task queue for claims and subrogation\n"
	if bytes.Count(src, []byte(from)) != 1 {
		return fmt.Errorf("demo: %s no longer holds %q once; update the demo's edit", stack.ExampleConfig, strings.TrimSpace(from))
	}
	if err := os.WriteFile(edited, bytes.Replace(src, []byte(from), []byte(to), 1), 0o644); err != nil {
		return err
	}
	d.say("A pull request changes the description of queue \"" + stack.ChangedQueue + "\" (" + rel(edited) + ") and CI enqueues it:")
	if _, err := d.run(ctx, []int{0}, "apply", "-f", rel(edited), "--auto-approve", "--queue-url", "$CHANGE_QUEUE_URL", "--table", "$TABLE_NAME"); err != nil {
		return err
	}
	id, ok := s.Sim.IDByName("queue", stack.ChangedQueue)
	if !ok {
		return fmt.Errorf("demo: queue %q is not in the simulated org", stack.ChangedQueue)
	}
	const adminEdit = "Claims queue - edited by an admin in the Genesys UI"
	d.say("")
	d.say("Before the apply function gets to it, an admin edits the same field in the Genesys UI:")
	d.say(fmt.Sprintf("    description: %q", adminEdit))
	if err := s.Sim.EditQueue(id, func(q map[string]any) { q["description"] = adminEdit }); err != nil {
		return err
	}
	if err := d.drain(ctx, poller); err != nil {
		return err
	}
	q, _ := s.Sim.Queue(id)
	d.say(fmt.Sprintf("Genesys still says %q: the apply function re-read the queue, found it changed since the", q["description"]))
	d.say("plan (ETag), merged, found both sides changed description, and wrote nothing.")

	stopWebhook, err := d.webhook(ctx, s, stderr)
	if err != nil {
		return err
	}
	defer stopWebhook()
	if err := d.driftscan(ctx, s, poller, stderr); err != nil {
		return err
	}

	d.section("8. Status")
	if _, err := d.run(ctx, []int{0}, "status", "--environment", stack.ExampleEnvironment); err != nil {
		return err
	}

	if err := d.occupancy(ctx, s, poller, stderr); err != nil {
		return err
	}

	stats := poller.Stats()
	d.section("Done")
	d.say(fmt.Sprintf("%d batches, %d messages received, %d deleted, %d left for redelivery, %d whole-batch failures.",
		stats.Batches, stats.Received, stats.Deleted, stats.Failed, stats.FunctionErrors))
	for i, in := range fn.Inits() {
		d.say(fmt.Sprintf("apply cold start %d: INIT %s (%s)", i+1, in.Duration.Round(time.Microsecond), in.Status))
	}
	d.say(fmt.Sprintf("The demo took %s. Everything it started is stopped now.", time.Since(started).Round(100*time.Millisecond)))
	d.say("")
	d.say("Where to look next:")
	d.say("  " + rel(logPath) + "            the apply function's full logs (JSON, EMF metrics, RIE lines)")
	d.say("  " + rel(exportPath) + "          the exported org")
	d.say("  make invoke FN=apply EVENT=events/apply/batch.json   one invocation with a sample event")
	d.say("  make invoke FN=webhook EVENT=events/webhook/bridge-queue-edit.json CONFIG=" + stack.ExampleConfig)
	d.say("  " + rel(filepath.Join(work, "webhook.log")) + "          the webhook function's logs and EMF records")
	d.say("  " + rel(filepath.Join(work, "occupancy.log")) + "        the occupancy function's logs and EMF records")
	d.say("  template.yaml                       what `sam build && sam deploy --guided` deploys")
	d.say("  routekeeper status <changeId> --format json          a conflict's base/ours/theirs values")
	return nil
}

type demo struct {
	out        io.Writer
	cli        string
	root, work string
	env        map[string]string
}

func (d *demo) section(title string) {
	fmt.Fprintf(d.out, "\n== %s %s\n\n", title, strings.Repeat("=", max(0, 76-len(title))))
}

func (d *demo) say(s string) { fmt.Fprintln(d.out, s) }

func (d *demo) kv(k, v string) { fmt.Fprintf(d.out, "  %-20s %s\n", k, v) }

// run runs the CLI as a user would, from the repository root with the local stack's
// environment, shows the command and its output, and fails unless the exit status is one
// of ok. Arguments "$VAR" are shown as written and passed with the variable's value.
func (d *demo) run(ctx context.Context, ok []int, args ...string) (string, error) {
	shown := append([]string{"routekeeper"}, args...)
	real := make([]string, len(args))
	for i, a := range args {
		real[i] = a
		if name, isVar := strings.CutPrefix(a, "$"); isVar {
			v, found := d.env[name]
			if !found {
				return "", fmt.Errorf("demo: %s is not in the local stack's environment", a)
			}
			real[i] = v
			shown[i+1] = `"` + a + `"`
		}
	}
	fmt.Fprintf(d.out, "$ %s\n", strings.Join(shown, " "))
	cmd := exec.CommandContext(ctx, d.cli, real...)
	cmd.Dir = d.root
	cmd.Env = os.Environ()
	for _, k := range slices.Sorted(maps.Keys(d.env)) {
		cmd.Env = append(cmd.Env, k+"="+d.env[k])
	}
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(prefixWriter(d.out, "  "), &buf)
	cmd.Stderr = prefixWriter(d.out, "  ")
	err := cmd.Run()
	code := 0
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return "", fmt.Errorf("demo: run %s: %w", strings.Join(shown, " "), err)
		}
		code = exit.ExitCode()
	}
	if !slices.Contains(ok, code) {
		return buf.String(), fmt.Errorf("demo: `%s` exited %d, want %v; the local stack stays as it was for this step only, see the output above", strings.Join(shown, " "), code, ok)
	}
	fmt.Fprintln(d.out)
	return buf.String(), nil
}

// drain lets the emulated event source mapping deliver everything on the change queue to
// the apply function, batch by batch as Lambda's pollers would, and reports what happened.
// A failed message would only come back after the queue's visibility timeout (6 minutes),
// so the demo stops at the first failure and says so instead of waiting.
func (d *demo) drain(ctx context.Context, p *lambdarun.Poller) error {
	d.say("")
	d.say("The event source mapping delivers the queue to the apply function:")
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var batches, received, deleted int
	for {
		res, err := p.PollOnce(ctx, time.Second)
		if err != nil {
			return fmt.Errorf("demo: poll the change queue: %w", err)
		}
		if res.Received == 0 {
			break
		}
		batches++
		received += res.Received
		deleted += len(res.Deleted)
		if res.BatchError != nil {
			return fmt.Errorf("demo: the apply function failed a whole batch: %w; see %s", res.BatchError, filepath.Join(d.work, "apply.log"))
		}
		if len(res.Failed) > 0 {
			return fmt.Errorf("demo: the apply function returned %d message(s) to the queue (%v): they would be retried after the visibility timeout and reach the dead-letter queue after maxReceiveCount; see the log lines above and %s",
				len(res.Failed), res.Failed, filepath.Join(d.work, "apply.log"))
		}
	}
	d.say(fmt.Sprintf("  %d batch(es), %d message(s) received and deleted (processed), none returned to the queue", batches, deleted))
	d.say("")
	return nil
}

func (d *demo) head(path string, n int) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(b), "\n")
	for i := 0; i < len(lines) && i < n; i++ {
		fmt.Fprint(d.out, "    ", lines[i])
	}
	fmt.Fprintf(d.out, "    ... (%d lines)\n", len(lines))
	return nil
}

// rel shows a path relative to the working directory when it is below it.
func rel(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// functionLogFilter passes the lines a person wants to see while the demo runs: the
// function's own JSON log records (not EMF), and rapid's INIT REPORT and REPORT lines.
// Everything goes to apply.log regardless.
type functionLogFilter struct {
	w       io.Writer
	partial []byte
}

func (f *functionLogFilter) Write(b []byte) (int, error) {
	f.partial = append(f.partial, b...)
	for {
		i := bytes.IndexByte(f.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := f.partial[:i+1]
		f.partial = f.partial[i+1:]
		keep := (bytes.HasPrefix(line, []byte("{")) && !bytes.Contains(line, []byte(`"_aws"`))) ||
			bytes.HasPrefix(line, []byte("REPORT")) || bytes.Contains(line, []byte("INIT REPORT"))
		if keep {
			if _, err := f.w.Write(line); err != nil {
				return len(b), err
			}
		}
	}
}

// ---- occupancy: queue load drives overflow ----

// occupancySteps is the demo's surge and drain of the example rule vip-claims' queue
// (maxCapacity 50, overflowAfter 2, resumeBelow 35, resumeAfter 3, minDwellSeconds 300):
// the open claims waiting in Claims Tasks at each simulated minute.
var occupancySteps = []int{22, 58, 64, 71, 33, 21, 14, 9, 6, 4}

// occupancy is the demo's occupancy section: the example config's overflow rules are
// published, the occupancy bootstrap runs under the RIE, and its schedule (template.yaml
// OccupancyFunction.Events) fires once per simulated minute at chosen times (no waiting)
// while the simulator's backlog and observations of Claims Tasks surge and drain. Each
// switch is a change request the poller delivers to the apply function; the worktype's
// defaultQueue is read back from the simulator.
func (d *demo) occupancy(ctx context.Context, s *stack.Stack, poller *lambdarun.Poller, stderr io.Writer) error {
	const rule, worktype, queue, overflow = "vip-claims", "Claim", "Claims Tasks", "Claims Overflow"
	d.section("9. Queue load drives overflow: the occupancy Lambda")
	d.say("The example rule " + rule + " routes worktype " + worktype + " to " + queue + " and overflows to " + overflow + ":")
	d.say("at 50 open claims or more for 2 samples new claims go to the overflow queue; at 35 or fewer for 3")
	d.say("samples they come back; neither switch within 5 minutes of the last. publish stores the rule:")
	if _, err := d.run(ctx, []int{0}, "publish", "-f", stack.ExampleConfig, "--table", "$TABLE_NAME", "--version", "demo"); err != nil {
		return err
	}
	logPath := filepath.Join(d.work, "occupancy.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	fn, err := s.StartFunction(ctx, "occupancy", stack.FunctionOptions{BuildRoot: filepath.Join(d.root, ".build", "host"), Logs: logFile})
	if err != nil {
		return err
	}
	defer stopping(stderr, "the occupancy function", fn.Stop)
	start := time.Now().UTC().Truncate(time.Minute)
	schedules, err := s.Schedules("occupancy", fn, stack.SourceOptions{Clock: lambdarun.NewStepClock(start)})
	if err != nil {
		return err
	}
	if len(schedules) != 1 {
		return fmt.Errorf("demo: template.yaml gives the occupancy function %d schedules, want 1", len(schedules))
	}
	sched := schedules[0]
	qid, ok := s.Sim.IDByName("queue", queue)
	oid, ok2 := s.Sim.IDByName("queue", overflow)
	wid, ok3 := s.Sim.IDByName("worktype", worktype)
	if !ok || !ok2 || !ok3 {
		return fmt.Errorf("demo: the seeded org lacks queue %q, queue %q or worktype %q", queue, overflow, worktype)
	}
	d.say("")
	d.say(fmt.Sprintf("The bootstrap runs under aws-lambda-rie; its schedule (%s, %s) fires at chosen simulated minutes,", sched.ARN(), sched.Expression()))
	d.say("one sample each, while the simulator's backlog of " + queue + " surges and drains:")
	header := func() {
		d.say("")
		d.say("  minute  backlog  utilization  overflow   worktype " + worktype + " defaultQueue (read from Genesys)")
	}
	header()
	for i, backlog := range occupancySteps {
		at := start.Add(time.Duration(i) * time.Minute)
		s.Sim.SetWorkitemCount(qid, backlog)
		agents := 12.0
		for m, v := range map[string]float64{"oWaiting": float64(backlog), "oInteracting": min(float64(backlog), agents), "oOnQueueUsers": agents,
			"oActiveUsers": agents + 2, "oMemberUsers": agents + 6} {
			s.Sim.SetObservation(qid, m, v)
		}
		resp, err := sched.Fire(ctx, at)
		if err != nil {
			return fmt.Errorf("demo: the occupancy run at %s failed: %w; see %s", at.Format(time.TimeOnly), err, rel(logPath))
		}
		var res struct {
			Partial  bool     `json:"partial"`
			Problems []string `json:"problems"`
			Overflow struct {
				Entered, Left []struct {
					ChangeID string `json:"changeId"`
				}
				Active []string `json:"active"`
			} `json:"overflow"`
		}
		if err := json.Unmarshal(resp, &res); err != nil {
			return fmt.Errorf("demo: occupancy answered %s: %w", resp, err)
		}
		if res.Partial {
			return fmt.Errorf("demo: the occupancy run at %s was partial: %v", at.Format(time.TimeOnly), res.Problems)
		}
		state, note := "-", ""
		if slices.Contains(res.Overflow.Active, rule) {
			state = "active"
		}
		switch {
		case len(res.Overflow.Entered) > 0:
			note = "  Overflow Started, change " + res.Overflow.Entered[0].ChangeID
		case len(res.Overflow.Left) > 0:
			note = "  Overflow Ended, change " + res.Overflow.Left[0].ChangeID
		}
		if note != "" {
			// The switch waits on the change queue: the apply function writes it.
			if err := d.drainQuietly(ctx, poller); err != nil {
				return err
			}
		}
		wt, _ := s.Sim.Worktype(wid)
		dq, _ := wt["defaultQueue"].(map[string]any)
		current, _ := dq["name"].(string)
		if id, _ := dq["id"].(string); id == oid {
			current = overflow
		}
		d.say(fmt.Sprintf("  %s   %5d    %9.2f    %-9s  %s%s", at.Format("15:04"), backlog, min(float64(backlog), agents)/agents, state, current, note))
		if len(res.Overflow.Entered) > 0 {
			s.Sim.SetWorkitemCount(oid, 5) // new claims now arrive in the overflow queue
			d.say("")
			d.say("While the overflow lasts, plan reads it from the table and expects " + overflow + " there (no revert):")
			if _, err := d.run(ctx, []int{0, 2}, "plan", "-f", stack.ExampleConfig, "--table", "$TABLE_NAME"); err != nil {
				return err
			}
			header()
		}
	}
	d.say("")
	d.say("Each switch went through the FIFO change queue to the apply function, guarded by the worktype's")
	d.say("ETag and recorded (reason \"overflow enter\" / \"overflow leave\"); the run's metrics are EMF records")
	d.say("per queue and per rule in " + rel(logPath) + ". routekeeper status lists the two changes:")
	if _, err := d.run(ctx, []int{0}, "status", "--environment", stack.ExampleEnvironment); err != nil {
		return err
	}
	return nil
}

// drainQuietly delivers the change queue to the apply function as drain does, printing
// nothing unless something fails.
func (d *demo) drainQuietly(ctx context.Context, p *lambdarun.Poller) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		res, err := p.PollOnce(ctx, time.Second)
		if err != nil {
			return fmt.Errorf("demo: poll the change queue: %w", err)
		}
		if res.Received == 0 {
			return nil
		}
		if res.BatchError != nil || len(res.Failed) > 0 {
			return fmt.Errorf("demo: the apply function did not apply an overflow switch (batch error %v, %d returned); see %s", res.BatchError, len(res.Failed), filepath.Join(d.work, "apply.log"))
		}
	}
}
