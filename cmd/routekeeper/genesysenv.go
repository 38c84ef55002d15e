package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
)

// Genesys access for the CLI.
//
// Without a profile the client is configured from the standard variables
// (genesys.ConfigFromEnv): GENESYS_API_URL or GENESYS_REGION,
// GENESYS_LOGIN_URL, GENESYS_CLIENT_ID, GENESYS_CLIENT_SECRET and
// GENESYS_REQUESTS_PER_MINUTE.
//
// A profile NAME (--env NAME on export and plan, --left-env/--right-env on
// diff) reads the same variables with the prefix ROUTEKEEPER_<NAME>_, NAME
// upper-cased and '-' turned into '_': --env prod-eu reads
// ROUTEKEEPER_PROD_EU_GENESYS_API_URL (or ..._GENESYS_REGION),
// ROUTEKEEPER_PROD_EU_GENESYS_LOGIN_URL, ROUTEKEEPER_PROD_EU_GENESYS_CLIENT_ID,
// ROUTEKEEPER_PROD_EU_GENESYS_CLIENT_SECRET and
// ROUTEKEEPER_PROD_EU_GENESYS_REQUESTS_PER_MINUTE. A profile never falls back
// to the unprefixed variables: comparing dev with prod must not silently read
// one org twice.

// getenv is how the CLI reads its environment (a variable so tests could swap it).
var getenv = os.Getenv

var profileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// profilePrefix returns the variable prefix of a profile ("" for none).
func profilePrefix(profile string) (string, error) {
	if profile == "" {
		return "", nil
	}
	if !profileName.MatchString(profile) {
		return "", fmt.Errorf("environment profile %q: use letters, digits, '-' and '_' (it selects variables ROUTEKEEPER_<NAME>_GENESYS_*)", profile)
	}
	return "ROUTEKEEPER_" + strings.ToUpper(strings.ReplaceAll(profile, "-", "_")) + "_", nil
}

// genesysConfig reads the Genesys client configuration of profile ("" = the
// unprefixed GENESYS_* variables).
func genesysConfig(profile string) (genesys.Config, error) {
	prefix, err := profilePrefix(profile)
	if err != nil {
		return genesys.Config{}, err
	}
	cfg, err := genesys.ConfigFromEnv(func(k string) string { return getenv(prefix + k) })
	if err != nil {
		if prefix == "" {
			return genesys.Config{}, fmt.Errorf("genesys access is not configured: %w (or pick a profile with --env NAME, which reads ROUTEKEEPER_<NAME>_GENESYS_*)", err)
		}
		return genesys.Config{}, fmt.Errorf("environment profile %q is not configured: variables are read with the prefix %s: %w", profile, prefix, err)
	}
	return cfg, nil
}

// newGenesysClient builds a client for profile.
func newGenesysClient(profile string) (*genesys.Client, error) {
	c, _, err := genesysClient(profile, nil)
	return c, err
}

// genesysClient builds a client for profile that tells onWait (nil: nobody) of its
// waits, and returns its configuration.
func genesysClient(profile string, onWait func(genesys.Wait)) (*genesys.Client, genesys.Config, error) {
	cfg, err := genesysConfig(profile)
	if err != nil {
		return nil, cfg, err
	}
	cfg.OnWait = onWait
	if clientHook != nil {
		clientHook(&cfg)
	}
	c, err := genesys.New(cfg)
	if err != nil {
		return nil, cfg, fmt.Errorf("genesys client: %w", err)
	}
	return c, cfg, nil
}

// clientHook, when set (tests), adjusts every Genesys client's configuration: a clock
// that moves only when the client waits.
var clientHook func(*genesys.Config)

// isTerminal reports whether w is a terminal (progress bars only go to terminals).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// reachTimeout bounds the connection check of checkReachable.
const reachTimeout = 5 * time.Second

// checkReachable connects to the API and login hosts of cfg once, so that a wrong URL
// fails at once with the variables to check, rather than after the client's retries.
func checkReachable(ctx context.Context, cfg genesys.Config, profile string) error {
	prefix, _ := profilePrefix(profile)
	login := cfg.LoginURL
	if login == "" {
		login, _ = genesys.LoginURLFor(cfg.APIURL)
	}
	checked := map[string]bool{}
	for _, t := range []struct{ url, vars string }{
		{cfg.APIURL, prefix + "GENESYS_API_URL (or " + prefix + "GENESYS_REGION)"},
		{login, prefix + "GENESYS_LOGIN_URL"},
	} {
		u, err := url.Parse(t.url)
		if err != nil || u.Host == "" {
			continue // genesys.New has said what is wrong with it
		}
		host := u.Host
		if u.Port() == "" {
			port := "443"
			if u.Scheme == "http" {
				port = "80"
			}
			host = net.JoinHostPort(u.Hostname(), port)
		}
		if checked[host] {
			continue
		}
		checked[host] = true
		d := net.Dialer{Timeout: reachTimeout}
		conn, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("cannot reach Genesys at %s: %v: check %s", t.url, unwrapNet(err), t.vars)
		}
		conn.Close()
	}
	return nil
}

