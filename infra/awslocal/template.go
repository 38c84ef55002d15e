package awslocal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Template is template.yaml read once with goformation, its intrinsic functions (Ref,
// Fn::GetAtt, Fn::Sub) resolved to local values: the whole template as goformation's typed
// model (CFN) and the view of it the local stack runs (functions, their SQS, EventBridge rule
// and schedule event sources and Function URLs, queues, the Globals environment).
//
// goformation's typed AWS::Serverless::Function lacks properties routekeeper relies on
// (FunctionResponseTypes, ScalingConfig, LoggingConfig, ScheduleV2 events, the State,
// RetryPolicy and DeadLetterConfig of rules and schedules), so Functions are decoded from the
// same processed JSON as CFN rather than from CFN, with SAM's defaults and checks where the
// local stack depends on them (generated names, State and Enabled, DeadLetterConfig).
type Template struct {
	Path string
	// CFN is the template as goformation models it, intrinsic functions resolved.
	CFN *cloudformation.Template
	// GlobalEnv is Globals.Function.Environment.Variables.
	GlobalEnv map[string]string
	// Functions are the AWS::Serverless::Function resources by logical ID.
	Functions map[string]*Function
	// Queues are the AWS::SQS::Queue resources by logical ID.
	Queues map[string]Queue
}

// Function is one AWS::Serverless::Function of the template, as the local stack runs it.
type Function struct {
	LogicalID string // e.g. ApplyFunction
	// Dir is the function's folder under functions/ (ApplyFunction -> "apply"): the logical
	// ID without the "Function" suffix, lower-cased. ReadTemplate rejects a function whose
	// logical ID does not end in "Function".
	Dir         string
	Timeout     time.Duration // Globals and the function's own Timeout merged
	MemoryMB    int
	BuildByMake bool   // Metadata.BuildMethod is makefile
	CodeURI     string // "." for the makefile builder at the repository root
	// Env holds the function's own Environment.Variables (not the Globals).
	Env       map[string]string
	SQSEvents []SQSEvent
	// URL is the function's FunctionUrlConfig (Globals' merged under the function's own);
	// nil when the function has no Function URL.
	URL *URLConfig
	// Rules are the EventBridgeRule (and CloudWatchEvent) events, by event name.
	Rules []RuleEvent
	// Schedules are the ScheduleV2 and Schedule events, by event name.
	Schedules []ScheduleEvent
	// EventTypes lists the Type of every event source (SQS, ScheduleV2, ...), by event name.
	EventTypes map[string]string
}

// URLConfig is a function's FunctionUrlConfig.
type URLConfig struct {
	AuthType   string // NONE or AWS_IAM
	InvokeMode string // BUFFERED (SAM's default when unset) or RESPONSE_STREAM
	Cors       *Cors  // nil without CORS
}

// Cors is the Cors of a FunctionUrlConfig (lambdarun's Function URL takes it as is).
type Cors struct {
	AllowCredentials bool
	AllowHeaders     []string
	AllowMethods     []string
	AllowOrigins     []string
	ExposeHeaders    []string
	MaxAge           int
}

// RuleEvent is an EventBridgeRule (or CloudWatchEvent) event of a function: the rule SAM
// creates and its Lambda target.
type RuleEvent struct {
	Name string // the key under Events
	Type string // EventBridgeRule or CloudWatchEvent
	// Pattern is the event pattern (the Pattern property, intrinsic functions resolved).
	Pattern json.RawMessage
	// EventBusName is the EventBusName property resolved; "default" when unset.
	EventBusName string
	// RuleName is the RuleName property; "" leaves the name to CloudFormation.
	RuleName string
	// TargetID is Target.Id, or the one SAM generates: <FunctionId><Event>LambdaTarget.
	TargetID string
	// Input, InputPath and InputTransformer are what the target receives instead of the
	// event, when set.
	Input, InputPath string
	InputTransformer json.RawMessage
	RetryPolicy      *RetryPolicy      // nil: EventBridge's default
	DeadLetter       *DeadLetterConfig // nil: no dead-letter queue
	// State is the rule's State (ENABLED when unset, DISABLED when Enabled is false);
	// Enabled is State other than DISABLED.
	State   string
	Enabled bool
}

// ScheduleEvent is a ScheduleV2 (EventBridge Scheduler) or Schedule (scheduled EventBridge
// rule) event of a function.
type ScheduleEvent struct {
	Name string // the key under Events
	Type string // ScheduleV2 or Schedule
	// ScheduleName is the Name property. For ScheduleV2 SAM names the schedule after the
	// event's logical ID (<FunctionId><Event>) when it is unset, unless OmitName; a Schedule
	// without Name leaves the rule's name to CloudFormation ("").
	ScheduleName string
	// GroupName is the schedule group of a ScheduleV2 ("default" when unset); "" for
	// Schedule.
	GroupName string
	// Expression is ScheduleExpression (ScheduleV2) or Schedule (Schedule): rate(...),
	// cron(...) or, for ScheduleV2, at(...).
	Expression string
	// Timezone is ScheduleExpressionTimezone (ScheduleV2 only); "" is UTC.
	Timezone    string
	Input       string            // the target's Input; "" sends the default event
	RetryPolicy *RetryPolicy      // nil: the service's default
	DeadLetter  *DeadLetterConfig // nil: no dead-letter queue
	// State is ENABLED (the default) or DISABLED (also from Enabled: false on a Schedule);
	// Enabled is State other than DISABLED.
	State   string
	Enabled bool
}

// RetryPolicy is an event source's RetryPolicy; a nil field is the service's default
// (lambdarun's rule takes it as is).
type RetryPolicy struct {
	MaximumRetryAttempts     *int
	MaximumEventAgeInSeconds *int
}

// DeadLetterConfig is the dead-letter queue of an EventBridge rule or schedule target.
type DeadLetterConfig struct {
	// QueueARN is the queue's ARN: the Arn property resolved, or, with Type SQS,
	// Fn::GetAtt <QueueLogicalID>.Arn, which stays a placeholder: the queue SAM creates is
	// no resource of the template, so CreateResources does not make it (whoever runs the
	// event locally creates it under QueueLogicalID).
	QueueARN string
	// Type is SQS when SAM creates the queue, "" when Arn names an existing one.
	Type string
	// QueueLogicalID is the logical ID of the queue SAM creates for Type SQS:
	// QueueLogicalId, or <FunctionId><Event>Queue; "" with Arn.
	QueueLogicalID string
}

// SQSEvent is an SQS event source of a function: what the event source mapping does.
type SQSEvent struct {
	Name string // the key under Events
	// QueueARN is the Queue property resolved; Template.QueueByARN finds its queue (also
	// when the template was read without local resources and the value is a placeholder).
	QueueARN string
	// BatchSize is the mapping's batch size (SAM's default 10 when unset).
	BatchSize int
	// ReportBatchItemFailures is true when FunctionResponseTypes lists it: the function
	// answers with events.SQSEventResponse and only the named messages are retried.
	ReportBatchItemFailures bool
	// MaximumConcurrency from ScalingConfig; 0 when unset.
	MaximumConcurrency int
}

// Queue is an AWS::SQS::Queue of the template.
type Queue struct {
	LogicalID         string
	FIFO              bool
	VisibilityTimeout time.Duration // SQS default 30 s when unset
	// ARN and URL are Fn::GetAtt <id>.Arn and Ref <id> resolved: the local values when the
	// template was read with the resources, placeholders otherwise.
	ARN, URL string
}

// Function returns the function whose folder under functions/ is dir.
func (t *Template) Function(dir string) (*Function, bool) {
	for _, f := range t.Functions {
		if f.Dir == dir {
			return f, true
		}
	}
	return nil, false
}

// Dirs returns the function folders the template declares, sorted.
func (t *Template) Dirs() []string {
	var out []string
	for _, f := range t.Functions {
		out = append(out, f.Dir)
	}
	slices.Sort(out)
	return out
}

// QueueByARN returns the template's queue whose Fn::GetAtt Arn resolves to arn, as an SQS
// event's Queue property does.
func (t *Template) QueueByARN(arn string) (Queue, bool) {
	for _, id := range slices.Sorted(maps.Keys(t.Queues)) {
		if q := t.Queues[id]; q.ARN == arn {
			return q, true
		}
	}
	return Queue{}, false
}

// Defaults of AWS SAM, Lambda and SQS when the template sets nothing.
const (
	defaultTimeout           = 3 * time.Second
	defaultMemoryMB          = 128
	defaultBatchSize         = 10
	defaultVisibilityTimeout = 30 * time.Second
)

// ReadTemplate reads the SAM template at path. With res (the resources CreateResources made
// from the same template), Ref, Fn::GetAtt and Fn::Sub resolve to the local names, URLs
// and ARNs, exactly as CreateResources resolved them; with nil they become
// "<awslocal:unresolved ...>" placeholders, enough to check names and settings. params
// override parameter defaults, as `sam deploy --parameter-overrides` does.
func ReadTemplate(path string, res *Resources, params map[string]string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("awslocal: read template: %w", err)
	}
	return resolverFor(res, params).read(path, data)
}

