package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"

	"github.com/routekeeper/routekeeper/infra/lambdarun"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
)

// EventsDir returns the directory of the sample events, <repository>/events.
func EventsDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "events"), nil
}

// Scenarios of events/apply/.
const (
	// ApplyBatch: the three change requests `routekeeper apply` publishes for the example
	// config against the seeded org (create MissingSkill, update ChangedQueue and
	// ChangedWorktype), one message group each.
	ApplyBatch = "batch"
	// ApplyDuplicate: the ChangedQueue update delivered twice in one batch: the same
	// change request (same changeId, so the same MessageDeduplicationId) sent again after
	// SQS's 5-minute deduplication window, as a CI retry of the same plan does. SQS
	// accepts it as a new message; apply's idempotency record must stop the second write.
	ApplyDuplicate = "duplicate"
	// ApplyMalformed: two bodies that can never succeed: one is truncated JSON, the other
	// is a routekeeper.change/v1 request breaking the schema (unknown operation, no
	// baseEtag). apply acknowledges both (no retry, no DLQ) and records the second, whose
	// changeId is readable, as REJECTED.
	ApplyMalformed = "malformed"
)

// MalformedChangeID is the changeId of the schema-breaking request in ApplyMalformed.
const MalformedChangeID = "chg-01936d2f-4c1a-7b3e-9f00-6d616c666f72"

// GenerateApplyEvents returns the events of events/apply/ (scenario -> JSON), built from
// this stack's seeded org: the requests are the ones drift.NewPlan plans for the example
// config, submitted as `routekeeper apply` submits them (drift.Submit) through the local
// FIFO change queue and received with every attribute, and the events are what the event
// source mapping
// (lambdarun.Poller.Event) builds from those messages. The stack's change queue must be
// empty; it is left empty.
func GenerateApplyEvents(ctx context.Context, s *Stack) (map[string][]byte, error) {
	desired, org, plan, err := s.PlanExample(ctx)
	if err != nil {
		return nil, err
	}
	planner := drift.Planner{
		Reason:      "routekeeper apply of " + ExampleConfig + " at 3f2c1a9",
		RequestedBy: "ci@github-actions",
		Now:         func() time.Time { return time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC) },
		// No entity id: ids of a freshly seeded org differ per run, and the id is only
		// a lookup hint, so the events stay valid for every run of the local stack.
		WithoutIDs: true,
	}
	// only is the plan narrowed to the named changes, in that order.
	type ref struct {
		kind entity.Kind
		name string
	}
	only := func(refs ...ref) (*drift.Plan, error) {
		sub := *plan
		sub.Changes = nil
		for _, r := range refs {
			i := slices.IndexFunc(plan.Changes, func(c drift.Change) bool { return c.Kind == r.kind && c.Name == r.name })
			if i < 0 {
				return nil, fmt.Errorf("the plan of %s against the seeded org has no change for %s %q", ExampleConfig, r.kind, r.name)
			}
			sub.Changes = append(sub.Changes, plan.Changes[i])
		}
		return &sub, nil
	}

	client := sqs.NewFromConfig(s.AWS)
	poller, err := lambdarun.NewPoller(ctx, client, s.Resources.ChangeQueueURL, noInvoke{}, lambdarun.PollerOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	publisher := changes.NewPublisher(client, s.Resources.ChangeQueueURL, changes.PublisherOptions{})
	publish := func(ctx context.Context, reqs []*changes.Request) error {
		_, err := publisher.Publish(ctx, reqs)
		return err
	}
	// submit sends the named changes as `routekeeper apply` does (drift.Submit) and
	// receives them back as the event source mapping would.
	submit := func(refs ...ref) ([]sqstypes.Message, error) {
		sub, err := only(refs...)
		if err != nil {
			return nil, err
		}
		reqs, err := drift.Submit(ctx, sub, org, planner, nil, publish)
		if err != nil {
			return nil, err
		}
		return receiveAll(ctx, client, s.Resources.ChangeQueueURL, len(reqs))
	}

	// batch
	msgs, err := submit(ref{entity.Skill, MissingSkill}, ref{entity.Queue, ChangedQueue}, ref{entity.Worktype, ChangedWorktype})
	if err != nil {
		return nil, err
	}
	if out[ApplyBatch], err = eventJSON(poller.Event(msgs)); err != nil {
		return nil, err
	}

	// duplicate
	if msgs, err = submit(ref{entity.Queue, ChangedQueue}); err != nil {
		return nil, err
	}
	ev := poller.Event(msgs)
	ev.Records = append(ev.Records, resentAfterDedupWindow(ev.Records[0]))
	if out[ApplyDuplicate], err = eventJSON(ev); err != nil {
		return nil, err
	}

	// malformed
	sub, err := only(ref{entity.Queue, ChangedQueue})
	if err != nil {
		return nil, err
	}
	reqs, err := planner.Requests(sub)
	if err != nil {
		return nil, err
	}
	bad := reqs[0]
	truncated, err := changes.Encode(bad)
	if err != nil {
		return nil, err
	}
	truncated = truncated[:len(truncated)/2]
	invalid := fmt.Sprintf(`{"schema":%q,"changeId":%q,"environment":%q,"entity":{"type":"queue","name":%q},"operation":"upsert","desired":{"description":"Claims"},"reason":"hand-written request","requestedBy":"someone@example.com","createdAt":"2025-06-02T09:30:00Z"}`,
		changes.SchemaV1, MalformedChangeID, desired.Environment, ChangedQueue)
	for i, body := range []string{string(truncated), invalid} {
		_, err := client.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl:               aws.String(s.Resources.ChangeQueueURL),
			MessageBody:            aws.String(body),
			MessageGroupId:         aws.String(bad.GroupID()),
			MessageDeduplicationId: aws.String(fmt.Sprintf("malformed-%d-%s", i, uuid.NewString())),
		})
		if err != nil {
			return nil, fmt.Errorf("send malformed message: %w", err)
		}
	}
	if msgs, err = receiveAll(ctx, client, s.Resources.ChangeQueueURL, 2); err != nil {
		return nil, err
	}
	if out[ApplyMalformed], err = eventJSON(poller.Event(msgs)); err != nil {
		return nil, err
	}
	return out, nil
}

