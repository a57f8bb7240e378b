package merge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// CommitCache keeps the commit records a merge has read, and the latest
// commit of each partition when the first merge planned, so merging many
// tables in one process reads each record once and finds the partitions'
// chain ends once. It is safe for concurrent use; a nil *CommitCache
// caches nothing.
type CommitCache struct {
	mu      sync.Mutex
	commits map[string]*warehouse.Commit
	ends    []warehouse.ChainEnd
}

// NewCommitCache returns an empty cache.
func NewCommitCache() *CommitCache {
	return &CommitCache{commits: map[string]*warehouse.Commit{}}
}

func (c *CommitCache) get(key string) *warehouse.Commit {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.commits[key]
}

func (c *CommitCache) put(key string, cm *warehouse.Commit) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commits[key] = cm
}

// latestCommits returns the latest commit of every partition that has
// one, from cache if a merge before found them.
func latestCommits(ctx context.Context, st storage.Store, cache *CommitCache) ([]warehouse.ChainEnd, error) {
	if cache == nil {
		return warehouse.LatestCommits(ctx, st)
	}
	// Held while listing: the merges that wait would list too.
	cache.mu.Lock()
	defer cache.mu.Unlock()
	if cache.ends == nil {
		ends, err := warehouse.LatestCommits(ctx, st)
		if err != nil {
			return nil, err
		}
		cache.ends = ends
	}
	return cache.ends, nil
}

// binlogFile is a committed binlog file that the merge applies.
type binlogFile struct {
	key   string
	part  string
	seq   int64
	index int // in the commit's file list
	hour  warehouse.Hour
	rows  int64
	bytes int64
}

// changePlan is what a merge applies: the binlog files, in the order that
// decides ties (partition, then commit, then the commit's file order), and
// the new Merged bounds.
type changePlan struct {
	files       []binlogFile
	merged      map[string]int64
	commitsRead int
	partitions  int
}

