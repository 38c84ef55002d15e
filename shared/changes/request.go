package changes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// SchemaV1 is the schema of the message this package writes.
const SchemaV1 = "routekeeper.change/v1"

// SupportedSchemas lists the schemas Decode accepts, oldest first.
var SupportedSchemas = []string{SchemaV1}

// MaxMessageBytes bounds an encoded change request: the SQS message limit
// routekeeper designs for (256 KiB). A larger body is rejected by Decode and
// never produced by Encode.
const MaxMessageBytes = 256 * 1024

// Limits of individual fields. SQS caps MessageDeduplicationId at 128
// characters; the rest keep a record readable in a DynamoDB item and a log line.
const (
	maxChangeIDLen    = 128
	maxEnvironmentLen = 64 // as shared/routing's environment pattern
	maxNameLen        = 256
	maxReasonLen      = 1024
	maxRequestedByLen = 256
)

// Operation is what a change does to its entity.
type Operation string

// Operations.
const (
	OpCreate Operation = "create"
	OpUpdate Operation = "update"
	OpDelete Operation = "delete"
)

var operations = []Operation{OpCreate, OpUpdate, OpDelete}

// Entity names the target of a change. Name is its identity within an
// environment; ID is an optional hint (the id last seen in that org) that
// saves the apply Lambda a lookup by name.
type Entity struct {
	Type entity.Kind `json:"type"`
	Name string      `json:"name"`
	ID   string      `json:"id,omitempty"`
}

// Request is one change request: the body of one SQS message.
type Request struct {
	Schema      string    `json:"schema"`
	ChangeID    string    `json:"changeId"`
	Environment string    `json:"environment"`
	Entity      Entity    `json:"entity"`
	Operation   Operation `json:"operation"`
	// Desired holds the managed fields as a generic JSON tree (numbers as
	// json.Number), the form shared/document diffs and merges. References are by
	// name. Nil for delete.
	Desired     map[string]any `json:"desired,omitempty"`
	BaseEtag    string         `json:"baseEtag,omitempty"`
	Reason      string         `json:"reason"`
	RequestedBy string         `json:"requestedBy"`
	CreatedAt   time.Time      `json:"createdAt"`
}

// ErrInvalid is matched (errors.Is) by every error about a malformed or
// invalid change request. Such a request can never succeed: the apply Lambda
// marks it REJECTED instead of retrying it.
var ErrInvalid = errors.New("changes: invalid change request")

// Problem is one thing wrong with a change request.
type Problem struct {
	Field   string // JSON path of the field, e.g. "entity.type"; empty for the message as a whole
	Message string // what is wrong and what is allowed
}

func (p Problem) String() string {
	if p.Field == "" {
		return p.Message
	}
	return p.Field + ": " + p.Message
}