// resolver gives intrinsic functions their local values. It is the one resolver of the
// local stack: CreateResources fills it as it creates resources, ReadTemplate rebuilds it
// from the Resources that CreateResources returned.
type resolver struct {
	stackName string            // AWS::StackName; "" leaves it unresolved
	refs      map[string]string // logical ID -> value of Ref
	atts      map[string]string // "LogicalID.Attribute" -> value of Fn::GetAtt
	params    map[string]string // parameter values that override the template's defaults
}

func newResolver() *resolver {
	return &resolver{refs: map[string]string{}, atts: map[string]string{}, params: map[string]string{}}
}

// resolverFor rebuilds the resolver CreateResources ended with. The exported fields of res
// come first, so a Resources assembled by hand resolves too.
func resolverFor(res *Resources, params map[string]string) *resolver {
	r := newResolver()
	if res != nil {
		set := func(m map[string]string, k, v string) {
			if v != "" {
				m[k] = v
			}
		}
		set(r.refs, LogicalTable, res.TableName)
		for id, q := range map[string]struct{ url, arn string }{
			LogicalChangeQueue: {res.ChangeQueueURL, res.ChangeQueueARN},
			LogicalDLQ:         {res.DLQURL, res.DLQARN},
		} {
			set(r.refs, id, q.url)
			set(r.atts, id+".Arn", q.arn)
			set(r.atts, id+".QueueUrl", q.url)
			if q.url != "" {
				set(r.atts, id+".QueueName", q.url[strings.LastIndex(q.url, "/")+1:])
			}
		}
		set(r.refs, LogicalEventBus, res.BusName)
		set(r.atts, LogicalEventBus+".Name", res.BusName)
		set(r.params, ParamCredentialsARN, res.SecretARN)
		maps.Copy(r.refs, res.refs)
		maps.Copy(r.atts, res.atts)
		r.stackName = res.stackName
	}
	maps.Copy(r.params, params)
	return r
}

