package merge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
)

// rawKind reports whether rawReader reads columns of kind k: the kinds
// whose record encoding (see rowCodec) is the bytes of the value as a
// Parquet page holds it, little-endian numbers included.
func rawKind(k parquet.Kind) bool {
	return encodingKind(k) != encoding.Undefined
}

// rawCol is a column of a file that a rawReader reads, a batch of
// values at a time.
type rawCol struct {
	file int      // column index in the file
	kind physKind // of its values
	vals [][]byte // the batch's values
	r    *rawReader
}

// rawValue returns b, a value of kind k as a rawReader reads it (nil for
// NULL), as a parquet.Value (referring to b).
func rawValue(k physKind, b []byte) parquet.Value {
	if b == nil {
		return parquet.Value{}
	}
	switch k.kind {
	case parquet.Int32:
		return parquet.Int32Value(int32(binary.LittleEndian.Uint32(b)))
	case parquet.Int64:
		return parquet.Int64Value(int64(binary.LittleEndian.Uint64(b)))
	case parquet.Float:
		return parquet.FloatValue(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	case parquet.Double:
		return parquet.DoubleValue(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	case parquet.FixedLenByteArray:
		return parquet.FixedLenByteArrayValue(b)
	}
	return parquet.ByteArrayValue(b)
}

// encodingKind is the encoding.Kind of the values of a page of kind k.
func encodingKind(k parquet.Kind) encoding.Kind {
	switch k {
	case parquet.Int32:
		return encoding.Int32
	case parquet.Int64:
		return encoding.Int64
	case parquet.Float:
		return encoding.Float
	case parquet.Double:
		return encoding.Double
	case parquet.ByteArray:
		return encoding.ByteArray
	case parquet.FixedLenByteArray:
		return encoding.FixedLenByteArray
	}
	return encoding.Undefined
}

// rawReader reads the values of one flat column chunk of a rawKind in
// batches, as the bytes of each value straight from the pages' typed
// data, plain or dictionary-encoded, without parquet.Value: how
// readChangeFile reads the columns whose values go into records (or keys)
// unconverted. A batch's slices stay valid until the next call to read:
// pages are released only then.
type rawReader struct {
	heldPages
	kind  parquet.Kind
	size  int // FIXED_LEN_BYTE_ARRAY length the column must have
	eof   bool
	empty []byte // a non-NULL empty value: NULL is nil

	// The current page: its definition levels (nil: no NULLs), its
	// values (a width of 0: byte arrays, by offs) or dictionary indexes.
	defs  []byte
	nrows int // rows of the page
	row   int // next row
	val   int // next value
	width int
	data  []byte
	offs  []uint32
	idx   []int32
	// The values of the current page's dictionary, made once per
	// dictionary.
	dict     parquet.Dictionary
	dictVals [][]byte
}

// newRawReader returns a reader of cc, a flat column of kind k (size:
// the length of a FIXED_LEN_BYTE_ARRAY) with rawKind(k).
func newRawReader(cc parquet.ColumnChunk, k physKind) *rawReader {
	return &rawReader{heldPages: heldPages{pages: cc.Pages()}, kind: k.kind, size: k.size, empty: make([]byte, 0)}
}

// read fills dst with the next values as far as the column goes, nil for
// NULLs, and returns how many it read; fewer than len(dst) only at the
// end of the chunk.
func (r *rawReader) read(dst [][]byte) (int, error) {
	r.nextBatch()
	n := 0
	for n < len(dst) {
		if r.row == r.nrows {
			if r.eof {
				break
			}
			if err := r.nextPage(); err != nil {
				return n, err
			}
			continue
		}
		k := min(len(dst)-n, r.nrows-r.row)
		if err := r.fill(dst[n : n+k]); err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// fill reads len(dst) rows of the current page, which has them.
func (r *rawReader) fill(dst [][]byte) error {
	defs := r.defs
	if defs != nil {
		defs = defs[r.row : r.row+len(dst)]
		if bytes.IndexByte(defs, 0) < 0 {
			defs = nil // no NULLs: the loops below test no levels
		}
	}
	r.row += len(dst)
	v := r.val
	switch {
	case defs == nil && r.width > 0 && (v+len(dst))*r.width <= len(r.data):
		// Fixed-width values without NULLs, all in the page: a value
		// is a slice, no test.
		w := r.width
		data := r.data[v*w : (v+len(dst))*w]
		for i := range dst {
			dst[i] = data[i*w : (i+1)*w : (i+1)*w]
		}
		v += len(dst)
	case r.idx != nil:
		idx, dict := r.idx, r.dictVals
		for i := range dst {
			if defs != nil && defs[i] == 0 {
				dst[i] = nil
				continue
			}
			if v >= len(idx) {
				return errRawShort
			}
			j := idx[v]
			v++
			if uint(j) >= uint(len(dict)) {
				return fmt.Errorf("dictionary index %d of %d values", j, len(dict))
			}
			dst[i] = dict[j]
		}
	case r.width > 0:
		w, data := r.width, r.data
		for i := range dst {
			if defs != nil && defs[i] == 0 {
				dst[i] = nil
				continue
			}
			if (v+1)*w > len(data) {
				return errRawShort
			}
			dst[i] = data[v*w : (v+1)*w : (v+1)*w]
			v++
		}
	default:
		offs, data := r.offs, r.data
		for i := range dst {
			if defs != nil && defs[i] == 0 {
				dst[i] = nil
				continue
			}
			if v+1 >= len(offs) {
				return errRawShort
			}
			a, b := offs[v], offs[v+1]
			v++
			if a > b || int(b) > len(data) {
				return errRawShort
			}
			if a == b {
				dst[i] = r.empty
				continue
			}
			dst[i] = data[a:b:b]
		}
	}
	r.val = v
	return nil
}

var errRawShort = errors.New("page has fewer values than its levels say")

// nextPage makes the chunk's next page current, or sets r.eof.
func (r *rawReader) nextPage() error {
	p, err := r.readPage()
	if errors.Is(err, io.EOF) {
		r.eof, r.nrows, r.row = true, 0, 0
		return nil
	}
	if err != nil {
		return err
	}
	if p.RepetitionLevels() != nil {
		return errors.New("page with repetition levels: not a flat column")
	}
	defs, nrows := p.DefinitionLevels(), int(p.NumValues())
	if defs != nil && len(defs) != nrows {
		return fmt.Errorf("page of %d values with %d definition levels", nrows, len(defs))
	}
	r.idx, r.data, r.offs, r.width = nil, nil, nil, 0
	data := p.Data()
	if d := p.Dictionary(); d != nil {
		if data.Kind() != encoding.Int32 {
			return fmt.Errorf("dictionary page of %s indexes", data.Kind())
		}
		if d != r.dict {
			r.dict = nil
			if r.dictVals, err = r.values(d.Page().Data(), r.dictVals[:0], d.Len()); err != nil {
				return fmt.Errorf("dictionary: %w", err)
			}
			r.dict = d
		}
		r.idx = data.Int32()
	} else if err := r.setValues(data); err != nil {
		return err
	}
	r.defs, r.nrows, r.row, r.val = defs, nrows, 0, 0
	return nil
}

// setValues makes data the current page's values.
func (r *rawReader) setValues(data encoding.Values) error {
	if data.Kind() != encodingKind(r.kind) {
		return fmt.Errorf("%s page of a %s column", data.Kind(), r.kind)
	}
	r.data, r.offs = data.Data()
	switch r.kind {
	case parquet.Int32, parquet.Float:
		r.width = 4
	case parquet.Int64, parquet.Double:
		r.width = 8
	case parquet.FixedLenByteArray:
		if _, size := data.FixedLenByteArray(); size != r.size {
			return fmt.Errorf("FIXED_LEN_BYTE_ARRAY(%d) page of a FIXED_LEN_BYTE_ARRAY(%d) column", size, r.size)
		}
		r.width = r.size
		if r.width == 0 {
			return errors.New("FIXED_LEN_BYTE_ARRAY(0) column")
		}
	}
	return nil
}

// values appends to dst the n values of data, a dictionary's.
func (r *rawReader) values(data encoding.Values, dst [][]byte, n int) ([][]byte, error) {
	if err := r.setValues(data); err != nil {
		return dst, err
	}
	defer func() { r.data, r.offs, r.width = nil, nil, 0 }()
	dst = append(dst, make([][]byte, n)...)
	r.defs, r.row, r.val = nil, 0, 0
	if err := r.fill(dst[len(dst)-n:]); err != nil {
		return dst, err
	}
	return dst, nil
}

func (r *rawReader) close() {
	if r == nil {
		return
	}
	r.heldPages.close()
	r.dict, r.dictVals = nil, nil
}
