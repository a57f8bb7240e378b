package snapshot

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/binlake/binlake/warehouse"
)

// BinlogPosition is where a source's binary log stood when the snapshot
// started: the file, the offset of the next event, and the GTID set
// executed so far ("" when GTIDs are off).
type BinlogPosition struct {
	File string `json:"file"`
	Pos  int64  `json:"pos"`
	GTID string `json:"gtid,omitempty"`
}

// String is FILE:POS (DESIGN.md §4).
func (p BinlogPosition) String() string { return p.File + ":" + strconv.FormatInt(p.Pos, 10) }

// statusQueries read the binary log position: MariaDB 10.5.2+, MySQL
// 8.4+, then the older spelling both understand.
var statusQueries = []string{"SHOW BINLOG STATUS", "SHOW BINARY LOG STATUS", "SHOW MASTER STATUS"}

// errNoBinlog is a source without a binary log.
var errNoBinlog = errors.New("binary logging is off (log_bin): there is no position to stamp rows with")

// readPosition reads a source's binary log position and GTID set on one
// connection.
func readPosition(ctx context.Context, db *sql.DB) (BinlogPosition, error) {
	var p BinlogPosition
	var lastErr error
	found := false
	for _, q := range statusQueries {
		file, pos, ok, err := binlogStatus(ctx, db, q)
		if err != nil {
			lastErr = err
			continue
		}
		if !ok {
			return p, errNoBinlog
		}
		p.File, p.Pos, found = file, pos, true
		break
	}
	if !found {
		return p, fmt.Errorf("read binary log position (the user needs the REPLICATION CLIENT privilege, BINLOG MONITOR on MariaDB 10.5+): %w", lastErr)
	}
	// MariaDB's GTID position, else MySQL's executed set when GTIDs are on.
	var gtid sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_binlog_pos").Scan(&gtid); err == nil {
		p.GTID = gtid.String
	} else {
		var mode sql.NullString
		if err := db.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_mode").Scan(&mode); err == nil && strings.EqualFold(mode.String, "ON") {
			if err := db.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_executed").Scan(&gtid); err == nil {
				p.GTID = gtid.String
			}
		}
	}
	return p, nil
}

// binlogStatus runs one of the status statements; ok is false when the
// server answers with no row (binary logging off).
func binlogStatus(ctx context.Context, db *sql.DB, query string) (file string, pos int64, ok bool, err error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return "", 0, false, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", 0, false, err
	}
	if !rows.Next() {
		return "", 0, false, rows.Err()
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", 0, false, err
	}
	fi, pi := -1, -1
	for i, c := range cols {
		switch strings.ToLower(c) {
		case "file":
			fi = i
		case "position":
			pi = i
		}
	}
	if fi < 0 || pi < 0 {
		return "", 0, false, fmt.Errorf("%s: no File and Position columns in %v", query, cols)
	}
	pos, err = strconv.ParseInt(string(vals[pi]), 10, 64)
	if err != nil {
		return "", 0, false, fmt.Errorf("%s: position %q: %w", query, vals[pi], err)
	}
	return string(vals[fi]), pos, true, nil
}

// binlogSeq is the sequence number of a binary log file name
// (mysql-bin.000042 → 42).
func binlogSeq(name string) (int64, error) {
	i := strings.LastIndexByte(name, '.')
	n, err := strconv.ParseInt(name[i+1:], 10, 64)
	if i < 0 || err != nil || n < 0 {
		return 0, fmt.Errorf("binary log file name %q has no numeric suffix", name)
	}
	return n, nil
}

// stampFor is the _pos of rows read at binlog position p: just below the
// first event that can follow p (one byte before it, at the greatest row
// number), so every change committed after p is newer and wins, while a
// change before p never beats the row (which already contains it).
func stampFor(p BinlogPosition) (warehouse.Pos, error) {
	seq, err := binlogSeq(p.File)
	if err != nil {
		return warehouse.Pos{}, err
	}
	if p.Pos < 1 {
		return warehouse.Pos{}, fmt.Errorf("binary log position %s out of range", p)
	}
	s := warehouse.Pos{File: seq, Offset: p.Pos - 1, Row: maxRow}
	return s, s.Check()
}

// maxRow is the greatest row number _pos holds.
const maxRow = 999_999_999

// OffsetStamp parses a --position for the offset-ordered formats (canal,
// rowjson), whose _pos is a Kafka offset: "start" (every change in Kafka
// is newer than the snapshot: _pos 0) or "TOPIC/PARTITION:OFFSET,…", the
// first offset of each partition that the snapshot does not contain. The
// stamp is just below the smallest such offset, so every change at or
// after its partition's offset wins; a change before it that still beats
// the row is an older image of a row whose later changes follow it in the
// same partition, so the key still ends at its latest change.
func OffsetStamp(s string) (warehouse.Pos, error) {
	if s == "" || s == "start" {
		return warehouse.Pos{}, nil
	}
	var least int64 = -1
	for _, part := range strings.Split(s, ",") {
		tp, off, ok := strings.Cut(strings.TrimSpace(part), ":")
		slash := strings.LastIndexByte(tp, '/')
		if !ok || slash <= 0 {
			return warehouse.Pos{}, fmt.Errorf("--position %q: want start or TOPIC/PARTITION:OFFSET,…", s)
		}
		if _, err := strconv.ParseInt(tp[slash+1:], 10, 32); err != nil {
			return warehouse.Pos{}, fmt.Errorf("--position %q: partition of %q is not a number", s, part)
		}
		n, err := strconv.ParseInt(off, 10, 64)
		if err != nil || n < 0 {
			return warehouse.Pos{}, fmt.Errorf("--position %q: offset of %q is not a number", s, part)
		}
		if least < 0 || n < least {
			least = n
		}
	}
	if least <= 0 {
		return warehouse.Pos{}, nil
	}
	return warehouse.Pos{Offset: least - 1, Row: maxRow}, nil
}
