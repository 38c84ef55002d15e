package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/localstack/stack"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// webhookQueue is the queue the webhook section's admin edits: declared, and in sync
// after the apply.
const webhookQueue = "Fraud Review"

// webhook is the demo's webhook section: the webhook bootstrap under the RIE, fed as in
// AWS (the simulator's audit events through the Genesys partner bus and the template's
// rule; a data action's delivery through the Function URL), its drift events read back
// from routekeeper's bus as a subscriber would. It leaves the webhook running (stop) for
// the rest of the demo: every later change to the org goes through it.
func (d *demo) webhook(ctx context.Context, s *stack.Stack, stderr io.Writer) (stop func(), err error) {
	d.section("6. An admin edit flagged in seconds: the webhook Lambda")
	d.say("The webhook assesses live state against the desired state in the table; publish stores it:")
	if _, err := d.run(ctx, []int{0}, "publish", "-f", stack.ExampleConfig, "--table", "$TABLE_NAME", "--version", "demo"); err != nil {
		return nil, err
	}
	logPath := filepath.Join(d.work, "webhook.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	var stops []func() error
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			if err := stops[i](); err != nil {
				fmt.Fprintln(stderr, "demo: stop the webhook:", err)
			}
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	stops = append(stops, logFile.Close)
	fn, err := s.StartFunction(ctx, "webhook", stack.FunctionOptions{BuildRoot: filepath.Join(d.root, ".build", "host"), Logs: logFile})
	if err != nil {
		return nil, err
	}
	stops = append(stops, fn.Stop)
	src, err := s.StartSources(ctx, "webhook", fn, stack.SourceOptions{})
	if err != nil {
		return nil, err
	}
	stops = append(stops, src.Close)
	partner, ok := src.Buses[stack.GenesysBus]
	if !ok || src.URL == nil {
		return nil, fmt.Errorf("demo: template.yaml gives the webhook no Function URL or no rule on the Genesys bus %s", stack.GenesysBus)
	}
	s.Sim.SetAuditTarget(partner.URL())
	stops = append(stops, func() error { s.Sim.SetAuditTarget(""); return nil })
	tap, err := awslocal.NewTap(ctx, s.AWS, s.Resources.BusName, "routekeeper-local-demo-drift", `{"source": ["routekeeper"], "detail-type": ["Drift Detected", "Drift Resolved"]}`)
	if err != nil {
		return nil, err
	}
	rule := src.Rules[0]
	d.say("")
	d.say("The webhook bootstrap runs under aws-lambda-rie with two doors, both from template.yaml:")
	d.kv("Function URL", src.URL.URL()+" (AuthType NONE; X-Routekeeper-Token or an HMAC signature required)")
	d.kv("EventBridge rule", rule.Name+" on "+stack.GenesysBus)
	d.say("The simulator puts an audit event on the Genesys partner bus for every change, as Genesys does;")
	d.say("the rule delivers it. A subscriber rule on routekeeper's bus receives the drift events.")

	id, ok := s.Sim.IDByName("queue", webhookQueue)
	if !ok {
		return nil, fmt.Errorf("demo: queue %q is not in the simulated org", webhookQueue)
	}
	before, _ := s.Sim.Queue(id)
	// edit makes an admin edit and prints the drift event it leads to, with how long it took
	// from the edit to the event being on the bus.
	edit := func(what string, change func(q map[string]any)) error {
		d.say("")
		d.say("An admin " + what + ":")
		start := time.Now()
		if err := s.Sim.EditQueue(id, change); err != nil {
			return err
		}
		evs, err := tap.ReceiveN(ctx, 1)
		if err != nil {
			return fmt.Errorf("demo: no drift event for the admin edit: %w; see %s", err, rel(logPath))
		}
		took := time.Since(start)
		var ev drift.Event
		if err := json.Unmarshal(evs[0].Detail, &ev); err != nil {
			return err
		}
		d.say(fmt.Sprintf("  %s  %s %q  %s", evs[0].DetailType, ev.Entity.Kind, ev.Entity.Name, ev.State))
		for _, dv := range ev.Differences {
			d.say(fmt.Sprintf("    %s: expected %s, actual %s", dv.Path, jsonText(dv.Expected), jsonText(dv.Actual)))
		}
		if ev.Cause != nil {
			d.say(fmt.Sprintf("    by user %s at %s (audit event %s)", ev.Cause.UserID, ev.Cause.EventTime.Format(time.TimeOnly), ev.Cause.EventID))
		}
		d.say(fmt.Sprintf("    edit -> event on the bus: %s", took.Round(time.Millisecond)))
		return nil
	}
	if err := edit("changes the description of queue \""+webhookQueue+"\" in the Genesys UI", func(q map[string]any) {
		q["description"] = "Fraud cases - temporarily also handling complaints"
	}); err != nil {
		return nil, err
	}
	if err := edit("puts it back", func(q map[string]any) {
		if v, ok := before["description"]; ok {
			q["description"] = v
		} else {
			delete(q, "description")
		}
	}); err != nil {
		return nil, err
	}

	// The same audit event from a data action, through the Function URL.
	o, err := store.New(dynamodb.NewFromConfig(s.AWS), s.Resources.TableName).GetObservation(ctx,
		entity.Key{Environment: s.Environment, Kind: entity.Queue, Name: webhookQueue})
	if err != nil || o.Cause == nil {
		return nil, fmt.Errorf("demo: the webhook recorded no observation of %q with its cause: %v", webhookQueue, err)
	}
	body := fmt.Sprintf(`{"entityType": "Queue", "entityId": %q, "entityName": %q, "eventId": %q, "eventTime": %q}`,
		id, webhookQueue, o.Cause.EventID, o.Cause.EventTime.Format(time.RFC3339Nano))
	d.say("")
	d.say("A Genesys data action delivers the last of those audit events again, over HTTP:")
	d.say("  POST " + src.URL.URL() + "/  " + body)
	for _, token := range []string{awslocal.LocalWebhookToken, "a-guess"} {
		code, answer, err := postWebhook(ctx, src.URL.URL(), token, body)
		if err != nil {
			return nil, err
		}
		shown := token
		if token == awslocal.LocalWebhookToken {
			shown = "<the webhook token>"
		}
		d.say(fmt.Sprintf("  X-Routekeeper-Token: %-20s -> %d %s", shown, code, answer))
	}
	c := partner.Counts()
	d.say("")
	d.say(fmt.Sprintf("The partner bus delivered %d audit events to the webhook; each read its entity with one", c.Delivered))
	d.say("GET (names are listed only when a reference needs one), recorded it (source webhook, who, when)")
	d.say("and kept its drift state. The webhook stays on: routekeeper's own writes from here on resolve")
	d.say("drift but never raise it. Its logs and EMF records: " + rel(logPath))
	return stop, nil
}

func postWebhook(ctx context.Context, url, token, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Routekeeper-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("demo: POST the webhook: %w", err)
	}
	defer resp.Body.Close()
	var a map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return 0, "", fmt.Errorf("demo: the webhook answered %s with no JSON: %w", resp.Status, err)
	}
	b, _ := json.Marshal(a)
	return resp.StatusCode, string(b), nil
}

// jsonText shows a value as JSON ("-" for none).
func jsonText(v any) string {
	if v == nil {
		return "-"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
