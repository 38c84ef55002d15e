package lambdarun

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestScheduleExpressionNext(t *testing.T) {
	const sat = "2026-03-07T10:00:30Z" // a Saturday
	tests := []struct {
		expr, tz, after string
		want            string // "" when there is no next time
	}{
		{"rate(5 minutes)", "", sat, "2026-03-07T10:05:30Z"},
		{"rate(1 minute)", "", sat, "2026-03-07T10:01:30Z"},
		{"rate(2 hours)", "", sat, "2026-03-07T12:00:30Z"},
		{"rate(1 day)", "", sat, "2026-03-08T10:00:30Z"},
		{"rate(1 day)", "America/New_York", "2026-03-07T10:00:30Z", "2026-03-08T10:00:30Z"}, // 24 hours, across the DST change
		{"cron(0 10 * * ? *)", "", sat, "2026-03-08T10:00:00Z"},
		{"cron(0 10 * * ? *)", "", "2026-03-07T09:59:59Z", "2026-03-07T10:00:00Z"},
		{"cron(0 10 * * ? *)", "", "2026-03-07T10:00:00Z", "2026-03-08T10:00:00Z"}, // strictly after
		{"cron(0/15 * * * ? *)", "", sat, "2026-03-07T10:15:00Z"},
		{"cron(1/10 * * * ? *)", "", sat, "2026-03-07T10:01:00Z"},
		{"cron(*/20 9-17 * * ? *)", "", "2026-03-07T17:41:00Z", "2026-03-08T09:00:00Z"},
		{"cron(0 */6 * * ? *)", "", sat, "2026-03-07T12:00:00Z"},
		{"cron(0,30 10 * * ? *)", "", sat, "2026-03-07T10:30:00Z"},
		{"cron(0 8 1 * ? *)", "", sat, "2026-04-01T08:00:00Z"},
		{"cron(0 12 1-7 * ? *)", "", sat, "2026-03-07T12:00:00Z"},
		{"cron(0 12 ? * MON-FRI *)", "", sat, "2026-03-09T12:00:00Z"},
		{"cron(0 12 ? * 2-6 *)", "", sat, "2026-03-09T12:00:00Z"},
		{"cron(0 12 ? * mon *)", "", sat, "2026-03-09T12:00:00Z"},
		{"cron(0 12 ? * FRI-MON *)", "", sat, "2026-03-07T12:00:00Z"}, // a range that wraps
		{"cron(0 12 ? * SUN *)", "", sat, "2026-03-08T12:00:00Z"},
		{"cron(0 12 ? * 1 *)", "", sat, "2026-03-08T12:00:00Z"}, // 1 is Sunday
		{"cron(0 0 1 JAN,JUL ? *)", "", sat, "2026-07-01T00:00:00Z"},
		{"cron(0 0 1 11-2 ? *)", "", sat, "2026-11-01T00:00:00Z"},
		{"cron(0 0 L * ? *)", "", sat, "2026-03-31T00:00:00Z"},
		{"cron(0 0 L 2 ? *)", "", sat, "2027-02-28T00:00:00Z"},
		{"cron(0 0 L 2 ? *)", "", "2027-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},   // leap year
		{"cron(0 9 15W * ? *)", "", sat, "2026-03-16T09:00:00Z"},                    // the 15th is a Sunday: Monday
		{"cron(0 9 1W * ? *)", "", "2026-07-15T00:00:00Z", "2026-08-03T09:00:00Z"},  // 1 August is a Saturday: Monday the 3rd, not July
		{"cron(0 9 31W * ? *)", "", "2026-05-01T00:00:00Z", "2026-05-29T09:00:00Z"}, // 31 May is a Sunday: Friday the 29th
		{"cron(0 9 7W * ? *)", "", "2026-03-01T00:00:00Z", "2026-03-06T09:00:00Z"},  // the 7th is a Saturday: Friday
		{"cron(0 10 ? * 6#1 *)", "", sat, "2026-04-03T10:00:00Z"},                   // the first Friday
		{"cron(0 0 ? * SUN#5 2026)", "", sat, "2026-03-29T00:00:00Z"},
		{"cron(0 10 ? * L *)", "", sat, "2026-03-14T10:00:00Z"}, // L: the last day of the week, Saturday
		{"cron(0 0 1 1 ? 2027)", "", sat, "2027-01-01T00:00:00Z"},
		{"cron(0 0 1 1 ? 2026-2030/2)", "", sat, "2028-01-01T00:00:00Z"},
		{"cron(0 0 1 1 ? 2020)", "", sat, ""},
		{"cron(0 0 31 2 ? *)", "", sat, ""}, // never
		{"cron(0 0 1 1 ? *)", "", "2199-06-01T00:00:00Z", ""},
		{"cron(0 9 * * ? *)", "Europe/Paris", sat, "2026-03-08T08:00:00Z"},
		{"cron(0 9 * * ? *)", "Europe/Paris", "2026-03-28T12:00:00Z", "2026-03-29T07:00:00Z"}, // summer time from the 29th
		// Spring forward: 02:30 does not exist on 8 March in New York, so it is skipped.
		{"cron(30 2 * * ? *)", "America/New_York", "2026-03-08T06:00:00Z", "2026-03-09T06:30:00Z"},
		// Fall back: 01:30 happens twice on 1 November; it runs once, the first time.
		{"cron(30 1 * * ? *)", "America/New_York", "2026-11-01T04:00:00Z", "2026-11-01T05:30:00Z"},
		{"cron(30 1 * * ? *)", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
		{"cron(* * * * ? *)", "America/New_York", "2026-11-01T05:59:00Z", "2026-11-01T07:00:00Z"}, // the repeated hour is not run again
		{"at(2026-03-07T12:00:00)", "", sat, "2026-03-07T12:00:00Z"},
		{"at(2026-03-07T10:00:00)", "", sat, ""},
		{"at(2026-03-08T09:00:00)", "Asia/Tokyo", sat, "2026-03-08T00:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.expr+" "+tc.tz+" after "+tc.after, func(t *testing.T) {
			e, err := ParseScheduleExpression(tc.expr, tc.tz)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := e.Next(utc(tc.after))
			switch {
			case tc.want == "" && ok:
				t.Errorf("Next(%s) = %s, want none", tc.after, got.Format(time.RFC3339))
			case tc.want != "" && (!ok || !got.Equal(utc(tc.want))):
				t.Errorf("Next(%s) = %s (%v), want %s", tc.after, got.Format(time.RFC3339), ok, tc.want)
			case ok && got.Location() != time.UTC:
				t.Errorf("Next(%s) is in %s, want UTC", tc.after, got.Location())
			}
		})
	}
}

func TestParseScheduleExpressionRejects(t *testing.T) {
	tests := []struct{ expr, tz, wantErr string }{
		{"every 5 minutes", "", "want rate(...), cron(...) or at(...)"},
		{"rate(0 minutes)", "", "positive whole number"},
		{"rate(5 weeks)", "", "want rate(N minute"},
		{"rate(5minutes)", "", "want rate(N minute"},
		{"rate(1.5 hours)", "", "want rate(N minute"},
		{"cron(0 10 * *)", "", "6 fields"},
		{"cron(0 10 * * * *)", "", "exactly one of day-of-month and day-of-week"},
		{"cron(0 10 ? * ? *)", "", "exactly one of day-of-month and day-of-week"},
		{"cron(60 10 * * ? *)", "", `minutes field "60": "60" is not a value in 0-59`},
		{"cron(0 24 * * ? *)", "", "not a value in 0-23"},
		{"cron(0 10 32 * ? *)", "", "not a value in 1-31"},
		{"cron(0 10 * 13 ? *)", "", "not a value in 1-12"},
		{"cron(0 10 * FOO ? *)", "", `"FOO" is not a value`},
		{"cron(0 10 ? * 8 *)", "", "not a value in 1-7"},
		{"cron(0 10 * * ? 1969)", "", "not a value in 1970-2199"},
		{"cron(0/0 10 * * ? *)", "", "step after / must be a positive"},
		{"cron(0,,5 10 * * ? *)", "", "empty list item"},
		{"cron(L 10 * * ? *)", "", "stand alone in a day field"},
		{"cron(0 10 LW * ? *)", "", "LW is not supported"},
		{"cron(0 10 1,L * ? *)", "", "L and W stand alone"},
		{"cron(0 10 ? * 5L *)", "", "5L are not supported"},
		{"cron(0 10 ? * 3#1,6#3 *)", "", "stands alone in the field"},
		{"cron(0 10 ? * 3#6 *)", "", "a week 1-5"},
		{"at(2026-03-07 12:00:00)", "", "want at(yyyy-mm-ddThh:mm:ss)"},
		{"rate(5 minutes)", "Mars/Olympus_Mons", `time zone "Mars/Olympus_Mons"`},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := ParseScheduleExpression(tc.expr, tc.tz)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseScheduleExpression(%q, %q): got %v, want an error containing %q", tc.expr, tc.tz, err, tc.wantErr)
			}
		})
	}
}

