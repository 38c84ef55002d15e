package stack

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/routekeeper/routekeeper/infra/awslocal"
)

// Function is one AWS::Serverless::Function of template.yaml, as the local stack runs it.
type Function struct {
	LogicalID string // e.g. ApplyFunction
	// Dir is the function's folder under functions/ (ApplyFunction -> "apply"): the logical
	// ID without the "Function" suffix, lower-cased. The template-vs-code test checks that
	// the Makefile's build-<LogicalID> target builds ./functions/<Dir>.
	Dir         string
	Timeout     time.Duration // Globals and the function's own Timeout merged
	MemoryMB    int
	BuildByMake bool   // Metadata.BuildMethod is makefile
	CodeURI     string // "." for the makefile builder at the repository root
	// Env holds the function's own Environment.Variables (not the Globals), resolved
	// against the local resources when the template was read with them.
	Env       map[string]string
	SQSEvents []SQSEvent
	// EventTypes lists the Type of every event source (SQS, ScheduleV2, ...), by event name.
	EventTypes map[string]string
}

// SQSEvent is an SQS event source of a function: what the event-source mapping does.
type SQSEvent struct {
	Name     string // the key under Events
	QueueARN string // resolved; "<GetAtt X.Arn>" when read without local resources
	// BatchSize is the mapping's batch size (SAM's default 10 when unset).
	BatchSize int
	// ReportBatchItemFailures is true when FunctionResponseTypes lists it: the function
	// answers with events.SQSEventResponse and only the named messages are retried.
	ReportBatchItemFailures bool
	// MaximumConcurrency from ScalingConfig; 0 when unset.
	MaximumConcurrency int
}

// Template is the part of template.yaml the local stack runs: the functions and the
// environment every function gets from the Globals.
type Template struct {
	Path      string
	GlobalEnv map[string]string // Globals.Function.Environment.Variables
	Functions map[string]*Function
	Queues    map[string]Queue // AWS::SQS::Queue resources by logical ID
}

