package routing

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// decodeStrict decodes JSON values (what the converter makes: map[string]any, []any,
// string, json.Number, bool, nil) into a Go value of the format, refusing unknown
// members, as encoding/json with DisallowUnknownFields would, but straight from the
// values: marshalling them to JSON text only to parse it again was a fifth of the
// loader's time and a third of its allocations on a 5,000-queue config.
//
// It knows only what the format's types hold (structs with json tags, embedded structs,
// pointers, slices, strings, bools and numbers); the schema has checked the values
// before, so an error here means the schema and the Go types disagree.
func decodeStrict(v any, into any) error {
	rv := reflect.ValueOf(into)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("decode into %T: not a pointer", into)
	}
	return decodeValue(v, rv.Elem())
}

// decodeValue decodes v into rv. Its errors name where, as a path built only once one
// happens (fieldError).
func decodeValue(v any, rv reflect.Value) error {
	if v == nil {
		// As encoding/json: null leaves a value alone and sets a pointer or slice to nil.
		switch rv.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			rv.SetZero()
		}
		return nil
	}
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		return decodeValue(v, rv.Elem())
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return mismatch(v, rv)
		}
		fields := structFields(rv.Type())
		for k, x := range obj {
			idx, ok := fields[k]
			if !ok {
				return fmt.Errorf("json: unknown field %q", k)
			}
			if err := decodeValue(x, fieldByIndex(rv, idx)); err != nil {
				return &fieldError{at: k, err: err}
			}
		}
		return nil
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return mismatch(v, rv)
		}
		s := reflect.MakeSlice(rv.Type(), len(arr), len(arr))
		for i, x := range arr {
			if err := decodeValue(x, s.Index(i)); err != nil {
				return &fieldError{at: "[" + strconv.Itoa(i) + "]", err: err}
			}
		}
		rv.Set(s)
		return nil
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return mismatch(v, rv)
		}
		rv.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return mismatch(v, rv)
		}
		rv.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return mismatch(v, rv)
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || rv.OverflowInt(i) {
			return mismatch(v, rv)
		}
		rv.SetInt(i)
		return nil
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			return mismatch(v, rv)
		}
		f, err := strconv.ParseFloat(string(n), rv.Type().Bits())
		if err != nil {
			return mismatch(v, rv)
		}
		rv.SetFloat(f)
		return nil
	}
	return fmt.Errorf("json: cannot decode into Go value of type %s", rv.Type())
}

// mismatch is the error of a value that rv's Go type cannot hold.
func mismatch(v any, rv reflect.Value) error {
	what := "value"
	switch v := v.(type) {
	case map[string]any:
		what = "object"
	case []any:
		what = "array"
	case string:
		what = "string"
	case bool:
		what = "bool"
	case json.Number:
		what = "number " + string(v)
	}
	return fmt.Errorf("json: cannot unmarshal %s into Go value of type %s", what, rv.Type())
}

// fieldError is an error of decodeStrict inside a member or element: its text names the
// path (mediaSettings.call.alertingTimeoutSeconds).
type fieldError struct {
	at  string // member name, or [index]
	err error
}

func (e *fieldError) Error() string {
	var b strings.Builder
	b.WriteString("field ")
	var err error = e
	for {
		fe, ok := err.(*fieldError)
		if !ok {
			break
		}
		if b.Len() > len("field ") && !strings.HasPrefix(fe.at, "[") {
			b.WriteByte('.')
		}
		b.WriteString(fe.at)
		err = fe.err
	}
	b.WriteString(": ")
	b.WriteString(err.Error())
	return b.String()
}

func (e *fieldError) Unwrap() error { return e.err }

// fieldByIndex is rv.FieldByIndex, allocating the embedded structs held by pointer on
// the way (the format embeds only by value, so this is encoding/json's rule kept).
func fieldByIndex(rv reflect.Value, idx []int) reflect.Value {
	for i, x := range idx {
		if i > 0 && rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				rv.Set(reflect.New(rv.Type().Elem()))
			}
			rv = rv.Elem()
		}
		rv = rv.Field(x)
	}
	return rv
}

// fieldCache holds, per struct type, its JSON member names and the field index of each.
var fieldCache sync.Map // reflect.Type -> map[string][]int

// structFields returns t's JSON members, embedded structs' members promoted as
// encoding/json does (a member of the outer struct wins over an embedded one).
func structFields(t reflect.Type) map[string][]int {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string][]int)
	}
	fields := map[string][]int{}
	collectFields(t, nil, fields, map[string]int{})
	fieldCache.Store(t, fields)
	return fields
}

func collectFields(t reflect.Type, index []int, fields map[string][]int, depth map[string]int) {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		idx := append(append([]int(nil), index...), i)
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectFields(ft, idx, fields, depth)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if d, ok := depth[name]; ok && d <= len(index) {
			continue
		}
		fields[name], depth[name] = idx, len(index)
	}
}
