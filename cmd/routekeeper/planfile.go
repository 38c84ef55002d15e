package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
)

// A saved plan (plan -out PLANFILE, apply PLANFILE) is the plan and what it was made
// against: the ETag of every live entity it declares (changed or not), and the entities
// it creates, which did not exist. Applying it re-reads the org and sends exactly the
// plan's changes, or refuses when any of those entities moved: the reviewed plan no
// longer says what applying it would do.

// savedPlanSchema is the schema of a saved plan file.
const savedPlanSchema = "routekeeper.savedplan/v1"

// savedPlan is a plan file.
type savedPlan struct {
	Schema    string    `json:"schema"`
	Config    string    `json:"config"`            // the -f CONFIG it was planned from
	Profile   string    `json:"profile,omitempty"` // --env NAME it was planned against
	CreatedAt time.Time `json:"createdAt"`
	// Observed are the live entities the plan was made against: every declared entity
	// the org holds (updated, unchanged or in conflict) and every delete, with its ETag.
	Observed []observed `json:"observed"`
	// Absent are the entities the plan creates: the org did not hold them.
	Absent []drift.Ref `json:"absent"`
	Plan   *drift.Plan `json:"plan"`
}

// observed is a live entity as the plan saw it.
type observed struct {
	Kind entity.Kind `json:"kind"`
	Name string      `json:"name"`
	ID   string      `json:"id"`
	ETag string      `json:"etag"`
}

// saveVerifiedPlan writes lp's plan to path (atomically) as a saved plan of config.
func saveVerifiedPlan(path, config, profile string, lp livePlan) error {
	sp := savedPlan{Schema: savedPlanSchema, Config: config, Profile: profile, CreatedAt: time.Now().UTC(),
		Observed: []observed{}, Absent: []drift.Ref{}, Plan: lp.plan}
	seen := map[entity.Key]bool{}
	add := func(e *live.Entity) {
		k := entity.Key{Kind: e.Kind, Name: e.Name}
		if !seen[k] {
			seen[k] = true
			sp.Observed = append(sp.Observed, observed{Kind: e.Kind, Name: e.Name, ID: e.ID, ETag: e.ETag})
		}
	}
	for _, e := range lp.desired.Entities() {
		if l := liveMatch(lp.org, e.Kind, e.Name); l != nil {
			add(l)
		}
	}
	for _, c := range lp.plan.Changes {
		switch c.Action {
		case drift.ActionCreate:
			sp.Absent = append(sp.Absent, drift.Ref{Kind: c.Kind, Name: c.Name})
		case drift.ActionDelete:
			if l, ok := lp.org.Entity(c.Kind, c.Name); ok {
				add(l)
			}
		}
	}
	b, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// liveMatch is the live entity a declared one is, as drift.NewPlan matches them: the one
// of that name, else the one whose name differs only in letter case.
func liveMatch(org *live.Org, kind entity.Kind, name string) *live.Entity {
	if e, ok := org.Entity(kind, name); ok {
		return e
	}
	for _, e := range org.Sorted(kind) {
		if strings.EqualFold(e.Name, name) {
			return e
		}
	}
	return nil
}

// readSavedPlan reads a plan file.
func readSavedPlan(path string) (*savedPlan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	var sp savedPlan
	if err := json.Unmarshal(b, &sp); err != nil {
		return nil, fmt.Errorf("plan file %s is not a saved plan (%v): save one with routekeeper plan -f CONFIG -out %s", path, err, filepath.Base(path))
	}
	if sp.Schema != savedPlanSchema || sp.Plan == nil {
		return nil, fmt.Errorf("plan file %s is not a saved plan (schema %q, want %s): save one with routekeeper plan -f CONFIG -out %s", path, sp.Schema, savedPlanSchema, filepath.Base(path))
	}
	return &sp, nil
}

// moved lists what changed in org since the plan was saved: an entity it saw with another
// ETag now, or gone, and an entity it creates that exists now. Empty when nothing did.
func (sp *savedPlan) moved(org *live.Org) []string {
	var out []string
	for _, o := range sp.Observed {
		l := liveMatch(org, o.Kind, o.Name)
		switch {
		case l == nil:
			out = append(out, fmt.Sprintf("%s %q was deleted (or renamed)", o.Kind, o.Name))
		case l.ETag != o.ETag:
			out = append(out, fmt.Sprintf("%s %q changed (ETag %s, planned against %s)", o.Kind, o.Name, short(l.ETag), short(o.ETag)))
		}
	}
	for _, a := range sp.Absent {
		if l := liveMatch(org, a.Kind, a.Name); l != nil {
			out = append(out, fmt.Sprintf("%s %q was created (id %s)", a.Kind, l.Name, l.ID))
		}
	}
	slices.Sort(out)
	return out
}

// short abbreviates an ETag for a message.
func short(etag string) string {
	if len(etag) > 19 {
		return etag[:19] + "…"
	}
	return etag
}

// checkOutFile refuses a file to write that cannot be one, before anything is read: an
// existing directory or special file, or a place whose directory cannot be written.
func checkOutFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("%s is a directory: name a file", path)
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (a device, pipe or socket): name a file", path)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return err
	}
	return checkWritableDir(filepath.Dir(path))
}

// checkWritableDir checks that dir, or the nearest existing directory above it (where
// it would be created), can be written, leaving nothing behind.
func checkWritableDir(dir string) error {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if errors.Is(err, os.ErrNotExist) && filepath.Dir(d) != d {
			continue
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", d)
		}
		f, err := os.CreateTemp(d, ".routekeeper-write-check-*")
		if err != nil {
			return fmt.Errorf("cannot write in %s: %w", d, errors.Unwrap(err))
		}
		name := f.Name()
		f.Close()
		return os.Remove(name)
	}
}
