package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/spf13/cobra"
)

// TestAirflowExampleCompiles: docs/examples/binlake_dag.py is valid Python
// (python3 -m py_compile). Without python3 it skips, or fails when the
// environment variable CI is set, like the DuckDB tests.
func TestAirflowExampleCompiles(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		msg := "python3 is not installed (apt-get install -y python3-minimal): cannot check docs/examples/binlake_dag.py"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
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

// TestDocLinks: every relative link in README.md and docs/*.md names a
// file that exists, and every #anchor a heading of it (GitHub's slugs).
// docs/snapshot.md belongs to the snapshot stage's own docs and may not be
// in this tree yet.
func TestDocLinks(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			full := f
			if path != "" {
				full = filepath.Join(filepath.Dir(f), path)
			}
			if filepath.Base(full) == "snapshot.md" {
				continue
			}
			doc, err := os.ReadFile(full)
			if err != nil {
				t.Errorf("%s: link %s: %v", f, target, err)
				continue
			}
			if anchor != "" && !slices.Contains(headingSlugs(string(doc)), anchor) {
				t.Errorf("%s: link %s: no heading with that anchor in %s", f, target, full)
			}
		}
	}
}

// headingSlugs lists the anchors GitHub gives a Markdown file's headings.
func headingSlugs(doc string) []string {
	var out []string
	inFence := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range h {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}
