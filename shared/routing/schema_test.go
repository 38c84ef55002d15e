package routing

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite routekeeper.schema.json from the Go types")

// TestSchemaUpToDate fails when the committed schema differs from the one generated from
// the Go types. Regenerate with `go generate ./shared/routing` (or go test -update).
func TestSchemaUpToDate(t *testing.T) {
	got, err := GenerateSchema(".")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("routekeeper.schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("wrote routekeeper.schema.json")
		return
	}
	committed, err := os.ReadFile("routekeeper.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, got) {
		t.Errorf("routekeeper.schema.json is stale: run `go generate ./shared/routing`; diff (-committed +generated):\n%s",
			cmp.Diff(string(committed), string(got)))
	}
	if !bytes.Equal(Schema(), committed) {
		t.Errorf("Schema() differs from routekeeper.schema.json: rebuild")
	}
}

func TestSchemaCompiles(t *testing.T) {
	if _, err := loadSchema(); err != nil {
		t.Fatalf("embedded schema does not compile: %v", err)
	}
}

// TestSchemaURLResolves: the modeline export writes names the raw file of the committed
// schema: SchemaURL ends with the path the schema is committed at, and that file is this
// package's schema.
func TestSchemaURLResolves(t *testing.T) {
	if !strings.HasPrefix(SchemaURL, "https://raw.githubusercontent.com/") || !strings.HasSuffix(SchemaURL, "/"+SchemaPath) {
		t.Fatalf("SchemaURL %q is not the raw URL of %s", SchemaURL, SchemaPath)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(SchemaPath)))
	if err != nil || !bytes.Equal(b, Schema()) {
		t.Errorf("%s in the repository: %v, equal to Schema() %v; want the committed schema there", SchemaPath, err, err == nil && bytes.Equal(b, Schema()))
	}
}
