package drift_test

import (
	"testing"

	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/routing"
)

// docsOf returns the documents of a compiled config.
func docsOf(t testing.TB, d *routing.Desired) []entity.Doc {
	t.Helper()
	docs, err := d.Docs()
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// planOf plans a compiled config against org, as `routekeeper plan` does.
func planOf(t testing.TB, d *routing.Desired, org *live.Org, opts drift.PlanOptions) (*drift.Plan, error) {
	t.Helper()
	return drift.NewPlan(d.Environment, docsOf(t, d), org, opts)
}

// configSide is the comparison side of a loaded config, as `routekeeper diff` builds it.
func configSide(t testing.TB, label string, cfg *routing.Config) (*drift.Side, error) {
	t.Helper()
	d, err := routing.Compile(cfg)
	if err != nil {
		return nil, err
	}
	return drift.ConfigSide(label, docsOf(t, d), cfg.Divisions, cfg.Workbins, cfg), nil
}

// exportOf is the org as a config, as `routekeeper export` writes it.
func exportOf(org *live.Org, env string) (*routing.Config, error) {
	return routing.Export(env, org.Divisions, org.Workbins, org.Docs())
}

// raw is a live entity as Genesys returns it.
type raw struct {
	kind entity.Kind
	doc  map[string]any
}

// orgOf is a live org of the entities raws, canonicalised with n.
func orgOf(t testing.TB, n *live.Names, raws ...raw) *live.Org {
	t.Helper()
	var ents []*live.Entity
	for _, r := range raws {
		e, err := live.NewEntity(r.kind, r.doc, n)
		if err != nil {
			t.Fatal(err)
		}
		ents = append(ents, e)
	}
	return live.NewOrg(n, ents...)
}