// planChanges finds the committed binlog files of table that the merge of
// day d applies, through the commit records (a file no commit lists is
// not committed; binlog/ is never listed).
//
// A file of partition P, commit s and hour h is applied iff h ≤ d, and
// not (h ≤ d-1 and s ≤ base[P]) — the base day merged it — and s ≤
// bound[P]. bound is the latest commit of each partition when the merge
// starts, or reuse (the published manifest of d, when re-running d, so
// that the re-run applies exactly the same files) moved on as rerunBound
// says when its inputs changed.
//
// Commits after base[P] are read in full. Commits up to base[P] can hold
// files of day d that the base day skipped (hour d, committed before the
// base merge ran): they are read walking back from base[P], until a commit
// was made more than warehouse.CommitLead before the start of d, before
// which no commit lists a file of d.
func planChanges(ctx context.Context, st storage.Store, cache *CommitCache, table string, d warehouse.Date, zone warehouse.Zone, base, reuse map[string]int64) (*changePlan, error) {
	ends, err := latestCommits(ctx, st, cache)
	if err != nil {
		return nil, err
	}
	stop := zone.DayStart(d).Add(-warehouse.CommitLead)
	plan := &changePlan{merged: map[string]int64{}}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(warehouse.ConcurrentReads)
	for _, e := range ends {
		g.Go(func() error {
			files, part, bound, n, err := planPartition(gctx, st, cache, table, d, e, stop, base, reuse)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			plan.files = append(plan.files, files...)
			plan.commitsRead += n
			if part != "" {
				plan.merged[part] = bound
				plan.partitions++
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.Slice(plan.files, func(i, j int) bool {
		a, b := plan.files[i], plan.files[j]
		if a.part != b.part {
			return a.part < b.part
		}
		if a.seq != b.seq {
			return a.seq < b.seq
		}
		return a.index < b.index
	})
	return plan, nil
}

// planPartition plans one partition's commits (list: its sequence
// numbers, ascending).
func planPartition(ctx context.Context, st storage.Store, cache *CommitCache, table string, d warehouse.Date, end warehouse.ChainEnd, stop time.Time, base, reuse map[string]int64) (files []binlogFile, part string, bound int64, read int, err error) {
	// Each commit is read once, whether or not cache keeps it.
	got := map[int64]*warehouse.Commit{}
	get := func(s int64) (*warehouse.Commit, error) {
		if c := got[s]; c != nil {
			return c, nil
		}
		c, err := readCommit(ctx, st, cache, end.TopicPartition, s)
		if err != nil {
			return nil, err
		}
		got[s] = c
		read++
		return c, nil
	}
	latest := end.Latest
	if latest < 1 {
		return nil, "", 0, 0, nil
	}
	part = end.String()
	b0 := base[part]
	bound = latest
	if reuse != nil {
		if bound = reuse[part]; bound > latest {
			return nil, "", 0, 0, fmt.Errorf("partition %s: the published manifest merged up to commit %d but the latest commit is %d: commit records are missing", part, bound, latest)
		}
		if bound, err = rerunBound(get, part, d, max(bound, b0), latest); err != nil {
			return nil, "", 0, 0, err
		}
	}
	take := func(c *warehouse.Commit, s int64, onlyDay bool) error {
		for i, f := range c.Files {
			if f.Table != table {
				continue
			}
			h, err := warehouse.ParseHourPath(f.Hour)
			if err != nil {
				return fmt.Errorf("commit %s %d: file %s: %w", part, s, f.Key, err)
			}
			if c := h.Date.Compare(d); c > 0 || (onlyDay && c != 0) {
				continue
			}
			files = append(files, binlogFile{key: f.Key, part: part, seq: s, index: i, hour: h, rows: f.Rows, bytes: f.Bytes})
		}
		return nil
	}
	// Files a replay (ingest --replay-date) replaced are not committed any
	// more (warehouse.CommittedFiles). A replay only replaces files of
	// earlier commits, and every commit that can list a file taken here
	// is read below, so every replay that matters is seen.
	replaced := map[string]bool{}
	// Commits after the base's bound: every file of an hour up to d.
	for s := b0 + 1; s <= bound; s++ {
		c, err := get(s)
		if err != nil {
			return nil, "", 0, 0, err
		}
		if err := take(c, s, false); err != nil {
			return nil, "", 0, 0, err
		}
		for _, k := range c.Replaces {
			replaced[k] = true
		}
	}
	// Commits the base merged: only files of day d, which it skipped.
	for s := min(b0, bound); s >= 1; s-- {
		c, err := get(s)
		if err != nil {
			return nil, "", 0, 0, err
		}
		if c.CommittedAt.Before(stop) {
			break
		}
		if err := take(c, s, true); err != nil {
			return nil, "", 0, 0, err
		}
		for _, k := range c.Replaces {
			replaced[k] = true
		}
	}
	files = slices.DeleteFunc(files, func(f binlogFile) bool { return replaced[f.key] })
	return files, part, bound, read, nil
}

// rerunBound is the bound of a partition for a re-run of day d whose
// published bound is from (already raised to the base's bound, if that is
// newer: a re-run of the base can have moved it on). A replay of a day up
// to d committed after from may have replaced — and deleted — files the
// published day applied, so the re-run then takes the bound of the last
// such replay, as a merge run after it would; its result includes the
// replayed files once, and not the replaced ones. Replays of later days
// cannot touch the day's inputs and keep the bound. It reads the commits
// after from, latest first, down to the last such replay.
func rerunBound(get func(int64) (*warehouse.Commit, error), part string, d warehouse.Date, from, latest int64) (int64, error) {
	for s := latest; s > from; s-- {
		c, err := get(s)
		if err != nil {
			return 0, err
		}
		if c.Replay == "" {
			continue
		}
		rd, err := warehouse.ParseDate(c.Replay)
		if err != nil {
			return 0, fmt.Errorf("partition %s: commit %d: replay day: %w", part, s, err)
		}
		if rd.Compare(d) <= 0 {
			return s, nil
		}
	}
	return from, nil
}

func readCommit(ctx context.Context, st storage.Store, cache *CommitCache, tp warehouse.TopicPartition, seq int64) (*warehouse.Commit, error) {
	key := warehouse.CommitKey(tp.Topic, tp.Partition, seq)
	if c := cache.get(key); c != nil {
		return c, nil
	}
	c, err := warehouse.ReadCommit(ctx, st, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("partition %s: commit %d is missing (commits are numbered without gaps, and never removed): %w", tp, seq, err)
	}
	if err != nil {
		return nil, err
	}
	cache.put(key, c)
	return c, nil
}