// InvalidError lists everything wrong with a change request.
type InvalidError struct {
	ChangeID string // the changeId if it could be read, so the record can be marked
	Problems []Problem
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	b.WriteString("invalid change request")
	if e.ChangeID != "" {
		fmt.Fprintf(&b, " %q", e.ChangeID)
	}
	b.WriteString(": ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Permanent reports true: an invalid request never becomes valid (shared/retry).
func (e *InvalidError) Permanent() bool { return true }

// Decode parses and validates one change request body. Every failure is an
// *InvalidError (errors.Is(err, ErrInvalid)).
func Decode(body []byte) (*Request, error) {
	if len(body) > MaxMessageBytes {
		return nil, &InvalidError{Problems: []Problem{{Message: fmt.Sprintf(
			"message is %d bytes; the limit is %d (SQS message size)", len(body), MaxMessageBytes)}}}
	}
	if err := checkStructure(body); err != nil {
		if ie, ok := errors.AsType[*InvalidError](err); ok && ie.ChangeID == "" {
			ie.ChangeID = readableChangeID(body)
		}
		return nil, err
	}
	var w wireRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields() // checkStructure already did, case-sensitively; kept as a backstop
	if err := dec.Decode(&w); err != nil {
		return nil, &InvalidError{Problems: []Problem{jsonProblem(err)}}
	}
	req := &Request{
		Schema:      w.Schema,
		ChangeID:    w.ChangeID,
		Environment: w.Environment,
		Operation:   w.Operation,
		Desired:     w.Desired,
		BaseEtag:    w.BaseEtag,
		Reason:      w.Reason,
		RequestedBy: w.RequestedBy,
	}
	if w.Entity != nil {
		req.Entity = *w.Entity
	}
	var problems []Problem
	if w.Schema != "" && !slices.Contains(SupportedSchemas, w.Schema) {
		// Checked first and alone: the rest of a message of another version
		// means something else, so other complaints would mislead.
		return nil, &InvalidError{ChangeID: printableID(w.ChangeID), Problems: []Problem{{Field: "schema", Message: fmt.Sprintf(
			"unsupported version %q; this build reads %s (upgrade the apply function to read newer messages)",
			w.Schema, strings.Join(SupportedSchemas, ", "))}}}
	}
	if w.Entity == nil {
		problems = append(problems, Problem{Field: "entity", Message: "required: {\"type\": ..., \"name\": ...}"})
	}
	createdAtOK := false
	if w.CreatedAt != nil && *w.CreatedAt != "" {
		t, err := time.Parse(time.RFC3339, *w.CreatedAt)
		if err != nil {
			problems = append(problems, Problem{Field: "createdAt", Message: fmt.Sprintf(
				"%q is not an RFC 3339 time (e.g. 2025-01-02T03:04:05Z)", truncate(*w.CreatedAt, 80))})
		} else {
			req.CreatedAt = t
			createdAtOK = true
		}
	}
	// A createdAt that failed to parse was reported above; an absent one is
	// reported by check as required.
	problems = append(problems, req.check(w.Entity != nil, createdAtOK || w.CreatedAt == nil || *w.CreatedAt == "")...)
	if len(problems) > 0 {
		return nil, &InvalidError{ChangeID: printableID(w.ChangeID), Problems: sortProblems(problems)}
	}
	return req, nil
}

// Encode validates r and returns its JSON body. An empty Schema is written as
// SchemaV1; CreatedAt is written in UTC.
func Encode(r *Request) ([]byte, error) {
	if r == nil {
		return nil, &InvalidError{Problems: []Problem{{Message: "nil request"}}}
	}
	c := *r
	if c.Schema == "" {
		c.Schema = SchemaV1
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.CreatedAt = c.CreatedAt.UTC()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&c); err != nil {
		return nil, &InvalidError{ChangeID: c.ChangeID, Problems: []Problem{{Field: "desired", Message: "not encodable as JSON: " + err.Error()}}}
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(body) > MaxMessageBytes {
		return nil, &InvalidError{ChangeID: c.ChangeID, Problems: []Problem{{Field: "desired", Message: fmt.Sprintf(
			"encoded message is %d bytes; the limit is %d (SQS message size): split the change", len(body), MaxMessageBytes)}}}
	}
	return body, nil
}

// Validate checks every rule of the schema; it returns an *InvalidError
// listing all problems, or nil. Schema must be a supported version.
func (r *Request) Validate() error {
	if problems := r.check(true, true); len(problems) > 0 {
		return &InvalidError{ChangeID: printableID(r.ChangeID), Problems: sortProblems(problems)}
	}
	return nil
}

// check applies every rule to r. hasEntity is false when a decoded message had
// no entity object, checkCreatedAt false when its createdAt did not parse
// (Decode reports both itself).
func (r *Request) check(hasEntity, checkCreatedAt bool) []Problem {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}

	switch {
	case r.Schema == "":
		add("schema", "required (%s)", SchemaV1)
	case !slices.Contains(SupportedSchemas, r.Schema):
		add("schema", "unsupported version %q; supported: %s", r.Schema, strings.Join(SupportedSchemas, ", "))
	}

	switch {
	case r.ChangeID == "":
		add("changeId", "required (see NewChangeID)")
	case len(r.ChangeID) > maxChangeIDLen:
		add("changeId", "%d characters; at most %d (SQS MessageDeduplicationId)", len(r.ChangeID), maxChangeIDLen)
	case !sqsIDChars(r.ChangeID):
		add("changeId", "only ASCII letters, digits and punctuation are allowed, no spaces (SQS MessageDeduplicationId)")
	}

	switch {
	case r.Environment == "":
		add("environment", "required (e.g. prod)")
	case len(r.Environment) > maxEnvironmentLen || !environmentRE.MatchString(r.Environment):
		add("environment", "%q must be lower-case letters, digits and '-', starting with a letter or digit, at most %d characters",
			r.Environment, maxEnvironmentLen)
	}

	if hasEntity {
		switch {
		case r.Entity.Type == "":
			add("entity.type", "required: one of %s", joinQuoted(entity.Kinds))
		case !r.Entity.Type.Managed():
			add("entity.type", "must be one of %s, got %q", joinQuoted(entity.Kinds), r.Entity.Type)
		}
		if msg := nameProblem(r.Entity.Name); msg != "" {
			add("entity.name", "%s", msg)
		}
		if r.Entity.ID != "" && !uuidRE.MatchString(r.Entity.ID) {
			add("entity.id", "%q is not a Genesys id (lower-case UUID such as 3b9a1c2e-4f5d-4a6b-8c7d-9e0f1a2b3c4d)", r.Entity.ID)
		}
	}

	switch {
	case r.Operation == "":
		add("operation", "required: one of %s", joinQuoted(operations))
	case !slices.Contains(operations, r.Operation):
		add("operation", "must be one of %s, got %q", joinQuoted(operations), r.Operation)
	}

	switch r.Operation {
	case OpCreate:
		if r.BaseEtag != "" {
			add("baseEtag", "must be absent for create (there is no existing entity to be based on)")
		}
		if r.Entity.ID != "" {
			add("entity.id", "must be absent for create (the entity does not exist yet)")
		}
		ps = append(ps, desiredProblems(r.Desired, r.Entity.Name, false)...)
	case OpUpdate:
		ps = append(ps, etagProblems(r.BaseEtag, r.Operation)...)
		// Genesys names are unique regardless of case, so the plan renames a queue or a
		// worktype whose declared name differs from the live one only in case (skills
		// cannot be renamed: the plan reports those as conflicts and sends nothing).
		ps = append(ps, desiredProblems(r.Desired, r.Entity.Name, r.Entity.Type != entity.Skill)...)
	case OpDelete:
		ps = append(ps, etagProblems(r.BaseEtag, r.Operation)...)
		if len(r.Desired) > 0 {
			add("desired", "must be absent for delete")
		}
	}

	if msg := textProblem(r.Reason, maxReasonLen, "why the change is made, e.g. the plan and commit"); msg != "" {
		add("reason", "%s", msg)
	}
	if msg := textProblem(r.RequestedBy, maxRequestedByLen, "who or what asked for the change"); msg != "" {
		add("requestedBy", "%s", msg)
	}

	if checkCreatedAt {
		switch y := r.CreatedAt.UTC().Year(); { // written in UTC
		case r.CreatedAt.IsZero():
			add("createdAt", "required (RFC 3339 time, e.g. 2025-01-02T03:04:05Z)")
		case y < 0 || y > 9999:
			add("createdAt", "year %d has no RFC 3339 form", y)
		}
	}
	return ps
}

func textProblem(s string, max int, what string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "required (" + what + ")"
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("%d characters; at most %d", utf8.RuneCountInString(s), max)
	}
	return ""
}

var (
	environmentRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	uuidRE        = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	etagRE        = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

func etagProblems(etag string, op Operation) []Problem {
	switch {
	case etag == "":
		return []Problem{{Field: "baseEtag", Message: fmt.Sprintf(
			"required for %s (the ETag the change was planned against, sha256:<64 hex>)", op)}}
	case !etagRE.MatchString(etag):
		return []Problem{{Field: "baseEtag", Message: fmt.Sprintf(
			"%q is not an ETag: want \"sha256:\" and 64 lower-case hex digits", truncate(etag, 80))}}
	}
	return nil
}

// desiredProblems checks desired for create and update. caseRename allows a desired name
// that differs from entity.name only in case (an update renaming a queue or worktype).
func desiredProblems(desired map[string]any, name string, caseRename bool) []Problem {
	if len(desired) == 0 {
		return []Problem{{Field: "desired", Message: "required: a JSON object with the managed fields"}}
	}
	var ps []Problem
	if _, ok := desired["id"]; ok {
		ps = append(ps, Problem{Field: "desired.id", Message: "ids do not belong in desired (it refers by name); put the entity id in entity.id"})
	}
	if n, ok := desired["name"]; ok {
		s, isString := n.(string)
		switch {
		case isString && s == name:
		case isString && caseRename && strings.EqualFold(s, name):
		case caseRename:
			ps = append(ps, Problem{Field: "desired.name", Message: "must equal entity.name, or differ from it only in case, when present (any other rename is a delete and a create)"})
		default:
			ps = append(ps, Problem{Field: "desired.name", Message: "must equal entity.name when present (a rename is a delete and a create)"})
		}
	}
	return ps
}

func nameProblem(name string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "required (the entity's name in Genesys)"
	case utf8.RuneCountInString(name) > maxNameLen:
		return fmt.Sprintf("%d characters; at most %d", utf8.RuneCountInString(name), maxNameLen)
	case !utf8.ValidString(name):
		return "not valid UTF-8"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "contains a control character"
	}
	return ""
}

// sqsIDChars reports whether s uses only the characters SQS allows in
// MessageGroupId and MessageDeduplicationId: ASCII letters, digits and
// punctuation (0x21..0x7E).
func sqsIDChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// printableID returns id for use in an error if it is a plausible change id.
func printableID(id string) string {
	if id == "" || len(id) > maxChangeIDLen || !sqsIDChars(id) {
		return ""
	}
	return id
}

func joinQuoted[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// fieldOrder is the order problems are reported in: the order of the wire format.
var fieldOrder = []string{"", "schema", "changeId", "environment", "entity", "entity.type", "entity.name", "entity.id",
	"operation", "desired", "baseEtag", "reason", "requestedBy", "createdAt"}

func sortProblems(ps []Problem) []Problem {
	rank := func(f string) int {
		if i := slices.Index(fieldOrder, f); i >= 0 {
			return i
		}
		for i := len(fieldOrder) - 1; i >= 0; i-- { // desired.x sorts with desired
			if fieldOrder[i] != "" && strings.HasPrefix(f, fieldOrder[i]+".") {
				return i
			}
		}
		return len(fieldOrder)
	}
	slices.SortStableFunc(ps, func(a, b Problem) int { return rank(a.Field) - rank(b.Field) })
	return ps
}

// wireRequest is the decoding target: pointers and strings where Request has
// richer types, so absence and malformed values get their own messages.
type wireRequest struct {
	Schema      string         `json:"schema"`
	ChangeID    string         `json:"changeId"`
	Environment string         `json:"environment"`
	Entity      *Entity        `json:"entity"`
	Operation   Operation      `json:"operation"`
	Desired     map[string]any `json:"desired"`
	BaseEtag    string         `json:"baseEtag"`
	Reason      string         `json:"reason"`
	RequestedBy string         `json:"requestedBy"`
	CreatedAt   *string        `json:"createdAt"`
}

var (
	topKeys    = []string{"schema", "changeId", "environment", "entity", "operation", "desired", "baseEtag", "reason", "requestedBy", "createdAt"}
	entityKeys = []string{"type", "name", "id"}
)

// checkStructure walks the JSON tokens of body and rejects what encoding/json
// would let through: trailing data, duplicate keys (at any depth), and keys of
// the message or its entity that are unknown or differ only in case from a
// known one (encoding/json matches field names case-insensitively).
func checkStructure(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	fail := func(field, format string, args ...any) error {
		return &InvalidError{Problems: []Problem{{Field: field, Message: fmt.Sprintf(format, args...)}}}
	}
	tok, err := dec.Token()
	if err == io.EOF {
		return fail("", "empty message: want a JSON object")
	}
	if err != nil {
		return syntaxProblem(dec, "", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fail("", "want a JSON object, got %s", describeToken(tok))
	}
	if err := walkObject(dec, "", 1); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail("", "unexpected data after the JSON object: a message holds exactly one JSON value")
	}
	return nil
}

// syntaxProblem says that the message body is not valid JSON, why and where: the byte
// offset and the member the decoder was inside. It is a problem of the whole body
// (Field ""), not of that member.
func syntaxProblem(dec *json.Decoder, path string, err error) error {
	why := err.Error()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		why = "it ends before the JSON is complete (truncated?)"
	}
	where := fmt.Sprintf("at byte %d", dec.InputOffset())
	if path != "" {
		where += ", inside " + path
	}
	return &InvalidError{Problems: []Problem{{Message: fmt.Sprintf("the message body is not valid JSON: %s (%s)", why, where)}}}
}

// readableChangeID is the changeId of a body that is valid JSON but not a valid request
// (an unknown or duplicate member), so its rejection is recorded under the id the sender
// will look for; "" when the body is not a JSON object or the id is missing or unusable.
func readableChangeID(body []byte) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return ""
	}
	var id string
	if json.Unmarshal(top["changeId"], &id) != nil {
		return ""
	}
	return printableID(id)
}

