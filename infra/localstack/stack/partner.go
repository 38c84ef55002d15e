package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/infra/lambdarun"
)

// GenesysBus is the local Genesys partner event bus: AWS names a partner bus after its
// event source, aws.partner/genesys.com/cloud/<org id>/<suffix>, and the simulator's audit
// events carry that source. Start sets the template parameter GenesysEventBusName to it
// (unless Options.Params does), so the rules on that bus are enabled locally.
const GenesysBus = "aws.partner/genesys.com/cloud/" + sim.DefaultOrgID + "/routekeeper"

// maxPutEventBytes is EventBridge's limit on one entry of PutEvents.
const maxPutEventBytes = 256 * 1024

// PartnerBus stands in for an EventBridge partner event bus: an HTTP endpoint on loopback
// that takes one EventBridge event per POST, as the partner (the simulator: point its
// audit target at URL) puts it on the bus, and delivers it to every rule given that is
// on this bus, with the rule's retry policy and dead-letter queue (Rule.Deliver), before
// it answers. Answering after the delivery keeps the sender in step with the function:
// once the simulator's FlushAudit returns, every audit event has been handled. (In AWS
// PutEvents returns before the rules deliver; order and at-least-once are the same.)
type PartnerBus struct {
	Name  string
	rules []*Rule
	log   *slog.Logger

	url  string
	srv  *http.Server
	done chan error
	stop func() bool

	mu  sync.Mutex
	got BusCounts
}

// BusCounts counts what a PartnerBus did.
type BusCounts struct {
	// Events were accepted; Matched of them matched at least one rule.
	Events, Matched int
	// Delivered counts deliveries the functions accepted (a function error included, as
	// EventBridge counts it); DeadLettered those sent to a rule's dead-letter queue;
	// Dropped those neither.
	Delivered, DeadLettered, Dropped int
	// Rejected counts requests that were not an EventBridge event.
	Rejected int
}

// StartPartnerBus serves the bus named name on a free 127.0.0.1 port, delivering to those
// of rules whose EventBusName is name, until ctx ends or Close is called.
func StartPartnerBus(ctx context.Context, name string, rules []*Rule, logger *slog.Logger) (*PartnerBus, error) {
	b := &PartnerBus{Name: name, log: logger}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	for _, r := range rules {
		if r.Event.EventBusName == name {
			b.rules = append(b.rules, r)
		}
	}
	if len(b.rules) == 0 {
		return nil, fmt.Errorf("partner bus %s: none of the %d rules is on this bus (is the template's rule enabled, and its EventBusName the bus?)", name, len(rules))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("partner bus %s: listen: %w", name, err)
	}
	b.url = "http://" + ln.Addr().String()
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	b.done = make(chan error, 1)
	go func() { b.done <- b.srv.Serve(ln) }()
	b.stop = context.AfterFunc(ctx, func() { _ = b.srv.Close() })
	return b, nil
}

// URL is where events are put: http://127.0.0.1:PORT.
func (b *PartnerBus) URL() string { return b.url }

// Counts returns what the bus did so far.
func (b *PartnerBus) Counts() BusCounts {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.got
}

// Close stops the bus after the deliveries in flight.
func (b *PartnerBus) Close() error {
	b.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := b.srv.Shutdown(ctx)
	if werr := <-b.done; werr != nil && !errors.Is(werr, http.ErrServerClosed) {
		err = errors.Join(err, werr)
	}
	b.done <- http.ErrServerClosed // a second Close returns at once
	return err
}

// busAnswer is the JSON answer to a put.
type busAnswer struct {
	Message string        `json:"message"`
	Rules   []ruleOutcome `json:"rules,omitempty"`
}

type ruleOutcome struct {
	Rule          string `json:"rule"`
	Attempts      int    `json:"attempts"`
	Delivered     bool   `json:"delivered"`
	FunctionError string `json:"functionError,omitempty"`
	DeadLettered  bool   `json:"deadLettered,omitempty"`
	Error         string `json:"error,omitempty"`
}

