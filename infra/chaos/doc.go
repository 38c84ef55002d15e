// Command chaos is `make chaos`: it proves, or disproves, what the apply pipeline promises
// under failure. It runs the real apply and webhook bootstraps under aws-lambda-rie
// against the local stack (infra/localstack/stack: SQS FIFO and DynamoDB on moto, the
// Genesys simulator seeded with a generated org), generates N change requests the way
// `routekeeper apply` does, injects faults, and judges the outcome from evidence only.
//
//	go run ./infra/chaos -n 1000 -seed 7      (make chaos N=1000 SEED=7)
//
// # The run
//
//   - Workload (workload.go): rounds planned against the org as it is then (live.Read,
//     drift.NewPlan, drift.Planner, drift.Submit, changes.Publisher): mostly queue updates,
//     worktype updates, skill, queue and worktype creates, deletes of what the run created,
//     over a few hundred entities so message groups interleave. Each write is
//     identifiable: descriptions read "chaos <changeId>", skills are named after their
//     change. Every request is sent a second time with another deduplication id.
//   - Faults (sim.Faults, limited by Via to the functions' requests; the harness's own
//     reads are never faulted): 503s, half of those on a write after it was applied;
//     bursts of 429s with Retry-After; dropped connections, some after the write.
//   - Admin edits (hooks.go, sim.Server.SetHook): of the field the change writes or
//     another (managed or not), made just before the engine's read or inside its
//     read-to-write window, just before its write is applied.
//   - Kills: the container that sent the k-th apply request is SIGKILLed
//     (lambdarun.Function.Kill) while the request goes on, and replaced by a fresh one.
//   - The webhook gets every audit event through the Genesys partner bus and its rule
//     (stack.StartSources), invoked asynchronously with Lambda's two retries.
//
// The read-to-write window is reported twice: as the engine measured it on each update's
// last write (the change record's windowMs: the read's answer to the write's request, to
// the microsecond) and as the simulator saw it (hooks.go: a container's GET handled to its
// next write of the entity arriving, one round trip more).
//
// The change queue's visibility timeout is short (-visibility, 10 s) so a returned message
// comes back in seconds, not 360 s. Three relations of production are kept: each
// container extends its batch's visibility while the invocation runs (in AWS the 360 s
// outlast the 60 s function timeout); a killed batch's records whose claim the dead
// runtime holds come back when that claim expires; and the webhook's two async retries
// wait AWS's one and two minutes, so the last comes after a dead attempt's claim has
// ended (containers.go). Nothing sleeps for a visibility timeout.
//
// # The oracle
//
// oracle.go judges from the requests, the edits made, the simulator's write log (every
// write applied: client, handler, body, changed fields, answer), the change records, the
// dead-letter queue and the final org, and prints one line:
//
//	chaos: N requests, L lost, D double-applied, O silent overwrites, P possible overwrites flagged, M disjoint edits lost, T terminal, Q in DLQ with reason
//
// L: requests with neither a terminal record nor a dead-letter message with a reason. D:
// changes carried by more than one applied write. O: same-field admin edits overwritten
// by a routekeeper write whose plan had not seen them, the change neither CONFLICT nor
// POSSIBLE_OVERWRITE. P: changes flagged POSSIBLE_OVERWRITE. M: other-field admin edits
// whose value is not in the final org though no later write set that field on purpose.
// T: requests with a terminal record. Q: dead-letter messages with a reason. It exits 1
// when L, D, O or M is not 0, 2 when the run itself failed, or when it made no same-field
// admin edit inside a read-to-write window (it could not judge the promise it is for).
//
// # Bounds
//
// Every wait of a run ends. Starting the stack has 5 minutes; the drive (sending, the queue
// drained twice, the webhook settled) has -timeout (default 5 minutes plus 2 s a request),
// after which the run says what it was waiting for and judges what is done, the rest
// counting as lost; gathering the evidence has 5 minutes, stopping 2. The whole run is
// bounded by their sum, and an error says which bound was hit.
//
// SEED fixes the org, the workload's choices and the fault draws; which request meets which
// fault depends on timing, so two runs of one seed differ in detail. The functions' logs
// and the harness's own are kept under .build/chaos/.
package main
