// Package genesys is routekeeper's client for the Genesys Cloud Platform API:
// the routing and task-management endpoints routekeeper reads and writes,
// and nothing else.
//
// It is hand-written because the official Go SDK
// (github.com/mypurecloud/platform-client-sdk-go) cannot be installed from this
// project's module proxy. Paths, member names, paging, errors and limits follow
// docs/genesys-api.md, which cites the SDK (platformclientv2/*.go), the
// Python/Java SDK docs and the Terraform provider; members marked UNVERIFIED
// there are handled leniently here and say so where they are used.
//
// # What it owns
//
//   - Configuration (Config, ConfigFromEnv): API URL from GENESYS_API_URL or
//     GENESYS_REGION, login URL derived from it the way the SDK does.
//   - OAuth client credentials (golang.org/x/oauth2/clientcredentials, HTTP
//     Basic client authentication against <login>/oauth/token). One token per
//     Client, cached and refreshed 60 s before expiry like the SDK; a 401 from
//     the API refreshes it once and retries the request once.
//   - One request budget per Client (golang.org/x/time/rate, default 300
//     requests/minute, Genesys's per-token limit). Every attempt, retries
//     included, passes through it. The bucket's burst is counted in the
//     per-minute figure, so no 60-second window exceeds the budget.
//   - One retry policy: a 429 waits exactly its Retry-After (integer seconds)
//     and pauses the whole client for as long; 5xx (not 501) and transport
//     errors back off exponentially from 500 ms with jitter (capped at 30 s);
//     at most Config.MaxAttempts attempts; a create (POST) is resent after a
//     transport error only when the request cannot have reached the server.
//     A token request that meets a 429, 5xx or transport error is retried
//     under the same policy (rejected credentials are final).
//     No wait passes the context deadline or Config.MaxRetryWait: the call
//     returns at once with the wait in the error (APIError.RetryAfter,
//     BudgetError.Wait, or RetryAfter(err)), so a Lambda can requeue instead of
//     timing out.
//   - Typed errors: *APIError (status, Genesys code, message, contextId,
//     ININ-Correlation-Id, limit) matching the sentinels ErrNotFound,
//     ErrConflict, ErrRateLimited, ErrUnauthorized and ErrForbidden with
//     errors.Is; *AuthError for token failures; *BudgetError when the client's
//     own budget cannot grant a request in time. No error or log record holds
//     a token, the client secret or an Authorization header; token-endpoint
//     errors drop the response body the oauth2 package would embed.
//   - Models (Queue, Skill, Language, Division, Worktype, Workbin, Utilization, ...)
//     with the SDK's JSON member names. They decode leniently and keep every
//     member they do not model, so json.Marshal of a decoded value re-emits all
//     the server sent: the live API is ahead of every SDK, and a queue PUT is a
//     full replace, so GET-edit-PUT must not drop what routekeeper does not know.
//   - Listing: pageNumber lists (queues, skills, languages, divisions) read
//     pageCount from page 1 and fetch pages 2..N concurrently inside the
//     budget. Offset paging can lose an entity that moves between two page
//     requests, so a list whose total changes while it is read, or whose
//     entities do not number its total, is read again (three readings at most,
//     then an error). Task-management queries (worktypes, workbins) follow the
//     `after` cursor until there is none; short and empty pages do not end them.
//
// Endpoints: routing queues (list/get/create/PUT/delete), skills
// (list/get/create/delete), routing languages (list), authorization divisions
// (list), worktypes (query/get/create/PATCH/delete), workbins (query),
// organization utilization (get/PUT), queue observations (analytics, at most
// 100 queues per query) and workitem counts per queue.
//
// Routing languages: the Language model {id, name, dateModified, state,
// version (string), selfUri} is the Go SDK's language.go, and a worktype's
// defaultLanguage is its Languagereference {id, selfUri}, without a name
// (worktype.go, languagereference.go). The path GET /api/v2/routing/languages
// with pageSize (default 25), pageNumber (default 1), sortOrder and name is
// getRoutingLanguages as the Java SDK's RoutingApi generates it from the same
// swagger (the Go routingapi.go was not opened). UNVERIFIED: the maximum
// pageSize, the permission the list needs, the values of state and whether
// deleted languages stay listed.
package genesys
