package genesys

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// members holds every JSON member of an object exactly as the server sent it.
//
// Models embed it (as an unexported field) so that json.Marshal of a decoded
// value re-emits every member the server sent, including the ones this package
// does not model: the live API is ahead of every SDK (docs/genesys-api.md, header),
// and a queue PUT is a full replace, so dropping an unknown member would reset
// it on the server.
type members map[string]json.RawMessage

// field describes one modelled (typed) member of a struct.
type field struct {
	name      string
	index     int
	omitEmpty bool
}

var fieldCache sync.Map // reflect.Type -> []field

func fieldsOf(t reflect.Type) []field {
	if v, ok := fieldCache.Load(t); ok {
		return v.([]field)
	}
	var fs []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		fs = append(fs, field{name: name, index: i, omitEmpty: strings.Contains(opts, "omitempty")})
	}
	fieldCache.Store(t, fs)
	return fs
}

// decodeObject decodes b into v (a pointer to a struct without its own
// UnmarshalJSON) and records every member of b in *raw.
//
// Decoding is lenient and member by member: a member whose JSON does not fit
// its Go field (the API changed a type, or an SDK was wrong) leaves that field
// at its zero value instead of failing the response or the members after it;
// the member is still kept in *raw and re-emitted unchanged by encodeObject.
// Member names match exactly.
func decodeObject(b []byte, v any, raw *members) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	var m members
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*raw = m
	rv := reflect.ValueOf(v).Elem()
	// Fast path: the whole object fits the struct and no member name differs
	// from a modelled one only in case (encoding/json would fill the field
	// from it, and the member would then be emitted twice).
	if !caseVariant(rv.Type(), m) {
		if err := json.Unmarshal(b, v); err == nil {
			return nil
		}
	}
	rv.SetZero() // also clears the members field *raw points into
	*raw = m
	for _, f := range fieldsOf(rv.Type()) {
		member, ok := m[f.name]
		if !ok {
			continue
		}
		fv := rv.Field(f.index)
		if err := json.Unmarshal(member, fv.Addr().Interface()); err != nil {
			fv.SetZero()
		}
	}
	return nil
}

// encodeObject encodes v (a struct value without its own MarshalJSON) merged
// with raw, the members it was decoded from:
//
//   - members the struct does not model are emitted exactly as received;
//   - a modelled member whose typed value still equals what was received is
//     emitted exactly as received (so `null`, `""` and `0` survive as sent);
//   - a modelled member the caller changed is emitted from the typed value,
//     even when that value is empty (the server sent the member, so the
//     change must reach it);
//   - a modelled member that was not received follows its omitempty tag.
func encodeObject(v any, raw members) ([]byte, error) {
	rv := reflect.ValueOf(v)
	out := make(map[string]json.RawMessage, len(raw)+8)
	for k, m := range raw {
		out[k] = m
	}
	for _, f := range fieldsOf(rv.Type()) {
		cur := rv.Field(f.index)
		if received, ok := raw[f.name]; ok {
			orig := reflect.New(cur.Type())
			err := json.Unmarshal(received, orig.Interface())
			if err != nil && cur.IsZero() {
				continue // undecodable member the caller did not set: keep it as sent
			}
			if err == nil && reflect.DeepEqual(orig.Elem().Interface(), cur.Interface()) {
				continue // unchanged: keep the exact bytes received
			}
		} else if f.omitEmpty && isEmptyValue(cur) {
			continue
		}
		b, err := json.Marshal(cur.Interface())
		if err != nil {
			return nil, fmt.Errorf("encode member %q: %w", f.name, err)
		}
		out[f.name] = b
	}
	return json.Marshal(out)
}

var foldCache sync.Map // reflect.Type -> map[string]string (lower-case name -> name)

// caseVariant reports whether m has a member that t does not model exactly but
// matches a modelled name case-insensitively.
func caseVariant(t reflect.Type, m members) bool {
	v, ok := foldCache.Load(t)
	if !ok {
		fold := make(map[string]string)
		for _, f := range fieldsOf(t) {
			fold[strings.ToLower(f.name)] = f.name
		}
		v, _ = foldCache.LoadOrStore(t, fold)
	}
	fold := v.(map[string]string)
	for k := range m {
		if name, ok := fold[strings.ToLower(k)]; ok && name != k {
			return true
		}
	}
	return false
}

// isEmptyValue reports whether encoding/json's omitempty would drop v.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}
