package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/history"
	"github.com/routekeeper/routekeeper/shared/store"
)

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		err  bool
	}{
		{in: "", want: time.Time{}},
		{in: "90m", want: now.Add(-90 * time.Minute)},
		{in: "7d", want: now.AddDate(0, 0, -7)},
		{in: "2026-03-01", want: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{in: "2026-03-14T09:30:00Z", want: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)},
		{in: "2026-03-14T09:30:00.123456789+01:00", want: time.Date(2026, 3, 14, 8, 30, 0, 123456789, time.UTC)},
		{in: "2026-03-14T09:30Z", want: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)},
		{in: "-1h", err: true},
		{in: "yesterday", err: true},
		{in: "99999999999d", err: true},
	} {
		got, err := parseWhen(tc.in, now)
		if (err != nil) != tc.err || !got.Equal(tc.want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// TestTimelineFormats: text is aligned columns with the time to the millisecond, the
// short ETag, who and what (fields named, or why unknown); Markdown escapes names.
func TestTimelineFormats(t *testing.T) {
	at := time.Date(2026, 3, 14, 9, 26, 53, 589000000, time.UTC)
	r := &history.Report{Schema: history.Schema, Environment: "prod", Entity: &history.Ref{Kind: "queue", Name: "Claims | Tasks"},
		Steps: []history.Step{
			{At: at, Type: store.HistoryObserved, Source: store.SourceWebhook, ETag: "sha256:" + strings.Repeat("ab", 32),
				By: &history.By{UserID: "u-1", ClientID: "c-1"}, Summary: "changed description", Fields: []string{"description"}},
			{At: at.Add(time.Second), Type: store.HistoryDrift, Summary: "drift IN_SYNC -> MODIFIED", Fields: []string{"description"}},
			{At: at.Add(2 * time.Second), Type: store.HistoryObserved, Source: store.SourceScan, ETag: "sha256:" + strings.Repeat("cd", 32),
				Summary: "changed", FieldsUnknown: "a snapshot of this step is no longer stored"},
		},
		LastKnown: &history.LastKnown{ETag: "sha256:" + strings.Repeat("cd", 32), Source: store.SourceScan, ObservedAt: at.Add(2 * time.Second)},
	}
	var b strings.Builder
	if err := writeTimelineText(&b, r); err != nil {
		t.Fatal(err)
	}
	want := `History of queue "Claims | Tasks" in prod (oldest first)
TIME                      STEP      SOURCE   ETAG          WHO                   WHAT
2026-03-14T09:26:53.589Z  observed  webhook  abababababab  user u-1, client c-1  changed description
2026-03-14T09:26:54.589Z  drift     -        -             -                     drift IN_SYNC -> MODIFIED: description
2026-03-14T09:26:55.589Z  observed  scan     cdcdcdcdcdcd  -                     changed (fields unknown: a snapshot of this step is no longer stored)
Last known: ETag sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd (scan, 2026-03-14T09:26:55.589Z)
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("text (-want +got):\n%s", d)
	}
	b.Reset()
	if err := writeTimelineMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"### routekeeper history: queue \"Claims \\| Tasks\" in prod",
		"| 2026-03-14T09:26:53.589Z | observed | webhook | `abababababab` | user u-1, client c-1 | changed description |"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("markdown lacks %q:\n%s", w, b.String())
		}
	}
}
