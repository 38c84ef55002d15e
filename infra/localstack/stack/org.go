package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/routing"
)

// ExampleConfig is the example config the seeded org matches, relative to the repository,
// and ExampleEnvironment its environment.
const (
	ExampleConfig      = "examples/routing/prod.yaml"
	ExampleEnvironment = "prod"
)

// The seeded org is the org a team had before this version of the example config: the
// same names, with three differences that `routekeeper plan` shows and `apply` fixes.
const (
	// MissingSkill is declared in the config but not in the org (a create).
	MissingSkill = "French"
	// ChangedQueue differs from the config in description and ACW (an update).
	ChangedQueue = "Claims Tasks"
	// ChangedWorktype has another default priority than its assignment rule gives it.
	ChangedWorktype = "Claim"
)

// Member-group names the example config refers to. Genesys has them before routekeeper
// runs; the simulator does not serve their endpoints (routekeeper does not list them
// either: Genesys embeds their names), so SeedOrg gives them fixed ids. Routing languages
// are in the seeded org itself (backgroundOrg) and named by the languages list.
var orgNamedRefs = []struct {
	kind entity.Kind
	name string
}{
	{entity.Group, "Claims Team"},
}

// RepoRoot returns the repository root (the directory of template.yaml).
func RepoRoot() (string, error) {
	p, err := awslocal.TemplatePath()
	if err != nil {
		return "", err
	}
	return filepath.Dir(p), nil
}

// SeedOrg seeds s with the org of the example config (ExampleConfig) as it was before the
// config's latest change (see MissingSkill, ChangedQueue, ChangedWorktype), among a
// generated background of unmanaged queues, skills and worktypes, so the example plans
// a small, readable change and applies cleanly.
//
// Divisions and workbins (org objects routekeeper never creates) are loaded as a fixture;
// the managed skills, queues and worktypes are created through the Genesys API with the
// request bodies apply itself builds (shared/drift), so they are exactly what routekeeper
// would have written.
func SeedOrg(ctx context.Context, s *sim.Server, c *genesys.Client) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	cfg, err := routing.Load(filepath.Join(root, ExampleConfig))
	if err != nil {
		return err
	}
	desired, err := routing.Compile(cfg)
	if err != nil {
		return err
	}
	if err := s.Load(backgroundOrg(cfg)); err != nil {
		return err
	}
	org, err := live.Read(ctx, c, nil)
	if err != nil {
		return err
	}
	names := org.Names
	for _, r := range orgNamedRefs {
		names.Add(r.kind, fixedID(r.kind, r.name), r.name)
	}

	for _, e := range desired.Entities() {
		doc, err := e.Doc()
		if err != nil {
			return err
		}
		m := doc.Fields
		switch e.Kind {
		case entity.Skill:
			if e.Name == MissingSkill {
				continue
			}
			sk, err := c.CreateSkill(ctx, e.Name)
			if err != nil {
				return fmt.Errorf("seed skill %q: %w", e.Name, err)
			}
			names.Add(entity.Skill, sk.ID, sk.Name)
		case entity.Queue:
			if e.Name == ChangedQueue {
				m["description"] = "Claims (before routing/prod.yaml took it over)"
				m["acwSettings"] = map[string]any{"wrapupPrompt": "MANDATORY"}
			}
			body, err := live.NewQueueBody(m, names)
			if err != nil {
				return fmt.Errorf("seed queue %q: %w", e.Name, err)
			}
			q, err := c.CreateQueue(ctx, body)
			if err != nil {
				return fmt.Errorf("seed queue %q: %w", e.Name, err)
			}
			names.Add(entity.Queue, q.ID, q.Name)
		case entity.Worktype:
			if e.Name == ChangedWorktype {
				m["defaultPriority"] = json.Number(fmt.Sprint(routing.PriorityFromScore(60)))
			}
			body, err := live.NewWorktypeBody(m, names)
			if err != nil {
				return fmt.Errorf("seed worktype %q: %w", e.Name, err)
			}
			if _, err := c.CreateWorktype(ctx, body); err != nil {
				return fmt.Errorf("seed worktype %q: %w", e.Name, err)
			}
		}
	}
	return nil
}