// receiveAll receives n messages from a FIFO queue with every attribute and deletes them
// (the event is all that is kept). FIFO returns one message group's messages at a time, so
// it receives until it has n.
func receiveAll(ctx context.Context, client *sqs.Client, url string, n int) ([]sqstypes.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var msgs []sqstypes.Message
	for len(msgs) < n {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(url),
			MaxNumberOfMessages:         10,
			WaitTimeSeconds:             1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			return nil, fmt.Errorf("receive from %s: %w (have %d of %d messages)", url, err, len(msgs), n)
		}
		msgs = append(msgs, out.Messages...)
	}
	for _, m := range msgs {
		if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
			return nil, fmt.Errorf("delete from %s: %w", url, err)
		}
	}
	// The batch Lambda delivers is in queue order: group by group, by sequence number.
	slices.SortStableFunc(msgs, func(a, b sqstypes.Message) int {
		return strings.Compare(seqKey(a), seqKey(b))
	})
	return msgs, nil
}

func seqKey(m sqstypes.Message) string {
	s := m.Attributes[string(sqstypes.MessageSystemAttributeNameSequenceNumber)]
	return fmt.Sprintf("%030s", s)
}

// resentAfterDedupWindow returns rec as SQS delivers the same body sent again with the
// same MessageDeduplicationId more than five minutes later: a new message (id, receipt
// handle, later sequence number and timestamps), same group, same body.
func resentAfterDedupWindow(rec events.SQSMessage) events.SQSMessage {
	dup := rec
	dup.Attributes = map[string]string{}
	for k, v := range rec.Attributes {
		dup.Attributes[k] = v
	}
	dup.MessageId = uuid.NewString()
	dup.ReceiptHandle = rec.ReceiptHandle[:len(rec.ReceiptHandle)/2] + strings.ReplaceAll(uuid.NewString(), "-", "")
	const sixMinutes = 6 * 60 * 1000
	for _, k := range []string{"SentTimestamp", "ApproximateFirstReceiveTimestamp"} {
		if v, err := strconv.ParseInt(rec.Attributes[k], 10, 64); err == nil {
			dup.Attributes[k] = strconv.FormatInt(v+sixMinutes, 10)
		}
	}
	// Sequence numbers have up to 128 digits.
	if seq, ok := new(big.Int).SetString(rec.Attributes["SequenceNumber"], 10); ok {
		dup.Attributes["SequenceNumber"] = seq.Add(seq, big.NewInt(1_000_000)).String()
	}
	return dup
}

// eventJSON is the event as Lambda delivers it (lambdarun.EncodeEvent), indented.
func eventJSON(ev events.SQSEvent) ([]byte, error) {
	b, err := lambdarun.EncodeEvent(ev)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// noInvoke is the Invoker of a poller used only to build events.
type noInvoke struct{}

func (noInvoke) Invoke(context.Context, []byte) ([]byte, error) {
	return nil, errors.New("stack: this poller only builds events")
}
