package genesys_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/genesys"
)

// Example lists an org's queues, edits one and writes it back, against the
// simulator. In a Lambda, ConfigFromEnv(os.Getenv) supplies the configuration.
func Example() {
	org := sim.New(sim.Options{})
	if err := org.Load(sim.Generate(sim.GenerateOptions{Queues: 3, Seed: 42})); err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(org)
	defer srv.Close()

	env := map[string]string{
		"GENESYS_API_URL":       srv.URL,
		"GENESYS_LOGIN_URL":     srv.URL, // a loopback host has no "api." to derive it from
		"GENESYS_CLIENT_ID":     sim.DefaultClientID,
		"GENESYS_CLIENT_SECRET": "routekeeper-local-secret",
	}
	cfg, err := genesys.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	client, err := genesys.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	ctx := context.Background()

	queues, err := client.ListQueues(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("queues:", len(queues))

	q, err := client.GetQueue(ctx, queues[0].ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	q.Description = "managed by routekeeper"
	updated, err := client.UpdateQueue(ctx, q) // a full replace: every member the server sent goes back
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("description:", updated.Description)

	_, err = client.GetQueue(ctx, "no-such-queue")
	fmt.Println("not found:", errors.Is(err, genesys.ErrNotFound))
	fmt.Println("requests:", client.Calls().Requests)
	// Output:
	// queues: 3
	// description: managed by routekeeper
	// not found: true
	// requests: 4
}