// backgroundOrg returns the fixture loaded before the managed entities are created: a
// generated org (unmanaged queues, skills, worktypes and routing languages a real org has
// besides what one config manages) plus the divisions, workbins and languages the config
// refers to.
func backgroundOrg(cfg *routing.Config) sim.Fixture {
	f := sim.Generate(sim.GenerateOptions{Queues: 24, Skills: 16, Worktypes: 6, Divisions: 3, Seed: 42})
	declared := map[string]bool{}
	for _, s := range cfg.Skills {
		declared["skill/"+strings.ToLower(s.Name)] = true
	}
	for _, q := range cfg.Queues {
		declared["queue/"+strings.ToLower(q.Name)] = true
	}
	for _, w := range cfg.Worktypes {
		declared["worktype/"+strings.ToLower(w.Name)] = true
	}
	keep := func(kind string, in []map[string]any) []map[string]any {
		var out []map[string]any
		for _, e := range in {
			if name, _ := e["name"].(string); !declared[kind+"/"+strings.ToLower(name)] {
				out = append(out, e)
			}
		}
		return out
	}
	f.Skills, f.Queues, f.Worktypes = keep("skill", f.Skills), keep("queue", f.Queues), keep("worktype", f.Worktypes)

	divisions := map[string]map[string]any{} // lower-case name -> division
	var home map[string]any
	for _, d := range f.Divisions {
		divisions[strings.ToLower(fmt.Sprint(d["name"]))] = d
		if d["homeDivision"] == true {
			home = d
		}
	}
	for _, name := range cfg.Divisions {
		if divisions[strings.ToLower(name)] != nil {
			continue
		}
		id := fixedID(entity.Division, name)
		d := map[string]any{
			"id": id, "name": name, "description": name, "homeDivision": false,
			"selfUri": "/api/v2/authorization/divisions/" + id,
		}
		f.Divisions = append(f.Divisions, d)
		divisions[strings.ToLower(name)] = d
	}
	// A workbin lives in the division of the worktypes that use it.
	binDivision := map[string]map[string]any{}
	for _, w := range cfg.Worktypes {
		if w.DefaultWorkbin != nil && w.Division != nil {
			binDivision[*w.DefaultWorkbin] = divisions[strings.ToLower(*w.Division)]
		}
	}
	haveLanguage := map[string]bool{}
	for _, l := range f.Languages {
		haveLanguage[strings.ToLower(fmt.Sprint(l["name"]))] = true
	}
	for _, w := range cfg.Worktypes {
		if w.DefaultLanguage == nil || haveLanguage[strings.ToLower(*w.DefaultLanguage)] {
			continue
		}
		name := *w.DefaultLanguage
		id := fixedID(entity.Language, name)
		f.Languages = append(f.Languages, map[string]any{
			"id": id, "name": name, "state": "active", "version": "1",
			"dateModified": "2025-03-03T09:00:00.000Z", "selfUri": "/api/v2/routing/languages/" + id,
		})
		haveLanguage[strings.ToLower(name)] = true
	}
	haveBin := map[string]bool{}
	for _, w := range f.Workbins {
		haveBin[strings.ToLower(fmt.Sprint(w["name"]))] = true
	}
	for _, name := range cfg.Workbins {
		if haveBin[strings.ToLower(name)] {
			continue
		}
		id := fixedID(entity.Workbin, name)
		wb := map[string]any{
			"id": id, "name": name, "description": "Workitems for " + name,
			"dateCreated": "2025-03-03T09:00:00.000Z", "dateModified": "2025-03-03T09:00:00.000Z",
			"selfUri": "/api/v2/taskmanagement/workbins/" + id,
		}
		d := binDivision[name]
		if d == nil {
			d = home
		}
		if d != nil {
			wb["division"] = map[string]any{"id": d["id"], "name": d["name"], "selfUri": d["selfUri"]}
		}
		f.Workbins = append(f.Workbins, wb)
	}
	return f
}

// fixedID returns a stable id for a seeded object, so two runs seed the same org.
func fixedID(kind entity.Kind, name string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("routekeeper-local/"+string(kind)+"/"+name)).String()
}

// PlanExample plans the example config (ExampleConfig) against the stack's simulated org,
// as `routekeeper plan -f examples/routing/prod.yaml` does, and returns the compiled
// config and the live org the plan was made from besides the plan.
func (s *Stack) PlanExample(ctx context.Context) (*routing.Desired, *live.Org, *drift.Plan, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, nil, nil, err
	}
	cfg, err := routing.Load(filepath.Join(root, ExampleConfig))
	if err != nil {
		return nil, nil, nil, err
	}
	desired, err := routing.Compile(cfg)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("compile %s: %w", ExampleConfig, err)
	}
	docs, err := desired.Docs()
	if err != nil {
		return nil, nil, nil, err
	}
	org, err := live.Read(ctx, s.Genesys, nil)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read the simulated org: %w", err)
	}
	plan, err := drift.NewPlan(desired.Environment, docs, org, drift.PlanOptions{})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("plan %s against the simulated org: %w", ExampleConfig, err)
	}
	return desired, org, plan, nil
}
