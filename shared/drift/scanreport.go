package drift

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Schemas of the drift scan's documents (docs/events.md, README).
const (
	// ScanSchema is the schema of a scan's summary: the drift scan function's result, the
	// detail of Drift Scan Completed, and the summary of a stored report.
	ScanSchema = "routekeeper.driftscan/v1"
	// ScanReportSchema is the schema of a whole report, summary and entities
	// (`routekeeper drift --format json`).
	ScanReportSchema = "routekeeper.driftreport/v1"
)

// ScanMode says what a scan does about drift.
type ScanMode string

// Scan modes (template parameter DriftMode).
const (
	ModeReport ScanMode = "report" // report and publish; change nothing
	ModeRevert ScanMode = "revert" // also enqueue corrective change requests (at most MaxReverts a scan)
)

// ParseScanMode checks a DriftMode value.
func ParseScanMode(s string) (ScanMode, error) {
	switch m := ScanMode(s); m {
	case ModeReport, ModeRevert:
		return m, nil
	case "":
		return ModeReport, nil
	}
	return "", fmt.Errorf("drift mode %q: want report or revert", s)
}

// ScanSummary is what a scan found, in counts (routekeeper.driftscan/v1).
type ScanSummary struct {
	Schema      string    `json:"schema"`
	Environment string    `json:"environment"`
	GeneratedAt time.Time `json:"generatedAt"` // when the scan began reading: every observation it made is stamped with it
	Mode        ScanMode  `json:"mode"`
	// Complete: every managed kind was read and assessed and every changed observation
	// recorded. When false, Reason says why and NotRead lists the kinds that were not read:
	// nothing is concluded about their entities (neither in sync nor missing).
	Complete bool          `json:"complete"`
	Reason   string        `json:"reason,omitempty"`
	NotRead  []entity.Kind `json:"notRead,omitempty"`
	Entities ScanCounts    `json:"entities"`
	// Coverage is the share of the live entities read that git declares:
	// (inSync + modified) / read; 0 when nothing was read.
	Coverage float64 `json:"coverage"`
	// Changed counts the live entities whose ETag differs from the last-known state (or
	// that had none): what changed since the previous observation.
	Changed int `json:"changedSinceLastObservation"`
	// Detected and Resolved count the Drift Detected and Drift Resolved events put.
	Detected           int   `json:"driftDetected"`
	Resolved           int   `json:"driftResolved"`
	GenesysCalls       int64 `json:"genesysCalls"`
	GenesysRateLimited int64 `json:"genesysRateLimited"`
	DynamoDBWrites     int   `json:"dynamodbWrites"`
	DurationMs         int64 `json:"durationMs"`
	// ReadOrgMs and ReadTableMs are how long reading the org and the table took (at the
	// same time, both within DurationMs).
	ReadOrgMs   int64       `json:"readOrgMs"`
	ReadTableMs int64       `json:"readTableMs"`
	Reverts     ScanReverts `json:"reverts"`
}

// ScanCounts counts the entities of a scan by state.
type ScanCounts struct {
	Read      int `json:"read"` // live entities read
	InSync    int `json:"inSync"`
	Modified  int `json:"modified"`
	Missing   int `json:"missing"`
	Deleted   int `json:"deleted,omitempty"` // declared, seen deleted by the webhook, still absent
	Unmanaged int `json:"unmanaged"`
	// NotAssessed counts the declared entities of kinds that were not read.
	NotAssessed int `json:"notAssessed,omitempty"`
}

// Drifted is how many declared entities live does not hold as declared.
func (c ScanCounts) Drifted() int { return c.Modified + c.Missing + c.Deleted }

// ScanReverts is what revert mode asked for.
type ScanReverts struct {
	Requested int      `json:"requested"`
	Skipped   int      `json:"skipped"`
	ChangeIDs []string `json:"changeIds,omitempty"`
	Error     string   `json:"error,omitempty"` // the change requests could not be sent
}