// maxDepth bounds nesting so a hostile body cannot exhaust the stack.
const maxDepth = 64

// walkObject consumes an object whose '{' was read. path is its JSON path.
func walkObject(dec *json.Decoder, path string, depth int) error {
	if depth > maxDepth {
		return &InvalidError{Problems: []Problem{{Field: path, Message: fmt.Sprintf("nested deeper than %d levels", maxDepth)}}}
	}
	seen := map[string]bool{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return syntaxProblem(dec, path, err)
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return nil
		}
		key := tok.(string) // the decoder guarantees a string key here
		field := joinPath(path, key)
		if seen[key] {
			return &InvalidError{Problems: []Problem{{Field: field, Message: "duplicate key"}}}
		}
		seen[key] = true
		var known []string
		switch path {
		case "":
			known = topKeys
		case "entity":
			known = entityKeys
		}
		if known != nil && !slices.Contains(known, key) {
			msg := "unknown field"
			for _, k := range known {
				if strings.EqualFold(k, key) {
					msg = fmt.Sprintf("unknown field (field names are case-sensitive: did you mean %q?)", k)
				}
			}
			return &InvalidError{Problems: []Problem{{Field: field, Message: msg}}}
		}
		if err := walkValue(dec, field, depth); err != nil {
			return err
		}
	}
}

