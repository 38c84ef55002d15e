package lambdarun_test

import (
	"context"
	"fmt"
	"log"
	"os"

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