func (b *PartnerBus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	answer := func(code int, a busAnswer) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(a)
	}
	reject := func(code int, msg string) {
		b.mu.Lock()
		b.got.Rejected++
		b.mu.Unlock()
		answer(code, busAnswer{Message: msg})
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reject(http.StatusMethodNotAllowed, "POST one EventBridge event")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPutEventBytes+1))
	if err != nil {
		reject(http.StatusBadRequest, "read the event: "+err.Error())
		return
	}
	if len(body) > maxPutEventBytes {
		reject(http.StatusRequestEntityTooLarge, fmt.Sprintf("an event is at most %d bytes", maxPutEventBytes))
		return
	}
	var ev struct {
		DetailType *string         `json:"detail-type"`
		Source     *string         `json:"source"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.DetailType == nil || ev.Source == nil || len(ev.Detail) == 0 {
		reject(http.StatusBadRequest, "not an EventBridge event: want a JSON object with detail-type, source and detail")
		return
	}
	var a busAnswer
	counts := BusCounts{Events: 1}
	for _, rule := range b.rules {
		d, err := rule.Deliver(r.Context(), body)
		if err != nil {
			b.log.Error("partner bus: delivery failed", "bus", b.Name, "rule", rule.Name, "error", err)
			answer(http.StatusInternalServerError, busAnswer{Message: fmt.Sprintf("rule %s: %v", rule.Name, err)})
			return
		}
		if !d.Matched {
			continue
		}
		o := ruleOutcome{Rule: rule.Name, Attempts: d.Attempts, Delivered: d.Delivered(), DeadLettered: d.DeadLettered}
		switch {
		case d.Delivered():
			counts.Delivered++
		case d.DeadLettered:
			counts.DeadLettered++
		default:
			counts.Dropped++
		}
		if d.FunctionError != nil {
			o.FunctionError = d.FunctionError.Error()
		}
		if d.Err != nil {
			o.Error = d.Err.Error()
		}
		a.Rules = append(a.Rules, o)
	}
	if len(a.Rules) > 0 {
		counts.Matched = 1
	}
	b.mu.Lock()
	b.got.Events += counts.Events
	b.got.Matched += counts.Matched
	b.got.Delivered += counts.Delivered
	b.got.DeadLettered += counts.DeadLettered
	b.got.Dropped += counts.Dropped
	b.mu.Unlock()
	a.Message = fmt.Sprintf("matched %d of %d rules", len(a.Rules), len(b.rules))
	answer(http.StatusOK, a)
}

// Sources are the event sources of a started function besides its SQS queues: its
// Function URL (nil without a FunctionUrlConfig), its enabled rules, and a PartnerBus for
// each partner event bus (aws.partner/...) its rules are on, keyed by bus name.
type Sources struct {
	URL   *lambdarun.URL
	Rules []*Rule
	Buses map[string]*PartnerBus
}

// StartSources starts the event sources the template gives the function in folder dir,
// feeding fn. Close them when done.
func (s *Stack) StartSources(ctx context.Context, dir string, fn lambdarun.Invoker, opts SourceOptions) (_ *Sources, err error) {
	f, err := s.function(dir)
	if err != nil {
		return nil, err
	}
	src := &Sources{Buses: map[string]*PartnerBus{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, src.Close())
		}
	}()
	if f.URL != nil {
		if src.URL, err = s.FunctionURL(ctx, dir, fn, opts); err != nil {
			return nil, err
		}
	}
	if src.Rules, err = s.Rules(ctx, dir, fn, opts); err != nil {
		return nil, err
	}
	for _, r := range src.Rules {
		bus := r.Event.EventBusName
		if _, ok := src.Buses[bus]; ok || !strings.HasPrefix(bus, "aws.partner/") {
			continue
		}
		if src.Buses[bus], err = StartPartnerBus(ctx, bus, src.Rules, opts.Logger); err != nil {
			return nil, err
		}
	}
	return src, nil
}

// Close stops the Function URL and the partner buses.
func (x *Sources) Close() error {
	var errs []error
	if x.URL != nil {
		errs = append(errs, x.URL.Close())
	}
	for _, b := range x.Buses {
		errs = append(errs, b.Close())
	}
	return errors.Join(errs...)
}
