package store

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A stored error message is cut at a character boundary, never inside one.
func TestTruncateErrorAtCharacterBoundary(t *testing.T) {
	msg := strings.Repeat("é", maxErrorLen) // 2 bytes per character
	got := truncateError(msg)
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || len(got) > maxErrorLen+len("…") {
		t.Errorf("truncateError: %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	if short := "short"; truncateError(short) != short {
		t.Error("a short message was changed")
	}
}
