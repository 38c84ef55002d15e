package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of an authenticated delivery (lower case: payload format 2.0 lower-cases them).
const (
	headerToken     = "x-routekeeper-token"
	headerTimestamp = "x-routekeeper-timestamp"
	headerSignature = "x-routekeeper-signature"
)

// MaxSkew is how old (or how far ahead) a signed delivery's timestamp may be: an older one
// is a replay.
const MaxSkew = 5 * time.Minute

// errUnauthorized is every authentication failure; the 401 answer says nothing more.
var errUnauthorized = errors.New("unauthorized")

// authenticate checks a delivery against the webhook token. A delivery authenticates with
// the token itself in X-Routekeeper-Token (compared in constant time), or, from a sender
// that can sign, with X-Routekeeper-Timestamp (Unix seconds) and X-Routekeeper-Signature:
// "sha256=" and the hex HMAC-SHA256, keyed with the token, of "<timestamp>.<body>",
// within MaxSkew of now. A signature, when sent, must be valid even if the token is sent
// too. Without a configured token nothing authenticates. why says which check failed (for
// the log, never the answer).
func authenticate(headers map[string]string, body []byte, token string, now time.Time) (why string, err error) {
	if token == "" {
		return "no webhook token is configured (the credentials secret's webhookToken)", errUnauthorized
	}
	if sig, signed := headers[headerSignature]; signed {
		ts := headers[headerTimestamp]
		secs, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil {
			return "signed delivery without a valid " + headerTimestamp, errUnauthorized
		}
		if d := now.Sub(time.Unix(secs, 0)); d > MaxSkew || d < -MaxSkew {
			return "signed delivery with a timestamp " + d.Round(time.Second).String() + " from now (replay?)", errUnauthorized
		}
		if !hmac.Equal([]byte(strings.ToLower(sig)), []byte(Sign(token, secs, body))) {
			return "signature does not match", errUnauthorized
		}
		if t, sent := headers[headerToken]; sent && !sameToken(t, token) {
			return "token does not match", errUnauthorized
		}
		return "", nil
	}
	t, sent := headers[headerToken]
	if !sent {
		return "no " + headerToken + " and no signature", errUnauthorized
	}
	if !sameToken(t, token) {
		return "token does not match", errUnauthorized
	}
	return "", nil
}

// sameToken compares in constant time (for equal lengths; the length is not secret).
func sameToken(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Sign returns the X-Routekeeper-Signature of body at timestamp ts (written in decimal in
// X-Routekeeper-Timestamp) for token: what a signing sender computes.
func Sign(token string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
