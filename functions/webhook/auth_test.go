package main

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestAuthenticate(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"entityType":"Queue"}`)
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	sig := func(d time.Duration) string { return Sign("tok", now.Add(d).Unix(), body) }
	tests := []struct {
		name    string
		token   string // configured
		headers map[string]string
		ok      bool
	}{
		{"token", "tok", map[string]string{headerToken: "tok"}, true},
		{"wrong token", "tok", map[string]string{headerToken: "tok2"}, false},
		{"token of another length", "tok", map[string]string{headerToken: "t"}, false},
		{"nothing sent", "tok", map[string]string{}, false},
		{"none configured", "", map[string]string{headerToken: ""}, false},
		{"signed", "tok", map[string]string{headerTimestamp: at(0), headerSignature: sig(0)}, true},
		{"signed, upper-case hex", "tok", map[string]string{headerTimestamp: at(0), headerSignature: "sha256=" + upper(sig(0)[7:])}, true},
		{"signed 4 minutes ago", "tok", map[string]string{headerTimestamp: at(-4 * time.Minute), headerSignature: sig(-4 * time.Minute)}, true},
		{"signed 6 minutes ago: a replay", "tok", map[string]string{headerTimestamp: at(-6 * time.Minute), headerSignature: sig(-6 * time.Minute)}, false},
		{"signed 6 minutes ahead", "tok", map[string]string{headerTimestamp: at(6 * time.Minute), headerSignature: sig(6 * time.Minute)}, false},
		{"signature of another timestamp", "tok", map[string]string{headerTimestamp: at(0), headerSignature: sig(time.Second)}, false},
		{"signature without timestamp", "tok", map[string]string{headerSignature: sig(0)}, false},
		{"signature without prefix", "tok", map[string]string{headerTimestamp: at(0), headerSignature: sig(0)[7:]}, false},
		{"valid signature, wrong token also sent", "tok", map[string]string{headerTimestamp: at(0), headerSignature: sig(0), headerToken: "x"}, false},
		{"bad signature, right token also sent", "tok", map[string]string{headerTimestamp: at(0), headerSignature: "sha256=00", headerToken: "tok"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			why, err := authenticate(tc.headers, body, tc.token, now)
			if tc.ok && err != nil {
				t.Errorf("refused (%s), want accepted", why)
			}
			if !tc.ok && (!errors.Is(err, errUnauthorized) || why == "") {
				t.Errorf("got %v (%q), want errUnauthorized with a reason", err, why)
			}
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
