package lambdarun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ScheduleExpression is a parsed schedule expression of EventBridge Scheduler
// (SAM ScheduleV2) or of an EventBridge scheduled rule (SAM Schedule), after
// "Schedule types in EventBridge Scheduler"
// (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html)
// and "Using cron and rate expressions to schedule rules"
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html):
//
//   - rate(N minute|minutes|hour|hours|day|days): every N units, the first
//     time when the schedule starts (Scheduler's behaviour without a
//     StartDate); a day is 24 hours, also across daylight saving changes;
//   - cron(minutes hours day-of-month month day-of-week year): AWS's six
//     fields, each a value, a range a-b (one that wraps, such as FRI-MON,
//     runs over the end), a step a/n or */n, a list, * or (day fields) ?;
//     months 1-12 or JAN-DEC, days of the week 1-7 or SUN-SAT (1 is Sunday),
//     years 1970-2199; exactly one of the two day fields is ?; L (the last
//     day of the month, or of the week: Saturday), nW (the weekday nearest
//     day n, within the month) and d#n (the nth weekday d of the month, alone
//     in its field) as documented; the undocumented Quartz forms (LW, 5L,
//     L-3) are rejected;
//   - at(yyyy-mm-ddThh:mm:ss): once.
//
// cron and at are read in the schedule's time zone (UTC unless
// ScheduleExpressionTimezone names one), with Scheduler's daylight saving
// rules: a time that does not exist (the clock springs forward over it) is
// skipped, and a time that happens twice runs once, at its first occurrence.
type ScheduleExpression struct {
	text  string
	loc   *time.Location
	every time.Duration // rate
	at    time.Time     // at
	cron  *cronSpec
}

// ParseScheduleExpression parses expr, evaluated in timezone (an IANA name
// such as Europe/Paris; "" is UTC).
func ParseScheduleExpression(expr, timezone string) (*ScheduleExpression, error) {
	loc := time.UTC
	if timezone != "" {
		l, err := time.LoadLocation(timezone)
		if err != nil {
			return nil, fmt.Errorf("lambdarun: schedule expression time zone %q: %w", timezone, err)
		}
		loc = l
	}
	e := &ScheduleExpression{text: expr, loc: loc}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("lambdarun: schedule expression %q: %s", expr, fmt.Sprintf(format, args...))
	}
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		m := rateRE.FindStringSubmatch(expr)
		if m == nil {
			return nil, fail("want rate(N minute|minutes|hour|hours|day|days)")
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 {
			return nil, fail("the rate must be a positive whole number")
		}
		unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
		e.every = time.Duration(n) * unit
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		spec, err := parseCron(expr[len("cron(") : len(expr)-1])
		if err != nil {
			return nil, fail("%v", err)
		}
		e.cron = spec
	case strings.HasPrefix(expr, "at(") && strings.HasSuffix(expr, ")"):
		t, err := time.ParseInLocation("2006-01-02T15:04:05", expr[len("at("):len(expr)-1], loc)
		if err != nil {
			return nil, fail("want at(yyyy-mm-ddThh:mm:ss): %v", err)
		}
		e.at = t
	default:
		return nil, fail("want rate(...), cron(...) or at(...)")
	}
	return e, nil
}

var rateRE = regexp.MustCompile(`^rate\(([0-9]+) +(minutes?|hours?|days?)\)$`)

func (e *ScheduleExpression) String() string { return e.text }

// Location is the time zone the expression is read in.
func (e *ScheduleExpression) Location() *time.Location { return e.loc }

// IsRate reports whether the expression is a rate(...).
func (e *ScheduleExpression) IsRate() bool { return e.every > 0 }

// IsCron reports whether the expression is a cron(...).
func (e *ScheduleExpression) IsCron() bool { return e.cron != nil }

// IsAt reports whether the expression is a one-time at(...).
func (e *ScheduleExpression) IsAt() bool { return !e.at.IsZero() }

// Next returns the first fire time strictly after after, in UTC, and false
// when there is none (an at() in the past, a cron whose years are over). For
// a rate it is after plus the rate: pass the previous fire time.
func (e *ScheduleExpression) Next(after time.Time) (time.Time, bool) {
	switch {
	case e.every > 0:
		return after.Add(e.every).UTC(), true
	case e.cron != nil:
		return e.cron.next(after, e.loc)
	}
	if e.at.After(after) {
		return e.at.UTC(), true
	}
	return time.Time{}, false
}

