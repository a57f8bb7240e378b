package storage_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// Storage is the bottom layer: nothing under storage/ may import the
// warehouse layout, a pipeline stage or the command (DESIGN.md §1).
func TestStorageImportsNoUpperLayer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath", "github.com/binlake/binlake/storage/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct{ ImportPath string }
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rest, ok := strings.CutPrefix(p.ImportPath, "github.com/binlake/binlake/")
		if ok && !strings.HasPrefix(rest, "storage") {
			t.Errorf("storage depends on %s", p.ImportPath)
		}
	}
}
