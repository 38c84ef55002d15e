package routing

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"math"
	"reflect"
)

// fingerprint is a digest of every exported field of a Config: two configs with the same
// fingerprint hold the same values, so a config whose fingerprint still equals the one
// the loader recorded after validating it is still valid (see Config.validatedSince).
type fingerprint [sha256.Size]byte

// fingerprintOf digests c's exported fields through an injective encoding: every value
// is written with its presence (nil pointer, nil slice) and length, so distinct values
// never encode alike. ok is false if c holds a kind the encoding does not know, which
// callers treat as "changed".
func fingerprintOf(c *Config) (fp fingerprint, ok bool) {
	e := fpEncoder{h: sha256.New(), buf: make([]byte, 0, 64<<10)}
	if !e.value(reflect.ValueOf(c).Elem()) {
		return fp, false
	}
	e.h.Write(e.buf)
	e.h.Sum(fp[:0])
	return fp, true
}

type fpEncoder struct {
	h   hash.Hash
	buf []byte
}

func (e *fpEncoder) flush() {
	if len(e.buf) >= 32<<10 {
		e.h.Write(e.buf)
		e.buf = e.buf[:0]
	}
}

func (e *fpEncoder) uint(u uint64) { e.buf = binary.LittleEndian.AppendUint64(e.buf, u) }

func (e *fpEncoder) value(v reflect.Value) bool {
	e.flush()
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue // Config.src: where values came from, not what they are
			}
			if !e.value(v.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if v.IsNil() {
			e.buf = append(e.buf, 0)
			return true
		}
		e.buf = append(e.buf, 1)
		return e.value(v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			e.buf = append(e.buf, 0)
			return true
		}
		e.buf = append(e.buf, 1)
		e.uint(uint64(v.Len()))
		for i := range v.Len() {
			if !e.value(v.Index(i)) {
				return false
			}
		}
		return true
	case reflect.String:
		s := v.String()
		e.uint(uint64(len(s)))
		e.buf = append(e.buf, s...)
		return true
	case reflect.Int:
		e.uint(uint64(v.Int()))
		return true
	case reflect.Float64:
		e.uint(math.Float64bits(v.Float()))
		return true
	case reflect.Bool:
		if v.Bool() {
			e.buf = append(e.buf, 1)
		} else {
			e.buf = append(e.buf, 0)
		}
		return true
	}
	return false
}

// markValidated records that c, as it is now, passed validation, so Compile can skip
// validating it again until it changes.
func (c *Config) markValidated() {
	if c.src == nil {
		return
	}
	if fp, ok := fingerprintOf(c); ok {
		c.src.validated, c.src.fingerprinted = fp, true
	}
}

// validatedSince reports whether c is unchanged since the loader validated it.
func (c *Config) validatedSince() bool {
	if c == nil || c.src == nil || !c.src.fingerprinted {
		return false
	}
	fp, ok := fingerprintOf(c)
	return ok && fp == c.src.validated
}