// cronSpec is a parsed cron(...) expression; a bit per allowed value.
type cronSpec struct {
	minutes, hours uint64 // bits 0..59, 0..23
	months         uint16 // bits 1..12
	years          [4]uint64
	domAny         bool   // day-of-month is ?: day-of-week decides
	dom            uint64 // bits 1..31
	lastDay        bool   // L
	nearest        int    // nW: the weekday nearest day n
	dow            uint8  // bits 1..7 (1 = Sunday)
	nthDay, nth    int    // d#n
}

const minCronYear, maxCronYear = 1970, 2199

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

func parseCron(fields string) (*cronSpec, error) {
	f := strings.Fields(fields)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron takes 6 fields (minutes hours day-of-month month day-of-week year), got %d", len(f))
	}
	s := &cronSpec{}
	var err error
	field := func(i int, name string, lo, hi int, names map[string]int) uint64 {
		if err != nil {
			return 0
		}
		var bits uint64
		bits, err = parseCronField(f[i], name, lo, hi, names)
		return bits
	}
	s.minutes = field(0, "minutes", 0, 59, nil)
	s.hours = field(1, "hours", 0, 23, nil)
	s.months = uint16(field(3, "month", 1, 12, monthNames))
	if err != nil {
		return nil, err
	}
	if s.years, err = parseYears(f[5]); err != nil {
		return nil, err
	}
	domQ, dowQ := f[2] == "?", f[4] == "?"
	if domQ == dowQ {
		return nil, errors.New("use ? in exactly one of day-of-month and day-of-week (AWS does not take values in both)")
	}
	if domQ {
		s.domAny = true
		return s, s.parseDayOfWeek(f[4])
	}
	return s, s.parseDayOfMonth(f[2])
}

// parseCronField parses a comma-separated list of *, n, a-b, */n, a/n and
// a-b/n into a bit set.
func parseCronField(field, name string, lo, hi int, names map[string]int) (uint64, error) {
	var bits uint64
	for _, item := range strings.Split(field, ",") {
		set, err := cronItem(item, name, lo, hi, names)
		if err != nil {
			return 0, err
		}
		for v := range set {
			bits |= 1 << v
		}
	}
	return bits, nil
}

// cronItem expands one list item into its values.
func cronItem(item, name string, lo, hi int, names map[string]int) (map[int]bool, error) {
	bad := func(why string) error { return fmt.Errorf("%s field %q: %s", name, item, why) }
	if item == "" {
		return nil, bad("empty list item")
	}
	rng, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepText)
		if err != nil || n < 1 {
			return nil, bad("the step after / must be a positive whole number")
		}
		step = n
	}
	value := func(s string) (int, error) {
		if n, ok := names[strings.ToUpper(s)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(s)
		switch {
		case err != nil && strings.ContainsAny(s, "LW#?"):
			return 0, bad("L, W, # and ? stand alone in a day field, never in a list, a range or another field")
		case err != nil || n < lo || n > hi:
			return 0, bad(fmt.Sprintf("%q is not a value in %d-%d", s, lo, hi))
		}
		return n, nil
	}
	from, to := lo, hi
	switch a, b, isRange := strings.Cut(rng, "-"); {
	case rng == "*":
	case isRange:
		var err error
		if from, err = value(a); err != nil {
			return nil, err
		}
		if to, err = value(b); err != nil {
			return nil, err
		}
	default:
		n, err := value(rng)
		if err != nil {
			return nil, err
		}
		from = n
		if !hasStep {
			to = n
		}
	}
	out := map[int]bool{}
	span := to - from
	if span < 0 { // a range that wraps, such as FRI-MON
		span += hi - lo + 1
	}
	for i := 0; i <= span; i += step {
		v := from + i
		if v > hi {
			v -= hi - lo + 1
		}
		out[v] = true
	}
	return out, nil
}

func parseYears(field string) ([4]uint64, error) {
	var years [4]uint64
	for _, item := range strings.Split(field, ",") {
		set, err := cronItem(item, "year", minCronYear, maxCronYear, nil)
		if err != nil {
			return years, err
		}
		for y := range set {
			i := y - minCronYear
			years[i/64] |= 1 << (i % 64)
		}
	}
	return years, nil
}

