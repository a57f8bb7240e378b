//go:build race

package main

// raceEnabled: tests that drive real binlake processes run in the non-race
// pass of make test instead.
const raceEnabled = true
