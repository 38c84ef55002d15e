// Package routing owns routekeeper's declared routing configuration: the Go types of the
// YAML format (apiVersion routekeeper/v1), its JSON Schema, the loader that maps every
// value back to a file, line and JSON path, the semantic validator, the compiler that turns
// a config into the desired state of each Genesys entity, and the canonical marshaller
// used when configs are written back out.
//
// # Format
//
// A config is one YAML (or JSON) file, or a directory whose *.yaml, *.yml and *.json files
// (not subdirectories) are merged. A file may hold several YAML documents separated by
// "---". Every document may carry apiVersion and environment; they must agree, and at
// least one document must declare apiVersion. Entities of each kind are concatenated;
// a name declared twice, in one file or across files, is an error.
//
//	apiVersion: routekeeper/v1
//	environment: prod
//	skills:
//	  - name: Claims
//	queues:
//	  - name: Claims Tasks
//	    skillEvaluationMethod: BEST
//	worktypes:
//	  - name: Claim
//	    defaultWorkbin: Claims Bin
//	assignmentRules:
//	  - name: vip-claims
//	    worktype: Claim
//	    queue: Claims Tasks
//	    priorityScore: 95
//
// Field names mirror the Genesys Cloud Platform API (Queue, WorktypeUpdate), but every
// reference to another object is by name, never by an org-specific id: a queue's
// division, a worktype's defaultQueue, defaultSkills, defaultWorkbin and defaultLanguage,
// bullseye skillsToRemove and conditional-group-routing queues. A reference may instead
// be written by id as "id:<id>" (IDPrefix), for an object that has no name the config can
// use (export writes it for a reference to a deleted skill or queue); such a reference is
// not checked offline.
//
// # Only declared fields are managed
//
// Every optional scalar is a pointer and every optional list is a slice tagged omitzero,
// so json.Marshal of a spec yields exactly the fields the file declared, explicit zero,
// false and empty-list values included. Fields a file leaves out are left alone on the live
// entity. The drift engine and apply rely on this: the JSON of a spec is the set of
// managed fields.
//
// # Workbins and divisions
//
// Workbins, divisions and languages are org objects that routekeeper does not create.
// A config may list the names it expects in the optional top-level workbins: and
// divisions: lists. When a list is present, every reference of that kind must resolve
// against it; when it is absent, those references are not checked here: checking them
// against the live org needs Genesys access and belongs to a later `validate --live`.
// Languages (worktype defaultLanguage) and member groups (conditional group routing) are
// never checked offline.
//
// # Errors
//
// Load and Validate report every problem they find, not only the first, as a
// *ValidationError holding Diagnostics; each names a file, a line and a JSON path such
// as queues[3].mediaSettings.message.alertingTimeoutSeconds. errors.Is(err, ErrInvalid)
// tells an invalid config apart from an I/O error. Syntax and schema problems are reported
// first; semantic checks (references, duplicates, rules) run only when every document
// passed them, so one mistake (a misspelt key) does not cascade into many.
//
// # Assignment rules
//
// Compile applies each assignment rule to its worktype: queue becomes defaultQueue,
// skills become defaultSkills and priorityScore becomes defaultPriority through
// PriorityFromScore. maxCapacity and overflowQueue are kept in Desired.Overflow for the
// occupancy function, with the hysteresis that decides when tasks overflow and come back:
// overflowAfter (samples at or above maxCapacity, default 2), resumeBelow (default 80 % of
// maxCapacity), resumeAfter (samples at or below resumeBelow, default 3) and
// minDwellSeconds (default 300). Like every duration of the format, minDwellSeconds is a
// whole number with its unit in the name (waitSeconds, timeoutMs). A rule that
// contradicts a value set directly on the worktype is an error.
package routing
