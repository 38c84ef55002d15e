package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes: 0 every promise kept, 1 a promise broken (L, D, O or M not 0), 2 the run
// itself failed (bad flags, the stack did not start, ...).
const (
	exitKept   = 0
	exitBroken = 1
	exitFailed = 2
)

// runMain parses args, runs the chaos run and prints its final line on stdout.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitKept
	}
	if err != nil {
		fmt.Fprintln(stderr, "chaos:", err)
		return exitFailed
	}
	counts, err := run(ctx, cfg, stderr)
	if counts.Requests > 0 { // judged, even if the run cannot vouch for its verdict
		fmt.Fprintln(stdout, counts.Line())
	}
	if err != nil {
		fmt.Fprintln(stderr, "chaos: the run failed:", err)
		return exitFailed
	}
	if counts.Broken() {
		return exitBroken
	}
	return exitKept
}

// config is one run's settings (flags).
type config struct {
	N    int
	Seed int64

	ServerErrorRate float64 // 503s, of every faulted API request
	AfterWriteShare float64 // of the 503s drawn for a write, those answered after it applied
	RateLimitRate   float64 // requests starting a 429 burst
	RateLimitBurst  int
	RetryAfter      int     // seconds, on every injected 429
	DropRate        float64 // dropped connections
	DropAfterWrite  float64 // of the drops drawn for a write, those after it applied
	AdminRate       float64 // requests that get a concurrent admin edit
	Kills           int     // SIGKILLs of an apply runtime mid-batch; -1: one per 400 requests, at least one

	Containers int           // apply execution environments, each with its own poller
	Webhooks   int           // webhook execution environments
	Visibility time.Duration // the chaos run's change-queue VisibilityTimeout

	Queues, Worktypes, Skills int           // the generated org
	Timeout                   time.Duration // of the drive; starting, gathering and stopping have bounds of their own
	Work                      string        // where the functions' logs go; "" => .build/chaos/<run>
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./infra/chaos [flags]   (make chaos N=1000 SEED=7)")
		fmt.Fprintln(stderr, "Runs change requests through the real apply and webhook bootstraps under the RIE against moto and a faulty Genesys simulator, then judges what happened.")
		fs.PrintDefaults()
	}
	var c config
	fs.IntVar(&c.N, "n", 1000, "change requests to generate")
	fs.Int64Var(&c.Seed, "seed", 0, "seed of the org, the workload and the fault draws (0: from the clock; printed at start)")
	fs.Float64Var(&c.ServerErrorRate, "5xx", 0.10, "share of the apply and webhook Genesys requests answered 503")
	fs.Float64Var(&c.AfterWriteShare, "5xx-after-write", 0.5, "share of the 503s drawn for a write that are answered after the write was applied (ambiguous)")
	fs.Float64Var(&c.RateLimitRate, "429", 0.05, "share of the requests that start a burst of 429s")
	fs.IntVar(&c.RateLimitBurst, "429-burst", 3, "429s in a burst")
	fs.IntVar(&c.RetryAfter, "retry-after", 1, "Retry-After seconds of the injected 429s")
	fs.Float64Var(&c.DropRate, "drop", 0.02, "share of the requests whose connection is dropped")
	fs.Float64Var(&c.DropAfterWrite, "drop-after-write", 0.5, "share of the drops drawn for a write that come after the write was applied (a lost answer)")
	fs.Float64Var(&c.AdminRate, "admin", 0.05, "share of the change requests that get a concurrent admin edit (same field or another, before the read or inside the read-to-write window)")
	fs.IntVar(&c.Kills, "kills", -1, "SIGKILLs of an apply runtime mid-batch (-1: one per 400 requests, at least one)")
	fs.IntVar(&c.Containers, "concurrency", 3, "apply execution environments (each its own RIE and poller, as ScalingConfig's concurrency)")
	fs.IntVar(&c.Webhooks, "webhooks", 1, "webhook execution environments")
	fs.DurationVar(&c.Visibility, "visibility", 10*time.Second, "VisibilityTimeout of the chaos run's change queue (template: 360s)")
	fs.IntVar(&c.Queues, "queues", 240, "queues in the generated org")
	fs.IntVar(&c.Worktypes, "worktypes", 60, "worktypes in the generated org")
	fs.IntVar(&c.Skills, "skills", 60, "skills in the generated org")
	fs.DurationVar(&c.Timeout, "timeout", 0, "bound of the drive (sending, draining the queue, settling the webhook); what is not done by then counts as lost (0: 5m plus 2s a request)")
	fs.StringVar(&c.Work, "work", "", "directory for the functions' logs (default .build/chaos/<seed>-<time>)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q (flags only; see -h)", fs.Args())
	}
	var errs []error
	if c.N < 1 {
		errs = append(errs, fmt.Errorf("-n %d: want at least 1", c.N))
	}
	for name, v := range map[string]float64{"-5xx": c.ServerErrorRate, "-5xx-after-write": c.AfterWriteShare, "-429": c.RateLimitRate,
		"-drop": c.DropRate, "-drop-after-write": c.DropAfterWrite, "-admin": c.AdminRate} {
		if v < 0 || v > 1 {
			errs = append(errs, fmt.Errorf("%s %v: want a share between 0 and 1", name, v))
		}
	}
	if c.Containers < 1 || c.Webhooks < 1 {
		errs = append(errs, fmt.Errorf("-concurrency %d, -webhooks %d: want at least 1 each", c.Containers, c.Webhooks))
	}
	if c.Visibility < 2*time.Second {
		errs = append(errs, fmt.Errorf("-visibility %v: want at least 2s (the heartbeat extends it while a batch runs)", c.Visibility))
	}
	if c.Queues < 10 || c.Worktypes < 5 || c.Skills < 5 {
		errs = append(errs, fmt.Errorf("-queues %d, -worktypes %d, -skills %d: want at least 10, 5 and 5", c.Queues, c.Worktypes, c.Skills))
	}
	if c.Seed == 0 {
		c.Seed = time.Now().UnixNano() % 1_000_000_007
	}
	if c.Timeout <= 0 {
		c.Timeout = 5*time.Minute + time.Duration(c.N)*2*time.Second
	}
	if c.Kills < 0 {
		c.Kills = max(1, c.N/400)
	}
	return c, errors.Join(errs...)
}
