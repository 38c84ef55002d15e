// Package emf writes CloudWatch Embedded Metric Format (EMF) records: one JSON object per
// line on a writer (a Lambda's stdout), which CloudWatch Logs turns into metrics without a
// PutMetricData call, a client or extra latency.
//
// It owns the record shape (the "_aws" metadata with Timestamp and one CloudWatchMetrics
// directive, dimension values and metric values as top-level members) and the limits EMF
// sets. It is hand-written because the module proxy this project builds from offers no
// well-kept Go EMF library; the format is small and documented
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
//
// A Metrics value collects counts during one unit of work (an invocation) and Flush
// writes them as one line:
//
//	m := emf.New(os.Stdout, "routekeeper", emf.Dimension{Name: "Function", Value: "apply"})
//	m.Count("Applied", 1)
//	_ = m.Flush()
//
// A function that reports several things with dimensions of their own (the occupancy
// function: one record per queue, with dimensions Environment and Queue) makes one
// Metrics per thing on the same writer and flushes each; Set records a gauge, and Rollup
// adds a dimension set, so the same values are also aggregated over fewer dimensions (per
// rule and per environment) for an alarm that cannot name every rule.
//
// Parse reads a line back and checks it against the specification's rules (one JSON
// object, the _aws metadata, at most MaxMetrics metrics per directive, MaxDimensions
// dimensions per set, every referenced member present with the right type, known units):
// tests of every function that writes EMF use it.
package emf

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sync"
	"time"
)

// Unit is a CloudWatch metric unit.
type Unit string

// Units routekeeper uses.
const (
	Count        Unit = "Count"
	Seconds      Unit = "Seconds"
	Milliseconds Unit = "Milliseconds"
	None         Unit = "None"
)

// Limits of one EMF directive (CloudWatch EMF specification).
const (
	MaxMetrics    = 100 // metric definitions per directive
	MaxDimensions = 30  // dimensions per dimension set
)

// Dimension is a dimension name and its value, the same for every metric of a record.
type Dimension struct {
	Name, Value string
}

// reserved top-level member of a record.
const awsMember = "_aws"

// Metrics accumulates metric values and writes them as EMF records. It is safe for
// concurrent use.
type Metrics struct {
	w         io.Writer
	namespace string
	dims      []Dimension
	rollups   [][]string // dimension sets besides the one of every dimension
	now       func() time.Time

	mu     sync.Mutex
	order  []string
	values map[string]float64
	units  map[string]Unit
}

// New returns a Metrics writing records for namespace to w with the given dimensions.
// New panics on more than MaxDimensions dimensions or a dimension named "_aws" or
// repeated: those are programming errors, not runtime conditions.
func New(w io.Writer, namespace string, dims ...Dimension) *Metrics {
	if len(dims) > MaxDimensions {
		panic(fmt.Sprintf("emf: %d dimensions, at most %d allowed", len(dims), MaxDimensions))
	}
	seen := map[string]bool{}
	for _, d := range dims {
		if d.Name == "" || d.Name == awsMember || seen[d.Name] {
			panic(fmt.Sprintf("emf: dimension name %q is empty, reserved or repeated", d.Name))
		}
		seen[d.Name] = true
	}
	return &Metrics{w: w, namespace: namespace, dims: dims, now: time.Now,
		values: map[string]float64{}, units: map[string]Unit{}}
}

// WithClock sets the clock that stamps records (tests); it returns m.
func (m *Metrics) WithClock(now func() time.Time) *Metrics {
	m.now = now
	return m
}

// Rollup adds a dimension set to the records: names (a subset of m's dimensions, in that
// order; none for the namespace as a whole) make CloudWatch also aggregate every metric
// over the dimensions left out. It returns m. An unknown or repeated name, or more than
// MaxDimensions, panics: the dimension sets are fixed by the code, not by data.
func (m *Metrics) Rollup(names ...string) *Metrics {
	if len(names) > MaxDimensions {
		panic(fmt.Sprintf("emf: rollup of %d dimensions, at most %d allowed", len(names), MaxDimensions))
	}
	seen := map[string]bool{}
	for _, n := range names {
		known := false
		for _, d := range m.dims {
			known = known || d.Name == n
		}
		if !known || seen[n] {
			panic(fmt.Sprintf("emf: rollup dimension %q is not a dimension of the record, or repeated", n))
		}
		seen[n] = true
	}
	m.rollups = append(m.rollups, append([]string{}, names...))
	return m
}

// Set sets metric name with unit to v (a gauge: the last value set before Flush is
// written). Names are dropped as Add drops them.
func (m *Metrics) Set(name string, unit Unit, v float64) { m.record(name, unit, v, true) }

// Count adds n to the counter name.
func (m *Metrics) Count(name string, n int) { m.Add(name, Count, float64(n)) }

// Add adds v to metric name with unit (values of one name are summed until Flush).
// A name that collides with a dimension or "_aws", and values beyond MaxMetrics distinct
// names, are dropped: a metric must never break the record the others travel in.
func (m *Metrics) Add(name string, unit Unit, v float64) { m.record(name, unit, v, false) }

func (m *Metrics) record(name string, unit Unit, v float64, set bool) {
	if name == "" || name == awsMember || math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	for _, d := range m.dims {
		if d.Name == name {
			return
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.values[name]; !ok {
		if len(m.order) >= MaxMetrics {
			return
		}
		m.order = append(m.order, name)
		m.units[name] = unit
	}
	if set {
		m.values[name] = v
		return
	}
	m.values[name] += v
}

// Flush writes one record holding every metric added since the last Flush, as a single
// line, and resets the values. With nothing added it writes nothing.
func (m *Metrics) Flush() error {
	m.mu.Lock()
	if len(m.order) == 0 {
		m.mu.Unlock()
		return nil
	}
	order, values, units := m.order, m.values, m.units
	m.order, m.values, m.units = nil, map[string]float64{}, map[string]Unit{}
	m.mu.Unlock()

	type metricDef struct {
		Name string `json:"Name"`
		Unit Unit   `json:"Unit,omitempty"`
	}
	type directive struct {
		Namespace  string      `json:"Namespace"`
		Dimensions [][]string  `json:"Dimensions"`
		Metrics    []metricDef `json:"Metrics"`
	}
	dimNames := make([]string, len(m.dims))
	for i, d := range m.dims {
		dimNames[i] = d.Name
	}
	dir := directive{Namespace: m.namespace, Dimensions: append([][]string{dimNames}, m.rollups...)}
	rec := make(map[string]any, len(order)+len(m.dims)+1)
	for _, name := range order {
		dir.Metrics = append(dir.Metrics, metricDef{Name: name, Unit: units[name]})
		rec[name] = values[name]
	}
	for _, d := range m.dims {
		rec[d.Name] = d.Value
	}
	rec[awsMember] = map[string]any{
		"Timestamp":         m.now().UnixMilli(),
		"CloudWatchMetrics": []directive{dir},
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("emf: encode record: %w", err)
	}
	if _, err := m.w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("emf: write record: %w", err)
	}
	return nil
}
