package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/shared/bus"
)

func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }

type detail struct {
	Schema string `json:"schema"`
	N      int    `json:"n"`
}

// Events put on the bus on moto are read back by a subscriber, in order, with
// routekeeper's source, detail-type, detail and resources.
func TestPublishOnMoto(t *testing.T) {
	cfg, res := awslocal.ForTest(t)
	ctx := context.Background()
	tap, err := awslocal.NewTap(ctx, cfg, res.BusName, strings.ReplaceAll(t.Name(), "/", "-"), `{"source":["routekeeper"]}`)
	if err != nil {
		t.Fatal(err)
	}
	p := bus.NewPublisher(eventbridge.NewFromConfig(cfg), res.BusName)
	var evs []bus.Event
	for i := range 12 { // two PutEvents calls
		evs = append(evs, bus.Event{DetailType: bus.DriftDetected, Detail: detail{"test/v1", i}, Resources: []string{fmt.Sprintf("dev/queue/Q%d", i)}})
	}
	if err := p.Publish(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	got, err := tap.ReceiveN(tctx, 12)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, ev := range got {
		var d detail
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if ev.Source != bus.Source || ev.DetailType != bus.DriftDetected || d.Schema != "test/v1" ||
			len(ev.Resources) != 1 || ev.Resources[0] != fmt.Sprintf("dev/queue/Q%d", d.N) {
			t.Errorf("event %+v (detail %+v): want source routekeeper, Drift Detected, its resource", ev, d)
		}
		seen[d.N] = true
	}
	if len(seen) != 12 {
		t.Errorf("received events %v, want all 12 once", seen)
	}
}

// recorder is a Putter that records each call and refuses the entries listed in refuse
// (by detail n) the given number of times.
type recorder struct {
	calls  [][]string
	refuse map[int]int
}

func (r *recorder) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	var call []string
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		var d detail
		_ = json.Unmarshal([]byte(aws.ToString(e.Detail)), &d)
		call = append(call, fmt.Sprint(d.N))
		if r.refuse[d.N] > 0 {
			r.refuse[d.N]--
			out.FailedEntryCount++
			out.Entries = append(out.Entries, types.PutEventsResultEntry{ErrorCode: aws.String("ThrottlingException"), ErrorMessage: aws.String("slow down")})
			continue
		}
		out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String("id")})
	}
	r.calls = append(r.calls, call)
	return out, nil
}

func TestPublishBatchesAndRetries(t *testing.T) {
	ctx := context.Background()
	big := strings.Repeat("x", 100*1024)
	tests := []struct {
		name      string
		events    []bus.Event
		refuse    map[int]int
		wantCalls [][]string
		wantFail  []int
	}{
		{"ten per call", events(0, 23), nil, [][]string{{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, {"10", "11", "12", "13", "14", "15", "16", "17", "18", "19"}, {"20", "21", "22"}}, nil},
		{"256 KiB per call", []bus.Event{
			{DetailType: bus.DriftDetected, Detail: map[string]any{"n": 0, "pad": big}},
			{DetailType: bus.DriftDetected, Detail: map[string]any{"n": 1, "pad": big}},
			{DetailType: bus.DriftDetected, Detail: map[string]any{"n": 2, "pad": big}},
		}, nil, [][]string{{"0", "1"}, {"2"}}, nil},
		{"refused once: sent again", events(0, 3), map[int]int{1: 1}, [][]string{{"0", "1", "2"}, {"1"}}, nil},
		{"refused twice: reported", events(0, 3), map[int]int{2: 2}, [][]string{{"0", "1", "2"}, {"2"}}, []int{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{refuse: tc.refuse}
			err := bus.NewPublisher(r, "b").Publish(ctx, tc.events...)
			if diff := cmp.Diff(tc.wantCalls, r.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			var be *bus.Error
			switch {
			case tc.wantFail == nil && err != nil:
				t.Errorf("Publish: %v, want nil", err)
			case tc.wantFail != nil && (!errors.As(err, &be) || len(be.Failed) != len(tc.wantFail)):
				t.Errorf("Publish: %v, want an *Error listing %v", err, tc.wantFail)
			}
		})
	}
	// Nothing to send, or no bus: no call.
	r := &recorder{}
	if err := bus.NewPublisher(r, "").Publish(ctx, events(0, 2)...); err != nil || len(r.calls) != 0 {
		t.Errorf("no bus: %v, %d calls; want nil, none", err, len(r.calls))
	}
	// An event too large alone, or a detail that cannot be encoded, fails before sending.
	huge := bus.Event{DetailType: bus.DriftDetected, Detail: strings.Repeat("x", bus.MaxBatchBytes)}
	bad := bus.Event{DetailType: bus.DriftDetected, Detail: func() {}}
	for _, ev := range []bus.Event{huge, bad} {
		r := &recorder{}
		if err := bus.NewPublisher(r, "b").Publish(ctx, events(0, 1)[0], ev); err == nil || len(r.calls) != 0 {
			t.Errorf("Publish(%T detail): %v, %d calls; want an error and nothing sent", ev.Detail, err, len(r.calls))
		}
	}
}

func events(from, to int) []bus.Event {
	var out []bus.Event
	for i := from; i < to; i++ {
		out = append(out, bus.Event{DetailType: bus.DriftDetected, Detail: detail{"test/v1", i}})
	}
	return out
}
