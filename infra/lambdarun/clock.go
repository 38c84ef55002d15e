package lambdarun

import (
	"context"
	"log/slog"
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