func (s *cronSpec) hasYear(y int) bool {
	if y < minCronYear || y > maxCronYear {
		return false
	}
	i := y - minCronYear
	return s.years[i/64]&(1<<(i%64)) != 0
}

func (s *cronSpec) parseDayOfMonth(field string) error {
	switch {
	case field == "L":
		s.lastDay = true
		return nil
	case strings.HasSuffix(field, "W") && !strings.ContainsAny(field, ",-/*"):
		n, err := strconv.Atoi(strings.TrimSuffix(field, "W"))
		if err != nil || n < 1 || n > 31 {
			return fmt.Errorf("day-of-month field %q: W follows one day 1-31, as in 15W (LW is not supported)", field)
		}
		s.nearest = n
		return nil
	case strings.ContainsAny(field, "LW"):
		return fmt.Errorf("day-of-month field %q: L and W stand alone (L, or nW such as 15W)", field)
	}
	bits, err := parseCronField(field, "day-of-month", 1, 31, nil)
	s.dom = bits
	return err
}

func (s *cronSpec) parseDayOfWeek(field string) error {
	switch {
	case field == "L":
		s.dow = 1 << 7 // the last day of the week: Saturday
		return nil
	case strings.Contains(field, "#"):
		d, n, _ := strings.Cut(field, "#")
		day, ok := dayNames[strings.ToUpper(d)]
		if !ok {
			if v, err := strconv.Atoi(d); err == nil && v >= 1 && v <= 7 {
				day, ok = v, true
			}
		}
		k, err := strconv.Atoi(n)
		if !ok || err != nil || k < 1 || k > 5 {
			return fmt.Errorf("day-of-week field %q: # takes a day 1-7 or SUN-SAT and a week 1-5, as in 3#2, and stands alone in the field", field)
		}
		s.nthDay, s.nth = day, k
		return nil
	case strings.Contains(field, "L"):
		return fmt.Errorf("day-of-week field %q: L stands alone (forms such as 5L are not supported)", field)
	}
	bits, err := parseCronField(field, "day-of-week", 1, 7, dayNames)
	s.dow = uint8(bits)
	return err
}

func daysIn(y int, m time.Month) int { return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() }

// dayMatches reports whether the date matches the day fields.
func (s *cronSpec) dayMatches(y int, m time.Month, d int) bool {
	wd := int(time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()) + 1 // 1 = Sunday
	if s.domAny {
		if s.nth > 0 {
			return wd == s.nthDay && (d-1)/7+1 == s.nth
		}
		return s.dow&(1<<wd) != 0
	}
	switch {
	case s.lastDay:
		return d == daysIn(y, m)
	case s.nearest > 0:
		return d == nearestWeekday(y, m, s.nearest)
	}
	return s.dom&(1<<d) != 0
}

// nearestWeekday is the Monday-to-Friday day nearest day n of the month,
// without leaving the month; 0 when the month has no day n.
func nearestWeekday(y int, m time.Month, n int) int {
	last := daysIn(y, m)
	if n > last {
		return 0
	}
	switch time.Date(y, m, n, 12, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3 // Monday the 3rd
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2 // Friday
		}
		return n + 1
	}
	return n
}

// next walks the wall clock of loc from after's minute on.
func (s *cronSpec) next(after time.Time, loc *time.Location) (time.Time, bool) {
	w := after.In(loc)
	y, m, d := w.Date()
	h, mi := w.Hour(), w.Minute()
	for y <= maxCronYear {
		switch {
		case !s.hasYear(y):
			y, m, d, h, mi = y+1, time.January, 1, 0, 0
			continue
		case s.months&(1<<m) == 0:
			y, m, d, h, mi = nextMonth(y, m)
			continue
		case s.dayMatches(y, m, d):
			for hh := h; hh < 24; hh++ {
				if s.hours&(1<<hh) == 0 {
					continue
				}
				mm0 := 0
				if hh == h {
					mm0 = mi
				}
				for mm := mm0; mm < 60; mm++ {
					if s.minutes&(1<<mm) == 0 {
						continue
					}
					if t, ok := wallTime(y, m, d, hh, mm, loc); ok && t.After(after) {
						return t.UTC(), true
					}
				}
			}
		}
		h, mi = 0, 0
		if d++; d > daysIn(y, m) {
			y, m, d, h, mi = nextMonth(y, m)
		}
	}
	return time.Time{}, false
}

