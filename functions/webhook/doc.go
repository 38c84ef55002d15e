// Command webhook is the webhook Lambda: it takes Genesys audit events about queues,
// skills and worktypes, over HTTP through its Function URL (a Genesys Process Automation
// trigger -> workflow -> Web Services data action) or from the EventBridge rule on the
// Genesys partner event bus, reads the entity once, records what it saw in the table
// (source webhook, with who made the change) and flags drift: the entity's drift state is
// kept in the table and a Drift Detected / Drift Resolved event goes on routekeeper's bus
// when it changes (routekeeper.drift/v1, docs/events.md). README has the data-action
// template and the trigger set-up.
//
// Environment (template.yaml Globals and WebhookFunction; shared/bootstrap reads the
// shared ones):
//
//	ROUTEKEEPER_ENVIRONMENT       routing environment of this stack
//	TABLE_NAME                    the routekeeper table
//	EVENT_BUS_NAME                routekeeper's bus ("" => events are not published)
//	GENESYS_CREDENTIALS_SECRET    Secrets Manager secret {"clientId","clientSecret","webhookToken"}
//	GENESYS_API_URL               Genesys Cloud API base URL
//	GENESYS_LOGIN_URL             OAuth base URL ("" => derived from the API URL)
//	AWS_LAMBDA_LOG_LEVEL          set by Lambda's advanced logging controls; LOG_LEVEL overrides it locally
//
// Without GENESYS_CREDENTIALS_SECRET the credentials come from GENESYS_CLIENT_ID and
// GENESYS_CLIENT_SECRET and the token from WEBHOOK_TOKEN (local runs only).
package main