const unresolvedMark = "<awslocal:unresolved "

func (r *resolver) options() *intrinsics.ProcessorOptions {
	return &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        func(_ string, in, tpl any) any { return r.ref(in, tpl) },
			"Fn::GetAtt": func(_ string, in, _ any) any { return r.getAtt(in) },
			"Fn::Sub":    func(_ string, in, tpl any) any { return r.sub(in, tpl) },
			"Fn::If":     func(_ string, in, tpl any) any { return r.fnIf(in, tpl) },
		},
	}
}

func (r *resolver) ref(in, tpl any) any {
	name, ok := in.(string)
	if !ok {
		return unresolvedMark + fmt.Sprintf("Ref %v>", in)
	}
	switch name {
	case "AWS::Region":
		return Region
	case "AWS::AccountId":
		return AccountID
	case "AWS::Partition":
		return "aws"
	case "AWS::URLSuffix":
		return "amazonaws.com"
	case "AWS::NoValue":
		return nil
	case "AWS::StackName":
		if r.stackName != "" {
			return r.stackName
		}
	}
	if v, ok := r.refs[name]; ok {
		return v
	}
	if v, ok := r.params[name]; ok {
		return v
	}
	if root, ok := tpl.(map[string]any); ok {
		if params, ok := root["Parameters"].(map[string]any); ok {
			if p, ok := params[name].(map[string]any); ok {
				if def, ok := p["Default"]; ok {
					return fmt.Sprint(def)
				}
				return unresolvedMark + "Ref " + name + " (parameter without Default)>"
			}
		}
	}
	return unresolvedMark + "Ref " + name + ">"
}