func nextMonth(y int, m time.Month) (int, time.Month, int, int, int) {
	if m == time.December {
		return y + 1, time.January, 1, 0, 0
	}
	return y, m + 1, 1, 0, 0
}

// wallTime is the first instant at which loc's clock shows the given time;
// false when the clock never shows it (it springs forward over it).
func wallTime(y int, m time.Month, d, h, mi int, loc *time.Location) (time.Time, bool) {
	t := time.Date(y, m, d, h, mi, 0, 0, loc)
	same := func(u time.Time) bool {
		uy, um, ud := u.Date()
		return uy == y && um == m && ud == d && u.Hour() == h && u.Minute() == mi
	}
	if !same(t) {
		return time.Time{}, false
	}
	// A time that happens twice: time.Date may give either; take the first.
	for _, back := range []time.Duration{2 * time.Hour, time.Hour, 30 * time.Minute} {
		if e := t.Add(-back); same(e) {
			return e, true
		}
	}
	return t, true
}

// ScheduleOptions configure a Schedule.
type ScheduleOptions struct {
	// Name and Group name the schedule: its ARN is
	// arn:aws:scheduler:REGION:ACCOUNT:schedule/GROUP/NAME (SAM's defaults:
	// the event's logical ID, group "default"). For a Rule schedule Name is
	// the rule's name and the ARN arn:aws:events:REGION:ACCOUNT:rule/NAME.
	Name, Group string
	// Timezone is ScheduleExpressionTimezone; "" is UTC. Scheduled rules
	// have none.
	Timezone string
	// Input is the target's Input; "" sends the default event.
	Input string
	// Rule makes this a scheduled EventBridge rule (SAM Schedule) rather
	// than an EventBridge Scheduler schedule (SAM ScheduleV2).
	Rule bool
	// Region and AccountID default to the local stack's (awslocal).
	Region, AccountID string
	// Clock drives Run; default SystemClock.
	Clock Clock
	// Logger receives a line per fire; nil discards.
	Logger *slog.Logger
}

// Schedule invokes a function on a schedule expression, with the payload AWS
// sends.
//
// Without an Input, EventBridge Scheduler sends its default notification:
//
//	{"version": "0", "id": "<uuid>", "detail-type": "Scheduled Event",
//	 "source": "aws.scheduler", "account": "<account>", "time": "<scheduled time>",
//	 "region": "<region>", "resources": ["<schedule ARN>"], "detail": "{}"}
//
// where detail is the JSON string "{}", not an object (aws/aws-lambda-go
// issue #563, aws/aws-lambda-dotnet issue #1864). It decodes into
// events.EventBridgeEvent, whose Detail then holds the four bytes "{}" with
// their quotes: decoding Detail into a struct fails. A scheduled rule (SAM
// Schedule) sends the CloudWatch scheduled event instead, source aws.events,
// the rule's ARN in resources and detail the object {}
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html).
// A Scheduler Input has its context attributes replaced
// (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html):
// <aws.scheduler.schedule-arn>, <aws.scheduler.scheduled-time>,
// <aws.scheduler.execution-id> and <aws.scheduler.attempt-number>.
//
// Scheduler fires within the minute of the scheduled time; Run fires at the
// time itself. Retry policies and dead-letter queues of schedules are not
// emulated: Fire invokes once.
type Schedule struct {
	expr                 *ScheduleExpression
	fn                   Invoker
	arn, region, account string
	input                string
	rule                 bool
	clock                Clock
	log                  *slog.Logger
}

