package awslocal

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/awslabs/goformation/v7"
	"github.com/google/go-cmp/cmp"
)

func TestMain(m *testing.M) { os.Exit(RunTests(m)) }

// templateQueue reads a queue's settings straight from template.yaml (default goformation
// processing), so the assertions below follow the template instead of copying it.
func templateQueue(t *testing.T, id string) (visibility, retention, maxReceive int) {
	t.Helper()
	path, err := TemplatePath()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := goformation.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	q, err := tpl.GetSQSQueueWithName(id)
	if err != nil {
		t.Fatal(err)
	}
	if q.RedrivePolicy != nil {
		maxReceive, _ = strconv.Atoi(strings.TrimSpace(jsonString(q.RedrivePolicy.(map[string]any)["maxReceiveCount"])))
	}
	return aws.ToInt(q.VisibilityTimeout), aws.ToInt(q.MessageRetentionPeriod), maxReceive
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestCreateResources(t *testing.T) {
	cfg, res := ForTest(t)
	ctx := context.Background()

	t.Run("table", func(t *testing.T) {
		db := dynamodb.NewFromConfig(cfg)
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &res.TableName})
		if err != nil {
			t.Fatalf("describe table %s: %v", res.TableName, err)
		}
		tbl := out.Table
		if got, want := tbl.BillingModeSummary.BillingMode, ddbtypes.BillingModePayPerRequest; got != want {
			t.Errorf("billing mode: got %s, want %s", got, want)
		}
		keys := func(ks []ddbtypes.KeySchemaElement) string {
			var s []string
			for _, k := range ks {
				s = append(s, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
			}
			return strings.Join(s, ",")
		}
		if got, want := keys(tbl.KeySchema), "pk:HASH,sk:RANGE"; got != want {
			t.Errorf("key schema: got %s, want %s", got, want)
		}
		if len(tbl.GlobalSecondaryIndexes) != 1 {
			t.Fatalf("GSIs: got %d, want 1", len(tbl.GlobalSecondaryIndexes))
		}
		g := tbl.GlobalSecondaryIndexes[0]
		if got, want := aws.ToString(g.IndexName)+" "+keys(g.KeySchema)+" "+string(g.Projection.ProjectionType), "gsi1 gsi1pk:HASH,gsi1sk:RANGE ALL"; got != want {
			t.Errorf("GSI: got %s, want %s", got, want)
		}
		ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &res.TableName})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := aws.ToString(ttl.TimeToLiveDescription.AttributeName)+" "+string(ttl.TimeToLiveDescription.TimeToLiveStatus), "ttl ENABLED"; got != want {
			t.Errorf("TTL: got %s, want %s", got, want)
		}
	})

	t.Run("queues", func(t *testing.T) {
		q := sqs.NewFromConfig(cfg)
		attrs := func(url string) map[string]string {
			out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
				QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
			})
			if err != nil {
				t.Fatalf("queue attributes of %s: %v", url, err)
			}
			return out.Attributes
		}
		vis, ret, maxReceive := templateQueue(t, LogicalChangeQueue)
		main := attrs(res.ChangeQueueURL)
		if !strings.HasSuffix(res.ChangeQueueURL, ".fifo") {
			t.Errorf("change queue URL %s: want a .fifo queue", res.ChangeQueueURL)
		}
		want := map[string]string{
			"FifoQueue":                 "true",
			"ContentBasedDeduplication": "false",
			"VisibilityTimeout":         strconv.Itoa(vis),
			"MessageRetentionPeriod":    strconv.Itoa(ret),
			"QueueArn":                  res.ChangeQueueARN,
		}
		for k, v := range want {
			if main[k] != v {
				t.Errorf("change queue %s: got %q, want %q", k, main[k], v)
			}
		}
		var policy struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			MaxReceiveCount     int    `json:"maxReceiveCount"`
		}
		if err := json.Unmarshal([]byte(main["RedrivePolicy"]), &policy); err != nil {
			t.Fatalf("change queue RedrivePolicy %q: %v", main["RedrivePolicy"], err)
		}
		if policy.DeadLetterTargetArn != res.DLQARN || policy.MaxReceiveCount != maxReceive || maxReceive < 1 {
			t.Errorf("RedrivePolicy: got %+v, want DLQ %s after %d receives", policy, res.DLQARN, maxReceive)
		}
		_, dlqRetention, _ := templateQueue(t, LogicalDLQ)
		dlq := attrs(res.DLQURL)
		if dlq["FifoQueue"] != "true" || dlq["MessageRetentionPeriod"] != strconv.Itoa(dlqRetention) {
			t.Errorf("DLQ: got FifoQueue=%s MessageRetentionPeriod=%s, want true and %d", dlq["FifoQueue"], dlq["MessageRetentionPeriod"], dlqRetention)
		}
	})

	t.Run("bus", func(t *testing.T) {
		out, err := eventbridge.NewFromConfig(cfg).DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: &res.BusName})
		if err != nil {
			t.Fatalf("describe bus %s: %v", res.BusName, err)
		}
		if got := aws.ToString(out.Name); got != res.BusName {
			t.Errorf("bus name: got %s, want %s", got, res.BusName)
		}
	})

	t.Run("secret", func(t *testing.T) {
		out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &res.SecretARN})
		if err != nil {
			t.Fatalf("get secret %s: %v", res.SecretARN, err)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &got); err != nil {
			t.Fatalf("secret value is not JSON: %v", err)
		}
		if diff := cmp.Diff(map[string]string{"clientId": LocalClientID, "clientSecret": LocalClientSecret, "webhookToken": LocalWebhookToken}, got); diff != "" {
			t.Errorf("secret value (-want +got):\n%s", diff)
		}
	})

	t.Run("env", func(t *testing.T) {
		want := map[string]string{
			"ROUTEKEEPER_ENVIRONMENT":    "dev",
			"TABLE_NAME":                 res.TableName,
			"CHANGE_QUEUE_URL":           res.ChangeQueueURL,
			"EVENT_BUS_NAME":             res.BusName,
			"GENESYS_CREDENTIALS_SECRET": res.SecretARN,
			"GENESYS_API_URL":            "https://api.mypurecloud.com",
			"GENESYS_LOGIN_URL":          "",
		}
		if diff := cmp.Diff(want, res.Env); diff != "" {
			t.Errorf("Env (-want +got):\n%s", diff)
		}
	})
}

