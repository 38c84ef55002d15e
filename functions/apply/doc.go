// Command apply is the apply Lambda: it takes change requests (routekeeper.change/v1)
// from the SQS FIFO change queue and applies them to Genesys Cloud with the shared engine
// (shared/apply), answering with partial batch failures.
//
// Environment (template.yaml Globals and ApplyFunction; shared/bootstrap reads the shared
// ones):
//
//	ROUTEKEEPER_ENVIRONMENT       routing environment this stack applies (requests for another are rejected)
//	TABLE_NAME                    the routekeeper table
//	CHANGE_QUEUE_URL              the change queue: visibility of records returned as failures ("" => not set)
//	GENESYS_CREDENTIALS_SECRET    Secrets Manager secret {"clientId","clientSecret"}; read once per container
//	GENESYS_API_URL               Genesys Cloud API base URL
//	GENESYS_LOGIN_URL             OAuth base URL ("" => derived from the API URL)
//	APPLY_DEADLINE_MARGIN         optional Go duration (default 10s): no record starts with less time left
//	AWS_LAMBDA_LOG_LEVEL          set by Lambda's advanced logging controls (DEBUG, INFO, WARN, ERROR); LOG_LEVEL overrides it locally
//
// Without GENESYS_CREDENTIALS_SECRET the client credentials come from GENESYS_CLIENT_ID and
// GENESYS_CLIENT_SECRET (local runs only). AWS clients use the default configuration
// chain; AWS_ENDPOINT_URL points them at moto locally.
package main
