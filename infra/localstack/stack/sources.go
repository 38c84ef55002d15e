package stack

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/lambdarun"
)

// The event sources beside the SQS poller (Pollers): a function's Function URL, its
// EventBridge rules and its schedules, each built from what template.yaml declares for the
// function and feeding an Invoker (a started function). Nothing here knows one function
// from another: a new function with a FunctionUrlConfig, an EventBridgeRule or a
// ScheduleV2 event runs locally with no new code.

// SourceOptions configure the event sources of FunctionURL, Rules and Schedules.
type SourceOptions struct {
	// Clock times rule retries and schedule fires and stamps Function URL events; nil is
	// lambdarun.SystemClock. Tests inject one and never wait.
	Clock lambdarun.Clock
	// Logger receives the sources' lines (failed requests, deliveries, fires); nil
	// discards them.
	Logger *slog.Logger
}

// Rule is one enabled EventBridge rule of a function, as the template declares it: its
// event (pattern, bus, input, retry policy, dead-letter queue) and the lambdarun.Rule that
// delivers matching events to the function.
type Rule struct {
	*lambdarun.Rule
	Event awslocal.RuleEvent
	// Name and ARN are the rule's: RuleName, or <prefix>-<FunctionId><Event> as
	// CloudFormation would generate one; the ARN names the bus unless it is "default".
	Name, ARN string
	// DeadLetterQueueURL is the local queue that receives the events that could not be
	// delivered; "" without a DeadLetterConfig.
	DeadLetterQueueURL string
}

// Schedule is one enabled schedule of a function (ScheduleV2, or a Schedule rule): the
// template's event and the lambdarun.Schedule that fires it (Fire once, or Run).
type Schedule struct {
	*lambdarun.Schedule
	Event awslocal.ScheduleEvent
}

// function returns the template's function in folder dir.
func (s *Stack) function(dir string) (*awslocal.Function, error) {
	f, ok := s.Template.Function(dir)
	if !ok {
		return nil, fmt.Errorf("function %q: %s declares no function for functions/%s (declared: %v)", dir, s.Template.Path, dir, s.Template.Dirs())
	}
	return f, nil
}