func walkValue(dec *json.Decoder, path string, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return syntaxProblem(dec, path, err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		return walkObject(dec, path, depth+1)
	case '[':
		for i := 0; dec.More(); i++ {
			if depth+1 > maxDepth {
				return &InvalidError{Problems: []Problem{{Field: path, Message: fmt.Sprintf("nested deeper than %d levels", maxDepth)}}}
			}
			if err := walkValue(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return syntaxProblem(dec, path, err)
		}
	}
	return nil
}

func joinPath(path, key string) string {
	plain := key != ""
	for _, r := range key {
		if !(r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			plain = false
			break
		}
	}
	if !plain {
		q, _ := json.Marshal(key)
		return path + "[" + string(q) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return string(v)
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// jsonProblem turns an encoding/json error into a Problem naming the field.
func jsonProblem(err error) Problem {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := "a string"
		switch te.Type.Kind().String() {
		case "map", "struct", "ptr":
			want = "a JSON object"
		}
		if te.Field == "createdAt" {
			want = "a string (RFC 3339 time)"
		}
		return Problem{Field: te.Field, Message: fmt.Sprintf("must be %s, got %s", want, jsonKind(te.Value))}
	}
	return Problem{Message: "not a valid change request: " + err.Error()}
}

func jsonKind(v string) string {
	switch v {
	case "string":
		return "a string"
	case "number":
		return "a number"
	case "bool":
		return "a boolean"
	case "array":
		return "an array"
	case "object":
		return "an object"
	}
	return v
}
