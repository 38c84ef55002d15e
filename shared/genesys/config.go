package genesys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config configures a Client. APIURL, LoginURL, ClientID and ClientSecret are
// required (New derives LoginURL from an api.* APIURL when it is empty).
type Config struct {
	APIURL       string // e.g. https://api.mypurecloud.com
	LoginURL     string // e.g. https://login.mypurecloud.com; tokens come from LoginURL + "/oauth/token"
	ClientID     string
	ClientSecret string

	// RequestsPerMinute is the client's request budget, shared by every call
	// and every attempt (retries included). 0 => 300 (Genesys's
	// client.credentials.token.rate.per.minute); < 0 => unlimited.
	RequestsPerMinute int
	// MaxAttempts bounds the attempts per request (first try + retries). 0 => 5.
	MaxAttempts int
	// MaxRetryWait is the longest server-requested or backoff wait the client
	// sleeps through; a longer Retry-After returns at once with the wait in
	// the error (the Go SDK gives up above 180 s). 0 => 180 s.
	MaxRetryWait time.Duration
	// PageSize for pageNumber-paged lists (queues, skills, divisions). 0 => 500,
	// as the Terraform provider uses; the API documents no maximum (UNVERIFIED).
	PageSize int
	// PageConcurrency bounds concurrent page fetches of one list. 0 => 4.
	PageConcurrency int
	// HTTPClient sends API and token requests. nil => a client with a 30 s timeout.
	HTTPClient *http.Client
	// Logger receives one debug record per attempt (method, path, status,
	// correlation id, wait); never a header, token or body. nil => discard.
	Logger *slog.Logger

	// OnWait, when set, is told of every wait before the client sleeps it: the request
	// budget's pacing, a Retry-After Genesys asked for, a backoff after a 5xx or a
	// transport error. A CLI says with it why it is waiting. It must not block.
	OnWait func(Wait)

	// Test hooks. Now is the clock (nil => time.Now); Sleep waits d or until
	// ctx is done (nil => a timer); Jitter returns a random duration in [0, d)
	// for backoff (nil => math/rand/v2).
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func(d time.Duration) time.Duration
}

// Regions maps a Genesys Cloud region (GENESYS_REGION) to its API base URL
// (SDK configuration.go; docs/genesys-api.md §7).
var Regions = map[string]string{
	"us-east-1":      "https://api.mypurecloud.com",
	"us-east-2":      "https://api.use2.us-gov-pure.cloud",
	"us-west-2":      "https://api.usw2.pure.cloud",
	"ca-central-1":   "https://api.cac1.pure.cloud",
	"sa-east-1":      "https://api.sae1.pure.cloud",
	"mx-central-1":   "https://api.mxc1.pure.cloud",
	"eu-west-1":      "https://api.mypurecloud.ie",
	"eu-west-2":      "https://api.euw2.pure.cloud",
	"eu-central-1":   "https://api.mypurecloud.de",
	"eu-central-2":   "https://api.euc2.pure.cloud",
	"ap-northeast-1": "https://api.mypurecloud.jp",
	"ap-northeast-2": "https://api.apne2.pure.cloud",
	"ap-northeast-3": "https://api.apne3.pure.cloud",
	"ap-south-1":     "https://api.aps1.pure.cloud",
	"ap-southeast-1": "https://api.apse1.pure.cloud",
	"ap-southeast-2": "https://api.mypurecloud.com.au",
	"me-central-1":   "https://api.mec1.pure.cloud",
}

// ConfigFromEnv reads the client configuration:
//
//	GENESYS_API_URL        API base URL; or
//	GENESYS_REGION         a key of Regions (used when GENESYS_API_URL is empty)
//	GENESYS_LOGIN_URL      default: the API URL with its leading "api." host label replaced by "login."
//	GENESYS_CLIENT_ID      required
//	GENESYS_CLIENT_SECRET  required
//	GENESYS_REQUESTS_PER_MINUTE  optional request budget (default 300)
//
// getenv is usually os.Getenv. Errors name the variable to set.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var cfg Config
	var errs []error
	apiURL := strings.TrimSpace(getenv("GENESYS_API_URL"))
	if apiURL == "" {
		region := strings.TrimSpace(getenv("GENESYS_REGION"))
		switch {
		case region == "":
			errs = append(errs, errors.New("set GENESYS_API_URL (e.g. https://api.mypurecloud.com) or GENESYS_REGION (e.g. us-east-1)"))
		case Regions[strings.ToLower(region)] == "":
			known := make([]string, 0, len(Regions))
			for k := range Regions {
				known = append(known, k)
			}
			slices.Sort(known)
			errs = append(errs, fmt.Errorf("GENESYS_REGION %q is not a Genesys Cloud region; use one of %s or set GENESYS_API_URL", region, strings.Join(known, ", ")))
		default:
			apiURL = Regions[strings.ToLower(region)]
		}
	}
	if apiURL != "" {
		u, err := normalizeURL("GENESYS_API_URL", apiURL)
		if err != nil {
			errs = append(errs, err)
		}
		cfg.APIURL = u
	}
	if login := strings.TrimSpace(getenv("GENESYS_LOGIN_URL")); login != "" {
		u, err := normalizeURL("GENESYS_LOGIN_URL", login)
		if err != nil {
			errs = append(errs, err)
		}
		cfg.LoginURL = u
	} else if cfg.APIURL != "" {
		u, err := LoginURLFor(cfg.APIURL)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w; set GENESYS_LOGIN_URL", err))
		}
		cfg.LoginURL = u
	}
	cfg.ClientID = strings.TrimSpace(getenv("GENESYS_CLIENT_ID"))
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("GENESYS_CLIENT_ID is required (the OAuth client-credentials client id)"))
	}
	cfg.ClientSecret = getenv("GENESYS_CLIENT_SECRET")
	if cfg.ClientSecret == "" {
		errs = append(errs, errors.New("GENESYS_CLIENT_SECRET is required (the OAuth client secret)"))
	}
	if s := strings.TrimSpace(getenv("GENESYS_REQUESTS_PER_MINUTE")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("GENESYS_REQUESTS_PER_MINUTE %q is not an integer", s))
		}
		cfg.RequestsPerMinute = n
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("genesys config: %w", errors.Join(errs...))
	}
	return cfg, nil
}

// LoginURLFor derives the login (OAuth) base URL from an API base URL the way
// the SDK does: the host's leading "api." label, matched case-insensitively,
// becomes "login.". It fails for hosts without it, e.g. a loopback simulator.
func LoginURLFor(apiURL string) (string, error) {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("cannot derive the login URL from API URL %q: not an absolute URL", apiURL)
	}
	if len(u.Host) < 4 || !strings.EqualFold(u.Host[:4], "api.") {
		return "", fmt.Errorf("cannot derive the login URL from API URL %q: its host does not start with \"api.\"", apiURL)
	}
	u.Host = "login." + u.Host[4:]
	return strings.TrimRight(u.String(), "/"), nil
}

func normalizeURL(name, s string) (string, error) {
	u, err := url.Parse(s)
	if err == nil && u.User != nil {
		// Do not echo the URL: its user info may hold a password.
		return "", fmt.Errorf("%s must not contain user info (credentials go in GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET)", name)
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s %q is not an absolute http(s) URL", name, s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s %q must be a base URL without query or fragment", name, s)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
