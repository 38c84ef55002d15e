package genesys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/time/rate"
)

const (
	defaultRequestsPerMinute = 300
	defaultMaxAttempts       = 5
	defaultMaxRetryWait      = 180 * time.Second
	defaultPageSize          = 500
	defaultPageConcurrency   = 4
	tokenRefreshEarly        = 60 * time.Second // the SDK refreshes at expires_in - 60 s
	backoffBase              = 500 * time.Millisecond
	backoffMax               = 30 * time.Second
	maxResponseBytes         = 64 << 20
	maxErrorBodyBytes        = 64 << 10
)

// Client is a Genesys Cloud Platform API client with one request budget,
// one OAuth token and one retry policy. It is safe for concurrent use; build
// one per process (per Lambda container) and share it.
type Client struct {
	apiURL       string
	tokenURL     string
	secret       string
	oauth        clientcredentials.Config
	httpc        *http.Client
	log          *slog.Logger
	now          func() time.Time
	sleep        func(ctx context.Context, d time.Duration) error
	jitter       func(d time.Duration) time.Duration
	maxAttempts  int
	maxRetryWait time.Duration
	pageSize     int
	pageWorkers  int

	budgetMu   sync.Mutex
	limiter    *rate.Limiter // nil: unlimited
	pauseUntil time.Time     // set by a 429: no attempt starts before it

	tokMu sync.Mutex
	tok   *oauth2.Token

	requests, rateLimited, serverErrors, retries, tokenRequests, budgetWaitNs atomic.Int64

	// onSend, when set (tests), is called for every attempt with the time the
	// budget granted it.
	onSend func(at time.Time)
	onWait func(Wait) // Config.OnWait
}

// Stats counts what a Client did since New. Benchmarks and the drift scan report it.
type Stats struct {
	Requests      int64         // API requests sent (every attempt, token requests excluded)
	RateLimited   int64         // 429 responses seen
	ServerErrors  int64         // retryable 5xx responses seen
	Retries       int64         // attempts after the first, for any reason
	TokenRequests int64         // OAuth token requests
	BudgetWait    time.Duration // total time attempts waited for the request budget
}

// New builds a Client. It does not contact Genesys; the first call fetches a token.
func New(cfg Config) (*Client, error) {
	var errs []error
	apiURL, err := normalizeURL("APIURL", cfg.APIURL)
	if err != nil {
		errs = append(errs, err)
	}
	loginURL := cfg.LoginURL
	if loginURL == "" && apiURL != "" {
		if loginURL, err = LoginURLFor(apiURL); err != nil {
			errs = append(errs, fmt.Errorf("%w; set Config.LoginURL", err))
		}
	}
	if loginURL != "" {
		if loginURL, err = normalizeURL("LoginURL", loginURL); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("ClientID is required"))
	}
	if cfg.ClientSecret == "" {
		errs = append(errs, errors.New("ClientSecret is required"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("genesys.New: %w", errors.Join(errs...))
	}
	c := &Client{
		apiURL:       apiURL,
		tokenURL:     loginURL + "/oauth/token",
		secret:       cfg.ClientSecret,
		httpc:        cfg.HTTPClient,
		log:          cfg.Logger,
		now:          cfg.Now,
		sleep:        cfg.Sleep,
		jitter:       cfg.Jitter,
		maxAttempts:  cmpOr(cfg.MaxAttempts, defaultMaxAttempts),
		maxRetryWait: cmpOr(cfg.MaxRetryWait, defaultMaxRetryWait),
		pageSize:     cmpOr(cfg.PageSize, defaultPageSize),
		pageWorkers:  cmpOr(cfg.PageConcurrency, defaultPageConcurrency),
		onWait:       cfg.OnWait,
	}
	c.oauth = clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		TokenURL:     c.tokenURL,
		// Basic base64(clientId:clientSecret), as the SDK sends it. (oauth2
		// URL-encodes both parts first, which changes nothing for Genesys's
		// UUID ids and URL-safe secrets.)
		AuthStyle: oauth2.AuthStyleInHeader,
	}
	if c.httpc == nil {
		c.httpc = &http.Client{Timeout: 30 * time.Second}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if c.jitter == nil {
		c.jitter = func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d)
		}
	}
	if rpm := cmpOr(cfg.RequestsPerMinute, defaultRequestsPerMinute); rpm > 0 {
		c.limiter = newLimiter(rpm)
	}
	return c, nil
}

