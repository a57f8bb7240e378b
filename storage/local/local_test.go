package local_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/storage/storagetest"
)

func TestContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := local.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestListSkipsTempDir: files being written, under the root's temporary
// directory, are not objects; a directory of that name deeper down holds
// objects like any other.
func TestListSkipsTempDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, local.TempDir, "put-x"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a/" + local.TempDir + "/b", "z"} {
		if err := s.Put(ctx, k, strings.NewReader(k)); err != nil {
			t.Fatal(err)
		}
	}
	for _, after := range []string{"", "."} {
		var got []string
		if err := s.ListAfter(ctx, "", after, func(o storage.Object) error {
			got = append(got, o.Key)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if want := []string{"a/" + local.TempDir + "/b", "z"}; !slices.Equal(got, want) {
			t.Errorf("list after %q: %q, want %q", after, got, want)
		}
	}
}
