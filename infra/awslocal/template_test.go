package awslocal

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
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
				Schedules: []ScheduleEvent{{Name: "Nightly", Type: "ScheduleV2", ScheduleName: "ApplyFunctionNightly", GroupName: "default",
					Expression: "rate(1 day)", State: "ENABLED", Enabled: true}},
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

const eventsTemplate = "testdata/events.yaml"

func intp(n int) *int { return &n }

// wantEvents is what ReadTemplate gives for testdata/events.yaml, with the bus and the
// rule's dead-letter queue resolved to bus and dlqARN, and SAM-created queues to
// placeholders (they are no resources of the template).
func wantEvents(env, bus, dlqARN string) map[string]*Function {
	unresolvedAtt := func(id string) string { return unresolvedMark + "Fn::GetAtt " + id + ".Arn>" }
	return map[string]*Function{
		"WebhookFunction": {
			URL: &URLConfig{AuthType: "NONE", InvokeMode: "RESPONSE_STREAM", Cors: &Cors{
				AllowCredentials: true, AllowHeaders: []string{"X-Signature"}, AllowMethods: []string{"GET", "POST"},
				AllowOrigins: []string{"https://app.example.com"}, ExposeHeaders: []string{"X-Request-Id"}, MaxAge: 300}},
		},
		// No FunctionUrlConfig of its own: the one of Globals.
		"StatusFunction": {URL: &URLConfig{AuthType: "AWS_IAM", InvokeMode: "BUFFERED"}},
		"DriftFunction": {
			URL: &URLConfig{AuthType: "AWS_IAM", InvokeMode: "BUFFERED"},
			Rules: []RuleEvent{
				{
					Name: "Changes", Type: "EventBridgeRule",
					Pattern:      json.RawMessage(`{"detail":{"count":[{"numeric":["\u003e",0]}],"environment":["` + env + `"]},"detail-type":["ChangeApplied"],"source":["routekeeper"]}`),
					EventBusName: bus, TargetID: "drift-target", InputPath: "$.detail",
					RetryPolicy: &RetryPolicy{MaximumRetryAttempts: intp(0)},
					DeadLetter:  &DeadLetterConfig{QueueARN: dlqARN},
					State:       "ENABLED", Enabled: true,
				},
				{
					Name: "Ec2", Type: "CloudWatchEvent",
					Pattern:      json.RawMessage(`{"detail":{"state":[{"anything-but":"running"}]},"source":["aws.ec2"]}`),
					EventBusName: "default", TargetID: "DriftFunctionEc2LambdaTarget", State: "DISABLED", Enabled: false,
				},
			},
			Schedules: []ScheduleEvent{
				{
					Name: "Hourly", Type: "ScheduleV2", ScheduleName: "drift-hourly", GroupName: "routekeeper", Expression: "rate(1 hour)",
					DeadLetter: &DeadLetterConfig{QueueARN: unresolvedAtt("HourlyDLQ"), Type: "SQS", QueueLogicalID: "HourlyDLQ"},
					State:      "DISABLED", Enabled: false,
				},
				{
					Name: "Legacy", Type: "Schedule", Expression: "rate(5 minutes)", Input: `{"legacy": true}`, State: "DISABLED", Enabled: false,
				},
				{
					Name: "Nightly", Type: "ScheduleV2", ScheduleName: "DriftFunctionNightly", GroupName: "default",
					Expression: "cron(0 3 * * ? *)", Timezone: "Europe/Paris",
					Input:       `{"environment": "` + env + `", "at": "<aws.scheduler.scheduled-time>"}`,
					RetryPolicy: &RetryPolicy{MaximumRetryAttempts: intp(2), MaximumEventAgeInSeconds: intp(3600)},
					DeadLetter: &DeadLetterConfig{QueueARN: unresolvedAtt("DriftFunctionNightlyQueue"), Type: "SQS",
						QueueLogicalID: "DriftFunctionNightlyQueue"},
					State: "ENABLED", Enabled: true,
				},
			},
		},
	}
}