// ScanEntity is one entity a report lists: every one that is not IN_SYNC.
type ScanEntity struct {
	Kind          entity.Kind `json:"kind"`
	Name          string      `json:"name"`
	ID            string      `json:"id,omitempty"`
	State         State       `json:"state"`
	PreviousState State       `json:"previousState,omitempty"`
	// Since is when the entity entered State, as far as routekeeper knows (its drift
	// state's changedAt; this scan when it changed now).
	Since       time.Time   `json:"since,omitzero"`
	Differences []Deviation `json:"differences,omitempty"`
	ETag        string      `json:"etag,omitempty"`
	// ModifiedAt and ModifiedBy are what Genesys says of the last change (dateModified,
	// modifiedBy: a user id); absent when it does not say.
	ModifiedAt time.Time `json:"modifiedAt,omitzero"`
	ModifiedBy string    `json:"modifiedBy,omitempty"`
	// LastKnown is the observation this scan compared live with.
	LastKnown *LastKnown `json:"lastKnown,omitempty"`
	// Revert says what revert mode did: "requested" with the change id, or "skipped" with why.
	Revert *EntityRevert `json:"revert,omitempty"`
}

// LastKnown is the stored observation of an entity a scan compared live with.
type LastKnown struct {
	ETag       string       `json:"etag,omitempty"`
	ObservedAt time.Time    `json:"observedAt"`
	Source     store.Source `json:"source"`
	Deleted    bool         `json:"deleted,omitempty"`
	// Changed: live differs from it, so the entity changed after it was observed, unseen
	// (no audit event recorded it).
	Changed bool `json:"changed"`
	// Cause is the audit event behind it, when the webhook recorded one: who changed the
	// entity, and when.
	Cause *EventCause `json:"cause,omitempty"`
}

// EntityRevert is what revert mode did about one entity.
type EntityRevert struct {
	Status   string `json:"status"` // requested or skipped
	ChangeID string `json:"changeId,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Revert statuses.
const (
	RevertRequested = "requested"
	RevertSkipped   = "skipped"
)

// ScanReport is a whole report (routekeeper.driftreport/v1): the summary and the entities
// that are not in sync, in creation order of their kinds, then by name.
type ScanReport struct {
	Schema   string       `json:"schema"`
	Summary  ScanSummary  `json:"summary"`
	Entities []ScanEntity `json:"entities"`
}

// HasDrift reports whether a declared entity is not as declared.
func (r *ScanReport) HasDrift() bool { return r.Summary.Entities.Drifted() > 0 }

// Stored returns the report as the table stores it (store.DriftReport).
func (r *ScanReport) Stored() (store.DriftReport, error) {
	sum, err := json.Marshal(r.Summary)
	if err != nil {
		return store.DriftReport{}, fmt.Errorf("drift report summary: %w", err)
	}
	out := store.DriftReport{Environment: r.Summary.Environment, GeneratedAt: r.Summary.GeneratedAt, Report: sum}
	for _, e := range r.Entities {
		b, err := json.Marshal(e)
		if err != nil {
			return store.DriftReport{}, fmt.Errorf("drift report entity %s %q: %w", e.Kind, e.Name, err)
		}
		out.Entities = append(out.Entities, b)
	}
	return out, nil
}

// ReportOf decodes a stored report (its entities too, when they were read).
func ReportOf(d store.DriftReport) (*ScanReport, error) {
	r := &ScanReport{Schema: ScanReportSchema, Entities: []ScanEntity{}}
	if err := json.Unmarshal(d.Report, &r.Summary); err != nil {
		return nil, fmt.Errorf("drift report of %s at %s: summary: %w", d.Environment, d.GeneratedAt.Format(time.RFC3339), err)
	}
	if r.Summary.Schema != ScanSchema {
		return nil, fmt.Errorf("drift report of %s at %s: summary schema %q, want %s", d.Environment, d.GeneratedAt.Format(time.RFC3339), r.Summary.Schema, ScanSchema)
	}
	for i, raw := range d.Entities {
		var e ScanEntity
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("drift report of %s at %s: entity %d: %w", d.Environment, d.GeneratedAt.Format(time.RFC3339), i, err)
		}
		r.Entities = append(r.Entities, e)
	}
	return r, nil
}
