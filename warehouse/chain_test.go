package warehouse

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/fault"
	"github.com/binlake/binlake/storage/mem"
)

func putCommits(t *testing.T, st storage.Store, topic string, partition int32, from, to int64) {
	t.Helper()
	for n := from; n <= to; n++ {
		if err := st.PutIfAbsent(context.Background(), CommitKey(topic, partition, n), []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCommitPartitions(t *testing.T) {
	ctx := context.Background()
	st := fault.New(mem.New())
	// Partition numbers and topic names whose keys sort around "/".
	want := []TopicPartition{{"a-b", 3}, {"a.b", 0}, {"a", 0}, {"a", 1}, {"a", 10}, {"a", 2}, {"a0", 7}} // key order
	for _, p := range want {
		putCommits(t, st, p.Topic, p.Partition, 1, 40)
		if err := WriteCommitHead(ctx, st, p.Topic, p.Partition, 40); err != nil {
			t.Fatal(err)
		}
	}
	// Not partitions: a directory with no commit record, and strays.
	for _, k := range []string{CommitHeadKey("lost", 4), CommitsPrefix + "a/x/000000000001.json", CommitsPrefix + "stray.json", CommitsPrefix + "a/05/000000000001.json"} {
		if err := st.Put(ctx, k, strings.NewReader("{}")); err != nil {
			t.Fatal(err)
		}
	}
	listed0 := st.Listed()
	got, err := CommitPartitions(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("partitions:\n got %v\nwant %v", got, want)
	}
	// One key of each partition, and the strays: not the 40 commits of each.
	if n := st.Listed() - listed0; n > int64(len(want))+5 {
		t.Errorf("listed %d keys to find %d partitions of 40 commits each", n, len(want))
	}
}

func TestLatestCommitSeq(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		commits int64
		head    string // content of the head record, "" for none
		want    int64
		listed  int64 // at most this many keys listed
		wantErr string
	}{
		{name: "none", want: 0, listed: 0},
		{name: "no head", commits: 300, want: 300, listed: 300},
		{name: "head at the latest", commits: 300, head: `{"format_version":1,"seq":300}`, want: 300, listed: 2},
		{name: "head behind", commits: 300, head: `{"format_version":1,"seq":297}`, want: 300, listed: 5},
		{name: "head ahead", commits: 300, head: `{"format_version":1,"seq":400}`, want: 300, listed: 302},
		{name: "head unreadable", commits: 30, head: `{"format_version":99,"seq":3}`, want: 30, listed: 31},
		{name: "head zero", commits: 30, head: `{"format_version":1,"seq":0}`, want: 30, listed: 31},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := fault.New(mem.New())
			putCommits(t, st, "t", 3, 1, tc.commits)
			putCommits(t, st, "t", 30, 1, 500) // a neighbour that must not be listed
			listed0 := st.Listed()
			if tc.head != "" {
				if err := st.Put(ctx, CommitHeadKey("t", 3), strings.NewReader(tc.head)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := LatestCommitSeq(ctx, st, "t", 3)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("latest %d, want %d", got, tc.want)
			}
			if n := st.Listed() - listed0; n > tc.listed {
				t.Errorf("listed %d keys, want at most %d", n, tc.listed)
			}
		})
	}
}

func TestLatestCommitSeqGap(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	putCommits(t, st, "t", 0, 1, 5)
	putCommits(t, st, "t", 0, 7, 9)
	for _, head := range []int64{0, 3} {
		if head > 0 {
			if err := WriteCommitHead(ctx, st, "t", 0, head); err != nil {
				t.Fatal(err)
			}
		}
		_, err := LatestCommitSeq(ctx, st, "t", 0)
		if err == nil || !strings.Contains(err.Error(), "000000000007.json follows commit 5") {
			t.Errorf("head %d: got %v, want the gap after commit 5 named", head, err)
		}
	}
	// A head past the gap: the listing starts there and does not read
	// what is before it (merge, which reads those commits, names a
	// missing one).
	if err := WriteCommitHead(ctx, st, "t", 0, 8); err != nil {
		t.Fatal(err)
	}
	if got, err := LatestCommitSeq(ctx, st, "t", 0); err != nil || got != 9 {
		t.Errorf("head 8: got %d, %v; want 9", got, err)
	}
}

// ReadCommits returns the commits asked for, in order, whatever order
// its parallel reads finish in, and names a missing one.
func TestReadCommits(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	for n := int64(1); n <= 100; n++ {
		if n == 77 {
			continue
		}
		b, err := Marshal(Commit{FormatVersion: FormatVersion, Topic: "t", Partition: 2, Seq: n})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutIfAbsent(ctx, CommitKey("t", 2, n), b); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadCommits(ctx, st, "t", 2, 3, 76)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 74 {
		t.Fatalf("%d commits, want 74", len(got))
	}
	for i, c := range got {
		if c.Seq != int64(3+i) {
			t.Fatalf("commit %d of the result is number %d, want %d", i, c.Seq, 3+i)
		}
	}
	if got, err := ReadCommits(ctx, st, "t", 2, 5, 4); err != nil || len(got) != 0 {
		t.Errorf("an empty range: %d commits, %v", len(got), err)
	}
	if _, err := ReadCommits(ctx, st, "t", 2, 1, 100); err == nil || !strings.Contains(err.Error(), CommitKey("t", 2, 77)) {
		t.Errorf("commit 77 missing: %v, want it named", err)
	}
}

func TestReadCommitsBack(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	const n = 50 // commit s made at t0 + s hours
	for s := int64(1); s <= n; s++ {
		b, err := Marshal(Commit{FormatVersion: FormatVersion, Topic: "t", Partition: 0, Seq: s, CommittedAt: t0.Add(time.Duration(s) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutIfAbsent(ctx, CommitKey("t", 0, s), b); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		latest      int64
		stop        time.Time
		first, last int64
	}{
		{n, t0, 1, n},                      // every commit made since stop
		{n, t0.Add(20 * time.Hour), 20, n}, // stop at a commit: it is in
		{n, t0.Add(20*time.Hour + time.Minute), 21, n},
		{n, t0.Add(n * time.Hour), n, n},             // only the latest
		{n, t0.Add(99 * time.Hour), n, n},            // none since stop: the latest still
		{n, t0.Add((n - 16) * time.Hour), n - 16, n}, // a batch's edge
		{n, t0.Add((n - 15) * time.Hour), n - 15, n},
		{30, t0.Add(10 * time.Hour), 10, 30}, // latest as given, not as stored
		{3, t0.Add(-time.Hour), 1, 3},
	} {
		got, err := ReadCommitsBack(ctx, st, "t", 0, c.latest, c.stop)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, cm := range got {
			seqs = append(seqs, cm.Seq)
		}
		var want []int64
		for s := c.first; s <= c.last; s++ {
			want = append(want, s)
		}
		if !slices.Equal(seqs, want) {
			t.Errorf("latest %d, stop %s: commits %v, want %d..%d", c.latest, c.stop.Format(time.RFC3339), seqs, c.first, c.last)
		}
	}
	if err := st.Delete(ctx, CommitKey("t", 0, 45)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCommitsBack(ctx, st, "t", 0, n, t0.Add(40*time.Hour)); err == nil || !strings.Contains(err.Error(), CommitKey("t", 0, 45)) {
		t.Errorf("commit 45 missing: %v, want it named", err)
	}
}
