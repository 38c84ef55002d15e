package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// writers are the ways a command writes its result other than JSON, by --format value.
type writers map[string]func(io.Writer) error

// writeAs writes a command's result v to w in format: "json" is v through writeJSON, any
// other format is written by its entry in others.
func writeAs(w io.Writer, format string, v any, others writers) error {
	if format == "json" {
		return writeJSON(w, v)
	}
	write, ok := others[format]
	if !ok {
		// formatFlag admits only a command's formats: this is a command without a writer.
		return fmt.Errorf("no writer for --format %s", format)
	}
	return write(w)
}

// writeJSON writes v as indented JSON and a newline: how every JSON result is written.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
