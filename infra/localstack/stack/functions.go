package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Functions is what the local stack knows of each function besides template.yaml: the
// Go type of the events its handler takes and how its sample events in events/<dir>/ are
// made. One line per functions/<dir>; the tests fail for a function with events but no
// line here, and for a line without a function in the template.
var Functions = []Registration{
	{Dir: "apply", Events: []reflect.Type{reflect.TypeFor[events.SQSEvent]()}, Generate: GenerateApplyEvents},
	{Dir: "webhook", Events: []reflect.Type{reflect.TypeFor[events.LambdaFunctionURLRequest](), reflect.TypeFor[events.EventBridgeEvent]()}, Generate: GenerateWebhookEvents},
	{Dir: "occupancy", Events: []reflect.Type{reflect.TypeFor[events.EventBridgeEvent]()}, Generate: GenerateOccupancyEvents},
	{Dir: "driftscan", Events: []reflect.Type{reflect.TypeFor[events.EventBridgeEvent]()}, Generate: GenerateDriftScanEvents},
}

// Registration is one function of Functions.
type Registration struct {
	// Dir is the function's folder under functions/ (awslocal.Function.Dir).
	Dir string
	// Events are the event types the handler takes (aws-lambda-go/events types): usually
	// one; a function fed by two sources (a Function URL and a rule) lists both. Every
	// events/<Dir>/*.json decodes strictly into one of them (Decode).
	Events []reflect.Type
	// Generate returns the sample events of events/<Dir>/ (scenario -> JSON) built on s,
	// a freshly started stack of its own (`go run ./infra/localstack events`).
	Generate func(ctx context.Context, s *Stack) (map[string][]byte, error)
}

// Registered returns the registration of the function in folder dir.
func Registered(dir string) (Registration, bool) {
	for _, r := range Functions {
		if r.Dir == dir {
			return r, true
		}
	}
	return Registration{}, false
}

// Decode decodes an event of the function strictly (no unknown field, one JSON value)
// into the first of its event types that takes it, and returns a pointer to the value.
// The error names every type and why it did not fit.
func (r Registration) Decode(raw []byte) (any, error) {
	if len(r.Events) == 0 {
		return nil, fmt.Errorf("function %s registers no event type; add its handler's event type to Functions", r.Dir)
	}
	var errs []error
	for _, t := range r.Events {
		v := reflect.New(t).Interface()
		if err := DecodeStrict(raw, v); err != nil {
			errs = append(errs, fmt.Errorf("as %s: %w", t, err))
			continue
		}
		return v, nil
	}
	return nil, fmt.Errorf("not an event of function %s: %w", r.Dir, errors.Join(errs...))
}

// DecodeStrict decodes exactly one JSON value from raw into v, refusing members v's type
// does not have: a sample event with a misspelt or foreign field fails rather than reach
// the handler with the field silently dropped.
func DecodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more than one JSON value")
	}
	return nil
}

// ---- occupancy ----

// Scenarios of events/occupancy/.
const (
	// OccupancyScheduled: the event EventBridge Scheduler sends the occupancy function for
	// the fire at OccupancyEventTime (the template's ScheduleV2 event, default payload:
	// its detail is the string "{}").
	OccupancyScheduled = "scheduled"
)

// OccupancyEventTime is the scheduled time of events/occupancy/scheduled.json, and
// OccupancyEventID its id (fixed, so regenerating the events changes nothing).
var (
	OccupancyEventTime = time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)
	OccupancyEventID   = "5d9c8f7e-4b1a-4f3e-9c2d-6f1e0a7b3c55"
)

// GenerateOccupancyEvents returns the events of events/occupancy/: the payload the
// occupancy function's schedule (template.yaml OccupancyFunction.Events, as
// Stack.Schedules reads it) sends for the fire at OccupancyEventTime.
func GenerateOccupancyEvents(_ context.Context, s *Stack) (map[string][]byte, error) {
	schedules, err := s.Schedules("occupancy", noInvoke{}, SourceOptions{})
	if err != nil {
		return nil, err
	}
	if len(schedules) != 1 {
		return nil, fmt.Errorf("occupancy: template.yaml gives the function %d enabled schedules, want 1 (ScheduleV2)", len(schedules))
	}
	raw, err := schedules[0].Payload(OccupancyEventTime)
	if err != nil {
		return nil, err
	}
	var ev events.EventBridgeEvent
	if err := DecodeStrict(raw, &ev); err != nil {
		return nil, fmt.Errorf("occupancy: the schedule's payload is not an EventBridge event: %w", err)
	}
	ev.ID = OccupancyEventID
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ev); err != nil {
		return nil, err
	}
	return map[string][]byte{OccupancyScheduled: out.Bytes()}, nil
}
