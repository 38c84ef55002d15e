package main

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
)

// The simulator-side window runs from a container's GET of an entity to that container's
// next write of it: another container's write, a write of another entity, or a write with
// no GET before it opens or closes no window.
func TestHooksTimeReadToWrite(t *testing.T) {
	now := time.Unix(0, 0)
	h := &hooks{planned: map[string]*plannedEdit{}, containers: map[string]*container{}, readAt: map[string]time.Time{},
		now: func() time.Time { return now }}
	step := func(d time.Duration, via, method, id string) {
		now = now.Add(d)
		h.hook(context.Background(), sim.EntityRequest{Via: via, Method: method, Kind: "queue", ID: id})
	}
	step(0, "apply-1", "GET", "q1")
	step(time.Millisecond, "apply-2", "PUT", "q1")   // another container: no window of apply-1's
	step(time.Millisecond, "apply-1", "PUT", "q2")   // another entity
	step(time.Millisecond, "apply-1", "PUT", "q1")   // 3 ms after apply-1's GET of q1
	step(time.Millisecond, "apply-1", "PUT", "q1")   // no GET since: no window
	step(time.Millisecond, "webhook", "GET", "q3")   // not an apply container
	step(time.Millisecond, "webhook", "PUT", "q3")   //
	step(time.Millisecond, "apply-2", "GET", "q1")   // read twice: the last read opens it
	step(2*time.Millisecond, "apply-2", "GET", "q1") //
	step(5*time.Millisecond, "apply-2", "PATCH", "q1")
	if d := cmp.Diff([]time.Duration{3 * time.Millisecond, 5 * time.Millisecond}, h.readWriteWindows()); d != "" {
		t.Errorf("windows (-want +got):\n%s", d)
	}
}
