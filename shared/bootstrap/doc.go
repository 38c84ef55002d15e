// Package bootstrap is what every routekeeper Lambda does before it handles an event, so
// each functions/<fn>/main.go only names its handler:
//
//	func main() { bootstrap.Main("apply", newHandler, func(h *Handler) any { return h.Handle }) }
//
// It owns:
//
//   - the logger (Logger): JSON on stderr, level from LOG_LEVEL or Lambda's
//     AWS_LAMBDA_LOG_LEVEL, every record logged with an invocation's context carrying its
//     requestId and the attributes put on the context with WithLogAttrs;
//   - the environment every function reads and the clients built from it once per
//     container (Load): ROUTEKEEPER_ENVIRONMENT, TABLE_NAME, EVENT_BUS_NAME,
//     CHANGE_QUEUE_URL, the AWS configuration, and the Genesys client with its credentials
//     from the secret named by GENESYS_CREDENTIALS_SECRET (or, locally, from GENESYS_*);
//   - the EMF dimensions of every function's metrics (Metrics);
//   - how a function that cannot start says so and exits (Main).
//
// AWS service clients are not built here: each function's newHandler makes the ones it
// uses from Env.AWS (dynamodb.NewFromConfig(env.AWS)), so a function links only the
// services it calls. This package itself links the SDK's config and Secrets Manager only.
//
// newHandler(ctx, getenv, log) stays each function's test seam: tests call it with their
// own getenv and a logger writing to a buffer.
package bootstrap
