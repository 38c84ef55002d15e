// Command echofn is a test-only Lambda for infra/lambdarun's own tests: a real
// aws-lambda-go SQS handler with partial batch responses, used to exercise the
// harness (RIE runner and SQS poller), never deployed and not part of
// routekeeper. A record whose body is
//
//   - "fail" is reported in batchItemFailures;
//   - "flaky" is reported in batchItemFailures on its first receive only;
//   - "error" makes the invocation fail (a function error: the whole batch fails);
//   - "hang" blocks past the function's deadline (a timeout);
//
// every other record succeeds. It logs its process id at init and one JSON
// line per record, so tests can check what it received and that it was stopped.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		line, _ := json.Marshal(map[string]any{
			"echofn": "record", "messageId": rec.MessageId, "body": rec.Body,
			"receiveCount": rec.Attributes["ApproximateReceiveCount"], "groupId": rec.Attributes["MessageGroupId"],
		})
		fmt.Println(string(line))
		switch rec.Body {
		case "flaky":
			if rec.Attributes["ApproximateReceiveCount"] != "1" {
				break
			}
			fallthrough
		case "fail":
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		case "error":
			return events.SQSEventResponse{}, errors.New("echofn: asked to fail the invocation")
		case "hang":
			deadline, _ := ctx.Deadline()
			t := time.NewTimer(time.Until(deadline) + 10*time.Second)
			<-t.C
		}
	}
	return resp, nil
}

func main() {
	// The environment as the harness set it up; LAMBDARUN_TEST_HOST_ONLY is set
	// only in the test process and must not reach the function.
	fmt.Printf("echofn init pid=%d function=%s memory=%s timeout=%s region=%s custom=%s leaked=%q\n",
		os.Getpid(), os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
		os.Getenv("AWS_LAMBDA_FUNCTION_TIMEOUT"), os.Getenv("AWS_REGION"), os.Getenv("ECHOFN_CUSTOM"),
		os.Getenv("LAMBDARUN_TEST_HOST_ONLY"))
	lambda.Start(handle)
}
