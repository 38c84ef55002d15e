package routing

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"
	sjs "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:generate go test -run ^TestSchemaUpToDate$ -update .

// SchemaID is the $id of the routekeeper/v1 JSON Schema.
const SchemaID = "https://github.com/routekeeper/routekeeper/shared/routing/routekeeper.schema.json"

// SchemaPath is where the schema is committed in the repository, and SchemaURL where an
// editor fetches it from (the raw file on the main branch): export's modeline points at
// it, since the schema's $id is a name, not an address that serves the file. A config
// kept beside the schema can use a relative path instead (examples/routing does), or
// `routekeeper schema > routekeeper.schema.json` and $schema=./routekeeper.schema.json.
const (
	SchemaPath = "shared/routing/routekeeper.schema.json"
	SchemaURL  = "https://raw.githubusercontent.com/routekeeper/routekeeper/main/" + SchemaPath
)

//go:embed routekeeper.schema.json
var schemaJSON []byte

// Schema returns the committed JSON Schema of the config format (draft 2020-12). Editors
// use it through a "# yaml-language-server: $schema=..." comment; Load validates every
// document against it. A test keeps it equal to GenerateSchema's output.
func Schema() []byte { return bytes.Clone(schemaJSON) }

// GenerateSchema reflects the JSON Schema from the Go types. Descriptions come from the
// field comments in goSourceDir (the package directory; "" for none), which only exists
// where the source does: at `go generate` and test time, never at run time.
func GenerateSchema(goSourceDir string) ([]byte, error) {
	r := &jsonschema.Reflector{
		// Every optional field is omitempty/omitzero, so "required" means exactly the
		// fields a document cannot leave out. Unknown fields are errors
		// (AllowAdditionalProperties false is the default).
	}
	if goSourceDir != "" {
		if err := r.AddGoComments("github.com/routekeeper/routekeeper/shared/routing", goSourceDir); err != nil {
			return nil, fmt.Errorf("generate schema: read comments: %w", err)
		}
	}
	s := r.Reflect(&Config{})
	s.ID = SchemaID
	s.Title = "routekeeper routing config (" + APIVersion + ")"
	s.Description = "Genesys Cloud routing configuration declared in git: skills, queues, worktypes and assignment rules. References are by name."
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("generate schema: %w", err)
	}
	return append(out, '\n'), nil
}

type compiledSchema struct {
	schema *sjs.Schema            // the whole config
	defs   map[string]*sjs.Schema // $defs/<name>, for the elements of splitLists
	doc    any                    // the schema as JSON values, to list allowed fields in messages
}

var loadSchema = sync.OnceValues(func() (*compiledSchema, error) {
	doc, err := sjs.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	c := sjs.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	cs := &compiledSchema{schema: s, defs: map[string]*sjs.Schema{}, doc: doc}
	for _, def := range splitLists {
		if cs.defs[def], err = c.Compile(SchemaID + "#/$defs/" + def); err != nil {
			return nil, fmt.Errorf("embedded schema: %w", err)
		}
	}
	return cs, nil
})

// rootSchema selects the whole config's schema in schemaCheck; elementSchemas the schema
// of an element of each list of splitLists.
const rootSchema = ""

var elementSchemas = splitLists

// schemaDiagnostics validates v (JSON values) against the schema and turns every leaf
// error into a diagnostic located by diag.
func schemaDiagnostics(v any, diag func(Rule, path, string) Diagnostic) []Diagnostic {
	ds, _ := schemaCheck(rootSchema, v, diag)
	return ds
}

