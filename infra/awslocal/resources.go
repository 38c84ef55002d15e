package awslocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	cfnddb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	cfnsqs "github.com/awslabs/goformation/v7/cloudformation/sqs"
)

// Logical IDs of template.yaml that routekeeper's code depends on. CreateResources fails
// when one is missing, so renaming one in the template breaks the tests, not production.
const (
	LogicalTable        = "Table"
	LogicalChangeQueue  = "ChangeQueue"
	LogicalDLQ          = "ChangeDeadLetterQueue"
	LogicalEventBus     = "EventBus"
	ParamCredentialsARN = "GenesysCredentialsSecretArn"
	secretNameSuffix    = "-genesys-credentials"
	tableActiveTimeout  = 30 * time.Second
	maxPrefixLen        = 40
)

// Genesys OAuth client credentials stored in the local secret. They are the Genesys
// simulator's default client (infra/genesyssim), so a function run against the local stack
// can log in to the simulator with what it reads from Secrets Manager.
const (
	LocalClientID     = "routekeeper-local"
	LocalClientSecret = "routekeeper-local-secret"
	// LocalWebhookToken is the webhook token of the local secret (X-Routekeeper-Token).
	LocalWebhookToken = "routekeeper-local-webhook-token"
)

// Resources are the local counterparts of template.yaml's resources.
type Resources struct {
	TableName, ChangeQueueURL, ChangeQueueARN, DLQURL, DLQARN, BusName, SecretARN string

	// Env holds the environment variables the template gives every function
	// (Globals.Function.Environment.Variables: TABLE_NAME, CHANGE_QUEUE_URL, EVENT_BUS_NAME,
	// GENESYS_CREDENTIALS_SECRET, ...) resolved to the local values. Parameters keep their
	// template defaults: GENESYS_API_URL is the real Genesys URL, so a caller that runs a
	// function against the simulator sets it (and GENESYS_LOGIN_URL) to the simulator's URL.
	Env map[string]string

	// What CreateResources resolved (every Ref and Fn::GetAtt value, the stack name), so
	// ReadTemplate resolves the rest of the template to the same values.
	stackName  string
	refs, atts map[string]string
}

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)

// CreateResources reads the SAM template at templatePath with goformation and creates on
// the AWS endpoint of cfg every DynamoDB table (keys, attribute definitions, GSIs, billing
// mode, SSE, point-in-time recovery, TTL), SQS queue (attributes and RedrivePolicy) and
// EventBridge bus it declares, plus a Secrets Manager secret for the
// GenesysCredentialsSecretArn parameter (in AWS the secret exists before the stack).
// Resources are named prefix + "-" + logical ID (".fifo" appended for FIFO queues); the
// prefix isolates tests that share one moto. Functions, IAM, alarms and the dashboard have
// no local counterpart here and are ignored.
func CreateResources(ctx context.Context, cfg aws.Config, templatePath, prefix string) (*Resources, error) {
	if !prefixPattern.MatchString(prefix) || len(prefix) > maxPrefixLen {
		return nil, fmt.Errorf("awslocal: resource prefix %q: want letters, digits and dashes, at most %d characters", prefix, maxPrefixLen)
	}
	data, err := os.ReadFile(templatePath)
	if err != nil {
		return nil, fmt.Errorf("awslocal: read template: %w", err)
	}
	c := &creator{
		path:   templatePath,
		data:   data,
		prefix: prefix,
		ddb:    dynamodb.NewFromConfig(cfg),
		sqs:    sqs.NewFromConfig(cfg),
		eb:     eventbridge.NewFromConfig(cfg),
		sm:     secretsmanager.NewFromConfig(cfg),
		r:      newResolver(),
	}
	c.r.stackName = prefix
	return c.run(ctx)
}

// creator creates the resources in dependency order. The template is parsed again after
// each step with the values known so far, so intrinsic functions always resolve to the
// real local values (queue URLs and ARNs as moto returns them), not to guesses.
type creator struct {
	path, prefix string
	data         []byte
	ddb          *dynamodb.Client
	sqs          *sqs.Client
	eb           *eventbridge.Client
	sm           *secretsmanager.Client
	r            *resolver // learns each resource's Ref and Fn::GetAtt values as it is created
}

