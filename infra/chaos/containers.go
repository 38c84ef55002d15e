package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/routekeeper/routekeeper/infra/lambdarun"
	"github.com/routekeeper/routekeeper/infra/localstack/stack"
	"github.com/routekeeper/routekeeper/shared/store"
)

// container is one execution environment of the apply function: its bootstrap under the
// RIE, pointed at the simulator through its own Via (so the write log and the hook know
// its requests), fed by its own poller. The harness kills it mid-batch (kill) and it comes
// back as a fresh one, as Lambda replaces a crashed sandbox.
//
// Two waits of production are kept, compressed. A message never becomes visible again
// while its invocation runs (in AWS the 360 s visibility timeout outlasts the 60 s
// function timeout): the chaos queue's visibility is short, so the container extends the
// visibility of the batch it runs until the invocation returns. And a killed
// invocation's records come back only once the claim the dead runtime held has expired
// (in AWS the 360 s visibility outlasts the claim's deadline plus skew): the container
// sets their visibility to the claim's expiry, read from its change record.
type container struct {
	label      string
	st         *stack.Stack
	opts       stack.FunctionOptions
	sqs        *sqs.Client
	queueURL   string
	store      *store.Store
	visibility time.Duration
	log        *slog.Logger
	runCtx     context.Context // the run's: restarts outlive the invocation that killed

	mu       sync.Mutex
	fn       *lambdarun.Function
	up       chan struct{} // closed while fn serves
	killed   map[*lambdarun.Function]bool
	kills    int
	heldBack int
	failures []error // restarts that failed
}

func newContainer(ctx context.Context, st *stack.Stack, label string, opts stack.FunctionOptions, client *sqs.Client, db *store.Store, visibility time.Duration, log *slog.Logger) (*container, error) {
	c := &container{label: label, st: st, opts: opts, sqs: client, queueURL: st.Resources.ChangeQueueURL, store: db,
		visibility: visibility, log: log.With("container", label), runCtx: ctx, up: make(chan struct{}), killed: map[*lambdarun.Function]bool{}}
	fn, err := st.StartFunction(ctx, "apply", opts)
	if err != nil {
		return nil, fmt.Errorf("start apply container %s: %w", label, err)
	}
	c.fn = fn
	close(c.up)
	return c, nil
}

// current waits for a running function.
func (c *container) current(ctx context.Context) (*lambdarun.Function, error) {
	for {
		c.mu.Lock()
		fn, up := c.fn, c.up
		c.mu.Unlock()
		if fn != nil {
			return fn, nil
		}
		select {
		case <-up:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Invoke runs one batch (the poller's Invoker).
func (c *container) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	fn, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("container %s: not an SQS event: %w", c.label, err)
	}
	stop := c.heartbeat(ev)
	out, err := fn.Invoke(ctx, event)
	stop()
	c.mu.Lock()
	killed := c.killed[fn]
	c.mu.Unlock()
	if killed {
		c.holdBack(ev)
		if err == nil {
			err = fmt.Errorf("container %s was killed during the invocation", c.label)
		}
	}
	return out, err
}

// heartbeat keeps the batch's messages invisible while the invocation runs.
func (c *container) heartbeat(ev events.SQSEvent) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(c.visibility / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c.setVisibility(ev.Records, func(events.SQSMessage) time.Duration { return c.visibility })
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// holdBack sets the visibility of a killed batch's records whose claim the dead runtime
// still holds to that claim's expiry, so they come back when another runtime may take
// them, as they would after the template's 360 s. The others come back after the queue's
// visibility timeout.
func (c *container) holdBack(ev events.SQSEvent) {
	ctx, cancel := context.WithTimeout(c.runCtx, 30*time.Second)
	defer cancel()
	now := time.Now()
	held := map[string]time.Duration{}
	for _, r := range ev.Records {
		var body struct {
			ChangeID string `json:"changeId"`
		}
		if json.Unmarshal([]byte(r.Body), &body) != nil || body.ChangeID == "" {
			continue
		}
		rec, err := c.store.GetChange(ctx, body.ChangeID)
		if err != nil || rec.Status != store.StatusInProgress || !rec.InProgressExpiry.After(now) {
			continue
		}
		held[r.MessageId] = rec.InProgressExpiry.Sub(now) + 2*time.Second
	}
	if len(held) == 0 {
		return
	}
	c.setVisibility(ev.Records, func(r events.SQSMessage) time.Duration { return held[r.MessageId] })
	c.mu.Lock()
	c.heldBack += len(held)
	c.mu.Unlock()
	c.log.Info("killed batch: records held back until their claim expires", "records", len(held))
}

// setVisibility sets each record's visibility to d(record); 0 leaves it.
func (c *container) setVisibility(recs []events.SQSMessage, d func(events.SQSMessage) time.Duration) {
	ctx, cancel := context.WithTimeout(c.runCtx, 10*time.Second)
	defer cancel()
	var entries []sqstypes.ChangeMessageVisibilityBatchRequestEntry
	for i, r := range recs {
		v := d(r)
		if v <= 0 {
			continue
		}
		entries = append(entries, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String("r" + strconv.Itoa(i)),
			ReceiptHandle: aws.String(r.ReceiptHandle), VisibilityTimeout: int32((v + time.Second - 1) / time.Second)})
	}
	for start := 0; start < len(entries); start += 10 {
		batch := entries[start:min(start+10, len(entries))]
		if _, err := c.sqs.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(c.queueURL), Entries: batch}); err != nil {
			c.log.Warn("could not set the visibility of a batch", "error", err)
		}
	}
}