// newLimiter paces rpm requests per minute so that no 60-second window holds
// more than rpm: a token bucket admits at most burst + rate*60s in any 60 s,
// so the refill rate is (rpm - burst)/minute. The small burst lets a list's
// first pages start together.
func newLimiter(rpm int) *rate.Limiter {
	burst := min(max(rpm/30, 1), 10)
	perMinute := max(rpm-burst, 1)
	return rate.NewLimiter(rate.Limit(float64(perMinute)/60), burst)
}

func cmpOr[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Calls returns what the client has done so far.
func (c *Client) Calls() Stats {
	return Stats{
		Requests:      c.requests.Load(),
		RateLimited:   c.rateLimited.Load(),
		ServerErrors:  c.serverErrors.Load(),
		Retries:       c.retries.Load(),
		TokenRequests: c.tokenRequests.Load(),
		BudgetWait:    time.Duration(c.budgetWaitNs.Load()),
	}
}

// request is one logical API call; do may send it several times.
type request struct {
	method, path string
	query        url.Values
	body         []byte // nil: no body
	// idempotent: safe to resend after a transport error that may have
	// reached the server (everything but creates).
	idempotent bool
}

func newRequest(method, path string, body any) (request, error) {
	r := request{method: method, path: path, idempotent: method != http.MethodPost}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return r, fmt.Errorf("genesys: %s %s: encode body: %w", method, path, err)
		}
		r.body = b
	}
	return r, nil
}