func (c *creator) run(ctx context.Context) (*Resources, error) {
	tpl, err := c.parse()
	if err != nil {
		return nil, err
	}
	for _, id := range []string{LogicalTable, LogicalChangeQueue, LogicalDLQ, LogicalEventBus} {
		if _, ok := tpl.CFN.Resources[id]; !ok {
			return nil, fmt.Errorf("awslocal: %s: resource %s missing; routekeeper's code depends on this logical ID", c.path, id)
		}
	}
	if _, ok := tpl.CFN.Parameters[ParamCredentialsARN]; !ok {
		return nil, fmt.Errorf("awslocal: %s: parameter %s missing", c.path, ParamCredentialsARN)
	}

	secretARN, err := c.createSecret(ctx)
	if err != nil {
		return nil, err
	}
	c.r.params[ParamCredentialsARN] = secretARN

	for _, id := range slices.Sorted(maps.Keys(tpl.CFN.GetAllDynamoDBTableResources())) {
		if err := c.createTable(ctx, id, tpl.CFN.GetAllDynamoDBTableResources()[id]); err != nil {
			return nil, err
		}
	}
	for _, id := range slices.Sorted(maps.Keys(tpl.CFN.GetAllEventsEventBusResources())) {
		if err := c.createBus(ctx, id); err != nil {
			return nil, err
		}
	}
	// Queues: a queue whose properties still refer to an uncreated resource (a redrive
	// policy naming its DLQ) waits for a later round.
	pending := tpl.CFN.GetAllSQSQueueResources()
	for len(pending) > 0 {
		progressed := false
		for _, id := range slices.Sorted(maps.Keys(pending)) {
			tpl, err := c.parse()
			if err != nil {
				return nil, err
			}
			q := tpl.CFN.GetAllSQSQueueResources()[id]
			if unresolved(q) != "" {
				continue
			}
			if err := c.createQueue(ctx, id, q); err != nil {
				return nil, err
			}
			delete(pending, id)
			progressed = true
		}
		if !progressed {
			ids := slices.Sorted(maps.Keys(pending))
			return nil, fmt.Errorf("awslocal: %s: queues %v refer to something awslocal cannot create: %s", c.path, ids, unresolved(pending[ids[0]]))
		}
	}

	tpl, err = c.parse()
	if err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(tpl.GlobalEnv)) {
		if v := tpl.GlobalEnv[k]; strings.Contains(v, unresolvedMark) {
			return nil, fmt.Errorf("awslocal: %s: Globals.Function.Environment.Variables.%s = %q: refers to something awslocal cannot create", c.path, k, v)
		}
	}
	return &Resources{
		TableName:      c.r.refs[LogicalTable],
		ChangeQueueURL: c.r.refs[LogicalChangeQueue],
		ChangeQueueARN: c.r.atts[LogicalChangeQueue+".Arn"],
		DLQURL:         c.r.refs[LogicalDLQ],
		DLQARN:         c.r.atts[LogicalDLQ+".Arn"],
		BusName:        c.r.refs[LogicalEventBus],
		SecretARN:      secretARN,
		Env:            maps.Clone(tpl.GlobalEnv),
		stackName:      c.prefix,
		refs:           maps.Clone(c.r.refs),
		atts:           maps.Clone(c.r.atts),
	}, nil
}

func unresolved(q *cfnsqs.Queue) string {
	b, _ := json.Marshal(q.RedrivePolicy)
	s := string(b)
	if i := strings.Index(s, unresolvedMark); i >= 0 {
		if j := strings.Index(s[i:], ">"); j >= 0 {
			return s[i : i+j+1]
		}
	}
	return ""
}

// parse reads the template with Ref, Fn::GetAtt and Fn::Sub resolved against the local
// values known so far; anything not yet known becomes an "<awslocal:unresolved ...>" mark.
func (c *creator) parse() (*Template, error) { return c.r.read(c.path, c.data) }

func (c *creator) name(logicalID string) string { return c.prefix + "-" + logicalID }