func (r *resolver) getAtt(in any) any {
	var key string
	switch v := in.(type) {
	case []any:
		var parts []string
		for _, p := range v {
			parts = append(parts, fmt.Sprint(p))
		}
		key = strings.Join(parts, ".")
	case string: // "Logical.Attr" short form
		key = v
	}
	if v, ok := r.atts[key]; ok {
		return v
	}
	return unresolvedMark + "Fn::GetAtt " + key + ">"
}

// fnIf picks a branch of Fn::If by evaluating its condition from the template's
// Conditions. goformation's own Fn::If only sees a condition that happened to be processed
// before the resource using it (map order), and returns nil otherwise.
func (r *resolver) fnIf(in, tpl any) any {
	arr, ok := in.([]any)
	if !ok || len(arr) != 3 {
		return unresolvedMark + fmt.Sprintf("Fn::If %v>", in)
	}
	name, _ := arr[0].(string)
	v, ok := r.condition(name, tpl, 0)
	if !ok {
		return unresolvedMark + "Fn::If " + name + " (condition not evaluable)>"
	}
	if v {
		return arr[1]
	}
	return arr[2]
}

// condition evaluates the template's condition name: Fn::Equals, Fn::Not, Fn::And, Fn::Or
// and Condition over Refs resolved as r.ref does.
func (r *resolver) condition(name string, tpl any, depth int) (bool, bool) {
	root, _ := tpl.(map[string]any)
	conds, _ := root["Conditions"].(map[string]any)
	expr, ok := conds[name]
	if !ok || depth > 16 {
		return false, false
	}
	return r.evalCondition(expr, tpl, depth+1)
}

func (r *resolver) evalCondition(expr, tpl any, depth int) (bool, bool) {
	switch v := expr.(type) {
	case bool: // already evaluated
		return v, true
	case string: // goformation reads !Condition Name as the bare name
		return r.condition(v, tpl, depth)
	case map[string]any:
		if len(v) != 1 {
			return false, false
		}
		for fn, arg := range v {
			args, _ := arg.([]any)
			switch fn {
			case "Condition":
				name, _ := arg.(string)
				return r.condition(name, tpl, depth)
			case "Fn::Equals":
				if len(args) != 2 {
					return false, false
				}
				return fmt.Sprint(r.conditionValue(args[0], tpl)) == fmt.Sprint(r.conditionValue(args[1], tpl)), true
			case "Fn::Not":
				if len(args) != 1 {
					return false, false
				}
				b, ok := r.evalCondition(args[0], tpl, depth)
				return !b, ok
			case "Fn::And", "Fn::Or":
				and := fn == "Fn::And"
				out := and
				for _, a := range args {
					b, ok := r.evalCondition(a, tpl, depth)
					if !ok {
						return false, false
					}
					if and {
						out = out && b
					} else {
						out = out || b
					}
				}
				return out, len(args) > 0
			}
		}
	}
	return false, false
}

