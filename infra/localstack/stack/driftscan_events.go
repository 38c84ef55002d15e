package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// ---- driftscan ----

// Scenarios of events/driftscan/.
const (
	// DriftScanScheduled: the event EventBridge Scheduler sends the drift scan function for
	// the fire at DriftScanEventTime (the template's ScheduleV2 event, default payload: its
	// detail is the string "{}").
	DriftScanScheduled = "scheduled"
)

// DriftScanEventTime is the scheduled time of events/driftscan/scheduled.json, and
// DriftScanEventID its id (fixed, so regenerating the events changes nothing).
var (
	DriftScanEventTime = time.Date(2025, 6, 2, 9, 45, 0, 0, time.UTC)
	DriftScanEventID   = "8c3e1f0a-2b4d-4e6f-9a1c-3d5e7f9b1a2c"
)

// GenerateDriftScanEvents returns the events of events/driftscan/: the payload the drift
// scan's schedule (template.yaml DriftScanFunction.Events, as Stack.Schedules reads it)
// sends for the fire at DriftScanEventTime.
func GenerateDriftScanEvents(_ context.Context, s *Stack) (map[string][]byte, error) {
	raw, err := ScheduledEvent(s, "driftscan", DriftScanEventTime, DriftScanEventID)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{DriftScanScheduled: raw}, nil
}

// ScheduledEvent is the EventBridge Scheduler event the one schedule of the function in
// folder dir sends for the fire at at, with id, indented as events/ holds it.
func ScheduledEvent(s *Stack, dir string, at time.Time, id string) ([]byte, error) {
	schedules, err := s.Schedules(dir, noInvoke{}, SourceOptions{})
	if err != nil {
		return nil, err
	}
	if len(schedules) != 1 {
		return nil, fmt.Errorf("%s: template.yaml gives the function %d enabled schedules, want 1 (ScheduleV2)", dir, len(schedules))
	}
	raw, err := schedules[0].Payload(at)
	if err != nil {
		return nil, err
	}
	var ev events.EventBridgeEvent
	if err := DecodeStrict(raw, &ev); err != nil {
		return nil, fmt.Errorf("%s: the schedule's payload is not an EventBridge event: %w", dir, err)
	}
	ev.ID = id
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ev); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