// do sends req under the budget and retry policy and decodes a 2xx body into
// out (when out is non-nil and the body non-empty).
//
// Policy: every attempt waits for the request budget; a 401 refreshes the
// token once and retries once; a 429 waits exactly Retry-After (and pauses
// the whole client for that long); 5xx other than 501 and transport errors
// back off exponentially with jitter (honouring Retry-After when sent); at most
// MaxAttempts attempts. No wait passes ctx's deadline or MaxRetryWait: the
// error is returned at once, carrying the wait.
func (c *Client) do(ctx context.Context, req request, out any) error {
	refreshed := false
	once := sendOnce(ctx)
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			c.retries.Add(1)
		}
		if err := c.waitBudget(ctx, req); err != nil {
			return err
		}
		tok, err := c.token(ctx, "")
		if err != nil {
			wait, retryable := c.tokenRetry(ctx, err, attempt)
			if !retryable || attempt >= c.maxAttempts {
				return err
			}
			if werr := c.retryWait(ctx, req, attempt, wait, err); werr != nil {
				return werr
			}
			continue
		}
		resp, err := c.send(ctx, req, tok.AccessToken)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("genesys: %s %s: %w", req.method, req.path, ctx.Err())
			}
			resendable := (req.idempotent && !once) || notSent(err)
			err = fmt.Errorf("genesys: %s %s: %s", req.method, req.path, c.redact(err.Error(), tok.AccessToken))
			if !resendable || attempt >= c.maxAttempts {
				return err
			}
			if werr := c.retryWait(ctx, req, attempt, c.backoff(attempt), err); werr != nil {
				return werr
			}
			continue
		}
		body, readErr := readBody(resp)
		corr := resp.Header.Get("ININ-Correlation-Id")
		c.log.LogAttrs(ctx, slog.LevelDebug, "genesys request",
			slog.String("method", req.method), slog.String("path", req.path),
			slog.Int("status", resp.StatusCode), slog.Int("attempt", attempt),
			slog.String("correlationId", corr))
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if readErr == nil {
				recordCall(ctx, Call{Method: req.method, Path: req.path, StatusCode: resp.StatusCode, CorrelationID: corr})
			}
			if readErr != nil {
				// The connection dropped mid-body: a transport failure, but
				// the request did reach the server, so only an idempotent
				// one is resent.
				if ctx.Err() != nil {
					return fmt.Errorf("genesys: %s %s: read response: %w", req.method, req.path, ctx.Err())
				}
				err := fmt.Errorf("genesys: %s %s: read response: %s [correlation id %s]", req.method, req.path, c.redact(readErr.Error(), tok.AccessToken), corr)
				if !req.idempotent || once || attempt >= c.maxAttempts {
					return err
				}
				if werr := c.retryWait(ctx, req, attempt, c.backoff(attempt), err); werr != nil {
					return werr
				}
				continue
			}
			if out == nil || len(bytes.TrimSpace(body)) == 0 {
				return nil
			}
			if err := json.Unmarshal(body, out); err != nil {
				return fmt.Errorf("genesys: %s %s: decode response: %w [correlation id %s]", req.method, req.path, err, corr)
			}
			return nil
		}
		apiErr := c.apiError(req, resp, body, tok.AccessToken)
		recordCall(ctx, Call{Method: req.method, Path: req.path, StatusCode: resp.StatusCode, CorrelationID: corr})
		switch {
		case resp.StatusCode == http.StatusUnauthorized:
			if refreshed || attempt >= c.maxAttempts {
				return apiErr
			}
			refreshed = true
			if _, err := c.token(ctx, tok.AccessToken); err != nil {
				return err
			}
		case resp.StatusCode == http.StatusTooManyRequests:
			c.rateLimited.Add(1)
			wait, ok := retryAfter(resp.Header, c.now())
			if !ok {
				wait = c.backoff(attempt)
			}
			c.pause(wait)
			if once || attempt >= c.maxAttempts {
				apiErr.RetryAfter = wait
				return apiErr
			}
			if err := c.retryWait(ctx, req, attempt, wait, apiErr); err != nil {
				return err
			}
		case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
			c.serverErrors.Add(1)
			wait, ok := retryAfter(resp.Header, c.now())
			if !ok {
				wait = c.backoff(attempt)
			}
			if once {
				apiErr.RetryAfter = wait
				return apiErr
			}
			if attempt >= c.maxAttempts {
				return apiErr
			}
			if err := c.retryWait(ctx, req, attempt, wait, apiErr); err != nil {
				return err
			}
		default:
			return apiErr
		}
	}
}

// retryWait sleeps wait before the next attempt, or returns cause at once
// (with the wait recorded) when the wait would pass ctx's deadline or MaxRetryWait.
func (c *Client) retryWait(ctx context.Context, req request, attempt int, wait time.Duration, cause error) error {
	if wait > c.maxRetryWait || c.pastDeadline(ctx, wait) {
		if ae, ok := errors.AsType[*APIError](cause); ok {
			ae.RetryAfter = wait
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "genesys giving up: wait exceeds deadline or limit",
			slog.String("method", req.method), slog.String("path", req.path),
			slog.Int("attempt", attempt), slog.Duration("wait", wait))
		return cause
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "genesys retry",
		slog.String("method", req.method), slog.String("path", req.path),
		slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("cause", cause.Error()))
	reason := WaitBackoff
	if ae, ok := errors.AsType[*APIError](cause); ok && ae.StatusCode == http.StatusTooManyRequests {
		reason = WaitRetryAfter
	}
	c.notifyWait(reason, wait, req)
	if err := c.sleep(ctx, wait); err != nil {
		return fmt.Errorf("genesys: %s %s: waiting %s to retry: %w (last error: %v)", req.method, req.path, wait, err, cause)
	}
	return nil
}

// notifyWait tells Config.OnWait of a wait about to be slept.
func (c *Client) notifyWait(reason WaitReason, d time.Duration, req request) {
	if c.onWait != nil && d > 0 {
		c.onWait(Wait{Reason: reason, Duration: d, Method: req.method, Path: req.path})
	}
}

