package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/routekeeper/routekeeper/shared/drift"
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

// palette colours the action symbols of plan and diff text: on a terminal, unless
// NO_COLOR is set (https://no-color.org) or --no-color is given. The zero value writes
// plain text.
type palette struct{ on bool }

// ANSI SGR sequences of the palette.
const (
	sgrReset  = "\x1b[0m"
	sgrGreen  = "\x1b[32m"
	sgrYellow = "\x1b[33m"
	sgrRed    = "\x1b[31m"
	sgrBold   = "\x1b[1m"
)

func (p palette) paint(sgr, s string) string {
	if !p.on {
		return s
	}
	return sgr + s + sgrReset
}

// action colours a line about a create (green), update (yellow) or delete (red).
func (p palette) action(a drift.Action, s string) string {
	switch a {
	case drift.ActionCreate:
		return p.paint(sgrGreen, s)
	case drift.ActionDelete:
		return p.paint(sgrRed, s)
	}
	return p.paint(sgrYellow, s)
}

// conflict colours a line about something that needs a person (bold red).
func (p palette) conflict(s string) string { return p.paint(sgrBold+sgrRed, s) }

// noColorFlag is the root's --no-color.
const noColorFlag = "no-color"

// paletteFor is the palette of text cmd writes to w.
func paletteFor(cmd *cobra.Command, w io.Writer) palette {
	if getenv("NO_COLOR") != "" {
		return palette{}
	}
	if f := cmd.Flags().Lookup(noColorFlag); f != nil && f.Value.String() == "true" {
		return palette{}
	}
	return palette{on: isTerminal(w)}
}

// inputIsTerminal reports whether cmd's stdin is a terminal (someone can answer).
func inputIsTerminal(cmd *cobra.Command) bool {
	f, ok := cmd.InOrStdin().(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