func TestResourcesIsolatedPerTest(t *testing.T) {
	_, a := ForTest(t)
	_, b := ForTest(t)
	if a.TableName == b.TableName || a.ChangeQueueURL == b.ChangeQueueURL || a.BusName == b.BusName || a.SecretARN == b.SecretARN {
		t.Errorf("two ForTest calls share resources: %+v and %+v", a, b)
	}
}

// The apply pipeline relies on SQS moving a change request to the DLQ once it has been
// received maxReceiveCount times without being deleted. This proves moto does it.
func TestRedriveMovesMessageToDLQAfterMaxReceiveCount(t *testing.T) {
	cfg, res := ForTest(t)
	ctx := context.Background()
	q := sqs.NewFromConfig(cfg)
	_, _, maxReceive := templateQueue(t, LogicalChangeQueue)

	_, err := q.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: &res.ChangeQueueURL, MessageBody: aws.String(`{"changeId":"c-1"}`),
		MessageGroupId: aws.String("dev/queue/Support"), MessageDeduplicationId: aws.String("c-1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= maxReceive; i++ {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &res.ChangeQueueURL, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) != 1 {
			t.Fatalf("receive %d of %d: got %d messages, want 1", i, maxReceive, len(out.Messages))
		}
		if got := out.Messages[0].Attributes["ApproximateReceiveCount"]; got != strconv.Itoa(i) {
			t.Errorf("receive %d: ApproximateReceiveCount %s", i, got)
		}
		// A failed attempt: make the message visible again at once instead of waiting out
		// the visibility timeout.
		if _, err := q.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: &res.ChangeQueueURL, ReceiptHandle: out.Messages[0].ReceiptHandle, VisibilityTimeout: 0,
		}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &res.ChangeQueueURL, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 0 {
		t.Fatalf("receive %d: got %d messages, want 0 (moved to the DLQ)", maxReceive+1, len(out.Messages))
	}
	dlq, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &res.DLQURL, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(dlq.Messages) != 1 || aws.ToString(dlq.Messages[0].Body) != `{"changeId":"c-1"}` {
		t.Fatalf("DLQ: got %d messages %v, want the change request (moto did not redrive)", len(dlq.Messages), dlq.Messages)
	}
}

// A process configured only through Moto.Env (as a bootstrap under the Lambda RIE is)
// reaches moto and sees the resources.
func TestEnvReachesMoto(t *testing.T) {
	_, res := ForTest(t)
	shared.mu.Lock()
	m := shared.moto
	shared.mu.Unlock()
	for k, v := range m.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, err := sqs.NewFromConfig(cfg).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(res.ChangeQueueURL[strings.LastIndex(res.ChangeQueueURL, "/")+1:])})
	if err != nil {
		t.Fatalf("SDK configured from Env: %v", err)
	}
	if got := aws.ToString(out.QueueUrl); got != res.ChangeQueueURL {
		t.Errorf("queue URL: got %s, want %s", got, res.ChangeQueueURL)
	}
}

