// Command urlfn is a test-only Lambda for infra/lambdarun's Function URL
// tests: a real aws-lambda-go Function URL handler, never deployed and not
// part of routekeeper. It answers
//
//   - /error with a function error;
//   - /plain with a bare JSON object (no statusCode);
//   - /binary with a base64 body;
//   - anything else with 201, an echo of what it received as JSON, a custom
//     header and a cookie.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, req events.LambdaFunctionURLRequest) (any, error) {
	switch req.RawPath {
	case "/error":
		return nil, errors.New("urlfn: asked to fail")
	case "/plain":
		return map[string]string{"hello": "world"}, nil
	case "/binary":
		return events.LambdaFunctionURLResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "image/png"},
			Body: base64.StdEncoding.EncodeToString([]byte{0x89, 'P', 'N', 'G', 0}), IsBase64Encoded: true}, nil
	}
	echo, _ := json.Marshal(req)
	return events.LambdaFunctionURLResponse{StatusCode: 201,
		Headers: map[string]string{"Content-Type": "application/json", "X-Urlfn": "yes"},
		Cookies: []string{"session=abc; Path=/; HttpOnly"}, Body: string(echo)}, nil
}

func main() { lambda.Start(handle) }
