package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/infra/lambdarun"
	"github.com/routekeeper/routekeeper/infra/localstack/stack"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/store"
)

// webhookVia is the Via label of the webhook's Genesys requests.
const webhookVia = "webhook"

// run is one chaos run: it starts the local stack, drives the workload through it under
// faults, waits for everything to settle, gathers the evidence and judges it.
// Bounds of the parts of a run other than the drive (config.Timeout): with them every
// wait of a run ends, with a message saying which bound it was.
const (
	startBound  = 5 * time.Minute // the stack and the functions up
	gatherBound = 5 * time.Minute // the evidence read back
	stopBound   = 2 * time.Minute // everything stopped
)

func run(ctx context.Context, cfg config, stderr io.Writer) (_ Counts, err error) {
	began := time.Now()
	bound := startBound + cfg.Timeout + gatherBound + stopBound
	ctx, cancel := context.WithTimeoutCause(ctx, bound, fmt.Errorf("the whole run's bound of %v is up (start %v, -timeout %v, gather %v, stop %v)",
		bound, startBound, cfg.Timeout, gatherBound, stopBound))
	defer cancel()
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", err, context.Cause(ctx))
		}
	}()
	say := func(format string, args ...any) { fmt.Fprintf(stderr, "chaos: "+format+"\n", args...) }
	if err := stack.CheckTools(); err != nil {
		return Counts{}, err
	}
	root, err := stack.RepoRoot()
	if err != nil {
		return Counts{}, err
	}
	work := cfg.Work
	if work == "" {
		work = filepath.Join(root, ".build", "chaos", fmt.Sprintf("%d-%s", cfg.Seed, began.Format("20060102-150405")))
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return Counts{}, err
	}
	say("seed %d, %d requests (make chaos N=%d SEED=%d)", cfg.Seed, cfg.N, cfg.N, cfg.Seed)
	say("faults on the apply and webhook Genesys requests: %s 503 (%s of those on a write after it was applied), %s start a burst of %d 429s (Retry-After %ds), %s dropped connections (%s of those on a write after it was applied)",
		pct(cfg.ServerErrorRate), pct(cfg.AfterWriteShare), pct(cfg.RateLimitRate), cfg.RateLimitBurst, cfg.RetryAfter, pct(cfg.DropRate), pct(cfg.DropAfterWrite))
	say("admin edits on %s of the requests (same field and another, before the read and inside the read-to-write window); every message delivered twice; %d SIGKILLs of an apply runtime mid-batch",
		pct(cfg.AdminRate), cfg.Kills)
	say("%d apply and %d webhook execution environments; change-queue visibility %v; org of %d queues, %d worktypes, %d skills; logs in %s",
		cfg.Containers, cfg.Webhooks, cfg.Visibility, cfg.Queues, cfg.Worktypes, cfg.Skills, work)

	harnessLog, err := os.Create(filepath.Join(work, "harness.log"))
	if err != nil {
		return Counts{}, err
	}
	defer harnessLog.Close()
	log := slog.New(slog.NewTextHandler(harnessLog, nil))

	sctx, cancelStart := context.WithTimeoutCause(ctx, startBound, fmt.Errorf("starting the stack took more than %v", startBound))
	defer cancelStart()
	st, err := stack.Start(sctx, stack.Options{Org: func(_ context.Context, s *sim.Server, _ *genesys.Client) error {
		return s.Load(sim.Generate(sim.GenerateOptions{Queues: cfg.Queues, Worktypes: cfg.Worktypes, Skills: cfg.Skills, Seed: cfg.Seed}))
	}})
	if err != nil {
		return Counts{}, err
	}
	var closers []func() error
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			if err := closers[i](); err != nil {
				say("stop: %v", err)
			}
		}
		if err := st.Stop(); err != nil {
			say("stop the stack: %v", err)
		}
	}()
	client := sqs.NewFromConfig(st.AWS)
	db := store.New(dynamodb.NewFromConfig(st.AWS), st.Resources.TableName)
	if _, err := client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(st.Resources.ChangeQueueURL),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNameVisibilityTimeout): strconv.Itoa(int(cfg.Visibility / time.Second))}}); err != nil {
		return Counts{}, fmt.Errorf("set the chaos queue's visibility timeout: %w", err)
	}

	// Each client under test reaches the simulator through its own Via, on its own port.
	serve := func(label string) (string, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		srv := &http.Server{Handler: st.Sim.Via(label), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		closers = append(closers, srv.Close)
		return "http://" + ln.Addr().String(), nil
	}
	logFile := func(name string) (io.Writer, error) {
		f, err := os.Create(filepath.Join(work, name))
		if err != nil {
			return nil, err
		}
		closers = append(closers, f.Close)
		return f, nil
	}
	functionOpts := func(label, logName string) (stack.FunctionOptions, error) {
		url, err := serve(label)
		if err != nil {
			return stack.FunctionOptions{}, err
		}
		logs, err := logFile(logName)
		if err != nil {
			return stack.FunctionOptions{}, err
		}
		return stack.FunctionOptions{BuildRoot: filepath.Join(root, ".build", "host"), Logs: logs,
			Env: map[string]string{"GENESYS_API_URL": url, "GENESYS_LOGIN_URL": url}}, nil
	}

	// The webhook: the simulator's audit events go to the Genesys partner bus, whose rule
	// invokes it asynchronously.
	say("building and starting the functions")
	var hooks0 []*lambdarun.Function
	for i := range cfg.Webhooks {
		opts, err := functionOpts(webhookVia, fmt.Sprintf("webhook-%d.log", i+1))
		if err != nil {
			return Counts{}, err
		}
		fn, err := st.StartFunction(ctx, "webhook", opts)
		if err != nil {
			return Counts{}, err
		}
		hooks0 = append(hooks0, fn)
	}
	webhook := newAsync(ctx, hooks0, log.With("function", "webhook"))
	closers = append(closers, webhook.stop)
	src, err := st.StartSources(ctx, "webhook", webhook, stack.SourceOptions{Logger: log})
	if err != nil {
		return Counts{}, err
	}
	closers = append(closers, src.Close)
	bus, ok := src.Buses[stack.GenesysBus]
	if !ok {
		return Counts{}, fmt.Errorf("template.yaml gives the webhook no rule on the Genesys partner bus %s", stack.GenesysBus)
	}
	st.Sim.SetAuditTimeout(time.Minute)
	st.Sim.SetAuditTarget(bus.URL())
	closers = append(closers, func() error { st.Sim.SetAuditTarget(""); return nil })

	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0xdead))
	h := &hooks{sim: st.Sim, log: log.With("part", "hooks"), planned: map[string]*plannedEdit{}, containers: map[string]*container{},
		now: time.Now, readAt: map[string]time.Time{},
		killAt: killPlan(cfg, rng)}
	st.Sim.SetHook(h.hook)
	closers = append(closers, func() error { st.Sim.SetHook(nil); return nil })

	pctx, stopPollers := context.WithCancel(ctx)
	var pollers []*lambdarun.Poller
	var polling sync.WaitGroup
	closers = append(closers, func() error { stopPollers(); polling.Wait(); return nil })
	var containers []*container
	via := []string{webhookVia}
	receiver := &oneReceive{Client: client}
	for i := range cfg.Containers {
		label := fmt.Sprintf("%s-%d", applyViaPrefix, i+1)
		opts, err := functionOpts(label, label+".log")
		if err != nil {
			return Counts{}, err
		}
		c, err := newContainer(ctx, st, label, opts, client, db, cfg.Visibility, log)
		if err != nil {
			return Counts{}, err
		}
		closers = append(closers, c.stop)
		containers = append(containers, c)
		h.containers[label] = c
		via = append(via, label)
		ps, err := st.PollersWith(ctx, "apply", c, stack.PollOptions{Client: receiver, WaitTime: time.Second, Logger: log.With("poller", label)})
		if err != nil {
			return Counts{}, err
		}
		pollers = append(pollers, ps...)
	}
	st.Sim.SetFaults(sim.Faults{ServerErrorRate: cfg.ServerErrorRate, ServerErrorAfterWrite: cfg.AfterWriteShare,
		RetryAfterSeconds: cfg.RetryAfter, RateLimitRate: cfg.RateLimitRate, RateLimitBurst: cfg.RateLimitBurst,
		DropRate: cfg.DropRate, DropAfterWrite: cfg.DropAfterWrite, Via: via, Seed: cfg.Seed})
	for _, p := range pollers {
		polling.Go(func() {
			if err := p.Run(pctx); err != nil && pctx.Err() == nil {
				say("a poller of the change queue ended: %v (the run goes on with the others)", err)
			}
		})
	}
	say("running (progress every 10 s)")

	w := newWorkload(st, db, client, h, cfg, log.With("part", "workload"))
	progressDone := make(chan struct{})
	var progress sync.WaitGroup
	progress.Go(func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-progressDone:
				return
			case <-t.C:
				sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				say("%s", status(sctx, began, w, st, client, pollers, containers, webhook, h))
				cancel()
			}
		}
	})
	defer func() { close(progressDone); progress.Wait() }()

	driving := time.Now()
	dctx, cancelDrive := context.WithTimeoutCause(ctx, cfg.Timeout, fmt.Errorf("-timeout %v is up", cfg.Timeout))
	defer cancelDrive()
	if err := drive(dctx, cfg, w, st, client, webhook); err != nil && dctx.Err() == nil {
		return Counts{}, err
	} else if dctx.Err() != nil && ctx.Err() == nil {
		say("%v after the drive began, %v: %v; judging what is done, what is not counts as lost", time.Since(driving).Round(time.Second), context.Cause(dctx), err)
	}
	stopPollers()
	polling.Wait()
	if ctx.Err() != nil {
		return Counts{}, ctx.Err()
	}

	say("the queue is empty and the webhook idle after %v; gathering the evidence", time.Since(driving).Round(time.Second))
	gctx, cancelGather := context.WithTimeoutCause(ctx, gatherBound, fmt.Errorf("reading the evidence back took more than %v", gatherBound))
	defer cancelGather()
	ev, windows, dlq, err := gather(gctx, st, client, db, w, h)
	if err != nil {
		return Counts{}, fmt.Errorf("gather the evidence: %w", errors.Join(err, context.Cause(gctx)))
	}
	v := Judge(ev)
	report(say, time.Since(began), cfg, w, st, v, windows, dlq, h, containers, webhook, bus)
	if cfg.AdminRate > 0 && !slices.ContainsFunc(v.Edits, func(j Judged) bool { return j.SameField && j.InWindow }) {
		// The promise the run exists for would pass unjudged.
		return v.Counts, errors.New("no same-field admin edit was made inside a read-to-write window, so the run cannot judge whether such edits are overwritten unseen: run more requests (N) or another seed")
	}
	return v.Counts, nil
}

