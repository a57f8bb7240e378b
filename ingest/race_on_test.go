//go:build race

package ingest_test

// raceEnabled: the race detector slows the test process tenfold; tests
// that drive real binlake processes over a million records run in the
// non-race pass of make test instead.
const raceEnabled = true
