package local_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/storage/storagetest"
)

const helperEnv = "BINLAKE_LOCAL_WRITER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		if err := writeForever(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// writeForever overwrites one object and creates numbered commit records,
// one after the other, until it is killed.
func writeForever(dir string) error {
	s, err := local.New(dir)
	if err != nil {
		return err
	}
	ctx := context.Background()
	fmt.Println("started")
	for i := 0; ; i++ {
		data := storagetest.SelfChecking(uint64(i), 10_000+(i%5)*400_000)
		if err := s.Put(ctx, "data/obj", bytes.NewReader(data)); err != nil {
			return err
		}
		if err := s.PutIfAbsent(ctx, fmt.Sprintf("commits/%06d", i), storagetest.SelfChecking(uint64(i), 300)); err != nil {
			return err
		}
	}
}

// TestKillDuringWrites kills a writing process with SIGKILL at random
// instants and checks that every visible object is whole, that commit
// records have no gaps, and that reopening the store removes the dead
// writer's temporary files.
func TestKillDuringWrites(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for round := range 20 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, _ := bufio.NewReader(out).ReadString('\n'); strings.TrimSpace(line) != "started" {
			t.Fatalf("round %d: writer did not start: %q", round, line)
		}
		time.Sleep(time.Duration(rng.IntN(60_000)) * time.Microsecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()

		s, err := local.New(dir)
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		if b, err := storage.ReadAll(ctx, s, "data/obj"); err == nil {
			if err := storagetest.CheckWhole(b); err != nil {
				t.Fatalf("round %d: data/obj is not whole after kill: %v", round, err)
			}
		} else if round > 0 {
			t.Fatalf("round %d: data/obj vanished: %v", round, err)
		}
		var commits []string
		err = s.List(ctx, "commits/", func(o storage.Object) error {
			commits = append(commits, o.Key)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range commits {
			b, err := storage.ReadAll(ctx, s, k)
			if err != nil {
				t.Fatal(err)
			}
			if err := storagetest.CheckWhole(b); err != nil {
				t.Fatalf("round %d: %s is not whole after kill: %v", round, k, err)
			}
		}
		temps, err := os.ReadDir(filepath.Join(dir, local.TempDir))
		if err != nil {
			t.Fatal(err)
		}
		if len(temps) != 0 {
			t.Fatalf("round %d: reopening left %d temporary files of the dead writer", round, len(temps))
		}
		// Each run restarts its numbering: clear the commits so the next
		// run's PutIfAbsent calls start on empty keys.
		for _, k := range commits {
			if err := s.Delete(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("round %d: killed after %d commits; all objects whole", round, len(commits))
	}
}