// schemaCheck validates v against the schema def (rootSchema, or a $defs name) and turns
// every leaf error into a diagnostic located by diag. cuts are the paths of the values the
// schema refuses (an unknown member, a value of the wrong type or out of bounds, an object
// missing a required member), relative to v.
func schemaCheck(def string, v any, diag func(Rule, path, string) Diagnostic) (out []Diagnostic, cuts []path) {
	cs, err := loadSchema()
	if err != nil {
		// The schema is embedded and tested; failing here is a build defect.
		panic(err)
	}
	schema := cs.schema
	if def != rootSchema {
		schema = cs.defs[def]
	}
	err = schema.Validate(v)
	if err == nil {
		return nil, nil
	}
	ve, ok := err.(*sjs.ValidationError)
	if !ok {
		return []Diagnostic{diag(RuleSchema, nil, err.Error())}, []path{{}}
	}
	var walk func(e *sjs.ValidationError)
	walk = func(e *sjs.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		p := instancePath(v, e.InstanceLocation)
		switch k := e.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			allowed := cs.allowedFields(e.SchemaURL)
			for _, prop := range k.Properties {
				msg := fmt.Sprintf("unknown field %q", prop)
				if s := suggest(prop, allowed); s != "" {
					msg += fmt.Sprintf(": did you mean %q?", s)
				} else if len(allowed) > 0 {
					msg += ": allowed fields are " + strings.Join(allowed, ", ")
				}
				out = append(out, diag(RuleSchema, p.with(prop), msg))
				cuts = append(cuts, p.with(prop))
			}
		case *kind.Required:
			for _, m := range k.Missing {
				out = append(out, diag(RuleSchema, p, fmt.Sprintf("missing required field %q", m)))
			}
			cuts = append(cuts, p)
		default:
			out = append(out, diag(RuleSchema, p, schemaMessage(e.ErrorKind)))
			cuts = append(cuts, p)
		}
	}
	walk(ve)
	return out, cuts
}

var printer = message.NewPrinter(language.English)

func schemaMessage(k sjs.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return fmt.Sprintf("wrong type: got %s, want %s", k.Got, strings.Join(k.Want, " or "))
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		return fmt.Sprintf("%s is not allowed: use one of %s (exact, case-sensitive)", display(k.Got), strings.Join(want, ", "))
	case *kind.Const:
		return fmt.Sprintf("%s is not allowed: use %v", display(k.Got), k.Want)
	case *kind.Minimum:
		return fmt.Sprintf("%s is below the minimum %s", ratString(k.Got), ratString(k.Want))
	case *kind.Maximum:
		return fmt.Sprintf("%s is above the maximum %s", ratString(k.Got), ratString(k.Want))
	case *kind.MinLength:
		return fmt.Sprintf("too short: %d characters, want at least %d", k.Got, k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("too long: %d characters, want at most %d", k.Got, k.Want)
	case *kind.MinItems:
		return fmt.Sprintf("too few items: %d, want at least %d", k.Got, k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("too many items: %d, want at most %d", k.Got, k.Want)
	case *kind.UniqueItems:
		return fmt.Sprintf("items [%d] and [%d] are equal: list each value once", k.Duplicates[0], k.Duplicates[1])
	case *kind.Pattern:
		return fmt.Sprintf("%q does not match the pattern %s", k.Got, k.Want)
	}
	return k.LocalizedString(printer)
}

func display(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return fmt.Sprint(f)
}

// allowedFields lists the properties of the object schema at schemaURL, sorted.
func (cs *compiledSchema) allowedFields(schemaURL string) []string {
	_, frag, _ := strings.Cut(schemaURL, "#")
	node := cs.doc
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = pointerUnescaper.Replace(tok)
		m, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = m[tok]
	}
	m, ok := node.(map[string]any)
	if !ok {
		return nil
	}
	props, ok := m["properties"].(map[string]any)
	if !ok {
		return nil
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

var pointerUnescaper = strings.NewReplacer("~1", "/", "~0", "~")

// suggest returns the allowed field that prop most likely meant: same letters ignoring
// case, dashes and underscores.
func suggest(prop string, allowed []string) string {
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "").Replace(s))
	}
	for _, a := range allowed {
		if norm(a) == norm(prop) {
			return a
		}
	}
	return ""
}

// instancePath converts a schema error's instance location into a path, using the value
// to tell array indexes from object keys.
func instancePath(v any, loc []string) path {
	p := make(path, 0, len(loc))
	for _, tok := range loc {
		switch node := v.(type) {
		case []any:
			var i int
			if _, err := fmt.Sscan(tok, &i); err == nil && i >= 0 && i < len(node) {
				p = append(p, i)
				v = node[i]
				continue
			}
			p = append(p, tok)
			v = nil
		case map[string]any:
			p = append(p, tok)
			v = node[tok]
		default:
			p = append(p, tok)
		}
	}
	return p
}

// toJSONValue turns a Go value into JSON values (numbers as json.Number) for validation.
func toJSONValue(x any) (any, error) {
	if x == nil || (reflect.ValueOf(x).Kind() == reflect.Pointer && reflect.ValueOf(x).IsNil()) {
		return nil, nil
	}
	raw, err := json.Marshal(x)
	if err != nil {
		return nil, err
	}
	return sjs.UnmarshalJSON(bytes.NewReader(raw))
}
