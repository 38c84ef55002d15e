package emf_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/emf"
)

var fixed = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func TestFlush(t *testing.T) {
	tests := []struct {
		name string
		add  func(m *emf.Metrics)
		want string // "" => nothing written
	}{
		{
			name: "nothing added writes nothing",
			add:  func(*emf.Metrics) {},
		},
		{
			name: "counts are summed per name in first-seen order",
			add: func(m *emf.Metrics) {
				m.Count("Applied", 1)
				m.Count("Conflicts", 0)
				m.Count("Applied", 2)
				m.Add("Latency", emf.Milliseconds, 12.5)
			},
			want: `{"Applied":3,"Conflicts":0,"Environment":"prod","Function":"apply","Latency":12.5,` +
				`"_aws":{"CloudWatchMetrics":[{"Dimensions":[["Environment","Function"]],"Metrics":[` +
				`{"Name":"Applied","Unit":"Count"},{"Name":"Conflicts","Unit":"Count"},{"Name":"Latency","Unit":"Milliseconds"}],` +
				`"Namespace":"routekeeper"}],"Timestamp":1735787045000}}`,
		},
		{
			name: "names colliding with dimensions or _aws are dropped",
			add: func(m *emf.Metrics) {
				m.Count("Function", 1)
				m.Count("_aws", 1)
				m.Count("Noop", 1)
			},
			want: `{"Environment":"prod","Function":"apply","Noop":1,"_aws":{"CloudWatchMetrics":[{"Dimensions":[["Environment","Function"]],` +
				`"Metrics":[{"Name":"Noop","Unit":"Count"}],"Namespace":"routekeeper"}],"Timestamp":1735787045000}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			m := emf.New(&buf, "routekeeper", emf.Dimension{Name: "Environment", Value: "prod"}, emf.Dimension{Name: "Function", Value: "apply"}).
				WithClock(func() time.Time { return fixed })
			tc.add(m)
			if err := m.Flush(); err != nil {
				t.Fatal(err)
			}
			got := buf.String()
			if tc.want == "" {
				if got != "" {
					t.Fatalf("got %q, want nothing written", got)
				}
				return
			}
			if !strings.HasSuffix(got, "\n") || strings.Count(got, "\n") != 1 {
				t.Fatalf("got %q, want exactly one line", got)
			}
			// Compare as JSON values: member order of a JSON object carries no meaning.
			var gotV, wantV any
			if err := json.Unmarshal([]byte(got), &gotV); err != nil {
				t.Fatalf("record is not JSON: %v: %s", err, got)
			}
			if err := json.Unmarshal([]byte(tc.want), &wantV); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(wantV, gotV); d != "" {
				t.Errorf("record mismatch (-want +got):\n%s", d)
			}
			// Values reset after a flush.
			buf.Reset()
			if err := m.Flush(); err != nil || buf.Len() != 0 {
				t.Errorf("second Flush wrote %q (err %v), want nothing", buf.String(), err)
			}
		})
	}
}

func TestMaxMetrics(t *testing.T) {
	var buf bytes.Buffer
	m := emf.New(&buf, "ns")
	for i := range emf.MaxMetrics + 5 {
		m.Count(strings.Repeat("m", i+1), 1)
	}
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		AWS struct {
			CloudWatchMetrics []struct {
				Metrics []struct{ Name string }
			}
		} `json:"_aws"`
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.AWS.CloudWatchMetrics[0].Metrics); got != emf.MaxMetrics {
		t.Errorf("got %d metric definitions, want %d", got, emf.MaxMetrics)
	}
}

func TestNewPanicsOnBadDimensions(t *testing.T) {
	for _, dims := range [][]emf.Dimension{
		{{Name: "_aws", Value: "x"}},
		{{Name: "A", Value: "1"}, {Name: "A", Value: "2"}},
		{{Name: "", Value: "1"}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%v) did not panic, want a panic", dims)
				}
			}()
			emf.New(&bytes.Buffer{}, "ns", dims...)
		}()
	}
}

func ExampleMetrics() {
	m := emf.New(os.Stdout, "routekeeper", emf.Dimension{Name: "Function", Value: "apply"}).
		WithClock(func() time.Time { return fixed })
	m.Count("Applied", 2)
	m.Count("Conflicts", 1)
	_ = m.Flush()
	// Output:
	// {"Applied":2,"Conflicts":1,"Function":"apply","_aws":{"CloudWatchMetrics":[{"Namespace":"routekeeper","Dimensions":[["Function"]],"Metrics":[{"Name":"Applied","Unit":"Count"},{"Name":"Conflicts","Unit":"Count"}]}],"Timestamp":1735787045000}}
}