func TestSchedulePayload(t *testing.T) {
	at := utc("2026-03-07T10:15:00Z")
	ignoreID := cmpopts.IgnoreFields(events.EventBridgeEvent{}, "ID")
	t.Run("Scheduler's default notification", func(t *testing.T) {
		s, err := NewSchedule("rate(15 minutes)", &scriptedInvoker{}, ScheduleOptions{Name: "DriftFunctionNightly"})
		if err != nil {
			t.Fatal(err)
		}
		payload, err := s.Payload(at)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Fatalf("the default notification does not decode into events.EventBridgeEvent: %v\n%s", err, payload)
		}
		want := events.EventBridgeEvent{Version: "0", DetailType: "Scheduled Event", Source: "aws.scheduler",
			AccountID: "123456789012", Time: at, Region: "us-east-1",
			Resources: []string{"arn:aws:scheduler:us-east-1:123456789012:schedule/default/DriftFunctionNightly"},
			Detail:    json.RawMessage(`"{}"`)}
		if diff := cmp.Diff(want, ev, ignoreID); diff != "" {
			t.Errorf("default notification (-want +got):\n%s", diff)
		}
		if ev.ID == "" {
			t.Error("id is empty, want a UUID")
		}
		var detail struct{}
		if err := json.Unmarshal(ev.Detail, &detail); err == nil {
			t.Error(`detail decoded into a struct; Scheduler sends the string "{}", which must not`)
		}
	})
	t.Run("scheduled rule's event", func(t *testing.T) {
		s, err := NewSchedule("cron(0/15 * * * ? *)", &scriptedInvoker{}, ScheduleOptions{Name: "nightly", Rule: true, Region: "eu-west-1", AccountID: "111122223333"})
		if err != nil {
			t.Fatal(err)
		}
		payload, err := s.Payload(at)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		want := events.EventBridgeEvent{Version: "0", DetailType: "Scheduled Event", Source: "aws.events",
			AccountID: "111122223333", Time: at, Region: "eu-west-1",
			Resources: []string{"arn:aws:events:eu-west-1:111122223333:rule/nightly"}, Detail: json.RawMessage(`{}`)}
		if diff := cmp.Diff(want, ev, ignoreID); diff != "" {
			t.Errorf("scheduled rule event (-want +got):\n%s", diff)
		}
	})
	t.Run("Input with context attributes", func(t *testing.T) {
		s, err := NewSchedule("rate(1 hour)", &scriptedInvoker{}, ScheduleOptions{Name: "n", Group: "g",
			Input: `{"arn":"<aws.scheduler.schedule-arn>","at":"<aws.scheduler.scheduled-time>","try":"<aws.scheduler.attempt-number>","id":"<aws.scheduler.execution-id>"}`})
		if err != nil {
			t.Fatal(err)
		}
		payload, err := s.Payload(at.Add(1500 * time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		if err := json.Unmarshal(payload, &got); err != nil {
			t.Fatal(err)
		}
		if len(got["id"]) != 16 || strings.Contains(got["id"], "<") {
			t.Errorf("execution-id = %q, want a 16-character id", got["id"])
		}
		delete(got, "id")
		want := map[string]string{"arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/g/n", "at": "2026-03-07T10:15:01Z", "try": "1"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Input after replacing the context attributes (-want +got):\n%s", diff)
		}
	})
	t.Run("a rule's Input is sent as it is", func(t *testing.T) {
		in := `{"x":"<aws.scheduler.schedule-arn>"}`
		s, err := NewSchedule("rate(1 hour)", &scriptedInvoker{}, ScheduleOptions{Rule: true, Input: in})
		if err != nil {
			t.Fatal(err)
		}
		if payload, err := s.Payload(at); err != nil || string(payload) != in {
			t.Errorf("Payload = %s, %v; want %s", payload, err, in)
		}
	})
}

func TestNewScheduleRejects(t *testing.T) {
	tests := []struct {
		name, expr string
		opts       ScheduleOptions
		wantErr    string
	}{
		{"bad expression", "rate(0 days)", ScheduleOptions{}, "positive whole number"},
		{"rule with a time zone", "rate(1 day)", ScheduleOptions{Rule: true, Timezone: "Europe/Paris"}, "take no time zone"},
		{"rule with at", "at(2026-03-07T12:00:00)", ScheduleOptions{Rule: true}, "rate() and cron() only"},
		{"Input not JSON", "rate(1 day)", ScheduleOptions{Input: "mode=full"}, "Input is not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSchedule(tc.expr, &scriptedInvoker{}, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("NewSchedule(%q): got %v, want an error containing %q", tc.expr, err, tc.wantErr)
			}
		})
	}
}

