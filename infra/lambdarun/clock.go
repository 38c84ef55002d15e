package lambdarun

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/routekeeper/routekeeper/infra/awslocal"
)

// Clock is the time source of the sources whose behaviour depends on time
// (Rule's retries, Schedule's fire times). Tests inject a fake so they never
// wait on the wall clock.
type Clock interface {
	Now() time.Time
	// After is time.After: the channel receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the machine's clock, the default Clock.
var SystemClock Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// sleep waits d on clock; it returns ctx's error if ctx ends first.
func sleep(ctx context.Context, clock Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clock.After(d):
		return nil
	}
}

// localDefaults fills what a source's options leave empty: moto's region and account,
// the system clock and a logger that discards.
func localDefaults(region, account *string, clock *Clock, log **slog.Logger) {
	if *region == "" {
		*region = awslocal.Region
	}
	if *account == "" {
		*account = awslocal.AccountID
	}
	if *clock == nil {
		*clock = SystemClock
	}
	if *log == nil {
		*log = slog.New(slog.DiscardHandler)
	}
}

// StepClock is a Clock that never waits: After moves Now forward by the wait at once and
// returns a ready channel, and Waits lists what was asked for. Tests of time-driven
// sources (here and in the local stack) run on it in microseconds.
type StepClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

// NewStepClock returns a StepClock at now.
func NewStepClock(now time.Time) *StepClock { return &StepClock{now: now} }

// Now returns the clock's time.
func (c *StepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After records d, moves the clock forward by it and returns a channel holding the new time.
func (c *StepClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	if d > 0 {
		c.now = c.now.Add(d)
	}
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// Waits returns the waits asked for, in order.
func (c *StepClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}
