package document

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrInvalidValue is wrapped by every error about a value that has no
// canonical JSON form (NaN, an infinity, a malformed json.Number, a type
// encoding/json cannot encode).
var ErrInvalidValue = errors.New("document: value has no canonical JSON form")

// maxExponent bounds the decimal exponent of a number literal so that the
// arithmetic on it cannot overflow. No routing field comes near it.
const maxExponent = 1_000_000_000_000_000

// valueError locates an invalid value inside a document. Path segments are
// prepended while the error unwinds out of the recursion, so the happy path
// never builds a path.
type valueError struct {
	segs []string // innermost last
	msg  string
}

func (e *valueError) Error() string {
	p := joinPath(e.segs)
	if p == "" {
		p = "(document root)"
	}
	return fmt.Sprintf("%s: %s at %s", ErrInvalidValue, e.msg, p)
}

func (e *valueError) Unwrap() error { return ErrInvalidValue }

func (e *valueError) at(seg string) *valueError {
	e.segs = append([]string{seg}, e.segs...)
	return e
}

// Decode parses one JSON document the way routekeeper reads every document it
// compares: numbers as json.Number (exact), trailing data rejected. The
// document must be a JSON object.
func Decode(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("document: decode JSON document: %w", err)
	}
	if doc == nil {
		return nil, errors.New("document: decode JSON document: got null, want an object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("document: decode JSON document: unexpected data after the top-level object")
	}
	return doc, nil
}

// decodeAny is Decode for any JSON value; used to turn Go values that are not
// generic JSON trees into one.
func decodeAny(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// CanonicalJSON returns the canonical JSON encoding of v, defined in the
// package documentation: sorted keys, no insignificant whitespace, one normal
// form per number, no HTML escaping. Equal values have identical encodings.
func CanonicalJSON(v any) ([]byte, error) {
	buf := make([]byte, 0, 512)
	buf, err := appendCanonical(buf, v)
	if err != nil {
		return nil, err
	}
	return buf, nil
}

// ETag returns "sha256:" + the lower-case hex SHA-256 of CanonicalJSON(v).
func ETag(v any) (string, error) {
	b, err := CanonicalJSON(v)
	if err != nil {
		return "", fmt.Errorf("etag: %w", err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

func appendCanonical(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case bool:
		if x {
			return append(buf, "true"...), nil
		}
		return append(buf, "false"...), nil
	case string:
		return appendString(buf, x), nil
	case map[string]any:
		return appendObject(buf, x)
	case []any:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendCanonical(buf, e); err != nil {
				return nil, asValueError(err).at(indexSegment(i))
			}
		}
		return append(buf, ']'), nil
	}
	if s, ok, err := numberForm(v); ok {
		if err != nil {
			return nil, err
		}
		return append(buf, s...), nil
	}
	// Not a generic JSON tree (a spec struct, []string, map[string]int ...):
	// let encoding/json define its JSON, then canonicalise that.
	tree, err := toTree(v)
	if err != nil {
		return nil, err
	}
	return appendCanonical(buf, tree)
}

func appendObject(buf []byte, m map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(m))
	clean := true
	for k := range m {
		keys = append(keys, k)
		clean = clean && utf8.ValidString(k)
	}
	if !clean {
		return appendObjectSanitised(buf, m)
	}
	slices.Sort(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, k)
		buf = append(buf, ':')
		var err error
		if buf, err = appendCanonical(buf, m[k]); err != nil {
			return nil, asValueError(err).at(pathSegment(k))
		}
	}
	return append(buf, '}'), nil
}

// appendObjectSanitised handles the rare object with a key that is not valid
// UTF-8: keys are sorted by their written (U+FFFD-replaced) form, and two
// keys that become the same are an error rather than a duplicate key.
func appendObjectSanitised(buf []byte, m map[string]any) ([]byte, error) {
	type entry struct{ written, orig string }
	entries := make([]entry, 0, len(m))
	for k := range m {
		entries = append(entries, entry{sanitise(k), k})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.written, b.written) })
	buf = append(buf, '{')
	for i, e := range entries {
		if i > 0 {
			if entries[i-1].written == e.written {
				return nil, &valueError{msg: fmt.Sprintf("keys %q and %q are the same once invalid UTF-8 is replaced", entries[i-1].orig, e.orig)}
			}
			buf = append(buf, ',')
		}
		buf = appendString(buf, e.written)
		buf = append(buf, ':')
		var err error
		if buf, err = appendCanonical(buf, m[e.orig]); err != nil {
			return nil, asValueError(err).at(pathSegment(e.written))
		}
	}
	return append(buf, '}'), nil
}