// conditionValue is an operand of Fn::Equals: a Ref resolved, anything else as written.
func (r *resolver) conditionValue(v, tpl any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if ref, ok := m["Ref"]; ok {
			return r.ref(ref, tpl)
		}
	}
	return v
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (r *resolver) sub(in, tpl any) any {
	var src string
	vars := map[string]any{}
	switch v := in.(type) {
	case string:
		src = v
	case []any:
		if len(v) == 2 {
			src, _ = v[0].(string)
			if m, ok := v[1].(map[string]any); ok {
				vars = m
			}
		}
	}
	return subVar.ReplaceAllStringFunc(src, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			return fmt.Sprint(v)
		}
		if strings.Contains(name, ".") {
			return fmt.Sprint(r.getAtt(name))
		}
		return fmt.Sprint(r.ref(name, tpl))
	})
}

// read resolves the template's intrinsic functions with what r knows and decodes the
// result twice: into goformation's model and into the local stack's view.
func (r *resolver) read(path string, data []byte) (*Template, error) {
	processed, err := intrinsics.ProcessYAML(data, r.options())
	if err != nil {
		return nil, fmt.Errorf("awslocal: parse %s: %w", path, err)
	}
	cfn := &cloudformation.Template{}
	if err := json.Unmarshal(processed, cfn); err != nil {
		return nil, fmt.Errorf("awslocal: parse %s: %w", path, err)
	}
	var doc samDoc
	if err := json.Unmarshal(processed, &doc); err != nil {
		return nil, fmt.Errorf("awslocal: parse %s: %w", path, err)
	}
	t := &Template{Path: path, CFN: cfn, GlobalEnv: doc.Globals.Function.Environment.Variables,
		Functions: map[string]*Function{}, Queues: map[string]Queue{}}
	if t.GlobalEnv == nil {
		t.GlobalEnv = map[string]string{}
	}
	for _, id := range slices.Sorted(maps.Keys(doc.Resources)) {
		rsc := doc.Resources[id]
		switch rsc.Type {
		case "AWS::SQS::Queue":
			var p struct {
				FifoQueue         bool
				VisibilityTimeout *int
			}
			if len(rsc.Properties) > 0 { // a queue may have no Properties at all
				if err := json.Unmarshal(rsc.Properties, &p); err != nil {
					return nil, fmt.Errorf("awslocal: %s: %s.Properties: %w", path, id, err)
				}
			}
			q := Queue{LogicalID: id, FIFO: p.FifoQueue, VisibilityTimeout: defaultVisibilityTimeout,
				ARN: fmt.Sprint(r.getAtt(id + ".Arn")), URL: fmt.Sprint(r.ref(id, nil))}
			if p.VisibilityTimeout != nil {
				q.VisibilityTimeout = time.Duration(*p.VisibilityTimeout) * time.Second
			}
			t.Queues[id] = q
		case "AWS::Serverless::Function":
			f, err := readFunction(path, id, rsc.Properties, rsc.Metadata.BuildMethod, doc, r)
			if err != nil {
				return nil, err
			}
			t.Functions[id] = f
		}
	}
	return t, nil
}

