package main

import (
	"errors"
	"fmt"

	"github.com/binlake/binlake/checkdone"
)

// Exit codes of DESIGN.md §8. Scripts and schedulers depend on them.
const (
	exitOK       = 0  // done
	exitFailed   = 1  // the run failed
	exitUsage    = 2  // bad command line or configuration
	exitNotReady = 75 // checkdone: not ready yet (EX_TEMPFAIL), try again later
)

// usageError marks a mistake in the command line or the configuration: the
// same invocation will fail again until the user changes it.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitCode maps an error to the process exit code. It is the only place
// that decides exit codes.
func exitCode(err error) int {
	var u usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &u):
		return exitUsage
	case errors.Is(err, checkdone.ErrNotReady):
		return exitNotReady
	}
	return exitFailed
}
