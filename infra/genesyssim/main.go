// Command genesyssim serves a simulated Genesys Cloud org (package sim) on loopback for
// the local stack and manual testing:
//
//	go run ./infra/genesyssim --addr 127.0.0.1:0 --seed 7 --queues 50 --skills 40 --worktypes 12
//	go run ./infra/genesyssim --fixture infra/genesyssim/fixtures/org.json
//
// The first stdout line is "genesyssim listening on http://HOST:PORT"; point
// GENESYS_API_URL and GENESYS_LOGIN_URL at that URL. It stops cleanly on SIGINT/SIGTERM.
// --write-fixture FILE writes the generated org as a JSON fixture and exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "genesyssim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("genesyssim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (port 0 picks a free port)")
	seed := fs.Int64("seed", 1, "seed of the generated org")
	queues := fs.Int("queues", 50, "queues to generate")
	skills := fs.Int("skills", 40, "skills to generate")
	worktypes := fs.Int("worktypes", 12, "worktypes to generate")
	workbins := fs.Int("workbins", 0, "workbins to generate (0: one per five worktypes)")
	divisions := fs.Int("divisions", 0, "divisions to generate including Home (0: 4)")
	languages := fs.Int("languages", 0, "routing languages to generate, English first (0: 6, -1: none)")
	fixture := fs.String("fixture", "", "JSON fixture to load instead of generating an org")
	writeFixture := fs.String("write-fixture", "", "write the generated org to this file and exit")
	rpm := fs.Int("rpm", 300, "API requests per minute per token (-1 disables the limit)")
	clientID := fs.String("client-id", sim.DefaultClientID, "accepted OAuth client id")
	clientSecret := fs.String("client-secret", sim.DefaultClientSecret, "accepted OAuth client secret")
	tokenTTL := fs.Duration("token-ttl", 24*time.Hour, "access token lifetime")
	auditTarget := fs.String("audit-target", "", "URL that receives an EventBridge-envelope audit event per change")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: every option is a flag (see -h)", fs.Args())
	}

	var f sim.Fixture
	if *fixture != "" {
		var err error
		if f, err = sim.LoadFixture(*fixture); err != nil {
			return err
		}
	} else {
		f = sim.Generate(sim.GenerateOptions{Queues: *queues, Skills: *skills, Worktypes: *worktypes,
			Workbins: *workbins, Divisions: *divisions, Languages: *languages, Seed: *seed})
	}
	if *writeFixture != "" {
		b, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			return fmt.Errorf("encode fixture: %w", err)
		}
		return os.WriteFile(*writeFixture, append(b, '\n'), 0o644)
	}

	s := sim.New(sim.Options{
		Clients:           map[string]string{*clientID: *clientSecret},
		TokenTTL:          *tokenTTL,
		RequestsPerMinute: *rpm,
	})
	if err := s.Load(f); err != nil {
		return err
	}
	s.SetAuditTarget(*auditTarget)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "genesyssim listening on http://%s\n", ln.Addr())
	fmt.Fprintf(stderr, "genesyssim: org with %d divisions, %d skills, %d queues, %d workbins, %d worktypes; client id %s\n",
		len(f.Divisions), len(f.Skills), len(f.Queues), len(f.Workbins), len(f.Worktypes), *clientID)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	flushCtx, cancelFlush := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelFlush()
	if err := s.FlushAudit(flushCtx); err != nil {
		fmt.Fprintln(stderr, "genesyssim: audit delivery:", err)
	}
	return nil
}
