package routing

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader and validator. It must never panic, every
// failure must be a *ValidationError whose diagnostics name the file and a line, and every
// accepted config must survive MarshalYAML -> Parse.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../../examples/routing/*.yaml")
	more, _ := filepath.Glob("../../examples/routing/*/*.yaml")
	for _, p := range append(seeds, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(doc(nil)))
	f.Add([]byte("apiVersion: routekeeper/v1\nqueues:\n\t- name: Q\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("apiVersion: routekeeper/v1\n---\nskills: [{name: A}]\n---\n"))
	f.Add([]byte(`{"apiVersion": "routekeeper/v1", "queues": [{"name": "Q", "bullseye": {"rings": [{}, {}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.yaml", data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse returned %T %v, want *ValidationError", err, err)
			}
			if len(ve.Diagnostics) == 0 {
				t.Fatal("ValidationError without diagnostics")
			}
			for _, d := range ve.Diagnostics {
				if d.File != "f.yaml" || d.Line < 1 || d.Message == "" || d.Rule == "" {
					t.Fatalf("diagnostic without file, line, rule or message: %+v", d)
				}
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Validate of a loaded config: %v", err)
		}
		if _, err := Compile(cfg); err != nil {
			t.Fatalf("Compile of a loaded config: %v", err)
		}
		out, err := MarshalYAML(cfg)
		if err != nil {
			t.Fatalf("MarshalYAML: %v", err)
		}
		if _, err := Parse("export.yaml", out); err != nil {
			t.Fatalf("Parse(MarshalYAML(cfg)): %v\ninput:\n%s\noutput:\n%s", err, data, out)
		}
	})
}