func readFunction(path, id string, props json.RawMessage, buildMethod string, doc samDoc, r *resolver) (*Function, error) {
	var p samFunction
	if err := json.Unmarshal(props, &p); err != nil {
		return nil, fmt.Errorf("awslocal: %s: %s.Properties: %w", path, id, err)
	}
	if !strings.HasSuffix(id, "Function") || id == "Function" {
		return nil, fmt.Errorf("awslocal: %s: function %s: name functions <Folder>Function (ApplyFunction builds functions/apply) so the local stack and the Makefile can find the code", path, id)
	}
	f := &Function{
		LogicalID:   id,
		Dir:         strings.ToLower(strings.TrimSuffix(id, "Function")),
		Timeout:     defaultTimeout,
		MemoryMB:    defaultMemoryMB,
		BuildByMake: buildMethod == "makefile",
		CodeURI:     p.CodeUri,
		Env:         p.Environment.Variables,
		EventTypes:  map[string]string{},
	}
	if f.Env == nil {
		f.Env = map[string]string{}
	}
	for _, n := range []*int{doc.Globals.Function.Timeout, p.Timeout} {
		if n != nil {
			f.Timeout = time.Duration(*n) * time.Second
		}
	}
	for _, n := range []*int{doc.Globals.Function.MemorySize, p.MemorySize} {
		if n != nil {
			f.MemoryMB = *n
		}
	}
	url, err := readURLConfig(path, id, doc.Globals.Function.FunctionUrlConfig, p.FunctionUrlConfig)
	if err != nil {
		return nil, err
	}
	f.URL = url
	for _, name := range slices.Sorted(maps.Keys(p.Events)) {
		ev := p.Events[name]
		f.EventTypes[name] = ev.Type
		switch ev.Type {
		case "EventBridgeRule", "CloudWatchEvent":
			e, err := readRuleEvent(path, id, name, ev.Type, ev.Properties, r)
			if err != nil {
				return nil, err
			}
			f.Rules = append(f.Rules, e)
			continue
		case "ScheduleV2", "Schedule":
			e, err := readScheduleEvent(path, id, name, ev.Type, ev.Properties, r)
			if err != nil {
				return nil, err
			}
			f.Schedules = append(f.Schedules, e)
			continue
		case "SQS":
		default:
			continue
		}
		var sp samSQSProperties
		if err := json.Unmarshal(ev.Properties, &sp); err != nil {
			return nil, fmt.Errorf("awslocal: %s: %s.Events.%s: %w", path, id, name, err)
		}
		e := SQSEvent{Name: name, QueueARN: sp.Queue, BatchSize: defaultBatchSize,
			ReportBatchItemFailures: slices.Contains(sp.FunctionResponseTypes, "ReportBatchItemFailures")}
		if sp.BatchSize != nil {
			e.BatchSize = *sp.BatchSize
		}
		if sp.ScalingConfig != nil {
			e.MaximumConcurrency = sp.ScalingConfig.MaximumConcurrency
		}
		f.SQSEvents = append(f.SQSEvents, e)
	}
	return f, nil
}

// The view of the processed template that ReadTemplate decodes.
type samDoc struct {
	Globals struct {
		Function struct {
			Timeout           *int
			MemorySize        *int
			Environment       struct{ Variables map[string]string }
			FunctionUrlConfig json.RawMessage
		}
	}
	Resources map[string]struct {
		Type       string
		Properties json.RawMessage
		Metadata   struct{ BuildMethod string }
	}
}

type samFunction struct {
	CodeUri           string
	Timeout           *int
	MemorySize        *int
	Environment       struct{ Variables map[string]string }
	FunctionUrlConfig json.RawMessage
	Events            map[string]struct {
		Type       string
		Properties json.RawMessage
	}
}

type samSQSProperties struct {
	Queue                 string
	BatchSize             *int
	FunctionResponseTypes []string
	ScalingConfig         *struct{ MaximumConcurrency int }
}

// readURLConfig reads FunctionUrlConfig: the function's own keys over those of Globals, as
// SAM merges Globals into a function.
func readURLConfig(path, id string, global, own json.RawMessage) (*URLConfig, error) {
	merged := map[string]json.RawMessage{}
	for _, raw := range []json.RawMessage{global, own} {
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("awslocal: %s: %s.Properties.FunctionUrlConfig: %w", path, id, err)
		}
		maps.Copy(merged, m)
	}
	if len(merged) == 0 {
		return nil, nil
	}
	raw, _ := json.Marshal(merged)
	var u URLConfig
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, fmt.Errorf("awslocal: %s: %s.Properties.FunctionUrlConfig: %w", path, id, err)
	}
	where := fmt.Sprintf("awslocal: %s: %s.Properties.FunctionUrlConfig", path, id)
	switch u.AuthType {
	case "NONE", "AWS_IAM":
	case "":
		return nil, fmt.Errorf("%s: AuthType is required (NONE or AWS_IAM)", where)
	default:
		return nil, fmt.Errorf("%s: AuthType %q: want NONE or AWS_IAM", where, u.AuthType)
	}
	switch u.InvokeMode {
	case "":
		u.InvokeMode = "BUFFERED"
	case "BUFFERED", "RESPONSE_STREAM":
	default:
		return nil, fmt.Errorf("%s: InvokeMode %q: want BUFFERED or RESPONSE_STREAM", where, u.InvokeMode)
	}
	return &u, nil
}