func (c *creator) createSecret(ctx context.Context) (string, error) {
	value, err := json.Marshal(map[string]string{"clientId": LocalClientID, "clientSecret": LocalClientSecret, "webhookToken": LocalWebhookToken})
	if err != nil {
		return "", err
	}
	name := c.prefix + secretNameSuffix
	out, err := c.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		Description:  aws.String("routekeeper local Genesys OAuth client credentials"),
		SecretString: aws.String(string(value)),
	})
	if err != nil {
		return "", fmt.Errorf("awslocal: create secret %s: %w", name, err)
	}
	return aws.ToString(out.ARN), nil
}

func (c *creator) createTable(ctx context.Context, id string, t *cfnddb.Table) error {
	name := c.name(id)
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingMode(aws.ToString(t.BillingMode)),
	}
	if in.BillingMode == "" {
		in.BillingMode = ddbtypes.BillingModeProvisioned
	}
	for _, a := range t.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: ddbtypes.ScalarAttributeType(a.AttributeType),
		})
	}
	in.KeySchema = keySchema(t.KeySchema)
	for _, g := range t.GlobalSecondaryIndexes {
		gsi := ddbtypes.GlobalSecondaryIndex{IndexName: aws.String(g.IndexName), KeySchema: keySchema(g.KeySchema)}
		if g.Projection != nil {
			gsi.Projection = &ddbtypes.Projection{
				ProjectionType:   ddbtypes.ProjectionType(aws.ToString(g.Projection.ProjectionType)),
				NonKeyAttributes: g.Projection.NonKeyAttributes,
			}
		}
		if g.ProvisionedThroughput != nil {
			gsi.ProvisionedThroughput = &ddbtypes.ProvisionedThroughput{
				ReadCapacityUnits:  aws.Int64(int64(g.ProvisionedThroughput.ReadCapacityUnits)),
				WriteCapacityUnits: aws.Int64(int64(g.ProvisionedThroughput.WriteCapacityUnits)),
			}
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	if len(t.LocalSecondaryIndexes) > 0 {
		return fmt.Errorf("awslocal: %s: table %s: LocalSecondaryIndexes are not supported locally; add them to awslocal", c.path, id)
	}
	if t.ProvisionedThroughput != nil {
		in.ProvisionedThroughput = &ddbtypes.ProvisionedThroughput{
			ReadCapacityUnits:  aws.Int64(int64(t.ProvisionedThroughput.ReadCapacityUnits)),
			WriteCapacityUnits: aws.Int64(int64(t.ProvisionedThroughput.WriteCapacityUnits)),
		}
	}
	if t.SSESpecification != nil {
		in.SSESpecification = &ddbtypes.SSESpecification{Enabled: aws.Bool(t.SSESpecification.SSEEnabled)}
	}
	out, err := c.ddb.CreateTable(ctx, in)
	if err != nil {
		return fmt.Errorf("awslocal: create table %s (%s): %w", name, id, err)
	}
	if out.TableDescription.TableStatus != ddbtypes.TableStatusActive {
		if err := c.waitTableActive(ctx, name); err != nil {
			return err
		}
	}
	if ttl := t.TimeToLiveSpecification; ttl != nil && ttl.Enabled && ttl.AttributeName != nil {
		_, err := c.ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName: aws.String(name),
			TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{
				AttributeName: ttl.AttributeName, Enabled: aws.Bool(true),
			},
		})
		if err != nil {
			return fmt.Errorf("awslocal: enable TTL on table %s attribute %s: %w", name, *ttl.AttributeName, err)
		}
	}
	if p := t.PointInTimeRecoverySpecification; p != nil && aws.ToBool(p.PointInTimeRecoveryEnabled) {
		_, err := c.ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName: aws.String(name),
			PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{
				PointInTimeRecoveryEnabled: aws.Bool(true),
			},
		})
		if err != nil {
			return fmt.Errorf("awslocal: enable point-in-time recovery on table %s: %w", name, err)
		}
	}
	c.r.refs[id] = name
	c.r.atts[id+".Arn"] = aws.ToString(out.TableDescription.TableArn)
	return nil
}

func keySchema(ks []cfnddb.Table_KeySchema) []ddbtypes.KeySchemaElement {
	var out []ddbtypes.KeySchemaElement
	for _, k := range ks {
		out = append(out, ddbtypes.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: ddbtypes.KeyType(k.KeyType)})
	}
	return out
}