func (c *Client) pastDeadline(ctx context.Context, wait time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ok && c.now().Add(wait).After(dl)
}

// backoff is the wait before attempt+1 after a 5xx or transport error:
// exponential from 500 ms, capped at 30 s, with "equal jitter" (half fixed,
// half random) so concurrent clients spread out.
func (c *Client) backoff(attempt int) time.Duration {
	d := backoffBase << min(attempt-1, 10)
	d = min(d, backoffMax)
	return d/2 + c.jitter(d/2)
}

// pause stops every attempt of this client from starting for d: a 429 means
// the shared token is over its limit, so concurrent page fetches must wait too.
func (c *Client) pause(d time.Duration) {
	c.budgetMu.Lock()
	defer c.budgetMu.Unlock()
	if until := c.now().Add(d); until.After(c.pauseUntil) {
		c.pauseUntil = until
	}
}

// waitBudget blocks until the request budget grants one attempt.
func (c *Client) waitBudget(ctx context.Context, req request) error {
	c.budgetMu.Lock()
	now := c.now()
	at := now
	if c.pauseUntil.After(at) {
		at = c.pauseUntil
	}
	tokens := takePrepaid(ctx)
	if tokens == 0 {
		// Paid for by the first request of its Prepay context. A pause a 429 imposed
		// since is not waited out: the caller reads again after it.
		pause := c.pauseUntil.Sub(now)
		c.budgetMu.Unlock()
		if pause > 0 {
			return &BudgetError{Method: req.method, Path: req.path, Wait: pause}
		}
		return nil
	}
	var r *rate.Reservation
	if c.limiter != nil {
		// Reservations are made at non-decreasing times (under budgetMu, at
		// max(now, pause)) so the token bucket's accounting stays exact.
		r = c.limiter.ReserveN(at, min(tokens, c.limiter.Burst()))
		at = at.Add(r.DelayFrom(at))
	}
	wait := at.Sub(now)
	// A pause longer than MaxRetryWait (a 429 with a long Retry-After) is not
	// slept through by later calls either: they return the wait, like the
	// call that met the 429. Pacing waits are the caller's own concurrency
	// and are bounded only by the deadline.
	if wait > 0 && (c.pastDeadline(ctx, wait) || c.pauseUntil.Sub(now) > c.maxRetryWait) {
		if r != nil {
			r.CancelAt(now)
		}
		c.budgetMu.Unlock()
		return &BudgetError{Method: req.method, Path: req.path, Wait: wait}
	}
	reason := WaitBudget
	if c.pauseUntil.After(now) {
		reason = WaitRetryAfter // a 429 paused the client
	}
	c.budgetMu.Unlock()
	if c.onSend != nil {
		c.onSend(at)
	}
	if wait <= 0 {
		return nil
	}
	c.budgetWaitNs.Add(int64(wait))
	c.notifyWait(reason, wait, req)
	if err := c.sleep(ctx, wait); err != nil {
		return fmt.Errorf("genesys: %s %s: waiting %s for the request budget: %w", req.method, req.path, wait, err)
	}
	return nil
}

func (c *Client) send(ctx context.Context, req request, accessToken string) (*http.Response, error) {
	u := c.apiURL + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, u, body)
	if err != nil {
		return nil, err
	}
	c.requests.Add(1)
	hreq.Header.Set("Authorization", "Bearer "+accessToken)
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", "routekeeper-genesys")
	if req.body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	return c.httpc.Do(hreq)
}

func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	limit := int64(maxResponseBytes)
	if resp.StatusCode >= 300 {
		limit = maxErrorBodyBytes
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	return b, err
}

// notSent reports whether a transport error happened before the request
// could reach the server (dial or DNS failure), so even a create may be resent.
func notSent(err error) bool {
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return true
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Op == "dial" {
		return true
	}
	return false
}

