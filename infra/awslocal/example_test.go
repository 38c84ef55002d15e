package awslocal_test

import (
	"context"
	"fmt"
	"log"

	"github.com/routekeeper/routekeeper/infra/awslocal"
)

// The local stack outside tests: start moto, create template.yaml's resources, and hand
// their environment to a function process. Tests use ForTest instead.
func ExampleCreateResources() {
	ctx := context.Background()
	m, err := awslocal.StartMoto(ctx)
	if err != nil {
		log.Fatal(err) // moto_server missing: run `make tools`
	}
	defer m.Stop()
	cfg, err := m.AWSConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	res, err := awslocal.CreateResources(ctx, cfg, "template.yaml", "demo")
	if err != nil {
		log.Fatal(err)
	}
	env := append([]string{"AWS_ENDPOINT_URL=" + m.Endpoint}, envList(res.Env)...)
	fmt.Println(len(env) > 1)
}

func envList(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}
