package warehouse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/binlake/binlake/storage"
)

// Commit chains are read without listing their history: a reader finds the
// partitions by reading one key of each (CommitPartitions), and a
// partition's latest commit from its head on (LatestCommitSeq), so a
// warehouse with years of hourly commits costs what a new one does.

// TopicPartition names a Kafka partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// String returns "topic/partition", the key of Manifest.Merged.
func (p TopicPartition) String() string {
	return p.Topic + "/" + strconv.Itoa(int(p.Partition))
}

// CommitHead is the content of a partition's head record (CommitHeadKey):
// a commit number the partition has reached. Ingest rewrites it after each
// commit. It is a hint, never the truth: it lags when a run died between
// its commit and its head, and readers that find no commit at the number
// it gives list the partition's commits from the start.
type CommitHead struct {
	FormatVersion int   `json:"format_version"`
	Seq           int64 `json:"seq"`
}

// CommitHeadKey is the key of a partition's head record. It sorts after
// the partition's commit records and is not one (ParseCommitSeq rejects
// it).
func CommitHeadKey(topic string, partition int32) string {
	return CommitDir(topic, partition) + "head.json"
}

// WriteCommitHead records seq as a commit number the partition has
// reached.
func WriteCommitHead(ctx context.Context, st storage.Store, topic string, partition int32, seq int64) error {
	b, err := Marshal(CommitHead{FormatVersion: FormatVersion, Seq: seq})
	if err != nil {
		return err
	}
	key := CommitHeadKey(topic, partition)
	if err := st.Put(ctx, key, bytes.NewReader(b)); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// ReadCommit reads the commit record at key.
func ReadCommit(ctx context.Context, st storage.Store, key string) (*Commit, error) {
	b, err := storage.ReadAll(ctx, st, key)
	if err != nil {
		return nil, fmt.Errorf("read commit record: %w", err)
	}
	c := new(Commit)
	if err := Unmarshal(key, b, c); err != nil {
		return nil, err
	}
	return c, nil
}

// errFound stops a listing at the key it was looking for.
var errFound = errors.New("found")

// CommitPartitions returns the partitions that have commit records, in key
// order. It lists one commit key of each partition and skips the rest of
// its directory.
func CommitPartitions(ctx context.Context, st storage.Store) ([]TopicPartition, error) {
	var out []TopicPartition
	after := ""
	for {
		var found *TopicPartition
		err := st.ListAfter(ctx, CommitsPrefix, after, func(o storage.Object) error {
			if p, ok := parseCommitKey(o.Key); ok {
				found = &p
				return errFound
			}
			return nil
		})
		if err != nil && !errors.Is(err, errFound) {
			return nil, fmt.Errorf("list commit records: %w", err)
		}
		if found == nil {
			return out, nil
		}
		out = append(out, *found)
		// Every key in the directory ".../p/" sorts before ".../p0" ('0'
		// follows '/'), and the keys of the partitions after it after.
		after = strings.TrimSuffix(CommitDir(found.Topic, found.Partition), "/") + "0"
	}
}

// parseCommitKey returns the partition of a commit record's key.
func parseCommitKey(key string) (TopicPartition, bool) {
	rest, ok := strings.CutPrefix(key, CommitsPrefix)
	if _, isCommit := ParseCommitSeq(key); !ok || !isCommit {
		return TopicPartition{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[0] == "" {
		return TopicPartition{}, false
	}
	p, err := strconv.ParseInt(parts[1], 10, 32)
	if err != nil || p < 0 || strconv.Itoa(int(p)) != parts[1] {
		return TopicPartition{}, false
	}
	return TopicPartition{Topic: parts[0], Partition: int32(p)}, true
}

// LatestCommitSeq returns the number of a partition's latest commit, 0 if
// it has none. It lists the partition's commits from the number its head
// gives on (from the start if it has no head, or if that commit does not
// exist), and fails if they are not numbered without gaps.
func LatestCommitSeq(ctx context.Context, st storage.Store, topic string, partition int32) (int64, error) {
	from, err := readHead(ctx, st, topic, partition)
	if err != nil {
		return 0, err
	}
	latest, err := commitsFrom(ctx, st, topic, partition, from)
	if errors.Is(err, errHeadAhead) {
		latest, err = commitsFrom(ctx, st, topic, partition, 1)
	}
	return latest, err
}

// ConcurrentReads is how many small records (commits, heads) the readers
// of commit chains read at once: enough to hide an object store's round
// trips, few enough not to be throttled.
const ConcurrentReads = 16

// ChainEnd is a partition and the number of its latest commit.
type ChainEnd struct {
	TopicPartition
	Latest int64
}

// LatestCommits returns every partition that has commit records, in key
// order, with the number of its latest commit (CommitPartitions, then
// LatestCommitSeq for ConcurrentReads partitions at once).
func LatestCommits(ctx context.Context, st storage.Store) ([]ChainEnd, error) {
	tps, err := CommitPartitions(ctx, st)
	if err != nil {
		return nil, err
	}
	out := make([]ChainEnd, len(tps))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(ConcurrentReads)
	for i, tp := range tps {
		g.Go(func() error {
			n, err := LatestCommitSeq(gctx, st, tp.Topic, tp.Partition)
			out[i] = ChainEnd{tp, n}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// ReadCommits reads a partition's commits from..to (inclusive, from >= 1),
// in order, ConcurrentReads at once.
func ReadCommits(ctx context.Context, st storage.Store, topic string, partition int32, from, to int64) ([]*Commit, error) {
	if to < from {
		return nil, nil
	}
	out := make([]*Commit, to-from+1)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(ConcurrentReads)
	for i := range out {
		g.Go(func() error {
			var err error
			out[i], err = ReadCommit(gctx, st, CommitKey(topic, partition, from+int64(i)))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// CommitLead is the most by which a commit can precede the events whose
// files it lists: the clocks of MySQL and of the ingest hosts agree to
// within it. No commit made more than CommitLead before day D began lists
// a file of D or of a later day, so readers that want the files of D read
// a partition's commits back from its latest only down to there.
const CommitLead = 24 * time.Hour

// ReadCommitsBack reads a partition's commits from latest (>= 1) back to
// the first one made before stop, which it leaves out, and returns them
// in order. The latest commit is always in. It reads ConcurrentReads at
// once, so it may read up to ConcurrentReads-1 commits before the one
// that stops it.
func ReadCommitsBack(ctx context.Context, st storage.Store, topic string, partition int32, latest int64, stop time.Time) ([]*Commit, error) {
	var back []*Commit // latest first
	for to := latest; to >= 1; {
		from := max(1, to-ConcurrentReads+1)
		cs, err := ReadCommits(ctx, st, topic, partition, from, to)
		if err != nil {
			return nil, err
		}
		for i := len(cs) - 1; i >= 0; i-- {
			if len(back) > 0 && cs[i].CommittedAt.Before(stop) {
				slices.Reverse(back)
				return back, nil
			}
			back = append(back, cs[i])
		}
		to = from - 1
	}
	slices.Reverse(back)
	return back, nil
}

// readHead returns the commit number of a partition's head, or 1 when it
// has none that this binlake reads.
func readHead(ctx context.Context, st storage.Store, topic string, partition int32) (int64, error) {
	key := CommitHeadKey(topic, partition)
	b, err := storage.ReadAll(ctx, st, key)
	if errors.Is(err, storage.ErrNotFound) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	var h CommitHead
	if Unmarshal(key, b, &h) != nil || h.Seq < 1 {
		return 1, nil // a hint: list from the start instead
	}
	return h.Seq, nil
}

// errHeadAhead: the commit a head names does not exist.
var errHeadAhead = errors.New("no commit at the head")

// commitsFrom lists a partition's commits from number from (≥ 1) on and
// returns the last one's number.
func commitsFrom(ctx context.Context, st storage.Store, topic string, partition int32, from int64) (int64, error) {
	after := ""
	if from > 1 {
		after = CommitKey(topic, partition, from-1)
	}
	last, gap := from-1, ""
	err := st.ListAfter(ctx, CommitDir(topic, partition), after, func(o storage.Object) error {
		n, ok := ParseCommitSeq(o.Key)
		switch {
		case !ok:
			return nil
		case n != last+1:
			gap = o.Key
			return errFound
		}
		last = n
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return 0, fmt.Errorf("list commit records of %s/%d: %w", topic, partition, err)
	}
	switch {
	case from > 1 && last == from-1:
		return 0, errHeadAhead
	case gap != "":
		return 0, fmt.Errorf("partition %s/%d: commit records are not numbered without gaps: %s follows commit %d (the warehouse was edited by hand)", topic, partition, gap, last)
	}
	return last, nil
}