// waitTableActive polls DescribeTable; moto creates tables ACTIVE, DynamoDB Local may not.
func (c *creator) waitTableActive(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, tableActiveTimeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		out, err := c.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err == nil && out.Table.TableStatus == ddbtypes.TableStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("awslocal: table %s not ACTIVE: %w", name, errors.Join(ctx.Err(), err))
		case <-ticker.C:
		}
	}
}

func (c *creator) createQueue(ctx context.Context, id string, q *cfnsqs.Queue) error {
	name := c.name(id)
	attrs := map[string]string{}
	if aws.ToBool(q.FifoQueue) {
		name += ".fifo"
		attrs[string(sqstypes.QueueAttributeNameFifoQueue)] = "true"
		attrs[string(sqstypes.QueueAttributeNameContentBasedDeduplication)] = strconv.FormatBool(aws.ToBool(q.ContentBasedDeduplication))
		if q.DeduplicationScope != nil {
			attrs[string(sqstypes.QueueAttributeNameDeduplicationScope)] = *q.DeduplicationScope
		}
		if q.FifoThroughputLimit != nil {
			attrs[string(sqstypes.QueueAttributeNameFifoThroughputLimit)] = *q.FifoThroughputLimit
		}
	}
	for attr, v := range map[sqstypes.QueueAttributeName]*int{
		sqstypes.QueueAttributeNameVisibilityTimeout:             q.VisibilityTimeout,
		sqstypes.QueueAttributeNameMessageRetentionPeriod:        q.MessageRetentionPeriod,
		sqstypes.QueueAttributeNameReceiveMessageWaitTimeSeconds: q.ReceiveMessageWaitTimeSeconds,
		sqstypes.QueueAttributeNameDelaySeconds:                  q.DelaySeconds,
		sqstypes.QueueAttributeNameMaximumMessageSize:            q.MaximumMessageSize,
	} {
		if v != nil {
			attrs[string(attr)] = strconv.Itoa(*v)
		}
	}
	if q.SqsManagedSseEnabled != nil {
		attrs[string(sqstypes.QueueAttributeNameSqsManagedSseEnabled)] = strconv.FormatBool(*q.SqsManagedSseEnabled)
	}
	if q.RedrivePolicy != nil {
		policy, err := redrivePolicy(q.RedrivePolicy)
		if err != nil {
			return fmt.Errorf("awslocal: %s: queue %s: %w", c.path, id, err)
		}
		attrs[string(sqstypes.QueueAttributeNameRedrivePolicy)] = policy
	}
	out, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		return fmt.Errorf("awslocal: create queue %s (%s): %w", name, id, err)
	}
	got, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return fmt.Errorf("awslocal: read ARN of queue %s: %w", name, err)
	}
	c.r.refs[id] = aws.ToString(out.QueueUrl)
	c.r.atts[id+".Arn"] = got.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	c.r.atts[id+".QueueUrl"] = aws.ToString(out.QueueUrl)
	c.r.atts[id+".QueueName"] = name
	return nil
}

// redrivePolicy renders the template's RedrivePolicy (an object in CloudFormation) as the
// JSON string SQS takes, with maxReceiveCount as a number.
func redrivePolicy(v any) (string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", fmt.Errorf("RedrivePolicy: want an object with deadLetterTargetArn and maxReceiveCount, got %T", v)
	}
	arn, _ := m["deadLetterTargetArn"].(string)
	if arn == "" {
		return "", errors.New("RedrivePolicy: deadLetterTargetArn missing")
	}
	n, err := strconv.Atoi(fmt.Sprint(m["maxReceiveCount"]))
	if err != nil || n < 1 {
		return "", fmt.Errorf("RedrivePolicy: maxReceiveCount %v: want a positive integer", m["maxReceiveCount"])
	}
	b, err := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": n})
	return string(b), err
}

func (c *creator) createBus(ctx context.Context, id string) error {
	name := c.name(id)
	out, err := c.eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(name)})
	if err != nil {
		return fmt.Errorf("awslocal: create event bus %s (%s): %w", name, id, err)
	}
	c.r.refs[id] = name
	c.r.atts[id+".Name"] = name
	c.r.atts[id+".Arn"] = aws.ToString(out.EventBusArn)
	return nil
}
