// Package awslocal runs the AWS side of routekeeper on one machine: a moto server on a
// loopback port, and the resources of template.yaml (table, FIFO change queue with its
// dead-letter queue and redrive policy, event bus, Genesys credentials secret) created on it
// from that single definition, never from a second copy.
//
// It is the one place that reads template.yaml and resolves it: logical IDs become names
// prefixed per test or per stack (so tests sharing one moto are isolated), intrinsic
// functions (Ref, Fn::GetAtt, Fn::Sub) are resolved to the local values, and the
// environment variables the template gives every function (Globals.Function.Environment)
// come back resolved in [Resources.Env]. [ReadTemplate] gives the rest of the template
// resolved the same way, for the local stack (infra/localstack/stack) to run: its
// functions with every event source SAM declares for them ([Function]: SQS events,
// FunctionUrlConfig as [URLConfig], EventBridgeRule and CloudWatchEvent events as
// [RuleEvent] with their pattern, bus, Input, RetryPolicy, dead-letter queue and state,
// ScheduleV2 and Schedule events as [ScheduleEvent]), with SAM's defaults and checks where
// the local stack depends on them (generated names and target ids, State and Enabled), and
// the queues. It reads the template; running the sources is lambdarun's and the local
// stack's.
//
// Tests use one moto per test binary:
//
//	func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }
//
//	func TestSomething(t *testing.T) {
//		cfg, res := awslocal.ForTest(t) // starts the shared moto on first use
//		client := dynamodb.NewFromConfig(cfg)
//		...
//	}
//
// moto_server must be on PATH (`make tools` installs moto[server]); without it the tests
// fail with that instruction rather than skip.
package awslocal