// eventTargetIDMax is the longest rule target Id EventBridge takes; SAM truncates the Id it
// generates to it.
const eventTargetIDMax = 64

func readRuleEvent(path, fnID, name, typ string, props json.RawMessage, r *resolver) (RuleEvent, error) {
	where := fmt.Sprintf("awslocal: %s: %s.Events.%s", path, fnID, name)
	var p struct {
		Pattern          json.RawMessage
		EventBusName     string
		RuleName         string
		Input, InputPath string
		InputTransformer json.RawMessage
		RetryPolicy      *RetryPolicy
		DeadLetterConfig *samDeadLetterConfig
		State            string
		Enabled          *bool
		Target           *struct{ Id string }
	}
	if err := json.Unmarshal(props, &p); err != nil {
		return RuleEvent{}, fmt.Errorf("%s: %w", where, err)
	}
	if len(p.Pattern) == 0 || string(p.Pattern) == "null" {
		return RuleEvent{}, fmt.Errorf("%s: %s needs a Pattern (the rule's event pattern)", where, typ)
	}
	if p.Pattern[0] != '{' {
		return RuleEvent{}, fmt.Errorf("%s.Pattern: must be an object (SAM takes the event pattern as a map), not %s", where, truncateJSON(p.Pattern))
	}
	logicalID := fnID + name // SAM's logical ID of the rule
	e := RuleEvent{Name: name, Type: typ, Pattern: compactJSON(p.Pattern), EventBusName: p.EventBusName, RuleName: p.RuleName,
		Input: p.Input, InputPath: p.InputPath, InputTransformer: compactJSON(p.InputTransformer), RetryPolicy: p.RetryPolicy}
	if e.EventBusName == "" {
		e.EventBusName = "default"
	}
	if p.Target != nil && p.Target.Id != "" {
		e.TargetID = p.Target.Id
	} else {
		e.TargetID = logicalID + "LambdaTarget"
		if len(e.TargetID) > eventTargetIDMax {
			e.TargetID = logicalID[:eventTargetIDMax-len("LambdaTarget")] + "LambdaTarget"
		}
	}
	var err error
	if e.State, e.Enabled, err = eventState(where, p.State, p.Enabled); err != nil {
		return RuleEvent{}, err
	}
	if e.DeadLetter, err = p.DeadLetterConfig.resolve(where, logicalID, r); err != nil {
		return RuleEvent{}, err
	}
	return e, nil
}

