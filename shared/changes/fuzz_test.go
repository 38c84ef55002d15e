package changes

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary bodies to Decode: it must never panic, every
// failure must be an ErrInvalid, and an accepted message must survive
// Encode/Decode unchanged (decode(encode(decode(x))) encodes identically).
func FuzzDecode(f *testing.F) {
	f.Add(mustJSON(f, validMessage()))
	for _, edit := range []func(map[string]any){
		func(m map[string]any) { m["operation"] = "delete"; delete(m, "desired") },
		func(m map[string]any) {
			m["operation"] = "create"
			delete(m, "baseEtag")
			m["entity"] = map[string]any{"type": "worktype", "name": "Überprüfung 🚑"}
			m["desired"] = map[string]any{"defaultPriority": 1e3, "tags": []any{"a", nil, true, 0.5}}
		},
		func(m map[string]any) { m["createdAt"] = "2025-01-02T05:04:05.123456789+02:00" },
		func(m map[string]any) { m["schema"] = "routekeeper.change/v2" },
	} {
		m := validMessage()
		edit(m)
		f.Add(mustJSON(f, m))
	}
	f.Add([]byte(`{"schema":"routekeeper.change/v1","schema":"x"}`))
	f.Add([]byte(`{"desired":{"a":{"b":[1,2,{"c":"\ud800"}]}}}`))
	f.Add([]byte(`[1] `))

	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Decode(body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode error %v is not ErrInvalid", err)
			}
			return
		}
		enc1, err := Encode(req)
		if err != nil {
			t.Fatalf("Encode of a decoded request failed: %v\nbody: %q", err, body)
		}
		req2, err := Decode(enc1)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(x))) failed: %v\nencoded: %s", err, enc1)
		}
		enc2, err := Encode(req2)
		if err != nil {
			t.Fatalf("second Encode failed: %v", err)
		}
		if !bytes.Equal(enc1, enc2) {
			t.Fatalf("encoding not stable:\n first: %s\nsecond: %s", enc1, enc2)
		}
		h1, err1 := PayloadHash(req)
		h2, err2 := PayloadHash(req2)
		if err1 != nil || err2 != nil || h1 != h2 {
			t.Fatalf("PayloadHash changed across a round trip: %s (%v) vs %s (%v)", h1, err1, h2, err2)
		}
	})
}
