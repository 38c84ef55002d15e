// Command occupancy is the occupancy Lambda: once a minute (ScheduleV2, parameter
// OccupancySchedule) it polls the queues of its environment's assignment rules, writes
// their load as CloudWatch EMF metrics and samples, and drives overflow: when a rule's
// queue holds too many open tasks, new tasks of its worktype go to the overflow queue, and
// back once the backlog drains, with hysteresis.
//
// A run (Handler.Handle, events.EventBridgeEvent in, routekeeper.occupancy/v1 out):
//
//  1. reads the published overflow rules (store.ListOverflowRules, written by
//     `routekeeper publish`), their overflow states and the last-known state of the
//     environment from the table;
//  2. polls Genesys: queue ids from the last-known state (the org's queue list only for
//     names the table does not know), the observations of every queue the rules name
//     (oWaiting, oInteracting, oOnQueueUsers, oActiveUsers, oMemberUsers; at most 100
//     queue ids per query), and the backlog of each rule's queue (workitems query,
//     select Count, queueId EQ, statusCategory Open). That is ceil(queues ÷ 100) + rule
//     queues calls, at most OCCUPANCY_MAX_CALLS (the counts of active overflows first);
//  3. stores a sample per queue (TTL 7 days) and writes EMF records: per queue
//     (dimensions Environment, Queue) Waiting, Interacting, OnQueueAgents, ActiveAgents,
//     MemberAgents, Utilization (interacting ÷ on-queue agents, 0 without agents) and
//     Backlog; per rule (Environment, Rule, also rolled up to Environment) Backlog,
//     MaxCapacity, BacklogRatio, OverflowActive and OverflowSeconds; per run
//     (Environment, Function) the calls, counts of queues, rules, switches, Partial;
//  4. steps each rule's hysteresis (Step: enter after overflowAfter samples at or above
//     maxCapacity, leave after resumeAfter samples at or below resumeBelow, neither within
//     minDwell of the last switch) and sends a switch as a change request (reason
//     "overflow enter" / "overflow leave") through the FIFO change queue, for the apply
//     engine to write guarded by the worktype's ETag and record; never a direct write;
//  5. stores the overflow state (since, consecutive samples, change ids) only over the
//     version it read, and puts Overflow Started / Overflow Ended on the bus
//     (routekeeper.overflow/v1, docs/events.md).
//
// What could not be read (a queue the config names but the org lacks, observations
// missing for a queue, a 429 or any failed call mid-poll, the call budget) is recorded as
// it is and makes the run partial; a rule whose own data (its queue's backlog, the
// observations of its queue and overflow queue) is incomplete does not switch, and its
// runs of consecutive samples start again. Whether Genesys reports a queue nobody is
// logged on to at all is UNVERIFIED (docs/genesys-api.md §6): if it does not, such a
// queue reads as missing and its rule does not switch.
//
// The samples are stamped with the event's time (the schedule's scheduled time), which
// drives the hysteresis: a redelivered event changes nothing, and the local stack fires
// runs at chosen times (make demo) without waiting.
//
// Environment (template.yaml Globals and OccupancyFunction; shared/bootstrap reads the
// shared ones):
//
//	ROUTEKEEPER_ENVIRONMENT       routing environment whose rules are polled
//	TABLE_NAME                    the routekeeper table
//	CHANGE_QUEUE_URL              the change queue the switches go to (required)
//	EVENT_BUS_NAME                routekeeper's bus ("" => no events)
//	GENESYS_CREDENTIALS_SECRET    Secrets Manager secret {"clientId","clientSecret"}; read once per container
//	GENESYS_API_URL               Genesys Cloud API base URL
//	GENESYS_LOGIN_URL             OAuth base URL ("" => derived from the API URL)
//	OCCUPANCY_MAX_CALLS           optional (default 240): Genesys calls a poll may make
//	AWS_LAMBDA_LOG_LEVEL          set by Lambda's advanced logging controls; LOG_LEVEL overrides it locally
package main