// unwrapNet shortens a dial error to its cause ("connection refused", "no such host").
func unwrapNet(err error) error {
	if se, ok := errors.AsType[*os.SyscallError](err); ok && se.Err != nil {
		return se.Err // "connection refused", not "connect: connection refused"
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Err != nil {
		return op.Err
	}
	return err
}

// heartbeat is how often a read without a terminal says how far it is.
const heartbeat = 10 * time.Second

// now is the CLI's clock (tests move it with clientHook's).
var now = time.Now

// readProgress reports a live read on stderr: a progress bar on a terminal, else a line
// at each wait of a second or more and every heartbeat. Either says why the read waits.
type readProgress struct {
	mu       sync.Mutex
	w        io.Writer
	what     string // e.g. "plan: reading the org"
	bar      *progressbar.ProgressBar
	listing  bool
	done     int
	total    int
	lastLine time.Time // the last line written, for the heartbeat
	lastWait time.Time // the last wait line written (zero: none yet)
}

func newReadProgress(stderr io.Writer, cmdName, profile string) *readProgress {
	what := "reading the org"
	if profile != "" {
		what = "reading " + profile
	}
	p := &readProgress{w: stderr, what: cmdName + ": " + what, listing: true, total: 5, lastLine: now()}
	if isTerminal(stderr) {
		p.bar = progressbar.NewOptions(5,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(what+": lists"),
			progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetPredictTime(false),
		)
	}
	return p
}

// progress is live.Read's progress callback.
func (p *readProgress) progress(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listing && (total != 5 || done > 5) {
		p.listing = false
	}
	p.done, p.total = done, total
	if p.bar != nil {
		p.bar.Describe(p.stage())
		if p.bar.GetMax() != total {
			p.bar.ChangeMax(total)
		}
		_ = p.bar.Set(done)
		return
	}
	if t := now(); t.Sub(p.lastLine) >= heartbeat {
		p.lastLine = t
		fmt.Fprintf(p.w, "%s: %s %d of %d\n", p.what, p.stage(), done, total)
	}
}

// stage names what the read is doing: its lists, then the entities.
func (p *readProgress) stage() string {
	if p.listing {
		return "lists"
	}
	return "entities"
}

// wait is the client's Config.OnWait: it says why the read waits.
func (p *readProgress) wait(w genesys.Wait) {
	if w.Duration < time.Second {
		return // pacing between requests: not worth a word
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	why := waitText(w)
	if p.bar != nil {
		p.bar.Describe(p.stage() + ": " + why)
		return
	}
	// One line per wait, at most one per second of the client's clock; the first wait
	// always says why, even at the very start of the read.
	if t := now(); p.lastWait.IsZero() || t.Sub(p.lastWait) >= time.Second {
		p.lastLine, p.lastWait = t, t
		fmt.Fprintf(p.w, "%s: %s\n", p.what, why)
	}
}

func (p *readProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// waitText says why the client waits and for how long.
func waitText(w genesys.Wait) string {
	d := w.Duration.Round(time.Second)
	switch w.Reason {
	case genesys.WaitRetryAfter:
		return fmt.Sprintf("Genesys asked to wait %s (Retry-After: its rate limit for this OAuth client)", d)
	case genesys.WaitBudget:
		return fmt.Sprintf("request budget: waiting %s (GENESYS_REQUESTS_PER_MINUTE, default 300 a minute, Genesys's own limit)", d)
	}
	return fmt.Sprintf("Genesys did not answer or failed (%s %s): retrying in %s", w.Method, w.Path, d)
}

// readLive reads the org of profile with list endpoints, saying on stderr how far it is
// and why it waits (readProgress), as cmdName. It returns the client too, for its call
// counts.
func readLive(ctx context.Context, stderr io.Writer, cmdName, profile string) (*live.Org, *genesys.Client, error) {
	p := newReadProgress(stderr, cmdName, profile)
	c, cfg, err := genesysClient(profile, p.wait)
	if err != nil {
		return nil, nil, err
	}
	if err := checkReachable(ctx, cfg, profile); err != nil {
		return nil, nil, err
	}
	org, err := live.Read(ctx, c, p.progress)
	p.finish()
	if err != nil {
		where := "the org"
		if profile != "" {
			where = "profile " + profile
		}
		return nil, nil, fmt.Errorf("read %s: %w", where, err)
	}
	return org, c, nil
}

// printWarnings writes the live read's warnings to stderr, at most limit of them.
func printWarnings(stderr io.Writer, cmd string, org *live.Org) {
	const limit = 20
	for i, w := range org.Warnings {
		if i == limit {
			fmt.Fprintf(stderr, "%s: warning: %d more warnings\n", cmd, len(org.Warnings)-limit)
			break
		}
		fmt.Fprintf(stderr, "%s: warning: %s\n", cmd, w)
	}
}
