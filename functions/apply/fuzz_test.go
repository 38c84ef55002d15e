package main

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/store"
)

// fakeApplier records what the handler asked for.
type fakeApplier struct {
	applied  []*changes.Request
	rejected []apply.RejectInput
}

func (f *fakeApplier) Apply(_ context.Context, req *changes.Request) (apply.Result, error) {
	f.applied = append(f.applied, req)
	return apply.Result{ChangeID: req.ChangeID, Status: store.StatusApplied}, nil
}

func (f *fakeApplier) Reject(_ context.Context, in apply.RejectInput) (apply.Result, error) {
	f.rejected = append(f.rejected, in)
	return apply.Result{ChangeID: in.ID, Status: store.StatusRejected}, nil
}

// FuzzHandleBody: whatever a message holds, the handler either applies a valid change
// request or rejects the message under a usable id; it never panics and never leaves a
// message to be retried forever.
func FuzzHandleBody(f *testing.F) {
	f.Add(`{"schema":"routekeeper.change/v1","changeId":"chg-1","environment":"dev","entity":{"type":"queue","name":"Q"},"operation":"update","desired":{"name":"Q"},"baseEtag":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","reason":"r","requestedBy":"x","createdAt":"2025-01-02T03:04:05Z"}`)
	f.Add(`{"changeId":"chg-2","entity":{"type":"skill","name":"` + "\u00e9" + `"}}`)
	f.Add(`not json`)
	f.Add(``)
	f.Add(`{"changeId":"` + string(make([]byte, 300)) + `"}`)
	f.Fuzz(func(t *testing.T, body string) {
		fa := &fakeApplier{}
		h := &Handler{Engine: fa, Environment: "dev"}
		resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-1", Body: body}}})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("body %q: failures %v, err %v; want the message applied or rejected", body, resp.BatchItemFailures, err)
		}
		if len(fa.applied)+len(fa.rejected) != 1 {
			t.Fatalf("body %q: %d applied, %d rejected; want exactly one outcome", body, len(fa.applied), len(fa.rejected))
		}
		for _, r := range fa.rejected {
			if r.ID == "" || len(r.ID) > 128 || r.Environment != "dev" || r.Reason == nil {
				t.Errorf("body %q: rejection id %q (len %d), env %q, reason %v; want a usable id, dev and a reason", body, r.ID, len(r.ID), r.Environment, r.Reason)
			}
		}
	})
}
