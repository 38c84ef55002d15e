package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

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
	cfg, err := genesysConfig(profile)
	if err != nil {
		return nil, err
	}
	c, err := genesys.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("genesys client: %w", err)
	}
	return c, nil
}

// isTerminal reports whether w is a terminal (progress bars only go to terminals).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// readLive reads the org of profile with list endpoints, showing a progress bar
// on stderr when it is a terminal. It returns the client too, for its call counts.
func readLive(ctx context.Context, stderr io.Writer, profile string) (*live.Org, *genesys.Client, error) {
	c, err := newGenesysClient(profile)
	if err != nil {
		return nil, nil, err
	}
	var progress func(done, total int)
	var bar *progressbar.ProgressBar
	if isTerminal(stderr) {
		desc := "reading org"
		if profile != "" {
			desc = "reading " + profile
		}
		bar = progressbar.NewOptions(5,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(desc+": lists"),
			progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetPredictTime(false),
		)
		listing := true
		progress = func(done, total int) {
			if listing && (total != 5 || done > 5) {
				listing = false
				bar.Describe(desc + ": entities")
			}
			if bar.GetMax() != total {
				bar.ChangeMax(total)
			}
			_ = bar.Set(done)
		}
	}
	org, err := live.Read(ctx, c, progress)
	if bar != nil {
		_ = bar.Finish()
	}
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
