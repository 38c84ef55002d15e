// Package stack is routekeeper's local stack: everything `make demo`, `make invoke` and the
// invoke tests run on one machine instead of AWS and a Genesys org.
//
// It owns:
//
//   - running the functions of template.yaml as it declares them (Stack.Template, read
//     and resolved by awslocal.ReadTemplate): each function's folder, timeout, memory,
//     environment and SQS event-source settings, never a second copy;
//   - starting and stopping the stack (Start, Stack.Stop): moto with the template's
//     resources (infra/awslocal) and the Genesys simulator (infra/genesyssim/sim) on
//     loopback, seeded with the org of the example config (SeedOrg);
//   - the environment a function gets locally (Stack.FunctionEnv: the template's variables
//     pointed at moto and the simulator) and the one the CLI gets (Stack.CLIEnv);
//   - running a function's real bootstrap under aws-lambda-rie and invoking it
//     (Stack.StartFunction, via infra/lambdarun), and feeding it from its SQS queue with
//     the event source mapping's semantics and the template's settings (Stack.Pollers);
//   - the sample events in events/ (EventsDir, GenerateApplyEvents), generated from the
//     seeded org so their change requests are valid and meaningful against it
//     (`go run ./infra/localstack events` rewrites them).
//
// The tests of this package are the template-vs-code checks (every functions/<fn> has a
// template resource, a Makefile build-<LogicalId> target, events, and every environment
// variable its code reads) and the invoke tests (every events/<fn>/*.json invoked under
// the RIE on a fresh stack, its outcome checked).
//
// The seeded org (SeedOrg) is the org of examples/routing/prod.yaml before that config's
// latest change: same names, three differences (MissingSkill, ChangedQueue,
// ChangedWorktype), and a generated background of unmanaged entities.
package stack