func TestCreateResourcesRejects(t *testing.T) {
	cfg, _ := ForTest(t)
	good, err := TemplatePath()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	noDLQ := filepath.Join(t.TempDir(), "template.yaml")
	renamed := strings.ReplaceAll(string(data), "ChangeDeadLetterQueue", "OtherQueue")
	if err := os.WriteFile(noDLQ, []byte(renamed), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, prefix, wantErr string
	}{
		{"bad prefix", good, "has space", "resource prefix"},
		{"long prefix", good, strings.Repeat("a", 41), "at most 40"},
		{"missing template", filepath.Join(t.TempDir(), "nope.yaml"), "p1", "read template"},
		{"logical ID renamed", noDLQ, "p2", "resource ChangeDeadLetterQueue missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CreateResources(context.Background(), cfg, tc.path, tc.prefix)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("CreateResources(%s, %q): got error %v, want one containing %q", tc.path, tc.prefix, err, tc.wantErr)
			}
		})
	}
}

func TestStartMotoWithoutBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	m, err := StartMoto(context.Background())
	if !errors.Is(err, ErrMotoNotFound) {
		t.Fatalf("StartMoto with empty PATH: got %v, %v; want ErrMotoNotFound", m, err)
	}
	if !strings.Contains(err.Error(), "make tools") {
		t.Errorf("error %q does not say to run make tools", err)
	}
}

func TestStopLeavesNothingRunning(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := StartMoto(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pid := m.cmd.Process.Pid
	if err := m.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d after Stop: got %v, want ESRCH (no process left)", pid, err)
	}
	if err := m.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	cfg, _ := m.AWSConfig(ctx)
	if _, err := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.RetryMaxAttempts = 1 }).ListQueues(ctx, &sqs.ListQueuesInput{}); err == nil {
		t.Errorf("endpoint %s still answers after Stop", m.Endpoint)
	}
}

func TestTestPrefix(t *testing.T) {
	tests := []struct{ name, wantSuffix string }{
		{"TestStore/claim_new", "-teststore-claim-new"},
		{"Test A very long name that goes on and on", "-test-a-very-long-name-th"},
		{"///", "-test"},
	}
	for _, tc := range tests {
		got := testPrefix(tc.name)
		if !strings.HasSuffix(got, tc.wantSuffix) || !prefixPattern.MatchString(got) || len(got) > maxPrefixLen {
			t.Errorf("testPrefix(%q): got %q, want a valid prefix ending in %q", tc.name, got, tc.wantSuffix)
		}
	}
}

// BenchmarkStartMoto measures how long moto_server takes to answer after start.
func BenchmarkStartMoto(b *testing.B) {
	ctx := context.Background()
	var ready, stop time.Duration
	for b.Loop() {
		start := time.Now()
		m, err := StartMoto(ctx)
		if err != nil {
			b.Fatal(err)
		}
		ready += time.Since(start)
		start = time.Now()
		if err := m.Stop(); err != nil {
			b.Fatal(err)
		}
		stop += time.Since(start)
	}
	b.ReportMetric(float64(ready.Milliseconds())/float64(b.N), "ms-to-ready")
	b.ReportMetric(float64(stop.Milliseconds())/float64(b.N), "ms-to-stop")
}

// BenchmarkCreateResources measures creating one test's resources on a running moto.
func BenchmarkCreateResources(b *testing.B) {
	cfg, _ := ForTest(b)
	path, err := TemplatePath()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := CreateResources(context.Background(), cfg, path, testPrefix(b.Name())); err != nil {
			b.Fatal(err)
		}
	}
}

// A moto_server on PATH that cannot run moto (a pyenv shim whose Python lacks the package)
// is reported as ErrMotoNotFound, with the instruction to run make tools.
func TestStartMotoShimWithoutMoto(t *testing.T) {
	tests := []struct{ name, script string }{
		{"shim: command not found", "#!/bin/sh\necho 'pyenv: moto_server: command not found' >&2\nexit 127\n"},
		{"python without moto", "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'moto'\" >&2\nexit 1\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "moto_server"), []byte(tc.script), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", dir+string(os.PathListSeparator)+"/usr/bin:/bin")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			m, err := StartMoto(ctx)
			if !errors.Is(err, ErrMotoNotFound) || !strings.Contains(err.Error(), "make tools") {
				t.Errorf("StartMoto: got %v, %v; want ErrMotoNotFound saying to run make tools", m, err)
			}
		})
	}
}
