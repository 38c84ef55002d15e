// Package bus puts routekeeper's own events on its EventBridge bus (template.yaml
// EventBus, EVENT_BUS_NAME): source "routekeeper", one detail-type per kind of event, a
// versioned JSON detail. It owns the detail-types and the batching rules of PutEvents; the
// detail schemas belong to the packages that produce them and are documented in
// docs/events.md.
package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// Source is the source of every event routekeeper puts on its bus.
const Source = "routekeeper"

// Detail-types of routekeeper's events (docs/events.md).
const (
	DriftDetected      = "Drift Detected"
	DriftResolved      = "Drift Resolved"
	DriftScanCompleted = "Drift Scan Completed"
	OverflowStarted    = "Overflow Started"
	OverflowEnded      = "Overflow Ended"
	PossibleOverwrite  = "Possible Overwrite"
)

// Limits of one PutEvents call (EventBridge quotas): at most 10 entries and 256 KiB in
// all, an entry's size counting its detail-type, source, detail and resources.
const (
	MaxEntries    = 10
	MaxBatchBytes = 256 * 1024
)

// Putter is the EventBridge method a Publisher uses (*eventbridge.Client satisfies it).
type Putter interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Event is one event for the bus.
type Event struct {
	DetailType string
	// Detail is encoded as JSON (a struct with a "schema" member, e.g. routekeeper.drift/v1).
	Detail any
	// Resources name what the event is about (optional), e.g. an entity key.
	Resources []string
	// Time is when it happened; zero: when EventBridge receives it.
	Time time.Time
}

// Publisher puts events on one bus. The zero Publisher (no bus) drops events: a function
// deployed without a bus still runs, and says so once when it is built.
type Publisher struct {
	api Putter
	bus string
}

// NewPublisher returns a Publisher for the bus named bus ("" drops every event).
func NewPublisher(api Putter, bus string) *Publisher { return &Publisher{api: api, bus: bus} }

// Enabled reports whether events go to a bus.
func (p *Publisher) Enabled() bool { return p != nil && p.api != nil && p.bus != "" }

// Error lists the events EventBridge did not take, with its reason for each.
type Error struct {
	Failed []Failure
}

// Failure is one event EventBridge refused.
type Failure struct {
	Event      Event
	Code, Text string
}

func (e *Error) Error() string {
	f := e.Failed[0]
	return fmt.Sprintf("bus: %d event(s) not put, the first %q: %s %s", len(e.Failed), f.Event.DetailType, f.Code, f.Text)
}

// Publish puts events on the bus in order, at most MaxEntries and MaxBatchBytes per call.
// Entries EventBridge refuses (throttling, an internal failure) are sent once more; what
// it still refuses is returned as an *Error, so the caller can retry the whole unit of work
// or record the loss. An event whose detail cannot be encoded, or that alone exceeds the
// size limit, fails before anything is sent.
func (p *Publisher) Publish(ctx context.Context, events ...Event) error {
	if !p.Enabled() || len(events) == 0 {
		return nil
	}
	entries := make([]types.PutEventsRequestEntry, len(events))
	sizes := make([]int, len(events))
	for i, ev := range events {
		detail, err := json.Marshal(ev.Detail)
		if err != nil {
			return fmt.Errorf("bus: encode %q detail: %w", ev.DetailType, err)
		}
		e := types.PutEventsRequestEntry{
			EventBusName: aws.String(p.bus), Source: aws.String(Source),
			DetailType: aws.String(ev.DetailType), Detail: aws.String(string(detail)), Resources: ev.Resources,
		}
		size := len(Source) + len(ev.DetailType) + len(detail)
		for _, r := range ev.Resources {
			size += len(r)
		}
		if !ev.Time.IsZero() {
			e.Time = aws.Time(ev.Time)
			size += 14
		}
		if size > MaxBatchBytes {
			return fmt.Errorf("bus: %q event of %d bytes exceeds EventBridge's %d", ev.DetailType, size, MaxBatchBytes)
		}
		entries[i], sizes[i] = e, size
	}
	var failed []Failure
	for start := 0; start < len(entries); {
		end, bytes := start, 0
		for end < len(entries) && end-start < MaxEntries && bytes+sizes[end] <= MaxBatchBytes {
			bytes += sizes[end]
			end++
		}
		f, err := p.put(ctx, events[start:end], entries[start:end])
		if err != nil {
			return err
		}
		failed = append(failed, f...)
		start = end
	}
	if len(failed) > 0 {
		return &Error{Failed: failed}
	}
	return nil
}

// put sends one batch, and the entries EventBridge refused once more.
func (p *Publisher) put(ctx context.Context, events []Event, entries []types.PutEventsRequestEntry) ([]Failure, error) {
	var failed []Failure
	for attempt := 0; attempt < 2 && len(entries) > 0; attempt++ {
		out, err := p.api.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil {
			return nil, fmt.Errorf("bus: put %d event(s) on %s: %w", len(entries), p.bus, err)
		}
		if out.FailedEntryCount == 0 {
			return nil, nil
		}
		var retryEvents []Event
		var retry []types.PutEventsRequestEntry
		failed = failed[:0]
		for i, r := range out.Entries {
			if r.ErrorCode == nil {
				continue
			}
			if i >= len(entries) {
				return nil, errors.New("bus: PutEvents answered more entries than it was sent")
			}
			retry, retryEvents = append(retry, entries[i]), append(retryEvents, events[i])
			failed = append(failed, Failure{Event: events[i], Code: aws.ToString(r.ErrorCode), Text: aws.ToString(r.ErrorMessage)})
		}
		entries, events = retry, retryEvents
	}
	return failed, nil
}
