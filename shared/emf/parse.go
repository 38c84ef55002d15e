package emf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the specification and of CloudWatch besides MaxMetrics and MaxDimensions.
const (
	// MaxRecordBytes is the CloudWatch Logs event size an EMF record must fit.
	MaxRecordBytes = 256 * 1024
	// MaxValues is the most values one metric member may hold (an array of numbers).
	MaxValues = 100
	// MaxNameLen and MaxDimensionValueLen are CloudWatch's limits on metric and dimension
	// names and on dimension values (in characters); MaxNamespaceLen on namespaces.
	MaxNameLen           = 255
	MaxDimensionValueLen = 1024
	MaxNamespaceLen      = 255
)

// units are the CloudWatch units a MetricDefinition may name.
var units = []Unit{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
	"Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent",
	"Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
	"Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
	"Terabits/Second", "Count/Second", "None"}

// Record is one EMF record as Parse read it.
type Record struct {
	Timestamp  time.Time
	Directives []Directive
	// Dimensions are the values of every dimension a directive names.
	Dimensions map[string]string
	// Values are the values of every metric a directive names (one, or an array's).
	Values map[string][]float64
}

// Directive is one MetricDirective of a record.
type Directive struct {
	Namespace     string
	DimensionSets [][]string
	Metrics       []MetricDefinition
}

// MetricDefinition is one metric of a directive.
type MetricDefinition struct {
	Name              string
	Unit              Unit
	StorageResolution int
}

// ErrInvalid is matched by every error Parse returns: the line is not a valid EMF record.
var ErrInvalid = errors.New("emf: invalid record")

