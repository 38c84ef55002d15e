package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// Export returns a config holding docs (canonical documents of a live org, shared/live)
// as skills, queues and worktypes, and the names of every division and workbin, so
// references in the exported config validate against its own lists. Assignment rules are
// not reconstructed: a worktype's defaultQueue, defaultSkills and defaultPriority are
// written on the worktype itself. Entities come out sorted by name; use MarshalYAML on the
// result for deterministic output.
//
// Documents are decoded strictly: a field the model lacks, or a value it cannot hold (a
// fractional alertingTimeoutSeconds), fails the export with an *ExportError rather than
// write a config that would misstate the org.
func Export(environment string, divisions, workbins []string, docs []entity.Doc) (*Config, error) {
	cfg := &Config{
		APIVersion:  APIVersion,
		Environment: environment,
		Divisions:   slices.Clone(divisions),
		Workbins:    slices.Clone(workbins),
	}
	docs = slices.Clone(docs)
	entity.SortDocs(docs)
	for _, d := range docs {
		switch d.Kind {
		case entity.Skill:
			var s Skill
			if err := specFromDoc(d, &s); err != nil {
				return nil, err
			}
			cfg.Skills = append(cfg.Skills, s)
		case entity.Queue:
			var q Queue
			if err := specFromDoc(d, &q); err != nil {
				return nil, err
			}
			cfg.Queues = append(cfg.Queues, q)
		case entity.Worktype:
			var w Worktype
			if err := specFromDoc(d, &w); err != nil {
				return nil, err
			}
			cfg.Worktypes = append(cfg.Worktypes, w)
		default:
			return nil, &ExportError{Kind: d.Kind, Name: d.Name, ID: d.ID, Err: errors.New("not a managed kind")}
		}
	}
	return cfg, nil
}

// ExportError is a live value that the routekeeper/v1 model cannot hold (for example a
// fractional alertingTimeoutSeconds).
type ExportError struct {
	Kind     entity.Kind
	Name, ID string
	Path     string // the field, e.g. mediaSettings.call.alertingTimeoutSeconds; empty when unknown
	Err      error
}

func (e *ExportError) Error() string {
	where := ""
	if e.Path != "" {
		where = " " + e.Path
	}
	return fmt.Sprintf("export %s %q (id %s):%s: the live value does not fit the routekeeper/v1 model (%v): change it in Genesys, or export without this entity is not possible",
		e.Kind, e.Name, e.ID, where, e.Err)
}

func (e *ExportError) Unwrap() error { return e.Err }

// specFromDoc decodes a canonical document into a spec type, strictly: a canonical field
// the spec lacks is a bug in the canonical form, and a value the spec cannot hold is an
// *ExportError naming the entity and the field.
func specFromDoc(d entity.Doc, spec any) error {
	b, err := json.Marshal(d.Fields)
	if err != nil {
		return &ExportError{Kind: d.Kind, Name: d.Name, ID: d.ID, Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(spec); err != nil {
		ee := &ExportError{Kind: d.Kind, Name: d.Name, ID: d.ID, Err: err}
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			ee.Path = te.Field
		}
		return ee
	}
	return nil
}
