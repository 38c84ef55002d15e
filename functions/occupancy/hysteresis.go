package main

import (
	"time"

	"github.com/routekeeper/routekeeper/shared/store"
)

// Switch is what one sample makes a rule's overflow do.
type Switch int

// Switches.
const (
	Stay  Switch = iota // nothing changes where new tasks go
	Enter               // point the worktype's defaultQueue at the overflow queue
	Leave               // point it back at the rule's queue
)

func (s Switch) String() string {
	switch s {
	case Enter:
		return "enter"
	case Leave:
		return "leave"
	}
	return "stay"
}

// Sample is one run's view of a rule's queue.
type Sample struct {
	// Backlog is the number of open workitems waiting in the rule's queue.
	Backlog int
	// Partial: the run could not read everything the rule's decision rests on (a queue
	// the org lacks, observations missing for one of its queues, a failed count), so
	// Backlog is not to be trusted.
	Partial bool
}

// Step takes the sample a run made at now into a rule's overflow state and says whether
// to switch; it is a pure function of its arguments (state, sample, rule, now).
//
//   - A sample not newer than the state's last one (a redelivered or late schedule) is
//     ignored: the state comes back unchanged.
//   - A partial sample never switches, and breaks the runs of consecutive samples (both
//     counters start again): no decision rests on data the run did not have.
//   - Inactive: a sample with Backlog >= MaxCapacity extends the run of samples at
//     capacity (Above), any other ends it; at OverflowAfter of them it enters.
//   - Active: a sample with Backlog <= ResumeBelow extends the run of drained samples
//     (Below), any other ends it; at ResumeAfter of them it leaves.
//   - Neither switch happens before MinDwell has passed since the last one (ChangedAt):
//     a backlog flapping around a threshold switches at most once per MinDwell. (The
//     issue asks for the dwell after entering; applying it after leaving too is what
//     keeps every two switches MinDwell apart.)
//
// Entering records the rule's queues in the state; while active the state keeps the
// overflow queue it entered with (where live tasks go) and follows the rule's queue
// (where leaving points back).
func Step(st store.OverflowState, s Sample, r store.OverflowRule, now time.Time) (store.OverflowState, Switch) {
	if !st.LastSampleAt.IsZero() && !now.After(st.LastSampleAt) {
		return st, Stay
	}
	st.LastSampleAt = now
	st.Rule, st.Queue = r.Rule, r.Queue
	if !st.Active {
		st.OverflowQueue = r.OverflowQueue
	}
	if s.Partial {
		st.Above, st.Below = 0, 0
		return st, Stay
	}
	st.Backlog = s.Backlog
	dwelled := st.ChangedAt.IsZero() || now.Sub(st.ChangedAt) >= r.MinDwell
	if !st.Active {
		st.Below = 0
		if s.Backlog >= r.MaxCapacity {
			st.Above++
		} else {
			st.Above = 0
		}
		if st.Above >= r.OverflowAfter && dwelled {
			st.Active, st.ChangedAt, st.Above = true, now, 0
			return st, Enter
		}
		return st, Stay
	}
	st.Above = 0
	if s.Backlog <= r.ResumeBelow {
		st.Below++
	} else {
		st.Below = 0
	}
	if st.Below >= r.ResumeAfter && dwelled {
		st.Active, st.ChangedAt, st.Below = false, now, 0
		return st, Leave
	}
	return st, Stay
}
