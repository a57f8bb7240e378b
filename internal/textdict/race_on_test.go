//go:build race

package textdict

// raceEnabled: the race detector slows parquet-go's writer ~50 times; the
// randomized tests run fewer cases under it.
const raceEnabled = true
