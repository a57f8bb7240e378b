//go:build race

package merge_test

// raceEnabled: the merges under test run as separate binlake processes
// (not built with the race detector), so the kill test runs once, in the
// non-race pass of make test.
const raceEnabled = true
