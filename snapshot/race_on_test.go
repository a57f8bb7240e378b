//go:build race

package snapshot

// raceEnabled: the race detector slows the test process tenfold; tests
// that drive real binlake processes run in the non-race pass of make test
// instead.
const raceEnabled = true
