package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

var updateDocs = flag.Bool("update", false, "rewrite docs/cli.md from the command tree")

const cliPath = "../../docs/cli.md"

// TestCLIReference fails when docs/cli.md does not say what the command
// tree says. go test ./cmd/binlake -run TestCLIReference -update rewrites it.
func TestCLIReference(t *testing.T) {
	a := &app{}
	got := cliReference(a.rootCommand())
	if *updateDocs {
		if err := os.WriteFile(cliPath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(cliPath)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s is stale: run go test ./cmd/binlake -run TestCLIReference -update", filepath.Clean(cliPath))
	}
}

// cliReference renders the command tree as Markdown.
func cliReference(root *cobra.Command) string {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# binlake command reference\n\n")
	p("<!-- Generated from the command tree by `go test ./cmd/binlake -run TestCLIReference -update`; do not edit. -->\n\n")
	p("```text\n%s\n```\n\n", root.Long)
	p("## Exit codes\n\n| code | meaning |\n|---|---|\n")
	p("| %d | done |\n| %d | failed (the error is on stderr and in the JSON summary) |\n", exitOK, exitFailed)
	p("| %d | usage or configuration error: the same command fails again until it is changed |\n", exitUsage)
	p("| %d | not ready yet (checkdone, merge): try again later |\n\n", exitNotReady)
	p("Every command ends with one line on stderr, `<command>: <status>: <result> (<seconds>s)`, where\n")
	p("status is `ok`, `failed`, `not_ready` or `usage_error`. `--summary FILE` writes the same as JSON:\n")
	p("`command`, `status`, `exit_code`, `error`, `started`, `duration_seconds` and `details` (the\n")
	p("command's own result: ingest's run summary, merge's per-table summaries, checkdone's result,\n")
	p("status's report).\n\n")
	p("## Global flags\n\n```text\n%s```\n\n", root.PersistentFlags().FlagUsages())
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" {
				continue
			}
			p("## %s\n\n%s.\n\n", sub.CommandPath(), sub.Short)
			if sub.Runnable() {
				p("```text\n%s\n```\n\n", sub.UseLine())
			}
			if sub.Long != "" {
				p("%s\n\n", strings.TrimSpace(sub.Long))
			}
			if fu := sub.LocalFlags().FlagUsages(); fu != "" {
				p("Flags:\n\n```text\n%s```\n\n", fu)
			}
			if sub.Example != "" {
				p("Examples:\n\n```sh\n%s\n```\n\n", sub.Example)
			}
			walk(sub)
		}
	}
	walk(root)
	return strings.TrimRight(b.String(), "\n") + "\n"
}
