package emf_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/emf"
)

// TestWrittenRecordsParse: what Metrics writes (one directive, several dimension sets,
// gauges and counters, the metric limit reached) is a valid record, and Parse reads back
// its values, dimensions, units and timestamp.
func TestWrittenRecordsParse(t *testing.T) {
	tests := []struct {
		name string
		make func(w *bytes.Buffer) *emf.Metrics
		add  func(m *emf.Metrics)
		want emf.Record
	}{
		{
			name: "queue record: gauges, set twice keeps the last",
			make: func(w *bytes.Buffer) *emf.Metrics {
				return emf.New(w, "routekeeper", emf.Dimension{Name: "Environment", Value: "prod"}, emf.Dimension{Name: "Queue", Value: "Claims Tasks"})
			},
			add: func(m *emf.Metrics) {
				m.Set("Waiting", emf.Count, 3)
				m.Set("Waiting", emf.Count, 7)
				m.Set("Utilization", emf.None, 0.5)
			},
			want: emf.Record{Timestamp: fixed, Directives: []emf.Directive{{Namespace: "routekeeper",
				DimensionSets: [][]string{{"Environment", "Queue"}},
				Metrics:       []emf.MetricDefinition{{Name: "Waiting", Unit: emf.Count}, {Name: "Utilization", Unit: emf.None}}}},
				Dimensions: map[string]string{"Environment": "prod", "Queue": "Claims Tasks"},
				Values:     map[string][]float64{"Waiting": {7}, "Utilization": {0.5}}},
		},
		{
			name: "rule record rolled up to the environment",
			make: func(w *bytes.Buffer) *emf.Metrics {
				return emf.New(w, "routekeeper", emf.Dimension{Name: "Environment", Value: "prod"}, emf.Dimension{Name: "Rule", Value: "vip-claims"}).
					Rollup("Environment")
			},
			add: func(m *emf.Metrics) { m.Set("BacklogRatio", emf.None, 1.25); m.Count("OverflowActive", 1) },
			want: emf.Record{Timestamp: fixed, Directives: []emf.Directive{{Namespace: "routekeeper",
				DimensionSets: [][]string{{"Environment", "Rule"}, {"Environment"}},
				Metrics:       []emf.MetricDefinition{{Name: "BacklogRatio", Unit: emf.None}, {Name: "OverflowActive", Unit: emf.Count}}}},
				Dimensions: map[string]string{"Environment": "prod", "Rule": "vip-claims"},
				Values:     map[string][]float64{"BacklogRatio": {1.25}, "OverflowActive": {1}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			m := tc.make(&buf).WithClock(func() time.Time { return fixed })
			tc.add(m)
			if err := m.Flush(); err != nil {
				t.Fatal(err)
			}
			got, err := emf.Parse(buf.Bytes())
			if err != nil {
				t.Fatalf("Parse(%s): %v", buf.Bytes(), err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("MaxMetrics metrics, MaxDimensions dimensions", func(t *testing.T) {
		var buf bytes.Buffer
		var dims []emf.Dimension
		var names []string
		for i := range emf.MaxDimensions {
			dims = append(dims, emf.Dimension{Name: fmt.Sprintf("D%d", i), Value: "v"})
			names = append(names, fmt.Sprintf("D%d", i))
		}
		m := emf.New(&buf, "ns", dims...).Rollup(names[:1]...).Rollup()
		for i := range emf.MaxMetrics + 3 {
			m.Set(fmt.Sprintf("M%d", i), emf.Count, float64(i))
		}
		if err := m.Flush(); err != nil {
			t.Fatal(err)
		}
		rec, err := emf.Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if n := len(rec.Directives[0].Metrics); n != emf.MaxMetrics {
			t.Errorf("%d metrics written, want %d", n, emf.MaxMetrics)
		}
		if diff := cmp.Diff([][]string{names, {"D0"}, {}}, rec.Directives[0].DimensionSets); diff != "" {
			t.Errorf("dimension sets (-want +got):\n%s", diff)
		}
	})
}

func TestRollupPanicsOnUnknownDimension(t *testing.T) {
	for _, names := range [][]string{{"Queue"}, {"Environment", "Environment"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Rollup(%v) did not panic", names)
				}
			}()
			emf.New(&bytes.Buffer{}, "ns", emf.Dimension{Name: "Environment", Value: "x"}).Rollup(names...)
		}()
	}
}

// TestParseRejects: each rule of the specification Parse checks, broken once.
func TestParseRejects(t *testing.T) {
	const ok = `{"Environment":"prod","Waiting":3,"_aws":{"Timestamp":1735787045000,"CloudWatchMetrics":[{"Namespace":"routekeeper","Dimensions":[["Environment"]],"Metrics":[{"Name":"Waiting","Unit":"Count"}]}]}}`
	if _, err := emf.Parse([]byte(ok + "\n")); err != nil {
		t.Fatalf("the valid record: %v", err)
	}
	many := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range n {
			parts[i] = f(i)
		}
		return strings.Join(parts, ",")
	}
	tests := []struct {
		name, line, want string
	}{
		{"not JSON", `{"_aws":`, "not a JSON object"},
		{"two values", ok + ` {}`, "data after the JSON object"},
		{"no _aws", `{"Waiting":3}`, "no _aws member"},
		{"no timestamp", `{"_aws":{"CloudWatchMetrics":[]}}`, "member Timestamp is missing"},
		{"timestamp not an integer", strings.Replace(ok, "1735787045000", "1735787045000.5", 1), "want a non-negative integer"},
		{"timestamp a string", strings.Replace(ok, "1735787045000", `"1735787045000"`, 1), "_aws.Timestamp"},
		{"extra _aws member", strings.Replace(ok, `"Timestamp"`, `"Other":1,"Timestamp"`, 1), `member "Other" is not in the specification`},
		{"no directive", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]}}`, "at least one MetricDirective"},
		{"no namespace", strings.Replace(ok, `"Namespace":"routekeeper",`, ``, 1), "member Namespace is missing"},
		{"blank namespace", strings.Replace(ok, `"routekeeper"`, `" "`, 1), "Namespace"},
		{"dimension member missing", strings.Replace(ok, `"Environment":"prod",`, ``, 1), `dimension "Environment" has no member`},
		{"dimension not a string", strings.Replace(ok, `"Environment":"prod"`, `"Environment":1`, 1), "want a string"},
		{"dimension empty", strings.Replace(ok, `"Environment":"prod"`, `"Environment":""`, 1), "want 1 to 1024 characters"},
		{"dimension too long", strings.Replace(ok, `"prod"`, `"`+strings.Repeat("q", 1025)+`"`, 1), "want 1 to 1024 characters"},
		{"dimension twice in a set", strings.Replace(ok, `[["Environment"]]`, `[["Environment","Environment"]]`, 1), `dimension "Environment" twice`},
		{"31 dimensions", `{` + many(31, func(i int) string { return fmt.Sprintf(`"D%d":"v"`, i) }) + `,"M":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[` +
			many(31, func(i int) string { return fmt.Sprintf(`"D%d"`, i) }) + `]],"Metrics":[{"Name":"M"}]}]}}`, "31 dimensions, at most 30"},
		{"101 metrics", `{` + many(101, func(i int) string { return fmt.Sprintf(`"M%d":1`, i) }) + `,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[` +
			many(101, func(i int) string { return fmt.Sprintf(`{"Name":"M%d"}`, i) }) + `]}]}}`, "101 metrics, at most 100"},
		{"metric member missing", strings.Replace(ok, `"Waiting":3,`, ``, 1), `metric "Waiting" has no member`},
		{"metric not a number", strings.Replace(ok, `"Waiting":3`, `"Waiting":"3"`, 1), "want a number or an array"},
		{"too many values", strings.Replace(ok, `"Waiting":3`, `"Waiting":[`+many(101, func(int) string { return "1" })+`]`, 1), "holds 101 values"},
		{"empty values", strings.Replace(ok, `"Waiting":3`, `"Waiting":[]`, 1), "holds 0 values"},
		{"unknown unit", strings.Replace(ok, `"Unit":"Count"`, `"Unit":"Tasks"`, 1), `Unit "Tasks": not a CloudWatch unit`},
		{"storage resolution", strings.Replace(ok, `"Unit":"Count"`, `"Unit":"Count","StorageResolution":30`, 1), "StorageResolution 30: want 1 or 60"},
		{"metric twice", strings.Replace(ok, `[{"Name":"Waiting","Unit":"Count"}]`, `[{"Name":"Waiting"},{"Name":"Waiting"}]`, 1), "defined twice"},
		{"metric is a dimension", strings.Replace(ok, `{"Name":"Waiting","Unit":"Count"}`, `{"Name":"Environment"}`, 1), "both a metric and a dimension"},
		{"too large", `{"Pad":"` + strings.Repeat("x", emf.MaxRecordBytes) + `"}`, "over the 262144"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := emf.Parse([]byte(tc.line))
			if !errors.Is(err, emf.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v; want ErrInvalid saying %q", err, tc.want)
			}
		})
	}
}

// FuzzParse: Parse never panics, and a record it accepts names only members it read.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"Environment":"prod","Waiting":3,"_aws":{"Timestamp":1735787045000,"CloudWatchMetrics":[{"Namespace":"routekeeper","Dimensions":[["Environment"]],"Metrics":[{"Name":"Waiting","Unit":"Count"}]}]}}`))
	f.Add([]byte(`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"M"}]}]},"M":[1,2]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := emf.Parse(line)
		if err != nil {
			if !errors.Is(err, emf.ErrInvalid) {
				t.Fatalf("Parse error %v does not match ErrInvalid", err)
			}
			return
		}
		for _, d := range rec.Directives {
			if len(d.Metrics) > emf.MaxMetrics {
				t.Fatalf("accepted %d metrics", len(d.Metrics))
			}
			for _, m := range d.Metrics {
				if len(rec.Values[m.Name]) == 0 {
					t.Fatalf("accepted metric %q without values", m.Name)
				}
			}
			for _, set := range d.DimensionSets {
				for _, name := range set {
					if rec.Dimensions[name] == "" {
						t.Fatalf("accepted dimension %q without a value", name)
					}
				}
			}
		}
	})
}

// ExampleMetrics_Rollup writes a per-rule record that CloudWatch also aggregates per
// environment, and reads it back with Parse.
func ExampleMetrics_Rollup() {
	var buf bytes.Buffer
	m := emf.New(&buf, "routekeeper", emf.Dimension{Name: "Environment", Value: "prod"}, emf.Dimension{Name: "Rule", Value: "vip-claims"}).
		Rollup("Environment").WithClock(func() time.Time { return fixed })
	m.Set("BacklogRatio", emf.None, 1.28)
	_ = m.Flush()
	rec, err := emf.Parse(buf.Bytes())
	fmt.Println(rec.Directives[0].DimensionSets, rec.Values["BacklogRatio"], err)
	// Output:
	// [[Environment Rule] [Environment]] [1.28] <nil>
}
