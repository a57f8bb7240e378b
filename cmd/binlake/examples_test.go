package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestAirflowExampleCompiles: docs/examples/binlake_dag.py is valid Python
// (python3 -m py_compile), when python3 is installed.
func TestAirflowExampleCompiles(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	cmd := exec.Command(py, "-m", "py_compile", "../../docs/examples/binlake_dag.py")
	cmd.Env = append(os.Environ(), "PYTHONPYCACHEPREFIX="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("py_compile docs/examples/binlake_dag.py: %v\n%s", err, out)
	}
}

// TestExamplesUseRealFlags: every binlake command line in the examples and
// the README names a real subcommand and only its flags.
func TestExamplesUseRealFlags(t *testing.T) {
	root := (&app{}).rootCommand()
	files, _ := filepath.Glob("../../docs/examples/*")
	files = append(files, "../../README.md")
	invocation := regexp.MustCompile(`binlake ([a-z]+)((?:[^|&;>#\n]|\{\{[^}]*\}\})*)`)
	flagRe := regexp.MustCompile(`(?:^|\s|")--([a-z][a-z-]*)`)
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range invocation.FindAllStringSubmatch(string(b), -1) {
			sub, _, err := root.Find([]string{m[1]})
			if err != nil || sub == root {
				if strings.Contains(m[2], "--") {
					t.Errorf("%s: %q: no subcommand %s", f, strings.TrimSpace(m[0]), m[1])
				}
				continue // prose: "binlake on Airflow"
			}
			checked++
			for _, fm := range flagRe.FindAllStringSubmatch(m[2], -1) {
				if !hasFlag(sub, fm[1]) {
					t.Errorf("%s: %q: binlake %s has no flag --%s", f, strings.TrimSpace(m[0]), m[1], fm[1])
				}
			}
		}
	}
	if checked < 8 {
		t.Errorf("checked only %d command lines", checked)
	}
}

func hasFlag(c *cobra.Command, name string) bool {
	return c.Flags().Lookup(name) != nil || c.InheritedFlags().Lookup(name) != nil || c.Root().PersistentFlags().Lookup(name) != nil
}