// sanitise replaces each byte of invalid UTF-8 with U+FFFD, as encoding/json
// does when it encodes a string.
func sanitise(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

const hexDigits = "0123456789abcdef"

func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\t':
				buf = append(buf, '\\', 't')
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\f':
				buf = append(buf, '\\', 'f')
			case '\r':
				buf = append(buf, '\\', 'r')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, "\uFFFD"...)
			i++
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// numberForm reports whether v is a number and, if so, its canonical form.
func numberForm(v any) (string, bool, error) {
	var lit string
	switch x := v.(type) {
	case json.Number:
		lit = string(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", true, &valueError{msg: fmt.Sprintf("number %v", x)}
		}
		if x == math.Trunc(x) && math.Abs(x) < 1e21 {
			// Integral: 'f' gives the same digits without an exponent, which
			// normalNumber passes through untouched.
			lit = strconv.FormatFloat(x+0, 'f', -1, 64) // +0 turns -0 into 0
		} else {
			lit = strconv.FormatFloat(x, 'e', -1, 64)
		}
	case float32:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "", true, &valueError{msg: fmt.Sprintf("number %v", x)}
		}
		lit = strconv.FormatFloat(f, 'e', -1, 32)
	case int:
		lit = strconv.FormatInt(int64(x), 10)
	case int8:
		lit = strconv.FormatInt(int64(x), 10)
	case int16:
		lit = strconv.FormatInt(int64(x), 10)
	case int32:
		lit = strconv.FormatInt(int64(x), 10)
	case int64:
		lit = strconv.FormatInt(x, 10)
	case uint:
		lit = strconv.FormatUint(uint64(x), 10)
	case uint8:
		lit = strconv.FormatUint(uint64(x), 10)
	case uint16:
		lit = strconv.FormatUint(uint64(x), 10)
	case uint32:
		lit = strconv.FormatUint(uint64(x), 10)
	case uint64:
		lit = strconv.FormatUint(x, 10)
	default:
		return "", false, nil
	}
	s, err := normalNumber(lit)
	if err != nil {
		return "", true, &valueError{msg: err.Error()}
	}
	return s, true, nil
}

// normalNumber rewrites a JSON number literal (RFC 8259 grammar) into the
// canonical form described in the package documentation. It works on the
// decimal digits, so it is exact for every literal.
func normalNumber(lit string) (string, error) {
	if isPlainInteger(lit) {
		return lit, nil // already canonical: most numbers in routing documents
	}
	bad := func() (string, error) { return "", fmt.Errorf("number %q is not a JSON number", lit) }
	s := lit
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	// Integer part: 0 | [1-9][0-9]*
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || (s[0] == '0' && i > 1) {
		return bad()
	}
	intPart, s := s[:i], s[i:]
	frac := ""
	if strings.HasPrefix(s, ".") {
		s = s[1:]
		i = 0
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == 0 {
			return bad()
		}
		frac, s = s[:i], s[i:]
	}
	var exp int64
	if s != "" {
		if s[0] != 'e' && s[0] != 'E' {
			return bad()
		}
		s = s[1:]
		expNeg := false
		if s != "" && (s[0] == '+' || s[0] == '-') {
			expNeg, s = s[0] == '-', s[1:]
		}
		if s == "" {
			return bad()
		}
		for j := 0; j < len(s); j++ {
			if !isDigit(s[j]) {
				return bad()
			}
			exp = exp*10 + int64(s[j]-'0')
			if exp > maxExponent {
				return "", fmt.Errorf("number %q has an exponent beyond ±%d", lit, int64(maxExponent))
			}
		}
		if expNeg {
			exp = -exp
		}
	}

	digits := strings.TrimLeft(intPart+frac, "0")
	e := exp - int64(len(frac))
	if digits == "" {
		return "0", nil
	}
	trimmed := strings.TrimRight(digits, "0")
	e += int64(len(digits) - len(trimmed))
	digits = trimmed
	n := int64(len(digits))
	p := n + e
	// Bound the written exponent too, so that every canonical form parses
	// back (1000e999999999999999 would otherwise be written as 1e+10^15+2).
	if p-1 > maxExponent || p-1 < -maxExponent {
		return "", fmt.Errorf("number %q has an exponent beyond ±%d", lit, int64(maxExponent))
	}

	var b strings.Builder
	b.Grow(len(digits) + 24)
	if neg {
		b.WriteByte('-')
	}
	switch {
	case e >= 0 && p <= 21:
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", int(e)))
	case e < 0 && p > 0 && p <= 21:
		b.WriteString(digits[:p])
		b.WriteByte('.')
		b.WriteString(digits[p:])
	case p > -6 && p <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", int(-p)))
		b.WriteString(digits)
	default:
		b.WriteByte(digits[0])
		if n > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('e')
		if p-1 >= 0 {
			b.WriteByte('+')
		}
		b.WriteString(strconv.FormatInt(p-1, 10))
	}
	return b.String(), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isPlainInteger reports whether lit is an integer literal that is its own
// canonical form: optional '-', no leading zero, at most 21 digits, not -0.
func isPlainInteger(lit string) bool {
	d := strings.TrimPrefix(lit, "-")
	if d == "" || len(d) > 21 || (d[0] == '0' && (len(d) > 1 || len(lit) > 1)) {
		return false
	}
	for i := 0; i < len(d); i++ {
		if !isDigit(d[i]) {
			return false
		}
	}
	return true
}

func asValueError(err error) *valueError {
	var ve *valueError
	if errors.As(err, &ve) {
		return ve
	}
	return &valueError{msg: err.Error()}
}

// toTree turns any Go value into a generic JSON tree through encoding/json.
func toTree(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &valueError{msg: fmt.Sprintf("encode %T: %v", v, err)}
	}
	t, err := decodeAny(b)
	if err != nil {
		return nil, &valueError{msg: fmt.Sprintf("decode encoded %T: %v", v, err)}
	}
	return t, nil
}

