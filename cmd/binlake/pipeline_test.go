package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/cdc"
)

// TestIngestThenCheckdone drives the commands as a scheduler would: ingest
// a stream whose events end yesterday, then ask checkdone about yesterday
// (ready: exit 0) and today (not yet: exit 75).
func TestIngestThenCheckdone(t *testing.T) {
	kc, produce := shopKafka(t, 2)
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	yesterday := today.Add(-24 * time.Hour)
	var recs []*kgo.Record
	for i := range 48 {
		es := yesterday.Add(time.Duration(i) * 30 * time.Minute)
		if es.After(now) {
			break
		}
		recs = append(recs, &kgo.Record{Partition: int32(i % 2), Value: canalInsert(i, es)})
	}
	produce(recs...)

	dir := t.TempDir()
	cfg := usersConfig(t, kc, dir, "", "")
	summary := filepath.Join(dir, "ingest.json")
	code, _, stderr := invoke(t, nil, "ingest", "--config", cfg, "--summary", summary)
	if code != exitOK {
		t.Fatalf("ingest: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "binlake ingest: ok:") {
		t.Errorf("no one-line summary: %s", stderr)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"records": `+fmt.Sprint(len(recs))) {
		t.Errorf("summary JSON does not count %d records:\n%s", len(recs), b)
	}

	code, out, stderr := invoke(t, nil, "checkdone", "--config", cfg, "--date", yesterday.Format(time.DateOnly), "--json")
	if code != exitOK {
		t.Fatalf("checkdone yesterday: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, `"ready": true`) {
		t.Errorf("--json output: %s", out)
	}
	code, _, stderr = invoke(t, nil, "checkdone", "--config", cfg, "--date", today.Add(24*time.Hour).Format(time.DateOnly))
	if code != exitNotReady || !strings.Contains(stderr, "not ready yet") || !strings.Contains(stderr, "hr=23") {
		t.Fatalf("checkdone tomorrow: exit %d, want 75\n%s", code, stderr)
	}
}

// TestIngestWhileKeysRotate: the key variable holds the old and the new
// key while producers move over; records sealed with either decode, and
// one sealed with a key binlake does not have goes to the dead-letter
// queue, named as undecryptable.
func TestIngestWhileKeysRotate(t *testing.T) {
	kc, produce := shopKafka(t, 1)
	oldKey, newKey, otherKey := []byte("0123456789abcdef"), []byte("fedcba9876543210fedcba9876543210"), []byte("not-configured!!")
	es := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Hour)
	var recs []*kgo.Record
	for i := range 40 {
		key := oldKey
		switch {
		case i == 17:
			key = otherKey
		case i >= 10 && i%3 != 0:
			key = newKey
		}
		v, err := cdc.Seal(key, canalInsert(i, es.Add(time.Duration(i)*time.Second)))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Value: v})
	}
	produce(recs...)

	dir := t.TempDir()
	cfg := usersConfig(t, kc, dir, "  encryption:\n    key_env: BINLAKE_AES_KEY\n", "ingest:\n  max_dlq_ratio: 0.05\n")
	summary := filepath.Join(dir, "ingest.json")
	keys := hex.EncodeToString(oldKey) + "\n" + base64.StdEncoding.EncodeToString(newKey) + "\n"
	code, _, stderr := invoke(t, map[string]string{"BINLAKE_AES_KEY": keys}, "ingest", "--config", cfg, "--summary", summary)
	if code != exitOK {
		t.Fatalf("ingest: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Details struct {
			Records, DLQ int64
			Rows         map[string]int64
		}
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if d := sum.Details; d.Records != 40 || d.Rows["users"] != 39 || d.DLQ != 1 {
		t.Fatalf("records %d, users rows %d, dead letters %d; want 40, 39, 1\n%s", d.Records, d.Rows["users"], d.DLQ, b)
	}
	var dlq []string
	err = filepath.WalkDir(filepath.Join(dir, "wh", "_dlq"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			body, rerr := os.ReadFile(path)
			dlq = append(dlq, string(body))
			return rerr
		}
		return err
	})
	if err != nil || len(dlq) == 0 || !strings.Contains(strings.Join(dlq, ""), "cannot decrypt: wrong key or corrupted message") {
		t.Errorf("dead-letter files (err %v) do not name the reason:\n%.2000s", err, strings.Join(dlq, "\n"))
	}
}
