// Package lambdarun runs routekeeper's Lambda functions locally the way AWS
// runs them: the real `bootstrap` binary under the AWS Lambda Runtime
// Interface Emulator (aws-lambda-rie), fed by an SQS event-source-mapping
// emulator with Lambda's semantics. It is the engine of `make demo`, the
// invoke tests and cold-start measurements.
//
// It owns:
//
//   - building a function for the host ([Build]: CGO_ENABLED=0, -tags
//     lambda.norpc, -trimpath, -ldflags=-s -w, GOOS/GOARCH of this machine);
//   - one function process tree per [Function] ([Start], [Function.Invoke],
//     [Function.Stop]): aws-lambda-rie on free 127.0.0.1 ports (both its
//     invoke endpoint and the Runtime API the bootstrap talks to, so several
//     functions run side by side), the Lambda environment variables, the
//     function's logs, and the REPORT / INIT REPORT figures parsed from them;
//   - the SQS-to-Lambda poller ([Poller]) with the event source mapping's
//     behaviour: batches of at most 10, every system attribute, the event
//     built field for field as Lambda builds it, partial batch responses
//     (ReportBatchItemFailures), whole-batch failure on a function error or
//     timeout, failed messages left to reappear after the visibility timeout.
//     Redrive to the dead-letter queue after maxReceiveCount is SQS's job and
//     is not reimplemented here.
//
// # What the emulator does differently from AWS
//
//   - The RIE drops the X-Amz-Function-Error header. A function error is
//     recognised by its payload instead: a JSON object with errorMessage and
//     errorType and nothing but stackTrace/cause besides. A handler that
//     returns exactly such an object as a success is misreported.
//   - A timeout answers HTTP 200 with "Task timed out after N.00 seconds";
//     Invoke turns it into a *FunctionError matching ErrTimeout. The RIE then
//     restarts the runtime on the next invoke (a new init).
//   - The "Init Duration" on the RIE's first REPORT line measures only how long
//     the emulator took to dispatch the init, not the init itself. The real
//     figure is rapid's "INIT REPORT(durationMs: …)" line (runtime start to its
//     first /next call), which is what [Invocation.Init] and [Function.Inits]
//     expose.
//   - Timeouts are whole seconds (AWS_LAMBDA_FUNCTION_TIMEOUT); the memory size
//     is only reported, not enforced.
//
// The function's environment is built from scratch, never inherited from the
// caller: a developer's real AWS credentials or profile never reach a local
// function. Unless Options.Env says otherwise it gets test credentials and
// us-east-1, which is what moto (infra/awslocal) expects.
package lambdarun
