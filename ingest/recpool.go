package ingest

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// recordPool lends franz-go the slices it decodes the records of a fetched
// batch into (kgo.PoolRecords), so that reading reuses them instead of
// allocating a slice of records per batch: a decode job recycles its
// records once they are decoded, and a batch's slice comes back to the
// pool when the last of its records is recycled. Safe for concurrent use.
//
// It must not implement kgo.PoolDecompressBytes (or pool any other bytes
// the records point into) unless decode first copies Key, Value and the
// header values: decoded records point into those bytes, and the run reads
// them after the job recycled its kgo.Records.
type recordPool struct {
	mu   sync.Mutex
	free [][]kgo.Record
}

// maxFreeRecordSlices bounds the slices the pool keeps: about the batches
// of the fetches and jobs in flight at once.
const maxFreeRecordSlices = 32

// GetRecords implements kgo.PoolRecords: a free slice of capacity n or
// more, or a new one.
func (p *recordPool) GetRecords(n int) []kgo.Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.free) - 1; i >= 0; i-- {
		if s := p.free[i]; cap(s) >= n {
			p.free[i] = p.free[len(p.free)-1]
			p.free[len(p.free)-1] = nil
			p.free = p.free[:len(p.free)-1]
			return s[:0]
		}
	}
	return make([]kgo.Record, 0, n)
}

// PutRecords implements kgo.PoolRecords. franz-go zeroes the records it
// handed out as they are recycled; the others of the batch (below the
// offset asked for, say) are cleared here, so that a free slice keeps no
// fetch response alive.
func (p *recordPool) PutRecords(s []kgo.Record) {
	clear(s[:cap(s)])
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < maxFreeRecordSlices {
		p.free = append(p.free, s[:0])
	}
}
