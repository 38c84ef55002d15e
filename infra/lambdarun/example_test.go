package lambdarun_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/lambdarun"
)

// Run the apply function's real bootstrap under the RIE against the local
// stack and feed it the change queue, as `make demo` does. (Not run as a test:
// it needs the apply function, moto and aws-lambda-rie.)
func Example() {
	ctx := context.Background()
	moto, err := awslocal.StartMoto(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer moto.Stop()
	cfg, err := moto.AWSConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	tmpl, _ := awslocal.TemplatePath()
	res, err := awslocal.CreateResources(ctx, cfg, tmpl, "demo")
	if err != nil {
		log.Fatal(err)
	}

	dir, _ := os.MkdirTemp("", "apply-")
	defer os.RemoveAll(dir)
	boot, err := lambdarun.Build(ctx, "github.com/routekeeper/routekeeper/functions/apply", dir)
	if err != nil {
		log.Fatal(err)
	}
	env := map[string]string{"AWS_ENDPOINT_URL": moto.Endpoint}
	for k, v := range res.Env {
		env[k] = v
	}
	fn, err := lambdarun.Start(ctx, lambdarun.Options{Bootstrap: boot, FunctionName: "apply", Env: env, Logs: os.Stderr})
	if err != nil {
		log.Fatal(err)
	}
	defer fn.Stop()

	poller, err := lambdarun.NewPoller(ctx, sqs.NewFromConfig(cfg), res.ChangeQueueURL, fn, lambdarun.PollerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	stats, err := poller.Drain(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d change requests applied, %d left for retry\n", stats.Deleted, stats.Failed)
	if inits := fn.Inits(); len(inits) > 0 {
		fmt.Println("cold start:", inits[0].Duration)
	}
}

// handlerFunc adapts a function to lambdarun.Invoker.
type handlerFunc func(ctx context.Context, event []byte) ([]byte, error)

func (f handlerFunc) Invoke(ctx context.Context, event []byte) ([]byte, error) { return f(ctx, event) }

// Serve a function behind its Function URL on a free loopback port. A command
// would pass a context that ends on SIGINT and then call Wait.
func ExampleStartURL() {
	fn := handlerFunc(func(_ context.Context, event []byte) ([]byte, error) {
		var req events.LambdaFunctionURLRequest
		if err := json.Unmarshal(event, &req); err != nil {
			return nil, err
		}
		return json.Marshal(events.LambdaFunctionURLResponse{StatusCode: 200, Body: req.RequestContext.HTTP.Method + " " + req.RawPath + "?" + req.QueryStringParameters["env"]})
	})
	u, err := lambdarun.StartURL(context.Background(), fn, lambdarun.URLOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer u.Close()
	resp, err := http.Get(u.URL() + "/status?env=prod")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 GET /status?prod
}

// Match events against an EventBridge rule's event pattern.
func ExampleParsePattern() {
	p, err := lambdarun.ParsePattern([]byte(`{"source": ["routekeeper"], "detail": {"count": [{"numeric": [">", 0]}]}}`))
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range []string{`{"source": "routekeeper", "detail": {"count": 3}}`, `{"source": "routekeeper", "detail": {"count": 0}}`} {
		ok, _ := p.Match([]byte(ev))
		fmt.Println(ok)
	}
	_, err = lambdarun.ParsePattern([]byte(`{"source": [{"contains": "keeper"}]}`))
	fmt.Println(err)
	// Output:
	// true
	// false
	// lambdarun: event pattern: source[0]: unsupported operator "contains" (EventBridge has prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr)
}

// The next fire times of a cron schedule in a time zone.
func ExampleScheduleExpression_Next() {
	e, err := lambdarun.ParseScheduleExpression("cron(0 9 ? * MON-FRI *)", "Europe/Paris")
	if err != nil {
		log.Fatal(err)
	}
	t := time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC) // a Friday
	for range 2 {
		t, _ = e.Next(t)
		fmt.Println(t)
	}
	// Output:
	// 2026-03-30 07:00:00 +0000 UTC
	// 2026-03-31 07:00:00 +0000 UTC
}
