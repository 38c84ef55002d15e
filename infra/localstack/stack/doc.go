// Package stack is routekeeper's local stack: everything `make demo`, `make invoke` and the
// invoke tests run on one machine instead of AWS and a Genesys org.
//
// It owns:
//
//   - running the functions of template.yaml as it declares them (Stack.Template, read
//     and resolved by awslocal.ReadTemplate): each function's folder, timeout, memory,
//     environment and event sources, never a second copy;
//   - starting and stopping the stack (Start, Stack.Stop): moto with the template's
//     resources (infra/awslocal) and the Genesys simulator (infra/genesyssim/sim) on
//     loopback, seeded with the org of the example config (SeedOrg), or no simulator
//     when the functions talk to a real org (Options.WithoutSimulator);
//   - the environment a function gets locally (Stack.FunctionEnv: the template's variables
//     pointed at moto and the simulator, or at the org of FunctionOptions.Genesys with no
//     credentials secret) and the one the CLI gets (Stack.CLIEnv);
//   - running a function's real bootstrap under aws-lambda-rie and invoking it
//     (Stack.StartFunction, via infra/lambdarun);
//   - the function's event sources, built from its template events and feeding a started
//     function, generic over functions: the SQS event source mapping (Stack.Pollers), the
//     Function URL (Stack.FunctionURL: HTTP on loopback to payload format 2.0 and back),
//     EventBridge rules (Stack.Rules: pattern, Input, RetryPolicy, dead-letter queue
//     resolved to a local queue) and schedules (Stack.Schedules: ScheduleV2 and Schedule
//     expressions on an injected clock);
//   - a routing config published into the local table as `routekeeper publish` does
//     (LoadConfig, Stack.Publish; `make invoke CONFIG=path`);
//   - the registry of functions (Functions in functions.go): each function's event type,
//     which every events/<fn>/*.json must decode into strictly, and its event generator
//     (GenerateApplyEvents for apply), from which `go run ./infra/localstack events`
//     rewrites the sample events in events/ (EventsDir), generated from the seeded org so
//     their change requests are valid and meaningful against it.
//
// The tests of this package are the template-vs-code checks (every functions/<fn> has a
// template resource, a Makefile build-<LogicalId> target, events, and every environment
// variable its code reads), the registry checks (events decode into their function's
// registered type; every registration has a template function), the event sources against
// testdata/sources.yaml, and the invoke tests (every events/<fn>/*.json invoked under the
// RIE on a fresh stack, its outcome checked).
//
// The seeded org (SeedOrg) is the org of examples/routing/prod.yaml before that config's
// latest change: same names, three differences (MissingSkill, ChangedQueue,
// ChangedWorktype), and a generated background of unmanaged entities.
package stack
