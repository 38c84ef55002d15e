// Package document is routekeeper's one place for working with JSON documents: the
// configuration of one entity as a generic tree (map[string]any, []any, json.Number,
// string, bool, nil). It knows nothing of Genesys or of the config model; the live org
// (shared/live), plans (shared/drift), change requests (shared/changes) and the apply
// engine build on it. It owns:
//
//   - decoding with exact numbers (Decode), the canonical JSON form and the ETag algorithm
//     (CanonicalJSON, ETag);
//   - value equality for JSON trees (Equal), used by every comparison here;
//   - the ordering of unordered sets (SortSet, SortSetBy);
//   - managed-field diffs (Diff), machine patches (Patch, RFC 6902) and the three-way
//     merge (Overlay, Merge, Project).
//
// # Numbers
//
// Documents should be decoded with [Decode] (encoding/json with UseNumber), so
// that numbers arrive as json.Number and stay exact: 25000000 and
// 9007199254740993 survive unchanged. Trees holding float64 (plain
// json.Unmarshal), float32 or Go integer types are accepted too and compare
// correctly with json.Number: a number's value is what counts, so 30, 30.0,
// 3e1 and float64(30) are equal everywhere in this package. A float64 is taken
// at its shortest round-trip decimal (strconv 'e' format, precision -1), so
// float64(0.1) equals json.Number("0.1"). Mixing decoders only differs for
// literals with more digits than a float64 holds; decode with [Decode] to
// avoid that.
//
// # Canonical JSON (stable across runs, machines and Go versions)
//
// CanonicalJSON(v) is produced by this exact algorithm:
//
//  1. Values other than nil, bool, string, json.Number, float64, float32, Go
//     integer types, map[string]any and []any (for example a routing spec
//     struct) are first encoded with encoding/json and decoded with UseNumber;
//     the result is then canonicalised like any other tree.
//  2. null, true and false are written as those words.
//  3. Objects: keys sorted by their UTF-8 bytes (Go string order, which is
//     Unicode code point order), written as {"k":v,"k2":v2} with no
//     whitespace.
//  4. Arrays: elements in their given order, written as [a,b] with no
//     whitespace. Sets are ordered by the caller beforehand (SortSet).
//  5. Strings (values and keys): wrapped in double quotes; '"' and '\' are
//     written as \" and \\; U+0008, U+0009, U+000A, U+000C and U+000D as \b,
//     \t, \n, \f and \r; other code points below U+0020 as \u00XX with
//     lower-case hex; every other code point as its raw UTF-8 bytes (no HTML
//     escaping, no escaping of U+2028/U+2029). Each byte of invalid UTF-8 is
//     replaced by U+FFFD, as encoding/json does.
//  6. Numbers: the exact decimal value is written as D×10^E with D the
//     significant digits (no leading or trailing zeros) and n = len(D);
//     p = n+E is the position of the decimal point. Zero (and minus zero)
//     is "0". A '-' precedes negative values. Then, following ECMAScript's
//     Number::toString (the form RFC 8785 uses):
//     if E >= 0 and p <= 21: D followed by E zeros ("25000000");
//     if E < 0 and 0 < p <= 21: D with a '.' after p digits ("12.5");
//     if -6 < p <= 0: "0." then -p zeros then D ("0.0025");
//     otherwise: first digit, then '.' and the remaining digits if n > 1,
//     then "e+" or "e-" and |p-1| ("1e+21", "1.5e-7").
//     NaN and infinities have no JSON form and are an error, as are
//     literals whose exponent, or whose written exponent p-1, lies beyond
//     ±10^15 (no real value comes near; the bound keeps the arithmetic exact).
//
// ETag(v) is "sha256:" followed by the lower-case hex SHA-256 of
// CanonicalJSON(v). Callers strip server-managed fields and sort sets before
// computing an ETag; ETag itself never drops data.
//
// # Paths
//
// Differences and conflicts name a field by a JSON path relative to the
// entity: object keys joined by '.' (mediaSettings.message.alertingTimeoutSeconds),
// a key that is not a plain identifier written as ["key"] with JSON string
// quoting, and an array index as [2]. Arrays are compared as whole values, so
// Diff and Merge report the array's own path, never an index inside it.
package document
