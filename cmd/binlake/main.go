// Command binlake turns MySQL change streams in Kafka into daily snapshot
// tables on object storage. See README.md and docs/ for the pipeline; this
// package only wires configuration, storage and the stages together, maps
// errors to exit codes and prints run summaries.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // time zones load on machines without zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{
		stdout: os.Stdout,
		stderr: os.Stderr,
		lookup: os.LookupEnv,
	})
	stop()
	os.Exit(code)
}
