// Package sim is a Genesys Cloud CX org simulator: an http.Handler that answers the
// Platform API endpoints routekeeper uses with the real paths, JSON shapes, error bodies,
// headers and write semantics (see docs/genesys-api.md), so the client, the
// Lambdas and the CLI can be tested and demoed without a real org.
//
// It owns the org state (divisions, skills, routing languages, queues, workbins,
// worktypes, org utilization, queue observations and workitem counts), OAuth tokens,
// per-token rate limiting, fault injection, per-route call counters, audit-event
// delivery, and what a test oracle needs to judge a client: the write log (every write
// applied, by whom, through which handler, what it sent and changed, what the client was
// answered), handlers per client (Via) and a hook before each request about one entity.
//
//	s := sim.New(sim.Options{Now: clock.Now})
//	_ = s.Load(sim.Generate(sim.GenerateOptions{Queues: 50, Skills: 40, Worktypes: 12, Seed: 7}))
//	ts := httptest.NewServer(s) // GENESYS_API_URL and GENESYS_LOGIN_URL = ts.URL
//
// # Endpoints
//
//	POST   /oauth/token                                   client credentials (Basic auth, grant_type=client_credentials)
//	GET    /api/v2/routing/queues                         pageNumber/pageSize, sortOrder, name (* wildcards), id, divisionId
//	POST   /api/v2/routing/queues                         CreateQueueRequest (sourceQueueId copies unset settings)
//	GET    /api/v2/routing/queues/{queueId}
//	PUT    /api/v2/routing/queues/{queueId}               full replace
//	DELETE /api/v2/routing/queues/{queueId}               forceDelete accepted
//	GET    /api/v2/routing/skills                         pageNumber/pageSize, name (starts with), id
//	POST   /api/v2/routing/skills                         {name}
//	GET    /api/v2/routing/skills/{skillId}               also answers for a deleted skill (state "deleted")
//	DELETE /api/v2/routing/skills/{skillId}               soft delete: state "deleted", version+1, leaves lists
//	GET    /api/v2/routing/languages                      pageNumber/pageSize, sortOrder, name (exact, * wildcards)
//	GET    /api/v2/authorization/divisions[/{divisionId}]
//	POST   /api/v2/taskmanagement/worktypes/query         cursor (after), pageSize <= 200, filters, sort, select "Count"
//	POST   /api/v2/taskmanagement/worktypes               WorktypeCreate (name, defaultWorkbinId required)
//	GET    /api/v2/taskmanagement/worktypes/{worktypeId}
//	PATCH  /api/v2/taskmanagement/worktypes/{worktypeId}  WorktypeUpdate, partial, null clears
//	DELETE /api/v2/taskmanagement/worktypes/{worktypeId}  204
//	POST   /api/v2/taskmanagement/workbins/query          as the worktypes query (filters id, name, divisionId, dates)
//	GET    /api/v2/taskmanagement/workbins/{workbinId}
//	POST   /api/v2/taskmanagement/workitems/query         needs an EQ filter on workbinId|assigneeId|queueId|typeId, <= 3 filters
//	GET    /api/v2/routing/utilization
//	PUT    /api/v2/routing/utilization                    omitted media types reset to system defaults
//	POST   /api/v2/analytics/queues/observations/query    filter predicates dimension queueId, metrics enum
//
// Beyond the shared contract: Options.OrgID, EventSourceSuffix and IDSeed, EditSkill, Edit,
// FlushAudit, AuditDelivered, SetAuditTimeout, Fixture.Utilization, the sentinels
// ErrNotFound, ErrNameTaken, ErrInvalid; and for chaos tests (infra/chaos) Via, SetHook,
// Writes, InjectedFaults and the faults after a write.
//
// /_sim/... is the simulator's own unauthenticated control plane for a separate process
// (calls, faults and the faults injected, observations, workitem counts, audit target,
// out-of-band PATCH edits, the write log).
//
// # Semantics
//
//   - Every response has ININ-Correlation-Id; error bodies are ErrorBody
//     {message, code, status, contextId, details, errors} (+ limit on 429). Codes used:
//     bad.credentials (401), not.found (404), bad.request (400), general.conflict (409),
//     too.many.requests.retry.after (429), service.unavailable (503),
//     request.entity.too.large (413, bodies over 512000 bytes).
//   - OAuth errors are {error, description, error_description}: missing Basic auth or
//     grant_type -> 400 invalid_request; other grant types -> 400 unsupported_grant_type;
//     unknown client or wrong secret -> 401 invalid_client. Tokens expire after
//     Options.TokenTTL on the injected clock; a missing, unknown or expired token -> 401.
//   - Rate limit: per token, a fixed one-minute window opened by the first request after
//     the previous window ended. Every API answer carries inin-ratelimit-count,
//     inin-ratelimit-allowed and inin-ratelimit-reset (seconds to window end); over the
//     budget -> 429 with Retry-After = seconds to window end and code
//     too.many.requests.retry.after. Requests answered 429 do not consume budget.
//   - Lists sort by name (case-insensitive, then id) from an index kept sorted on write;
//     pageSize max is MaxPageSize (500, UNVERIFIED), larger -> 400.
//   - Names are unique per kind, case-insensitive (UNVERIFIED for queues); a clash on
//     create, PUT, PATCH or out-of-band edit -> 409 general.conflict. Evidence is thin: the
//     Terraform provider retries worktype create/update on 409 and treats 409 as a
//     conflict; no source shows the real duplicate-name answer.
//   - Queue PUT is a full replace: the body is stored as sent (unknown fields kept),
//     server-managed fields (id, dateCreated, createdBy, memberCount, userMemberCount,
//     joinedMemberCount, selfUri) come from the stored queue, dateModified and modifiedBy
//     (a stable user id per OAuth client) are set. Omitted mediaSettings entries,
//     acwSettings, skillEvaluationMethod and scoringMethod reset to defaults; other omitted
//     fields are removed. An omitted division keeps the current one (UNVERIFIED).
//     mediaSettings keys are only call, callback, chat, email, message; enums
//     (skillEvaluationMethod, scoringMethod, lastAgentRoutingMode, acwSettings.wrapupPrompt,
//     routingRules operator, callback mode) and ranges (acw timeoutMs 1s..60min,
//     serviceLevel percentage 0..1, bullseye thresholds 0..259200) are validated.
//   - dateModified moves on every write, strictly (1 ms later than before if the clock
//     did not advance), so a frozen test clock still shows the change.
//   - Skills carry version (string) that increments on every change, and state.
//   - Worktype PATCH changes only the keys sent; null clears (name, defaultWorkbinId
//     cannot be null); unknown keys -> 400. Responses expand references: defaultQueue
//     {id,name,selfUri} (name read live from the queue), defaultSkills [{id,selfUri}],
//     defaultWorkbin {id,selfUri}, defaultStatus, division {id,name,selfUri}, modifiedBy
//     {id,selfUri}, defaultLanguage {id,selfUri} (SDK Languagereference: no name).
//     Referenced queues, skills, languages, workbins and statuses must exist (400).
//   - Observation query: filter type and|or with predicates (and clauses, two levels);
//     more than MaxObservationQueues (100) queueId predicates -> 400. The real limit is
//     UNVERIFIED. Results: one per queue, {group:{queueId}, data:[{metric, stats:{count}}]}.
//   - Workitems: SetWorkitemCount(queue, n) creates n open, unassigned synthetic items in
//     the queue, typed as the first worktype (by name) whose defaultQueue is that queue and
//     in its default workbin; filters on queueId, typeId, workbinId, assigneeId,
//     statusCategory, divisionId apply; select "Count" returns {count}.
//   - Audit events (SetAuditTarget): one EventBridge partner-event envelope per change,
//     API or out of band, detail-type "v2.audits.entitytype.{id}.entityid.{id}", topic
//     "v2.audits.entitytype.<Queue|RoutingSkill|Worktype>.entityid.<id>", eventBody
//     {id, userId, clientId?, serviceName Routing|TaskManagement, eventTime,
//     action Create|Update|Delete, entityType, entity{id,name}, propertyChanges}.
//     Delivered in order by one background goroutine; FlushAudit waits for delivery.
//   - Faults (SetFaults) apply to API routes in this order: dropped connection (hijack,
//     write a partial status line so Go's transport cannot silently retry, close), latency
//     (timer, abandoned when the request context ends), 429 with Retry-After (forced, or a
//     random burst), random 503. A drop or a 503 drawn for a write may come after the
//     write was applied (ServerErrorAfterWrite, DropAfterWrite): the client cannot tell
//     whether it was. Faults.Via limits them to the requests of some handlers (Via).
//     /oauth/token only gets the latency.
//   - Writes logs every write applied to a queue, skill or worktype in order (Seq): API
//     writes with their handler (Via), client, method, body (Sent) and answer (503 or
//     AnswerDropped when a fault came after it), out-of-band edits as such; Changes lists
//     the changed fields as the audit event does. Refused writes are not logged.
//   - SetHook's Hook runs before every API request about one queue, skill or worktype
//     (and before a create), after faults, authentication and rate limit, outside the
//     simulator's locks: an out-of-band edit it makes lands between a client's read and
//     its write.
//   - Calls counts every request that reached an API route, by route template.
//
// # Fidelity gaps (UNVERIFIED or not modelled)
//
//   - Status codes of creates (200) and deletes (routing 200, task management 204);
//     whether the worktypes/workbins query returns nextUri (it returns the query path when
//     more results exist); default sort of the worktypes query (name ascending here).
//   - The queue list ignores expand, peerId, hasPeer and cannedResponseLibraryId; queue
//     members, users, wrap-up codes, flows and scripts are not modelled; referenced
//     flows/prompts/scripts are stored but not checked.
//   - Skills: no PATCH (division) endpoint; the real list may include deleted skills for a
//     while (the Terraform exporter filters state "deleted"); here they leave lists at once.
//   - Audit propertyChanges paths are flattened JSON paths with string values; the real
//     property naming for Queue/RoutingSkill/Worktype audits and whether those topics
//     reach EventBridge at all are UNVERIFIED (docs/genesys-api.md §9).
//   - Observations do not split by mediaType and carry only stats.count; no qualifier,
//     observations[] or truncation. Utilization accepts "workitem" (UNVERIFIED).
//   - Worktype statuses, versions/history and schemas are not served as endpoints;
//     worktype create starts with no statuses. Routing languages are only listed (no
//     get, create or delete); the real list's name-filter semantics, maximum pageSize and
//     whether deleted languages stay listed are UNVERIFIED.
//   - Worktype query filters: the SDK also names defaultDurationSeconds,
//     defaultExpirationSeconds, defaultDueDurationSeconds, defaultPriority,
//     defaultLanguageId, defaultTtlSeconds, assignmentEnabled, schemaId, schemaVersion
//     and modifiedBy; the simulator filters only id, name, description, divisionId,
//     defaultQueueId, defaultWorkbinId, dateCreated and dateModified (400 otherwise), and
//     ignores the request's attributes. Query pages are always filled, while the SDK
//     warns a real page may be short or empty with an after cursor (the client copes;
//     no fault mode produces such pages yet).
//   - /oauth/token is neither rate limited nor faulted beyond Latency, so the client's
//     token-retry path is only exercised by httptest servers.
//   - No If-Match/ETag support (Genesys documents none for these routes).
package sim