// Parse reads one EMF record (one line a function wrote, with or without its newline) and
// checks it against the CloudWatch EMF specification: the line is one JSON object; its
// _aws member holds only Timestamp (a non-negative integer, epoch milliseconds) and
// CloudWatchMetrics (at least one directive); a directive holds only Namespace, Dimensions
// and Metrics, at most MaxMetrics metrics with distinct names and known units
// (StorageResolution 1 or 60), dimension sets of at most MaxDimensions distinct names;
// every dimension is a root member holding a non-empty string of at most
// MaxDimensionValueLen characters, and every metric a root member holding a finite number
// or an array of 1 to MaxValues of them; no name is both a metric and a dimension; the
// record fits MaxRecordBytes. The error says which rule failed and where.
func Parse(line []byte) (Record, error) {
	bad := func(format string, args ...any) (Record, error) {
		return Record{}, fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	if len(line) > MaxRecordBytes {
		return bad("%d bytes, over the %d of a CloudWatch Logs event", len(line), MaxRecordBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var root map[string]json.RawMessage
	if err := dec.Decode(&root); err != nil {
		return bad("not a JSON object: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bad("data after the JSON object")
	}
	rawMeta, ok := root[awsMember]
	if !ok {
		return bad("no _aws member")
	}
	var meta map[string]json.RawMessage
	if err := strictObject(rawMeta, &meta, "Timestamp", "CloudWatchMetrics"); err != nil {
		return bad("_aws: %v", err)
	}
	var ts json.Number
	if raw := bytes.TrimSpace(meta["Timestamp"]); len(raw) == 0 || raw[0] == '"' {
		return bad("_aws.Timestamp %s: want a number of epoch milliseconds, not a string", raw)
	}
	if err := json.Unmarshal(meta["Timestamp"], &ts); err != nil {
		return bad("_aws.Timestamp: want a number of epoch milliseconds: %v", err)
	}
	ms, err := ts.Int64()
	if err != nil || ms < 0 {
		return bad("_aws.Timestamp %s: want a non-negative integer of epoch milliseconds", ts)
	}
	var rawDirs []json.RawMessage
	if err := json.Unmarshal(meta["CloudWatchMetrics"], &rawDirs); err != nil || len(rawDirs) == 0 {
		return bad("_aws.CloudWatchMetrics: want an array of at least one MetricDirective")
	}
	rec := Record{Timestamp: time.UnixMilli(ms).UTC(), Dimensions: map[string]string{}, Values: map[string][]float64{}}
	for i, rd := range rawDirs {
		where := fmt.Sprintf("_aws.CloudWatchMetrics[%d]", i)
		var dirMembers map[string]json.RawMessage
		if err := strictObject(rd, &dirMembers, "Namespace", "Dimensions", "Metrics"); err != nil {
			return bad("%s: %v", where, err)
		}
		var d struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct {
				Name              string
				Unit              Unit
				StorageResolution *int
			}
		}
		if err := json.Unmarshal(rd, &d); err != nil {
			return bad("%s: %v", where, err)
		}
		if n := utf8.RuneCountInString(d.Namespace); n == 0 || n > MaxNamespaceLen || strings.TrimSpace(d.Namespace) == "" {
			return bad("%s.Namespace %q: want 1 to %d characters, not only spaces", where, d.Namespace, MaxNamespaceLen)
		}
		if d.Dimensions == nil {
			return bad("%s.Dimensions: want an array of dimension sets", where)
		}
		if len(d.Metrics) > MaxMetrics {
			return bad("%s.Metrics: %d metrics, at most %d per directive", where, len(d.Metrics), MaxMetrics)
		}
		dir := Directive{Namespace: d.Namespace}
		dimNames := map[string]bool{}
		for j, set := range d.Dimensions {
			if len(set) > MaxDimensions {
				return bad("%s.Dimensions[%d]: %d dimensions, at most %d per set", where, j, len(set), MaxDimensions)
			}
			for k, name := range set {
				if slices.Contains(set[:k], name) {
					return bad("%s.Dimensions[%d]: dimension %q twice", where, j, name)
				}
				v, err := dimensionValue(root, name)
				if err != nil {
					return bad("%s.Dimensions[%d]: %v", where, j, err)
				}
				rec.Dimensions[name], dimNames[name] = v, true
			}
			dir.DimensionSets = append(dir.DimensionSets, slices.Clone(set))
		}
		var metricNames []string
		for j, m := range d.Metrics {
			at := fmt.Sprintf("%s.Metrics[%d]", where, j)
			switch {
			case m.Name == "" || utf8.RuneCountInString(m.Name) > MaxNameLen:
				return bad("%s.Name %q: want 1 to %d characters", at, m.Name, MaxNameLen)
			case slices.Contains(metricNames, m.Name):
				return bad("%s: metric %q defined twice in one directive", at, m.Name)
			case dimNames[m.Name]:
				return bad("%s: %q is both a metric and a dimension", at, m.Name)
			case m.Unit != "" && !slices.Contains(units, m.Unit):
				return bad("%s.Unit %q: not a CloudWatch unit (%v)", at, m.Unit, units)
			case m.StorageResolution != nil && *m.StorageResolution != 1 && *m.StorageResolution != 60:
				return bad("%s.StorageResolution %d: want 1 or 60", at, *m.StorageResolution)
			}
			metricNames = append(metricNames, m.Name)
			vals, err := metricValues(root, m.Name)
			if err != nil {
				return bad("%s: %v", at, err)
			}
			rec.Values[m.Name] = vals
			def := MetricDefinition{Name: m.Name, Unit: m.Unit}
			if m.StorageResolution != nil {
				def.StorageResolution = *m.StorageResolution
			}
			dir.Metrics = append(dir.Metrics, def)
		}
		rec.Directives = append(rec.Directives, dir)
	}
	return rec, nil
}

// strictObject decodes raw into out, an object with the required members and no others.
func strictObject(raw json.RawMessage, out *map[string]json.RawMessage, members ...string) error {
	if err := json.Unmarshal(raw, out); err != nil || *out == nil {
		return fmt.Errorf("want an object with %s", strings.Join(members, ", "))
	}
	for _, m := range members {
		if _, ok := (*out)[m]; !ok {
			return fmt.Errorf("member %s is missing", m)
		}
	}
	for k := range *out {
		if !slices.Contains(members, k) {
			return fmt.Errorf("member %q is not in the specification (want only %s)", k, strings.Join(members, ", "))
		}
	}
	return nil
}

// dimensionValue is the value of the root member a dimension set names.
func dimensionValue(root map[string]json.RawMessage, name string) (string, error) {
	if name == "" || name == awsMember || utf8.RuneCountInString(name) > MaxNameLen {
		return "", fmt.Errorf("dimension name %q: want 1 to %d characters, not _aws", name, MaxNameLen)
	}
	raw, ok := root[name]
	if !ok {
		return "", fmt.Errorf("dimension %q has no member in the record", name)
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("dimension %q is %s, want a string", name, raw)
	}
	if n := utf8.RuneCountInString(v); n == 0 || n > MaxDimensionValueLen || strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("dimension %q value %q: want 1 to %d characters, not only spaces", name, v, MaxDimensionValueLen)
	}
	return v, nil
}

// metricValues are the values of the root member a metric definition names.
func metricValues(root map[string]json.RawMessage, name string) ([]float64, error) {
	raw, ok := root[name]
	if !ok {
		return nil, fmt.Errorf("metric %q has no member in the record", name)
	}
	var one float64
	if err := json.Unmarshal(raw, &one); err == nil {
		return []float64{one}, nil
	}
	var many []float64
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("metric %q is %s, want a number or an array of numbers", name, raw)
	}
	if len(many) == 0 || len(many) > MaxValues {
		return nil, fmt.Errorf("metric %q holds %d values, want 1 to %d", name, len(many), MaxValues)
	}
	for _, v := range many {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("metric %q holds a value that is not finite", name)
		}
	}
	return many, nil
}
