package routing

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrInvalid is matched (errors.Is) by every *ValidationError: the config was read but is
// not valid. Any other error from Load is an I/O or usage problem.
var ErrInvalid = errors.New("routing: invalid config")

// Rule identifies the check a Diagnostic comes from. The values are stable: SARIF output
// uses them as rule ids and scripts may branch on them.
type Rule string

// The checks Load and Validate perform.
const (
	RuleSyntax        Rule = "syntax"            // YAML syntax, duplicate keys, tabs, unsupported YAML features
	RuleSchema        Rule = "schema"            // JSON Schema: unknown fields, types, enums, bounds, required fields
	RuleMerge         Rule = "merge"             // files of one config disagree on apiVersion/environment, or none declares apiVersion
	RuleName          Rule = "name"              // a name is blank
	RuleDuplicate     Rule = "duplicate"         // a name is declared twice within one kind
	RuleReference     Rule = "reference"         // a reference by name does not resolve within the config
	RuleAcw           Rule = "acw"               // acwSettings.timeoutMs without a timeout prompt
	RuleOverflow      Rule = "overflow"          // overflowQueue/maxCapacity pairing, overflow to the rule's own queue, the hysteresis fields
	RuleRulePerType   Rule = "rule-per-worktype" // more than one assignment rule for a worktype
	RuleContradiction Rule = "contradiction"     // an assignment rule contradicts a value set on its worktype
)

// Description says what a rule checks, for SARIF rule metadata and help text.
func (r Rule) Description() string {
	switch r {
	case RuleSyntax:
		return "The file is well-formed YAML: no tabs in indentation, no duplicate keys, no merge keys or custom tags."
	case RuleSchema:
		return "The document matches the routekeeper/v1 JSON Schema: known fields only, right types, exact (case-sensitive) enum values, values within bounds."
	case RuleMerge:
		return "All files of one config agree on apiVersion and environment, and at least one declares apiVersion."
	case RuleName:
		return "Names are not blank. (Leading and trailing spaces are allowed, as Genesys stores them; YAML keeps them only in quoted strings.)"
	case RuleDuplicate:
		return "Names are unique per kind (compared case-insensitively), within a file and across the files of a config."
	case RuleReference:
		return "Every reference by name (skills, queues, worktypes, and workbins/divisions when listed) resolves within the config."
	case RuleAcw:
		return "acwSettings.timeoutMs is not declared with a wrapupPrompt other than AGENT_REQUESTED, MANDATORY_TIMEOUT or MANDATORY_FORCED_TIMEOUT."
	case RuleOverflow:
		return "An assignment rule's overflowQueue and maxCapacity come together, the overflow queue differs from the rule's queue, overflowAfter, resumeBelow, resumeAfter and minDwellSeconds come with an overflow, and resumeBelow is below maxCapacity."
	case RuleRulePerType:
		return "At most one assignment rule per worktype."
	case RuleContradiction:
		return "An assignment rule does not contradict the defaultQueue, defaultSkills or defaultPriority set directly on its worktype."
	}
	return string(r)
}

// Rules lists every Rule, in a stable order.
func Rules() []Rule {
	return []Rule{RuleSyntax, RuleSchema, RuleMerge, RuleName, RuleDuplicate, RuleReference,
		RuleAcw, RuleOverflow, RuleRulePerType, RuleContradiction}
}

// Diagnostic is one problem in a config. Line and Column are 1-based; they are 0 when the
// config was built in code rather than loaded from a file.
type Diagnostic struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Path    string `json:"path"`
	Rule    Rule   `json:"rule"`
	Message string `json:"message"`
}

// String formats d as "file:line:column: path: message" (as compilers do, so editors
// and terminals jump to it), leaving out what is unknown.
func (d Diagnostic) String() string {
	var b strings.Builder
	if d.File != "" {
		b.WriteString(d.File)
		if d.Line > 0 {
			b.WriteString(":" + strconv.Itoa(d.Line))
			if d.Column > 0 {
				b.WriteString(":" + strconv.Itoa(d.Column))
			}
		}
		b.WriteString(": ")
	}
	if d.Path != "" {
		b.WriteString(d.Path + ": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// ValidationError is the error Load, Validate and Compile return for an invalid config.
// It holds every problem found, sorted by file, line, column and path.
type ValidationError struct {
	Diagnostics []Diagnostic
}

func (e *ValidationError) Error() string {
	switch len(e.Diagnostics) {
	case 0:
		return "invalid config"
	case 1:
		return e.Diagnostics[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(e.Diagnostics))
	for _, d := range e.Diagnostics {
		b.WriteString("\n  " + d.String())
	}
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// sortDiagnostics orders diagnostics for stable output and removes exact duplicates.
func sortDiagnostics(ds []Diagnostic) []Diagnostic {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		if a.Column != b.Column {
			return a.Column - b.Column
		}
		return strings.Compare(a.Path, b.Path)
	})
	return slices.Compact(ds)
}

// path is a location inside a document: string segments are object keys, int segments
// are array indexes.
type path []any

// index returns p's segment i as an array index.
func (p path) index(i int) (int, bool) {
	if i >= len(p) {
		return 0, false
	}
	n, ok := p[i].(int)
	return n, ok
}

func (p path) with(segs ...any) path {
	q := make(path, 0, len(p)+len(segs))
	return append(append(q, p...), segs...)
}

// String renders p as a JSON path such as queues[3].mediaSettings.message.
func (p path) String() string {
	var b strings.Builder
	for _, s := range p {
		switch s := s.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(s) + "]")
		case string:
			if isIdent(s) {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(s)
			} else {
				b.WriteString("[" + strconv.Quote(s) + "]")
			}
		}
	}
	return b.String()
}

// pointer renders p as a JSON Pointer (RFC 6901), the key of the position map.
func (p path) pointer() string {
	var b strings.Builder
	for _, s := range p {
		b.WriteByte('/')
		switch s := s.(type) {
		case int:
			b.WriteString(strconv.Itoa(s))
		case string:
			b.WriteString(pointerEscaper.Replace(s))
		}
	}
	return b.String()
}

// pointerEscaper escapes a JSON Pointer reference token (RFC 6901 section 3).
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}