func readScheduleEvent(path, fnID, name, typ string, props json.RawMessage, r *resolver) (ScheduleEvent, error) {
	where := fmt.Sprintf("awslocal: %s: %s.Events.%s", path, fnID, name)
	var p struct {
		ScheduleExpression         string // ScheduleV2
		Schedule                   string // Schedule
		ScheduleExpressionTimezone string
		Name                       string
		OmitName                   bool
		GroupName                  string
		Input                      string
		State                      string
		Enabled                    *bool
		RetryPolicy                *RetryPolicy
		DeadLetterConfig           *samDeadLetterConfig
	}
	if err := json.Unmarshal(props, &p); err != nil {
		return ScheduleEvent{}, fmt.Errorf("%s: %w", where, err)
	}
	logicalID := fnID + name
	e := ScheduleEvent{Name: name, Type: typ, ScheduleName: p.Name, Input: p.Input, RetryPolicy: p.RetryPolicy}
	if typ == "ScheduleV2" {
		e.Expression, e.Timezone, e.GroupName = p.ScheduleExpression, p.ScheduleExpressionTimezone, p.GroupName
		if e.GroupName == "" {
			e.GroupName = "default"
		}
		if p.OmitName && p.Name != "" {
			return ScheduleEvent{}, fmt.Errorf("%s: Name cannot be set when OmitName is true", where)
		}
		if e.ScheduleName == "" && !p.OmitName {
			e.ScheduleName = logicalID
		}
		if p.Enabled != nil {
			return ScheduleEvent{}, fmt.Errorf("%s: ScheduleV2 has no Enabled property; use State: ENABLED or DISABLED", where)
		}
	} else {
		e.Expression = p.Schedule
		if p.ScheduleExpressionTimezone != "" {
			return ScheduleEvent{}, fmt.Errorf("%s: a Schedule event (an EventBridge rule) runs in UTC; ScheduleExpressionTimezone needs ScheduleV2", where)
		}
	}
	if e.Expression == "" {
		property := map[string]string{"ScheduleV2": "ScheduleExpression", "Schedule": "Schedule"}[typ]
		return ScheduleEvent{}, fmt.Errorf("%s: %s needs %s, such as rate(1 day) or cron(0 6 * * ? *)", where, typ, property)
	}
	var err error
	if e.State, e.Enabled, err = eventState(where, p.State, p.Enabled); err != nil {
		return ScheduleEvent{}, err
	}
	if e.DeadLetter, err = p.DeadLetterConfig.resolve(where, logicalID, r); err != nil {
		return ScheduleEvent{}, err
	}
	return e, nil
}

// eventState reads State and Enabled as SAM does: not both; ENABLED by default.
func eventState(where, state string, enabled *bool) (string, bool, error) {
	if state != "" && enabled != nil {
		return "", false, fmt.Errorf("%s: State and Enabled cannot both be set", where)
	}
	switch {
	case enabled != nil && *enabled, enabled == nil && state == "":
		state = "ENABLED"
	case enabled != nil:
		state = "DISABLED"
	}
	return state, state != "DISABLED", nil
}

type samDeadLetterConfig struct {
	Arn            string
	Type           string
	QueueLogicalId string
}

// resolve validates a DeadLetterConfig as SAM does (Arn or Type SQS, not both) and
// resolves the queue's ARN; ownerID is the logical ID of the rule or schedule SAM makes.
func (c *samDeadLetterConfig) resolve(where, ownerID string, r *resolver) (*DeadLetterConfig, error) {
	if c == nil {
		return nil, nil
	}
	switch {
	case c.Arn != "" && c.Type != "":
		return nil, fmt.Errorf("%s.DeadLetterConfig: set either Arn or Type, not both", where)
	case c.Arn != "":
		return &DeadLetterConfig{QueueARN: c.Arn}, nil
	case c.Type == "":
		return nil, fmt.Errorf("%s.DeadLetterConfig: needs Arn (an existing queue) or Type: SQS (SAM creates one)", where)
	case c.Type != "SQS":
		return nil, fmt.Errorf("%s.DeadLetterConfig: Type %q: the only type is SQS", where, c.Type)
	}
	id := c.QueueLogicalId
	if id == "" {
		id = ownerID + "Queue"
	}
	return &DeadLetterConfig{QueueARN: fmt.Sprint(r.getAtt(id + ".Arn")), Type: "SQS", QueueLogicalID: id}, nil
}

// compactJSON drops the indentation the intrinsic-function processing leaves; nil stays nil.
func compactJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

func truncateJSON(raw json.RawMessage) string {
	if len(raw) > 60 {
		return string(raw[:60]) + "…"
	}
	return string(raw)
}