// normalize returns a deep copy of v as a generic JSON tree whose numbers are
// json.Number in canonical form, so that structural comparison (and
// jsondiff) sees 30 and 30.0 as the same value.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool:
		return x, nil
	case string:
		return sanitise(x), nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, asValueError(err).at(pathSegment(k))
			}
			out[sanitise(k)] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, asValueError(err).at(indexSegment(i))
			}
			out[i] = n
		}
		return out, nil
	}
	if s, ok, err := numberForm(v); ok {
		if err != nil {
			return nil, err
		}
		return json.Number(s), nil
	}
	tree, err := toTree(v)
	if err != nil {
		return nil, err
	}
	return normalize(tree)
}

// Equal reports whether a and b are the same JSON value: numbers compare by
// value (json.Number("30"), 30.0 and int(30) are equal), objects by their
// key/value pairs, arrays element by element in order. A value without a
// JSON form (NaN, a channel) is equal to nothing, not even itself.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && sanitise(x) == sanitise(y)
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			break
		}
		if len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !Equal(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok {
			break
		}
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	if xs, ok, err := numberForm(a); ok {
		ys, ok2, err2 := numberForm(b)
		return ok2 && err == nil && err2 == nil && xs == ys
	}
	// Mixed or non-tree types: compare canonical encodings.
	ca, err := CanonicalJSON(a)
	if err != nil {
		return false
	}
	cb, err := CanonicalJSON(b)
	return err == nil && bytes.Equal(ca, cb)
}

// SortSet sorts an array that represents an unordered set into canonical
// order, in place: by the canonical JSON of each element (for strings this
// is their natural order apart from escaped characters). It works for any
// element type; use SortSetBy to order objects by a meaningful key.
// Duplicates are kept: removing them would change the document.
func SortSet(values []any) error {
	return sortByKeys(values, func(v any) (string, error) { return "", nil })
}

// SortSetBy sorts an array of objects in place by the value of key in each
// object (compared as canonical JSON, so numbers order as their canonical
// text), breaking ties by each element's whole canonical JSON. Elements that
// are not objects or lack the key sort first, then elements whose key holds
// a non-string value, then string values in byte order.
func SortSetBy(values []any, key string) error {
	return sortByKeys(values, func(v any) (string, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return "", nil
		}
		kv, ok := m[key]
		if !ok {
			return "", nil
		}
		if s, ok := kv.(string); ok {
			// Strings order by their value, not their quoted form.
			return "s" + sanitise(s), nil
		}
		b, err := CanonicalJSON(kv)
		return "j" + string(b), err
	})
}

func sortByKeys(values []any, primary func(any) (string, error)) error {
	type item struct {
		primary, whole string
		v              any
	}
	items := make([]item, len(values))
	for i, v := range values {
		p, err := primary(v)
		if err != nil {
			return fmt.Errorf("sort set: element [%d]: %w", i, err)
		}
		w, err := CanonicalJSON(v)
		if err != nil {
			return fmt.Errorf("sort set: element [%d]: %w", i, err)
		}
		items[i] = item{p, string(w), v}
	}
	slices.SortStableFunc(items, func(a, b item) int {
		if c := strings.Compare(a.primary, b.primary); c != 0 {
			return c
		}
		return strings.Compare(a.whole, b.whole)
	})
	for i := range items {
		values[i] = items[i].v
	}
	return nil
}