// drive sends the rounds, then waits until the queue is empty and the webhook has
// handled every audit event.
func drive(ctx context.Context, cfg config, w *workload, st *stack.Stack, client *sqs.Client, webhook *async) error {
	size := min(max(cfg.N/20, 10), 50)
	for len(w.requests) < cfg.N {
		// Keep about two rounds (and their second deliveries) in the queue.
		if err := waitQueue(ctx, client, st.Resources.ChangeQueueURL, func(n int) bool { return n < 3*size }); err != nil {
			return fmt.Errorf("waiting for room in the change queue after %d of %d requests: %w", len(w.requests), cfg.N, err)
		}
		if err := w.round(ctx, min(size, cfg.N-len(w.requests))); err != nil {
			return err
		}
	}
	if err := w.finish(ctx); err != nil {
		return err
	}
	// Empty twice in a row: a message returned by a batch in flight is counted again.
	for empties := 0; empties < 2; empties++ {
		if err := waitQueue(ctx, client, st.Resources.ChangeQueueURL, func(n int) bool { return n == 0 }); err != nil {
			return fmt.Errorf("waiting for the change queue to drain: %w", err)
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	// The webhook's restores make audit events of their own: settle until a round adds
	// nothing.
	for last := -1; ; {
		if err := st.Sim.FlushAudit(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("audit deliveries failed", "error", err)
		}
		for !webhook.idle() {
			if err := sleep(ctx, 200*time.Millisecond); err != nil {
				return fmt.Errorf("waiting for the webhook to handle its events (%d outstanding): %w", webhook.pending(), err)
			}
		}
		n := len(st.Sim.Writes()) + st.Sim.AuditDelivered()
		if n == last {
			return nil
		}
		last = n
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// queueCount is the messages of a queue: visible, in flight and delayed.
func queueCount(ctx context.Context, client *sqs.Client, url string) (visible, inFlight int, err error) {
	names := []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: names})
	if err != nil {
		return 0, 0, err
	}
	n := func(a sqstypes.QueueAttributeName) int { v, _ := strconv.Atoi(out.Attributes[string(a)]); return v }
	return n(names[0]), n(names[1]) + n(names[2]), nil
}

func waitQueue(ctx context.Context, client *sqs.Client, url string, ok func(total int) bool) error {
	for {
		v, f, err := queueCount(ctx, client, url)
		if err != nil {
			return err
		}
		if ok(v + f) {
			return nil
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return fmt.Errorf("%d messages visible, %d in flight or delayed: %w", v, f, err)
		}
	}
}

// killPlan is the apply request ordinals at which a container is killed: spread over the
// first half of the run's expected requests (about two per change), so the wait for a
// killed claim overlaps the rest of the run.
func killPlan(cfg config, rng *rand.Rand) []int {
	expected := 2 * cfg.N
	var at []int
	for range cfg.Kills {
		at = append(at, expected/20+rng.IntN(max(expected/2-expected/20, 1)))
	}
	slices.Sort(at)
	return slices.Compact(at)
}

// status is a progress line.
func status(ctx context.Context, began time.Time, w *workload, st *stack.Stack, client *sqs.Client, pollers []*lambdarun.Poller,
	containers []*container, webhook *async, h *hooks) string {
	var ps lambdarun.Stats
	for _, p := range pollers {
		s := p.Stats()
		ps.Batches += s.Batches
		ps.Deleted += s.Deleted
		ps.Failed += s.Failed
		ps.FunctionErrors += s.FunctionErrors
	}
	visible, inFlight, _ := queueCount(ctx, client, st.Resources.ChangeQueueURL)
	kills := 0
	for _, c := range containers {
		c.mu.Lock()
		kills += c.kills
		c.mu.Unlock()
	}
	made, _, _, _ := h.results()
	f := st.Sim.InjectedFaults()
	return fmt.Sprintf("%s: sent %d/%d (+%d again), queue %d visible %d in flight, %d batches (%d messages done, %d returned), %d writes, %d faults, %d kills, %d admin edits, %d webhook events",
		time.Since(began).Round(time.Second), len(w.requests), w.cfg.N, w.resent, visible, inFlight, ps.Batches, ps.Deleted, ps.Failed,
		len(st.Sim.Writes()), f.ServerErrors+f.ServerErrorsAfterWrite+f.RateLimited+f.Drops+f.DropsAfterWrite, kills, len(made), webhook.counts().Events)
}

// windowFigures are the read-to-write windows of the writes the records report.
type windowFigures struct {
	ms       []float64
	rereads  int
	attempts int
}

// gather collects the evidence: change records, the dead-letter queue, the org at the
// end and the write log.
func gather(ctx context.Context, st *stack.Stack, client *sqs.Client, db *store.Store, w *workload, h *hooks) (Evidence, windowFigures, []DLQMessage, error) {
	edits, _, _, _ := h.results()
	ev := Evidence{Requests: w.requests, Edits: edits, Records: map[string]Record{}, Final: map[string]map[string]string{}}
	var win windowFigures
	// One listing of the environment's records (a few queries) instead of a query per
	// request, which on a loaded moto took minutes at 1,000 requests; the index is
	// eventually consistent, so a request it misses is read on its own before it may
	// count as lost.
	listed, err := db.ListChanges(ctx, st.Environment, 4*len(w.requests)+100)
	if err != nil {
		return ev, win, nil, err
	}
	byID := make(map[string]*store.Change, len(listed))
	for _, c := range listed {
		byID[c.ID] = c
	}
	for _, r := range w.requests {
		c, ok := byID[r.ChangeID]
		if !ok {
			c, err = db.GetChange(ctx, r.ChangeID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return ev, win, nil, err
			}
		}
		ev.Records[r.ChangeID] = Record{Status: c.Status, LastError: c.LastError}
		var res struct {
			WindowMs      float64 `json:"windowMs"`
			WriteAttempts int     `json:"writeAttempts"`
		}
		if json.Unmarshal(c.Result, &res) == nil && res.WriteAttempts > 0 {
			win.ms = append(win.ms, res.WindowMs)
			win.attempts += res.WriteAttempts
			win.rereads += res.WriteAttempts - 1
		}
	}
	for {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(st.Resources.DLQURL), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, VisibilityTimeout: 60})
		if err != nil {
			return ev, win, nil, fmt.Errorf("read the dead-letter queue: %w", err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			var body struct {
				ChangeID string `json:"changeId"`
			}
			_ = json.Unmarshal([]byte(aws.ToString(m.Body)), &body)
			d := DLQMessage{MessageID: aws.ToString(m.MessageId), ChangeID: body.ChangeID}
			if rec, ok := ev.Records[body.ChangeID]; ok {
				d.Reason = rec.LastError
			}
			ev.DLQ = append(ev.DLQ, d)
			// FIFO: the group's next message comes only once this one is gone.
			if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(st.Resources.DLQURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return ev, win, nil, err
			}
		}
	}
	for _, e := range edits {
		var raw map[string]any
		var ok bool
		if e.Kind == "queue" {
			raw, ok = st.Sim.Queue(e.EntityID)
		} else {
			raw, ok = st.Sim.Worktype(e.EntityID)
		}
		if ok {
			ev.Final[e.EntityID] = sim.Flatten(raw)
		}
	}
	ev.Writes = st.Sim.Writes()
	return ev, win, ev.DLQ, nil
}

// report prints what the run did and what the oracle found.
func report(say func(string, ...any), took time.Duration, cfg config, w *workload, st *stack.Stack, v Verdict, win windowFigures,
	dlq []DLQMessage, h *hooks, containers []*container, webhook *async, bus *stack.PartnerBus) {
	say("done in %s (seed %d)", took.Round(time.Second), cfg.Seed)
	ops := w.ops()
	var parts []string
	for _, k := range sortedKeys(ops) {
		parts = append(parts, fmt.Sprintf("%d %s", ops[k], k))
	}
	say("requests: %s; each sent twice (%d second deliveries)", strings.Join(parts, ", "), w.resent)
	parts = nil
	for _, s := range slices.Sorted(maps.Keys(v.Statuses)) {
		name := string(s)
		if name == "" {
			name = "no record"
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, v.Statuses[s]))
	}
	say("change records: %s", strings.Join(parts, ", "))
	f := st.Sim.InjectedFaults()
	say("faults injected: %d 503s before handling, %d after a write was applied; %d 429s in %d bursts; %d connections dropped before handling, %d after a write was applied",
		f.ServerErrors, f.ServerErrorsAfterWrite, f.RateLimited, f.Bursts, f.Drops, f.DropsAfterWrite)
	_, failed, kills, unmet := h.results()
	held := 0
	for _, c := range containers {
		c.mu.Lock()
		held += c.heldBack
		c.mu.Unlock()
	}
	say("kills: %d of %d planned: %s; %d records held back until their dead claim expired", len(kills), cfg.Kills, strings.Join(kills, "; "), held)
	byCat := map[string]map[string]int{}
	for _, j := range v.Edits {
		if byCat[j.Category()] == nil {
			byCat[j.Category()] = map[string]int{}
		}
		byCat[j.Category()][j.Outcome+" ("+string(j.Status)+")"]++
	}
	say("admin edits: %d made, %d planned that never met their moment (their change ended before it), %d failed", len(v.Edits), unmet, len(failed))
	for _, c := range slices.Sorted(maps.Keys(byCat)) {
		parts = nil
		for _, o := range sortedKeys(byCat[c]) {
			parts = append(parts, fmt.Sprintf("%d %s", byCat[c][o], o))
		}
		say("  %s: %s", c, strings.Join(parts, ", "))
	}
	for _, s := range failed {
		say("  failed: %s", s)
	}
	if len(win.ms) > 0 {
		say("read-to-write windows, as the engine measured them (the read's answer to the write's request, the last write of %d updates): p50 %.3f ms, p99 %.3f ms, max %.3f ms; %d writes, %d after a fresh read",
			len(win.ms), percentile(win.ms, 0.50), percentile(win.ms, 0.99), slices.Max(win.ms), win.attempts, win.rereads)
	}
	if sw := h.readWriteWindows(); len(sw) > 0 {
		ms := make([]float64, len(sw))
		for i, d := range sw {
			ms[i] = float64(d.Microseconds()) / 1000
		}
		say("read-to-write windows, as the simulator saw them (a container's GET handled to its next write of the entity arriving, one round trip more, %d writes): p50 %.3f ms, p99 %.3f ms, max %.3f ms",
			len(ms), percentile(ms, 0.50), percentile(ms, 0.99), slices.Max(ms))
	}
	a, b := webhook.counts(), bus.Counts()
	say("webhook: %d audit events on the partner bus (%d matched its rule), %d invocations, %d retried, %d failed three times", b.Events, b.Matched, a.Invocations, a.Retries, a.Failed)
	for _, m := range dlq {
		reason := m.Reason
		if reason == "" {
			reason = "(no reason recorded)"
		}
		say("in the dead-letter queue: message %s, change %s: %s", m.MessageID, m.ChangeID, reason)
	}
	for _, p := range v.Problems {
		say("%s", p)
	}
}

func percentile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', -1, 64) + " %" }

// oneReceive lets one ReceiveMessage run at a time. moto works out a FIFO queue's message
// groups in flight once per ReceiveMessage, when its long poll starts, so two pollers
// receiving at once can each get a message of the same group: a change and its second
// delivery were seen running in two containers at once, which SQS never allows. Received
// one at a time (and with 1 s long polls, so none holds the others up for long), the
// groups in flight are always current.
type oneReceive struct {
	*sqs.Client
	mu sync.Mutex
}

func (o *oneReceive) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.Client.ReceiveMessage(ctx, in, opts...)
}
