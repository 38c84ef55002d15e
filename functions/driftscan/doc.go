// Command driftscan is the drift scan Lambda: on a schedule (ScheduleV2, parameter
// DriftScanSchedule, every 15 minutes by default) it reads the whole org of its
// environment with list endpoints, compares every entity with what git declares and with
// what routekeeper last saw, and reports drift: the safety net under the webhook.
//
// The scan itself is shared/drift's Scanner, the one `routekeeper drift --scan` runs too;
// this function wires it and reports it. A run (Handler.Handle, events.EventBridgeEvent
// in, routekeeper.driftscan/v1 out):
//
//  1. reads the org (live.List: ceil(N ÷ page size) calls, inside the Genesys client's
//     budget and the invocation's deadline) and, at the same time, the table: the desired
//     state `routekeeper publish` stored, the last-known ETags (one query), the drift
//     states and the active overflows;
//  2. gives every entity its state: IN_SYNC, MODIFIED (path, expected, actual), MISSING,
//     DELETED (seen deleted by the webhook, still absent) or UNMANAGED; a worktype at its
//     overflow queue while the overflow is active is in sync;
//  3. DRIFT_MODE=revert: enqueues corrective change requests (plan and submit, baseEtag
//     the live ETag) for the drifted declared entities, at most MAX_REVERTS_PER_SCAN,
//     never for an unmanaged one;
//  4. puts Drift Detected / Drift Resolved for the entities whose drift state changed and
//     stores those states; records the observations whose ETag changed (and the
//     deletions); stores the report (TTL DRIFT_REPORT_RETENTION) and puts Drift Scan
//     Completed;
//  5. writes one EMF record (dimensions Environment, Function): DriftedEntities,
//     UnmanagedEntities, Coverage, ScanDurationMs, GenesysCalls, GenesysRateLimited,
//     ScanIncomplete, DynamoDBWrites, DriftDetected, DriftResolved, RevertsRequested,
//     RevertsSkipped.
//
// A scan that cannot read everything (429s, 5xx, refused credentials, the deadline) is
// stored as incomplete with its reason and says nothing of what it did not read; the
// function fails only when there can be no report (the table cannot be read or written).
//
// Environment (template.yaml Globals and DriftScanFunction; shared/bootstrap reads the
// shared ones):
//
//	ROUTEKEEPER_ENVIRONMENT       routing environment scanned
//	TABLE_NAME                    the routekeeper table
//	EVENT_BUS_NAME                routekeeper's bus ("" => no events)
//	CHANGE_QUEUE_URL              the change queue (required with DRIFT_MODE=revert)
//	GENESYS_CREDENTIALS_SECRET    Secrets Manager secret {"clientId","clientSecret"}; read once per container
//	GENESYS_API_URL               Genesys Cloud API base URL
//	GENESYS_LOGIN_URL             OAuth base URL ("" => derived from the API URL)
//	DRIFT_MODE                    report (default) or revert
//	MAX_REVERTS_PER_SCAN          corrective change requests a scan may send (default 25)
//	DRIFT_REPORT_RETENTION        how long reports are kept, a Go duration (default 720h)
//	AWS_LAMBDA_LOG_LEVEL          set by Lambda's advanced logging controls; LOG_LEVEL overrides it locally
package main
