package document

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ParsePath returns the object keys a path of Diff, Merge or Paths names (package doc,
// Paths), outermost first: the inverse of how they write one, so a stored path (a change
// result's written fields) can address the document again. "" is the document itself
// (no keys). Those paths never index into an array, so an index segment ([2]) is refused
// like any path they could not have written.
func ParsePath(path string) ([]string, error) {
	var keys []string
	for i := 0; i < len(path); {
		switch {
		case path[i] == '[' && i+1 < len(path) && path[i+1] == '"':
			end, err := quotedEnd(path, i+1)
			if err != nil {
				return nil, fmt.Errorf("path %q: %w", path, err)
			}
			var k string
			if err := json.Unmarshal([]byte(path[i+1:end]), &k); err != nil || end >= len(path) || path[end] != ']' {
				return nil, fmt.Errorf("path %q: a bracketed key at offset %d is not [\"key\"] with JSON string quoting", path, i)
			}
			keys = append(keys, k)
			i = end + 1
		case path[i] == '[':
			return nil, fmt.Errorf("path %q: offset %d indexes an array; paths name object keys only", path, i)
		default:
			if i > 0 {
				if path[i] != '.' {
					return nil, fmt.Errorf("path %q: want '.' or '[' at offset %d", path, i)
				}
				i++
			}
			end := i + strings.IndexAny(path[i:], ".[")
			if end < i {
				end = len(path)
			}
			k := path[i:end]
			if !isIdentifier(k) {
				return nil, fmt.Errorf("path %q: %q at offset %d is not a plain key (others are written [\"key\"])", path, k, i)
			}
			keys = append(keys, k)
			i = end
		}
	}
	return keys, nil
}

// quotedEnd returns the offset just past the JSON string that starts at path[start] ('"').
func quotedEnd(path string, start int) (int, error) {
	for j := start + 1; j < len(path); j++ {
		switch path[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated key string at offset %d", start)
}