func checkEvents(t *testing.T, tpl *Template, want map[string]*Function) {
	t.Helper()
	for id, w := range want {
		f, ok := tpl.Functions[id]
		if !ok {
			t.Fatalf("function %s not read; got %v", id, tpl.Dirs())
		}
		got := &Function{URL: f.URL, Rules: f.Rules, Schedules: f.Schedules}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s event sources (-want +got):\n%s", id, diff)
		}
	}
}

// ReadTemplate reads the Function URL, rule and schedule events of every function, without
// local resources (placeholders) and with a parameter override.
func TestReadTemplateEvents(t *testing.T) {
	tpl, err := ReadTemplate(eventsTemplate, nil, map[string]string{"Environment": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	checkEvents(t, tpl, wantEvents("prod", unresolvedMark+"Ref EventBus>", unresolvedMark+"Fn::GetAtt DriftDeadLetterQueue.Arn>"))
	want := map[string]string{"Nightly": "ScheduleV2", "Hourly": "ScheduleV2", "Legacy": "Schedule", "Changes": "EventBridgeRule", "Ec2": "CloudWatchEvent"}
	if diff := cmp.Diff(want, tpl.Functions["DriftFunction"].EventTypes); diff != "" {
		t.Errorf("EventTypes (-want +got):\n%s", diff)
	}
	if tpl.Functions["WebhookFunction"].Rules != nil || tpl.Functions["WebhookFunction"].Schedules != nil {
		t.Error("a function without events has rules or schedules")
	}
}

// With the resources CreateResources made on moto from the same template, the rule's bus
// and dead-letter queue resolve to the real local names, as SQS reports them.
func TestReadTemplateEventsWithResources(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	m, err := sharedMoto(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := m.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := CreateResources(ctx, cfg, eventsTemplate, testPrefix(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := ReadTemplate(eventsTemplate, res, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := tpl.Queues["DriftDeadLetterQueue"]
	attrs, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(q.URL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("the dead-letter queue %s is not on moto: %v", q.URL, err)
	}
	dlqARN := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if q.FIFO || dlqARN != q.ARN || !strings.HasSuffix(dlqARN, "-DriftDeadLetterQueue") {
		t.Fatalf("DriftDeadLetterQueue: FIFO %v, ARN on moto %s, in the template %s; want the standard queue, the same ARN", q.FIFO, dlqARN, q.ARN)
	}
	checkEvents(t, tpl, wantEvents("dev", res.BusName, dlqARN))
}

func TestReadTemplateRejectsEvents(t *testing.T) {
	fn := func(props string) string {
		return "Resources:\n  DriftFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n" + props
	}
	event := func(typ, props string) string {
		return fn("      CodeUri: .\n      Events:\n        E:\n          Type: " + typ + "\n          Properties: " + props + "\n")
	}
	tests := []struct{ name, body, wantErr string }{
		{"rule without pattern", event("EventBridgeRule", "{EventBusName: b}"), "DriftFunction.Events.E: EventBridgeRule needs a Pattern"},
		{"pattern as a string", event("EventBridgeRule", `{Pattern: '{"source": ["x"]}'}`), "Events.E.Pattern: must be an object"},
		{"rule with State and Enabled", event("EventBridgeRule", "{Pattern: {source: [x]}, State: ENABLED, Enabled: true}"), "State and Enabled cannot both be set"},
		{"dead-letter Arn and Type", event("EventBridgeRule", "{Pattern: {source: [x]}, DeadLetterConfig: {Arn: a, Type: SQS}}"), "Events.E.DeadLetterConfig: set either Arn or Type"},
		{"dead-letter type SNS", event("ScheduleV2", "{ScheduleExpression: rate(1 day), DeadLetterConfig: {Type: SNS}}"), `Type "SNS": the only type is SQS`},
		{"dead-letter without Arn or Type", event("Schedule", "{Schedule: rate(1 day), DeadLetterConfig: {QueueLogicalId: Q}}"), "needs Arn (an existing queue) or Type: SQS"},
		{"ScheduleV2 without expression", event("ScheduleV2", "{Input: '{}'}"), "ScheduleV2 needs ScheduleExpression"},
		{"Schedule without expression", event("Schedule", "{ScheduleExpression: rate(1 day)}"), "Schedule needs Schedule"},
		{"Schedule with a time zone", event("Schedule", "{Schedule: rate(1 day), ScheduleExpressionTimezone: Europe/Paris}"), "runs in UTC"},
		{"ScheduleV2 with Enabled", event("ScheduleV2", "{ScheduleExpression: rate(1 day), Enabled: false}"), "ScheduleV2 has no Enabled property"},
		{"OmitName with Name", event("ScheduleV2", "{ScheduleExpression: rate(1 day), OmitName: true, Name: n}"), "Name cannot be set when OmitName is true"},
		{"URL without AuthType", fn("      CodeUri: .\n      FunctionUrlConfig: {InvokeMode: BUFFERED}\n"), "FunctionUrlConfig: AuthType is required"},
		{"URL with a bad AuthType", fn("      CodeUri: .\n      FunctionUrlConfig: {AuthType: COGNITO}\n"), `AuthType "COGNITO": want NONE or AWS_IAM`},
		{"URL with a bad InvokeMode", fn("      CodeUri: .\n      FunctionUrlConfig: {AuthType: NONE, InvokeMode: STREAM}\n"), `InvokeMode "STREAM"`},
		{"URL config not an object", fn("      CodeUri: .\n      FunctionUrlConfig: [NONE]\n"), "FunctionUrlConfig"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTemplate(writeTemplate(t, tc.body), nil, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ReadTemplate: got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// Fn::If picks its branch from the template's Conditions as the parameters make them,
// whatever order the template's maps are processed in.
func TestReadTemplateConditions(t *testing.T) {
	body := `Parameters:
  Bus: {Type: String, Default: ""}
  Mode: {Type: String, Default: a}
Conditions:
  HasBus: !Not [!Equals [!Ref Bus, ""]]
  IsA: !Equals [!Ref Mode, a]
  Both: !And [!Condition HasBus, !Condition IsA]
  Either: !Or [!Condition HasBus, !Condition IsA]
Resources:
  DriftFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Events:
        Rule:
          Type: EventBridgeRule
          Properties:
            EventBusName: !If [HasBus, !Ref Bus, default]
            State: !If [Both, ENABLED, DISABLED]
            Input: !If [Either, '{"either":true}', '{"either":false}']
            Pattern: {source: [x]}
`
	path := writeTemplate(t, body)
	tests := []struct {
		params            map[string]string
		bus, state, input string
	}{
		{nil, "default", "DISABLED", `{"either":true}`},
		{map[string]string{"Bus": "genesys", "Mode": "b"}, "genesys", "DISABLED", `{"either":true}`},
		{map[string]string{"Bus": "genesys"}, "genesys", "ENABLED", `{"either":true}`},
		{map[string]string{"Mode": "b"}, "default", "DISABLED", `{"either":false}`},
	}
	for _, tc := range tests {
		for range 5 { // map order differs between runs; each must agree
			tpl, err := ReadTemplate(path, nil, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			r := tpl.Functions["DriftFunction"].Rules[0]
			if r.EventBusName != tc.bus || r.State != tc.state || r.Input != tc.input {
				t.Fatalf("params %v: bus %q state %q input %s; want %q %q %s", tc.params, r.EventBusName, r.State, r.Input, tc.bus, tc.state, tc.input)
			}
		}
	}
}

// A rule target Id SAM generates is cut to EventBridge's 64 characters, keeping its suffix.
func TestReadTemplateLongTargetID(t *testing.T) {
	long := strings.Repeat("Very", 14) // 56 characters
	body := "Resources:\n  DriftFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n      Events:\n        " +
		long + ":\n          Type: EventBridgeRule\n          Properties: {Pattern: {source: [x]}}\n"
	tpl, err := ReadTemplate(writeTemplate(t, body), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := tpl.Functions["DriftFunction"].Rules[0].TargetID
	want := ("DriftFunction" + long)[:64-len("LambdaTarget")] + "LambdaTarget"
	if got != want || len(got) != 64 {
		t.Errorf("TargetID = %q (%d characters), want %q", got, len(got), want)
	}
}
