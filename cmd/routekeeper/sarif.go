package main

import (
	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// sarifRule is one rule of a SARIF run: its id and what a result of it means.
type sarifRule struct{ id, desc string }

// newSARIFRun starts routekeeper's run with rules; file, when given, is its artifact (the
// config the results are about).
func newSARIFRun(rules []sarifRule, file string) *sarif.Run {
	run := sarif.NewRunWithInformationURI("routekeeper", "https://github.com/routekeeper/routekeeper")
	for _, rule := range rules {
		run.AddRule(rule.id).WithDescription(rule.desc).WithName(rule.id)
	}
	if file != "" {
		run.AddDistinctArtifact(sarifURI(file))
	}
	return run
}

// addEntityResult adds a result of ruleID about the entity kind/name (at path inside it,
// "" for the entity), located at file:line, at file alone when line is 0, or only
// logically when file is "" (file is a path, as the config was named).
func addEntityResult(run *sarif.Run, level, ruleID, msg string, kind entity.Kind, name, path, file string, line int) {
	fqn := string(kind) + "/" + name
	if path != "" {
		fqn += "#" + path
	}
	loc := sarif.NewLocation().WithLogicalLocations([]*sarif.LogicalLocation{
		sarif.NewLogicalLocation().WithKind(string(kind)).WithName(name).WithFullyQualifiedName(fqn),
	})
	if file != "" {
		u := sarifURI(file)
		run.AddDistinctArtifact(u)
		pl := sarif.NewPhysicalLocation().WithArtifactLocation(sarif.NewSimpleArtifactLocation(u))
		if line > 0 {
			pl.WithRegion(sarif.NewSimpleRegion(line, line))
		}
		loc.WithPhysicalLocation(pl)
	}
	run.CreateResultForRule(ruleID).WithLevel(level).WithMessage(sarif.NewTextMessage(msg)).AddLocation(loc)
}