// Queue is what the local stack checks of an AWS::SQS::Queue.
type Queue struct {
	FIFO              bool
	VisibilityTimeout time.Duration // SQS default 30 s when unset
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

// Defaults of AWS SAM and Lambda when the template sets nothing.
const (
	defaultTimeout   = 3 * time.Second
	defaultMemoryMB  = 128
	defaultBatchSize = 10
)

// ReadTemplate reads the functions of the SAM template at path with goformation's YAML and
// intrinsic-function processor. With res (the resources awslocal created from the same
// template), Ref, Fn::GetAtt and Fn::Sub resolve to the local names, URLs and ARNs; with
// nil they become "<Ref X>" / "<GetAtt X.Attr>" placeholders, enough to check names.
//
// awslocal resolves the Globals environment but exports no template model, and
// goformation's typed AWS::Serverless::Function lacks properties routekeeper relies on
// (FunctionResponseTypes, ScalingConfig, LoggingConfig), so this decodes goformation's
// processed JSON into the small view below instead of a second YAML parser.
//
// params override parameter defaults, as `sam deploy --parameter-overrides` does.
func ReadTemplate(path string, res *awslocal.Resources, params map[string]string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	r := resolver{res: res, params: params}
	opts := &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        func(_ string, in, tpl any) any { return r.ref(in, tpl) },
			"Fn::GetAtt": func(_ string, in, _ any) any { return r.getAtt(in) },
			"Fn::Sub":    func(_ string, in, tpl any) any { return r.sub(in, tpl) },
		},
	}
	processed, err := intrinsics.ProcessYAML(data, opts)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	var doc samDoc
	if err := json.Unmarshal(processed, &doc); err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	t := &Template{Path: path, GlobalEnv: doc.Globals.Function.Environment.Variables,
		Functions: map[string]*Function{}, Queues: map[string]Queue{}}
	if t.GlobalEnv == nil {
		t.GlobalEnv = map[string]string{}
	}
	for _, id := range slices.Sorted(maps.Keys(doc.Resources)) {
		rsc := doc.Resources[id]
		if rsc.Type == "AWS::SQS::Queue" {
			var q struct {
				FifoQueue         bool
				VisibilityTimeout *int
			}
			if err := json.Unmarshal(rsc.Properties, &q); err != nil {
				return nil, fmt.Errorf("template %s: %s.Properties: %w", path, id, err)
			}
			t.Queues[id] = Queue{FIFO: q.FifoQueue, VisibilityTimeout: 30 * time.Second}
			if q.VisibilityTimeout != nil {
				t.Queues[id] = Queue{FIFO: q.FifoQueue, VisibilityTimeout: time.Duration(*q.VisibilityTimeout) * time.Second}
			}
			continue
		}
		if rsc.Type != "AWS::Serverless::Function" {
			continue
		}
		var p samFunction
		if err := json.Unmarshal(rsc.Properties, &p); err != nil {
			return nil, fmt.Errorf("template %s: %s.Properties: %w", path, id, err)
		}
		if !strings.HasSuffix(id, "Function") || id == "Function" {
			return nil, fmt.Errorf("template %s: function %s: name functions <Folder>Function (ApplyFunction builds functions/apply) so the local stack and the Makefile can find the code", path, id)
		}
		f := &Function{
			LogicalID:   id,
			Dir:         strings.ToLower(strings.TrimSuffix(id, "Function")),
			Timeout:     defaultTimeout,
			MemoryMB:    defaultMemoryMB,
			BuildByMake: rsc.Metadata.BuildMethod == "makefile",
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
		for _, name := range slices.Sorted(maps.Keys(p.Events)) {
			ev := p.Events[name]
			f.EventTypes[name] = ev.Type
			if ev.Type != "SQS" {
				continue
			}
			var sp samSQSProperties
			if err := json.Unmarshal(ev.Properties, &sp); err != nil {
				return nil, fmt.Errorf("template %s: %s.Events.%s: %w", path, id, name, err)
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
		t.Functions[id] = f
	}
	return t, nil
}

// The view of the processed template this package reads.
type samDoc struct {
	Globals struct {
		Function struct {
			Timeout     *int
			MemorySize  *int
			Environment struct{ Variables map[string]string }
		}
	}
	Resources map[string]struct {
		Type       string
		Properties json.RawMessage
		Metadata   struct{ BuildMethod string }
	}
}

type samFunction struct {
	CodeUri     string
	Timeout     *int
	MemorySize  *int
	Environment struct{ Variables map[string]string }
	Events      map[string]struct {
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

// resolver gives intrinsic functions their local values.
type resolver struct {
	res    *awslocal.Resources
	params map[string]string
}

func (r resolver) ref(in, tpl any) any {
	name, _ := in.(string)
	switch name {
	case "AWS::Region":
		return awslocal.Region
	case "AWS::AccountId":
		return awslocal.AccountID
	case "AWS::Partition":
		return "aws"
	case "AWS::URLSuffix":
		return "amazonaws.com"
	case "AWS::NoValue":
		return nil
	}
	if r.res != nil {
		switch name {
		case awslocal.LogicalTable:
			return r.res.TableName
		case awslocal.LogicalChangeQueue:
			return r.res.ChangeQueueURL
		case awslocal.LogicalDLQ:
			return r.res.DLQURL
		case awslocal.LogicalEventBus:
			return r.res.BusName
		case awslocal.ParamCredentialsARN:
			return r.res.SecretARN
		}
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
			}
		}
	}
	return "<Ref " + name + ">"
}

func (r resolver) getAtt(in any) any {
	var key string
	switch v := in.(type) {
	case []any:
		var parts []string
		for _, p := range v {
			parts = append(parts, fmt.Sprint(p))
		}
		key = strings.Join(parts, ".")
	case string:
		key = v
	}
	if r.res != nil {
		switch key {
		case awslocal.LogicalChangeQueue + ".Arn":
			return r.res.ChangeQueueARN
		case awslocal.LogicalDLQ + ".Arn":
			return r.res.DLQARN
		case awslocal.LogicalChangeQueue + ".QueueName":
			return lastSegment(r.res.ChangeQueueURL)
		case awslocal.LogicalDLQ + ".QueueName":
			return lastSegment(r.res.DLQURL)
		case awslocal.LogicalEventBus + ".Name":
			return r.res.BusName
		}
	}
	return "<GetAtt " + key + ">"
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (r resolver) sub(in, tpl any) any {
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

func lastSegment(url string) string {
	return url[strings.LastIndex(url, "/")+1:]
}
