// Package lambdarun runs routekeeper's Lambda functions locally the way AWS
// runs them: the real `bootstrap` binary under the AWS Lambda Runtime
// Interface Emulator (aws-lambda-rie), fed by emulated event sources with
// AWS's semantics: an SQS event source mapping, Function URLs, EventBridge
// rules and schedules. It is the engine of `make demo`, the invoke tests and
// cold-start measurements.
//
// It owns:
//
//   - building a function for the host ([Build]: CGO_ENABLED=0, -tags
//     lambda.norpc, -trimpath, -ldflags=-s -w, GOOS/GOARCH of this machine);
//   - one function process tree per [Function] ([Start], [Function.Invoke],
//     [Function.Stop], [Function.Kill] to crash it mid-invocation): aws-lambda-rie on
//     free 127.0.0.1 ports (both its
//     invoke endpoint and the Runtime API the bootstrap talks to, so several
//     functions run side by side), the Lambda environment variables, the
//     function's logs, and the REPORT / INIT REPORT figures parsed from them;
//   - the SQS-to-Lambda poller ([Poller]) with the event source mapping's
//     behaviour: batches of at most 10, every system attribute, the event
//     built field for field as Lambda builds it, partial batch responses
//     (ReportBatchItemFailures), whole-batch failure on a function error or
//     timeout, failed messages left to reappear after the visibility timeout.
//     Redrive to the dead-letter queue after maxReceiveCount is SQS's job and
//     is not reimplemented here;
//   - the Function URL ([StartURL], [URL]): an HTTP server on a free
//     127.0.0.1 port that turns each request into the payload-2.0 event
//     (events.LambdaFunctionURLRequest plus the routeKey and stage the type
//     lacks), and the function's answer into the HTTP response as Lambda
//     infers it, with AuthType, InvokeMode, CORS and the 6 MB limit (url.go
//     lists the rules and their sources);
//   - EventBridge rules ([NewRule], [Rule.Deliver]): the event-pattern
//     matcher ([ParsePattern], pattern.go: the content-filtering syntax,
//     written here because quamina is not served by the module proxy), the
//     target's Input, its RetryPolicy (185 retries over 24 hours by default,
//     exponential backoff with jitter) and its dead-letter queue with
//     EventBridge's message attributes;
//   - schedules ([ParseScheduleExpression], [NewSchedule], [Schedule.Run]):
//     rate, cron (AWS's six fields, L, W and #) and at expressions in a
//     time zone with Scheduler's daylight-saving rules, and the payload
//     Scheduler or a scheduled rule sends (Scheduler's default notification
//     has detail as the string "{}").
//
// Every source that depends on time takes a [Clock], so its tests inject
// one and never wait.
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
//   - Invocations are synchronous. EventBridge and Scheduler invoke Lambda
//     asynchronously, so Lambda's asynchronous retries of a function error
//     (two by default) and the function's own dead-letter queue or
//     destinations are not emulated: a Rule reports a function error as
//     delivered, as EventBridge sees it, and its retries and dead-letter
//     queue serve invocations that did not happen (function stopped,
//     emulator unreachable). The ERROR_CODE given to each such failure is the
//     emulator's choice among EventBridge's documented codes.
//   - A Function URL does not check SigV4 signatures (AWS_IAM only requires
//     a signed-looking Authorization header), serves HTTP rather than HTTPS,
//     and keeps AWS's <url-id>.lambda-url.<region>.on.aws as domainName, not
//     the local address (the host header has that). A streamed response
//     arrives whole, since the emulator buffers it. Preflight requests reach
//     the function, which Lambda's documentation neither confirms nor denies.
//   - Schedules fire at the scheduled second (Scheduler fires within the
//     minute), once per fire: their RetryPolicy, DeadLetterConfig,
//     FlexibleTimeWindow, StartDate and EndDate are not emulated. Rule
//     retries wait on the Clock with a backoff EventBridge does not publish.
//
// # Sources
//
// The behaviour of each source follows AWS's documentation; the files say
// which rule comes from where:
//
//   - Function URLs: https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
//     (payloads), .../urls-configuration.html (CORS), .../gettingstarted-limits.html
//     (6 MB), and aws-lambda-go's events/lambda_function_urls.go;
//   - rules: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
//     and .../eb-create-pattern-operators.html, .../eb-event-patterns-null-values.html,
//     .../eb-rule-retry-policy.html, .../eb-rule-dlq.html, the README of
//     aws/event-ruler (EventBridge's matcher) for what those leave open, and
//     https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
//     (EventBridge invokes Lambda asynchronously);
//   - schedules: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html,
//     .../managing-schedule-context-attributes.html, the API reference of Target.Input
//     (the default notification), https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html,
//     and aws/aws-lambda-go issue #563 for the notification's shape.
//
// The function's environment is built from scratch, never inherited from the
// caller: a developer's real AWS credentials or profile never reach a local
// function. Unless Options.Env says otherwise it gets test credentials and
// us-east-1, which is what moto (infra/awslocal) expects.
package lambdarun
