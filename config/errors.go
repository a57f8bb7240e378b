package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Error is one problem in a configuration file. Load and Parse return every
// problem they find, each as an *Error, joined with errors.Join and sorted by
// line; use errors.As to get at the fields of the first one.
type Error struct {
	// File is the name given to Parse, or the path given to Load.
	File string
	// Line is the 1-based line of the offending key or value; 0 when the
	// YAML parser did not report one.
	Line int
	// Path is the key path of the offending value, such as tables[1].match
	// or kafka.format; empty for YAML syntax errors.
	Path string
	// Msg says what is wrong and, where it can, how to fix it.
	Msg string
}

// Error formats the problem as "file:line: path: message".
func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	if e.Path != "" {
		s += ": " + e.Path
	}
	return s + ": " + e.Msg
}

// joinErrors sorts errs by line (keeping the order of detection within a
// line), drops repeats (a mapping merged in with << in several places is
// checked each time) and joins them; nil when there are none.
func joinErrors(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	seen := map[Error]bool{}
	var out []error
	for _, e := range errs {
		if !seen[*e] {
			seen[*e] = true
			out = append(out, e)
		}
	}
	return errors.Join(out...)
}