// FunctionURL starts the Function URL of the function in folder dir on a free 127.0.0.1
// port, with the template's FunctionUrlConfig (AuthType, InvokeMode, Cors), feeding fn:
// each HTTP request becomes a payload format 2.0 event and the function's answer the HTTP
// response (lambdarun.StartURL). It serves until ctx ends or Close is called. A function
// without a FunctionUrlConfig is an error.
func (s *Stack) FunctionURL(ctx context.Context, dir string, fn lambdarun.Invoker, opts SourceOptions) (*lambdarun.URL, error) {
	f, err := s.function(dir)
	if err != nil {
		return nil, err
	}
	if f.URL == nil {
		return nil, fmt.Errorf("function %q: %s.Properties has no FunctionUrlConfig (nor Globals.Function); add one, e.g. FunctionUrlConfig: {AuthType: NONE}", dir, f.LogicalID)
	}
	u, err := lambdarun.StartURL(ctx, fn, lambdarun.URLOptions{
		AuthType:   f.URL.AuthType,
		InvokeMode: f.URL.InvokeMode,
		Cors:       f.URL.Cors,
		Clock:      opts.Clock,
		Logger:     opts.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("function %q: %s.FunctionUrlConfig: %w", dir, f.LogicalID, err)
	}
	return u, nil
}

// Rules returns the EventBridge rules (EventBridgeRule and CloudWatchEvent events) of the
// function in folder dir, feeding fn: each matches events against the template's
// pattern and delivers them with the target's Input and RetryPolicy, sending what it could
// not deliver to the DeadLetterConfig's queue. That queue is resolved to the local one: a
// queue of the template (Arn: !GetAtt <Queue>.Arn), or for Type: SQS the queue SAM would
// create, which Rules creates on the stack's AWS endpoint as <prefix>-<QueueLogicalId>.
// Deliver events to them (Rule.Deliver); the rules do not read the local event bus.
//
// A DISABLED rule delivers nothing in AWS and is left out. InputPath and InputTransformer
// are not emulated: a rule using them is an error rather than a rule that sends the
// function another payload than AWS would.
func (s *Stack) Rules(ctx context.Context, dir string, fn lambdarun.Invoker, opts SourceOptions) ([]*Rule, error) {
	f, err := s.function(dir)
	if err != nil {
		return nil, err
	}
	var out []*Rule
	for _, e := range f.Rules {
		if !e.Enabled {
			continue
		}
		where := f.LogicalID + ".Events." + e.Name
		if e.InputPath != "" || len(e.InputTransformer) > 0 {
			return nil, fmt.Errorf("%s: InputPath and InputTransformer are not emulated by the local stack (lambdarun.Rule sends the event or the Input); use Input, or let the function read the whole event", where)
		}
		r := &Rule{Event: e, Name: e.RuleName}
		if r.Name == "" {
			r.Name = s.localName(f.LogicalID+e.Name, 64)
		}
		r.ARN = fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", awslocal.Region, awslocal.AccountID, r.Name)
		if e.EventBusName != "default" {
			r.ARN = fmt.Sprintf("arn:aws:events:%s:%s:rule/%s/%s", awslocal.Region, awslocal.AccountID, e.EventBusName, r.Name)
		}
		ro := lambdarun.RuleOptions{
			RuleARN:     r.ARN,
			TargetARN:   fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", awslocal.Region, awslocal.AccountID, f.LogicalID),
			Input:       e.Input,
			RetryPolicy: e.RetryPolicy,
			Clock:       opts.Clock,
			Logger:      opts.Logger,
		}
		if e.DeadLetter != nil {
			if r.DeadLetterQueueURL, err = s.deadLetterQueue(ctx, where, *e.DeadLetter); err != nil {
				return nil, err
			}
			ro.DeadLetterQueue = &lambdarun.DeadLetterQueue{Client: sqs.NewFromConfig(s.AWS), QueueURL: r.DeadLetterQueueURL}
		}
		if r.Rule, err = lambdarun.NewRule(e.Pattern, fn, ro); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// deadLetterQueue returns the URL of the local queue of a rule's DeadLetterConfig.
func (s *Stack) deadLetterQueue(ctx context.Context, where string, dl awslocal.DeadLetterConfig) (string, error) {
	if dl.Type == "SQS" {
		// SAM creates a standard queue for the rule; it is no resource of the template, so
		// CreateResources did not make it. CreateQueue returns the existing queue when one
		// of that name and attributes is there already.
		name := s.localName(dl.QueueLogicalID, 80)
		out, err := sqs.NewFromConfig(s.AWS).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			return "", fmt.Errorf("%s.DeadLetterConfig: create the queue SAM would create (%s): %w", where, name, err)
		}
		return aws.ToString(out.QueueUrl), nil
	}
	q, ok := s.Template.QueueByARN(dl.QueueARN)
	if !ok {
		return "", fmt.Errorf("%s.DeadLetterConfig.Arn %s is no AWS::SQS::Queue of %s, so the local stack has no such queue; use !GetAtt <Queue>.Arn of a template queue, or Type: SQS", where, dl.QueueARN, s.Template.Path)
	}
	if q.FIFO {
		return "", fmt.Errorf("%s.DeadLetterConfig: %s is a FIFO queue; EventBridge takes only standard queues as dead-letter queues", where, q.LogicalID)
	}
	return q.URL, nil
}

// Schedules returns the schedules (ScheduleV2 and Schedule events) of the function in
// folder dir, feeding fn, with the template's expression, time zone, input and name
// (lambdarun.NewSchedule): Fire one at a chosen time, or Run them on opts.Clock. A
// DISABLED schedule fires nothing in AWS and is left out. A schedule's RetryPolicy and
// DeadLetterConfig are not emulated (lambdarun's Schedule invokes once per fire).
func (s *Stack) Schedules(dir string, fn lambdarun.Invoker, opts SourceOptions) ([]*Schedule, error) {
	f, err := s.function(dir)
	if err != nil {
		return nil, err
	}
	var out []*Schedule
	for _, e := range f.Schedules {
		if !e.Enabled {
			continue
		}
		so := lambdarun.ScheduleOptions{
			Name:     e.ScheduleName,
			Group:    e.GroupName,
			Timezone: e.Timezone,
			Input:    e.Input,
			Rule:     e.Type == "Schedule",
			Clock:    opts.Clock,
			Logger:   opts.Logger,
		}
		if so.Name == "" { // a Schedule rule (or OmitName) left to CloudFormation
			so.Name = s.localName(f.LogicalID+e.Name, 64)
		}
		sched, err := lambdarun.NewSchedule(e.Expression, fn, so)
		if err != nil {
			return nil, fmt.Errorf("%s.Events.%s: %w", f.LogicalID, e.Name, err)
		}
		out = append(out, &Schedule{Schedule: sched, Event: e})
	}
	return out, nil
}

// localName names something the stack creates beside the template's resources as
// awslocal names those, <prefix>-<logical ID>, cut to max characters.
func (s *Stack) localName(logicalID string, max int) string {
	name := logicalID
	if s.prefix != "" {
		name = s.prefix + "-" + logicalID
	}
	if len(name) > max {
		name = strings.TrimRight(name[:max], "-")
	}
	return name
}
