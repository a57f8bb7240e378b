//go:build !race

package textdict

const raceEnabled = false