// retryAfter parses Retry-After: integer seconds as Genesys sends it
// (docs/genesys-api.md §8), or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// errorBody is the SDK ErrorBody subset the client reports.
type errorBody struct {
	Message   string `json:"message"`
	Code      string `json:"code"`
	ContextID string `json:"contextId"`
	Limit     *Limit `json:"limit"`
}

func (c *Client) apiError(req request, resp *http.Response, body []byte, accessToken string) *APIError {
	e := &APIError{
		Method:        req.method,
		Path:          req.path,
		StatusCode:    resp.StatusCode,
		CorrelationID: resp.Header.Get("ININ-Correlation-Id"),
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err == nil {
		e.Message, e.Code, e.ContextID, e.Limit = eb.Message, eb.Code, eb.ContextID, eb.Limit
	} else if s := strings.TrimSpace(string(body)); s != "" {
		if len(s) > 200 {
			s = s[:200] + "..."
		}
		e.Message = s
	}
	e.Message = c.redact(e.Message, accessToken)
	return e
}

// redact removes the client secret and an access token from s. Error bodies
// and transport errors are not expected to echo them, but an error string
// must never carry one even if a proxy or server does.
func (c *Client) redact(s string, accessToken string) string {
	for _, secret := range []string{c.secret, accessToken} {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[REDACTED]")
		}
	}
	return s
}

// token returns a valid access token, fetching one when none is cached, the
// cached one expires within a minute, or the caller saw stale rejected (401).
func (c *Client) token(ctx context.Context, stale string) (*oauth2.Token, error) {
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	if t := c.tok; t != nil && t.AccessToken != stale &&
		(t.Expiry.IsZero() || c.now().Add(tokenRefreshEarly).Before(t.Expiry)) {
		return t, nil
	}
	c.tokenRequests.Add(1)
	requested := c.now()
	t, err := c.oauth.Token(context.WithValue(ctx, oauth2.HTTPClient, c.httpc))
	if err != nil {
		return nil, c.authError(ctx, err)
	}
	// Put the expiry on the client's clock, counted from the request: oauth2
	// counts expires_in from the response on the wall clock, and
	// clientcredentials does not keep expires_in itself.
	if !t.Expiry.IsZero() {
		t.Expiry = requested.Add(time.Until(t.Expiry).Round(time.Second))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "genesys token fetched", slog.Time("expiry", t.Expiry))
	c.tok = t
	return t, nil
}

// tokenRetry reports whether a failed token request is worth another
// attempt under the same policy as an API request, and after what wait: the
// login host answers 429 and 5xx too, and a Lambda should not fail a run on a
// transient one. Rejected credentials (400/401) and a done ctx are final.
func (c *Client) tokenRetry(ctx context.Context, err error, attempt int) (time.Duration, bool) {
	ae, ok := errors.AsType[*AuthError](err)
	if !ok || ctx.Err() != nil {
		return 0, false
	}
	switch {
	case ae.StatusCode == http.StatusTooManyRequests,
		ae.StatusCode >= 500 && ae.StatusCode != http.StatusNotImplemented:
		if ae.retryAfter > 0 {
			return ae.retryAfter, true
		}
		return c.backoff(attempt), true
	case ae.StatusCode == 0 && ae.Err != nil:
		return c.backoff(attempt), true
	}
	return 0, false
}

// authError converts an oauth2 error, whose text embeds the token endpoint's
// response body, into an *AuthError without the body.
func (c *Client) authError(ctx context.Context, err error) error {
	e := &AuthError{TokenURL: c.tokenURL}
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		if re.Response != nil {
			e.StatusCode = re.Response.StatusCode
			e.CorrelationID = re.Response.Header.Get("ININ-Correlation-Id")
			e.retryAfter, _ = retryAfter(re.Response.Header, c.now())
		}
		e.Code = c.redact(re.ErrorCode, "")
		e.Description = c.redact(re.ErrorDescription, "")
		return e
	}
	if ctx.Err() != nil {
		e.Err = ctx.Err()
		return e
	}
	e.Err = errors.New(c.redact(err.Error(), ""))
	return e
}