// kill SIGKILLs the container's runtime and emulator at once (lambdarun.Function.Kill) and
// starts a fresh one in the background.
func (c *container) kill() {
	c.mu.Lock()
	fn := c.fn
	if fn == nil {
		c.mu.Unlock()
		return
	}
	c.fn, c.up = nil, make(chan struct{})
	c.killed[fn] = true
	c.kills++
	c.mu.Unlock()
	if err := fn.Kill(); err != nil {
		c.log.Error("kill", "error", err)
	}
	c.log.Info("killed the runtime mid-batch; starting a new one")
	go c.restart()
}

func (c *container) restart() {
	var fn *lambdarun.Function
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if fn, err = c.st.StartFunction(c.runCtx, "apply", c.opts); err == nil {
			break
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.failures = append(c.failures, err)
		c.log.Error("restart failed; the container stays down", "error", err)
		return
	}
	c.fn = fn
	close(c.up)
}

// stop stops the running function.
func (c *container) stop() error {
	c.mu.Lock()
	fn := c.fn
	c.fn = nil
	c.mu.Unlock()
	if fn == nil {
		return errors.Join(c.failures...)
	}
	return errors.Join(append(c.failures, fn.Stop())...)
}

// async invokes the webhook as Lambda invokes a function for EventBridge: asynchronously,
// retrying a failed invocation twice (lambdarun.Rule reports a function error as delivered,
// as EventBridge sees it, and leaves these retries out). AWS waits about one and two
// minutes between the attempts, and so does the run (asyncRetryDelays). An event that
// fails all three attempts goes, in AWS, to the function's on-failure destination (the
// webhook dead-letter queue); here it is counted (Failed).
type async struct {
	fns    []*lambdarun.Function
	ctx    context.Context
	cancel context.CancelFunc
	log    *slog.Logger

	mu          sync.Mutex
	wake        chan struct{} // signalled when a job is queued
	queue       []asyncJob
	outstanding int
	stats       asyncStats
	wg          sync.WaitGroup
}

type asyncJob struct {
	event   []byte
	attempt int
}

type asyncStats struct {
	Events, Invocations, Retries, Failed int
}

// asyncRetryDelays are AWS's, not compressed: a retry must keep coming after an apply
// attempt's claim has ended (60 s timeout + 30 s skew), as in AWS, or a write window
// abandoned by a killed runtime would still be open at the last retry, which AWS never
// sees. They add a few minutes to a run only when webhook events fail.
var asyncRetryDelays = []time.Duration{time.Minute, 2 * time.Minute}

func newAsync(ctx context.Context, fns []*lambdarun.Function, log *slog.Logger) *async {
	a := &async{fns: fns, log: log, wake: make(chan struct{}, 1)}
	a.ctx, a.cancel = context.WithCancel(ctx)
	for _, fn := range fns {
		a.wg.Go(func() { a.work(fn) })
	}
	return a
}

// Invoke accepts the event for an asynchronous invocation, as Lambda's Invoke with
// InvocationType Event answers 202 at once.
func (a *async) Invoke(_ context.Context, event []byte) ([]byte, error) {
	a.mu.Lock()
	a.stats.Events++
	a.outstanding++
	a.mu.Unlock()
	a.push(asyncJob{event: append([]byte(nil), event...), attempt: 1})
	return nil, nil
}

func (a *async) push(j asyncJob) {
	a.mu.Lock()
	a.queue = append(a.queue, j)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *async) next() (asyncJob, bool) {
	for {
		a.mu.Lock()
		if len(a.queue) > 0 {
			j := a.queue[0]
			a.queue = a.queue[1:]
			more := len(a.queue) > 0
			a.mu.Unlock()
			if more { // another worker may take the next one
				select {
				case a.wake <- struct{}{}:
				default:
				}
			}
			return j, true
		}
		a.mu.Unlock()
		select {
		case <-a.wake:
		case <-a.ctx.Done():
			return asyncJob{}, false
		}
	}
}

func (a *async) work(fn *lambdarun.Function) {
	for {
		j, ok := a.next()
		if !ok {
			return
		}
		_, err := fn.Invoke(a.ctx, j.event)
		a.mu.Lock()
		a.stats.Invocations++
		switch {
		case err == nil:
			a.outstanding--
		case j.attempt <= len(asyncRetryDelays):
			a.stats.Retries++
			d := asyncRetryDelays[j.attempt-1]
			j.attempt++
			time.AfterFunc(d, func() { a.push(j) })
		default:
			a.stats.Failed++
			a.outstanding--
			a.log.Warn("webhook event failed three invocations; in AWS it goes to the on-failure destination", "error", err)
		}
		a.mu.Unlock()
	}
}

// idle reports whether no event is waiting, running or due for a retry.
func (a *async) idle() bool { return a.pending() == 0 }

// pending is the events waiting, running or due for a retry.
func (a *async) pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.outstanding
}

func (a *async) counts() asyncStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// stop ends the workers and the functions.
func (a *async) stop() error {
	a.cancel()
	a.wg.Wait()
	var errs []error
	for _, fn := range a.fns {
		errs = append(errs, fn.Stop())
	}
	return errors.Join(errs...)
}
