package awslocal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const resolveTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Environment: {Type: String, Default: dev}
  GenesysCredentialsSecretArn: {Type: String}
  NoDefault: {Type: String}
Globals:
  Function:
    Timeout: 30
    Environment:
      Variables:
        ENV: !Ref Environment
        TABLE: !Ref Table
        QUEUE: !Ref ChangeQueue
        SECRET: !Ref GenesysCredentialsSecretArn
        BUS: !GetAtt EventBus.Name
        QUEUE_NAME: !GetAtt [ChangeQueue, QueueName]
        STACK: !Sub "${AWS::StackName}-x"
        SUBBED: !Sub ["${Env}/${ChangeQueue.Arn}/${AWS::Region}", {Env: !Ref Environment}]
        MISSING: !Ref NoDefault
        UNKNOWN: !GetAtt Table.StreamArn
Resources:
  Table: {Type: AWS::DynamoDB::Table, Properties: {BillingMode: PAY_PER_REQUEST}}
  EventBus: {Type: AWS::Events::EventBus}
  ChangeDeadLetterQueue: {Type: AWS::SQS::Queue, Properties: {FifoQueue: true}}
  ChangeQueue:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      VisibilityTimeout: 360
      RedrivePolicy: {deadLetterTargetArn: !GetAtt ChangeDeadLetterQueue.Arn, maxReceiveCount: 5}
  ApplyFunction:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: makefile}
    Properties:
      CodeUri: .
      Timeout: 60
      Environment: {Variables: {OWN: !Ref Environment}}
      Events:
        Changes:
          Type: SQS
          Properties:
            Queue: !GetAtt ChangeQueue.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {MaximumConcurrency: 2}
        Nightly: {Type: ScheduleV2, Properties: {ScheduleExpression: rate(1 day)}}
`

func writeTemplate(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// ReadTemplate resolves intrinsic functions the way CreateResources did (the Resources it
// returned) and leaves placeholders without them; params override parameter defaults.
func TestReadTemplate(t *testing.T) {
	path := writeTemplate(t, resolveTemplate)
	res := &Resources{
		TableName: "p-Table", ChangeQueueURL: "http://moto/123/p-ChangeQueue.fifo", ChangeQueueARN: "arn:q",
		DLQURL: "http://moto/123/p-ChangeDeadLetterQueue.fifo", DLQARN: "arn:dlq", BusName: "p-EventBus", SecretARN: "arn:secret",
		stackName: "p",
	}
	tests := []struct {
		name      string
		res       *Resources
		params    map[string]string
		wantEnv   map[string]string
		wantQueue Queue
	}{
		{
			name: "with resources", res: res, params: map[string]string{"Environment": "prod"},
			wantEnv: map[string]string{
				"ENV": "prod", "TABLE": "p-Table", "QUEUE": res.ChangeQueueURL, "SECRET": "arn:secret",
				"BUS": "p-EventBus", "QUEUE_NAME": "p-ChangeQueue.fifo", "STACK": "p-x",
				"SUBBED":  "prod/arn:q/us-east-1",
				"MISSING": unresolvedMark + "Ref NoDefault (parameter without Default)>",
				"UNKNOWN": unresolvedMark + "Fn::GetAtt Table.StreamArn>",
			},
			wantQueue: Queue{LogicalID: "ChangeQueue", FIFO: true, VisibilityTimeout: 6 * time.Minute, ARN: "arn:q", URL: res.ChangeQueueURL},
		},
		{
			name: "without resources",
			wantEnv: map[string]string{
				"ENV": "dev", "TABLE": unresolvedMark + "Ref Table>", "QUEUE": unresolvedMark + "Ref ChangeQueue>",
				"SECRET":     unresolvedMark + "Ref GenesysCredentialsSecretArn (parameter without Default)>",
				"BUS":        unresolvedMark + "Fn::GetAtt EventBus.Name>",
				"QUEUE_NAME": unresolvedMark + "Fn::GetAtt ChangeQueue.QueueName>",
				"STACK":      unresolvedMark + "Ref AWS::StackName>-x",
				"SUBBED":     "dev/" + unresolvedMark + "Fn::GetAtt ChangeQueue.Arn>/us-east-1",
				"MISSING":    unresolvedMark + "Ref NoDefault (parameter without Default)>",
				"UNKNOWN":    unresolvedMark + "Fn::GetAtt Table.StreamArn>",
			},
			wantQueue: Queue{LogicalID: "ChangeQueue", FIFO: true, VisibilityTimeout: 6 * time.Minute,
				ARN: unresolvedMark + "Fn::GetAtt ChangeQueue.Arn>", URL: unresolvedMark + "Ref ChangeQueue>"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := ReadTemplate(path, tc.res, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantEnv, tpl.GlobalEnv); diff != "" {
				t.Errorf("GlobalEnv (-want +got):\n%s", diff)
			}
			f, ok := tpl.Function("apply")
			if !ok {
				t.Fatalf("Function(apply): not found in %v", tpl.Dirs())
			}
			wantFn := &Function{
				LogicalID: "ApplyFunction", Dir: "apply", Timeout: time.Minute, MemoryMB: 128, BuildByMake: true, CodeURI: ".",
				Env: map[string]string{"OWN": tc.wantEnv["ENV"]},
				SQSEvents: []SQSEvent{{Name: "Changes", QueueARN: tc.wantQueue.ARN, BatchSize: 5,
					ReportBatchItemFailures: true, MaximumConcurrency: 2}},
				EventTypes: map[string]string{"Changes": "SQS", "Nightly": "ScheduleV2"},
			}
			if diff := cmp.Diff(wantFn, f); diff != "" {
				t.Errorf("ApplyFunction (-want +got):\n%s", diff)
			}
			q, ok := tpl.QueueByARN(f.SQSEvents[0].QueueARN)
			if diff := cmp.Diff(tc.wantQueue, q); !ok || diff != "" {
				t.Errorf("QueueByARN(%q) found=%v (-want +got):\n%s", f.SQSEvents[0].QueueARN, ok, diff)
			}
			if dlq := tpl.Queues[LogicalDLQ]; dlq.VisibilityTimeout != 30*time.Second {
				t.Errorf("DLQ VisibilityTimeout = %s, want SQS's default 30s", dlq.VisibilityTimeout)
			}
			if tpl.CFN == nil || len(tpl.CFN.GetAllSQSQueueResources()) != 2 {
				t.Errorf("CFN: got %v, want goformation's model with 2 queues", tpl.CFN)
			}
		})
	}
}

func TestReadTemplateRejects(t *testing.T) {
	tests := []struct{ name, body, wantErr string }{
		{"function not named <Folder>Function", "Resources:\n  Apply:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: .}\n", "name functions <Folder>Function"},
		{"not YAML", "Resources: [", "parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTemplate(writeTemplate(t, tc.body), nil, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ReadTemplate: got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
	if _, err := ReadTemplate(filepath.Join(t.TempDir(), "none.yaml"), nil, nil); err == nil || !strings.Contains(err.Error(), "read template") {
		t.Errorf("ReadTemplate of a missing file: got %v", err)
	}
}