func TestScheduleFire(t *testing.T) {
	fn := &scriptedInvoker{results: []error{errFunction}}
	s, err := NewSchedule("rate(1 day)", fn, ScheduleOptions{Name: "n"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Fire(context.Background(), utc("2026-03-07T10:00:00Z"))
	var fe *FunctionError
	if !errors.As(err, &fe) || len(fn.payloads) != 1 {
		t.Fatalf("Fire = %v after %d invocations; want the function error after exactly 1", err, len(fn.payloads))
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal([]byte(fn.payloads[0]), &ev); err != nil || !ev.Time.Equal(utc("2026-03-07T10:00:00Z")) {
		t.Errorf("fired payload %s (%v): want the scheduled time", fn.payloads[0], err)
	}
}

// fireRecorder records the scheduled time of each fire and the clock's time
// at that moment, and cancels the run after n fires.
type fireRecorder struct {
	mu     sync.Mutex
	clock  Clock
	n      int
	cancel context.CancelFunc
	fail   map[int]bool // fires that fail (by index)
	fired  []string
	nowAt  []string
}

func (f *fireRecorder) Invoke(_ context.Context, event []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	i := len(f.fired)
	f.fired = append(f.fired, ev.Time.Format(time.RFC3339))
	f.nowAt = append(f.nowAt, f.clock.Now().UTC().Format(time.RFC3339))
	if len(f.fired) == f.n && f.cancel != nil {
		f.cancel()
	}
	if f.fail[i] {
		return nil, errFunction
	}
	return []byte("null"), nil
}

func TestScheduleRun(t *testing.T) {
	const start = "2026-03-07T10:00:30Z"
	tests := []struct {
		name, expr string
		fires      int
		fail       map[int]bool
		want       []string
	}{
		{"cron fires at each due time", "cron(0/15 * * * ? *)", 3, nil,
			[]string{"2026-03-07T10:15:00Z", "2026-03-07T10:30:00Z", "2026-03-07T10:45:00Z"}},
		{"rate fires at once, then every interval", "rate(10 minutes)", 3, nil,
			[]string{"2026-03-07T10:00:30Z", "2026-03-07T10:10:30Z", "2026-03-07T10:20:30Z"}},
		{"a failed fire does not stop the schedule", "rate(1 hour)", 2, map[int]bool{0: true},
			[]string{"2026-03-07T10:00:30Z", "2026-03-07T11:00:30Z"}},
		{"at fires once and Run returns", "at(2026-03-07T11:00:00)", 0, nil, []string{"2026-03-07T11:00:00Z"}},
		{"at in the past never fires", "at(2026-03-07T09:00:00)", 0, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewStepClock(utc(start))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec := &fireRecorder{clock: clock, n: tc.fires, fail: tc.fail}
			if tc.fires > 0 {
				rec.cancel = cancel
			}
			s, err := NewSchedule(tc.expr, rec, ScheduleOptions{Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Run(ctx); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if diff := cmp.Diff(tc.want, rec.fired); diff != "" {
				t.Errorf("scheduled times fired (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(rec.fired, rec.nowAt); diff != "" {
				t.Errorf("each fire should happen at its scheduled time (-scheduled +clock):\n%s", diff)
			}
		})
	}
}