// NewSchedule returns the schedule of expression (a ScheduleExpression of
// ScheduleV2, or the Schedule property of a SAM Schedule event) that invokes
// fn.
func NewSchedule(expression string, fn Invoker, opts ScheduleOptions) (*Schedule, error) {
	if opts.Rule && opts.Timezone != "" {
		return nil, fmt.Errorf("lambdarun: scheduled rule %s: rules run in UTC and take no time zone (%s)", opts.Name, opts.Timezone)
	}
	expr, err := ParseScheduleExpression(expression, opts.Timezone)
	if err != nil {
		return nil, err
	}
	if opts.Rule && expr.IsAt() {
		return nil, fmt.Errorf("lambdarun: scheduled rule %s: %s: rules take rate() and cron() only (at() is EventBridge Scheduler's)", opts.Name, expression)
	}
	if opts.Input != "" && !json.Valid([]byte(opts.Input)) {
		return nil, fmt.Errorf("lambdarun: schedule %s: Input is not valid JSON (a Lambda target takes JSON): %s", opts.Name, truncate(opts.Input, 100))
	}
	if opts.Name == "" {
		opts.Name = "schedule"
	}
	if opts.Group == "" {
		opts.Group = "default"
	}
	localDefaults(&opts.Region, &opts.AccountID, &opts.Clock, &opts.Logger)
	s := &Schedule{expr: expr, fn: fn, region: opts.Region, account: opts.AccountID, input: opts.Input,
		rule: opts.Rule, clock: opts.Clock, log: opts.Logger}
	if opts.Rule {
		s.arn = fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", opts.Region, opts.AccountID, opts.Name)
	} else {
		s.arn = fmt.Sprintf("arn:aws:scheduler:%s:%s:schedule/%s/%s", opts.Region, opts.AccountID, opts.Group, opts.Name)
	}
	return s, nil
}

// contextAttributes is the replacer list of Scheduler's context attributes.
func contextAttributes(arn, scheduled, execution, attempt string) []string {
	return []string{
		"<aws.scheduler.schedule-arn>", arn,
		"<aws.scheduler.scheduled-time>", scheduled,
		"<aws.scheduler.execution-id>", execution,
		"<aws.scheduler.attempt-number>", attempt,
	}
}

// Expression is the schedule's parsed expression.
func (s *Schedule) Expression() *ScheduleExpression { return s.expr }

// ARN is the schedule's (or the scheduled rule's) ARN.
func (s *Schedule) ARN() string { return s.arn }

// Payload is what the target receives for the fire scheduled at at.
func (s *Schedule) Payload(at time.Time) ([]byte, error) {
	scheduled := at.UTC().Truncate(time.Second).Format(time.RFC3339)
	if s.input != "" {
		if s.rule {
			return []byte(s.input), nil
		}
		execution := strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
		return []byte(strings.NewReplacer(contextAttributes(s.arn, scheduled, execution, "1")...).Replace(s.input)), nil
	}
	source, detail := "aws.scheduler", json.RawMessage(`"{}"`)
	if s.rule {
		source, detail = "aws.events", json.RawMessage(`{}`)
	}
	return json.Marshal(struct {
		Version    string          `json:"version"`
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Account    string          `json:"account"`
		Time       string          `json:"time"`
		Region     string          `json:"region"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail"`
	}{"0", uuid.NewString(), "Scheduled Event", source, s.account, scheduled, s.region, []string{s.arn}, detail})
}

// Fire invokes the target once with the payload of the fire scheduled at at
// and returns the function's response; a function error is a *FunctionError.
func (s *Schedule) Fire(ctx context.Context, at time.Time) ([]byte, error) {
	payload, err := s.Payload(at)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: schedule %s: %w", s.arn, err)
	}
	return s.fn.Invoke(ctx, payload)
}

// Run fires at every due time until ctx is done (then it returns nil) or the
// expression has no more fire times. A rate fires first when Run starts; cron
// and at at their next time. A failed fire is logged and the schedule goes
// on. If a fire outlasts the interval, the next one follows at once.
func (s *Schedule) Run(ctx context.Context) error {
	at := s.clock.Now()
	if !s.expr.IsRate() {
		next, ok := s.expr.Next(at)
		if !ok {
			return nil
		}
		at = next
	}
	for {
		if err := sleep(ctx, s.clock, at.Sub(s.clock.Now())); err != nil {
			return nil
		}
		if _, err := s.Fire(ctx, at); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Warn("scheduled invocation failed", "schedule", s.arn, "scheduledTime", at.UTC().Format(time.RFC3339), "error", err)
		} else {
			s.log.Info("scheduled invocation", "schedule", s.arn, "scheduledTime", at.UTC().Format(time.RFC3339))
		}
		next, ok := s.expr.Next(at)
		if !ok {
			return nil
		}
		at = next
	}
}
