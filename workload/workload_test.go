package workload

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/binlake/binlake/cdc"
)

func generate(t *testing.T, cfg Config) *Workload {
	t.Helper()
	w, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestGenerateIsDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	a, b := generate(t, cfg), generate(t, cfg)
	if !reflect.DeepEqual(a.Events, b.Events) {
		t.Fatal("the same config gave two histories")
	}
	cfg.Seed++
	if c := generate(t, cfg); reflect.DeepEqual(a.Events, c.Events) {
		t.Fatal("another seed gave the same history")
	}
}

// The history has what the pipeline must be tested on.
func TestHistoryCoversTheCases(t *testing.T) {
	w := generate(t, DefaultConfig())
	s := w.Stats(w.Slots())
	t.Logf("%+v", s)
	if s.Inserts == 0 || s.Updates == 0 || s.Deletes == 0 || s.KeyChanges == 0 || s.MultiRow == 0 || s.Late == 0 {
		t.Fatalf("missing cases: %+v", s)
	}
	lateAcrossDays, collide := 0, map[int64]map[string]bool{}
	for i := range w.Events {
		ev := &w.Events[i]
		if ev.Late && w.SlotTime(ev.Slot).YearDay() != ev.Time.YearDay() {
			lateAcrossDays++
		}
		if i > 0 {
			p := &w.Events[i-1]
			if ev.File < p.File || ev.File == p.File && ev.Offset <= p.Offset {
				t.Fatalf("event %d: binlog position %d:%d not after %d:%d", i, ev.File, ev.Offset, p.File, p.Offset)
			}
		}
		if ev.Table == w.Orders && ev.Op == Insert {
			id := ev.Rows[0].After[0].(int64)
			if collide[id] == nil {
				collide[id] = map[string]bool{}
			}
			collide[id][ev.DB+"."+ev.Tbl] = true
		}
	}
	if lateAcrossDays == 0 {
		t.Error("no late event of an earlier day")
	}
	if len(collide[1]) < 2 {
		t.Error("order ids do not collide across shards")
	}
	for d := range w.Config.Days {
		e := w.Expected(d, w.SlotsThroughDay(d))
		if len(e["orders"]) == 0 || len(e["users"]) == 0 {
			t.Errorf("day %d: empty expected tables", d)
		}
	}
}

// Late events of day 0 delivered on day 1 are in day 1's snapshot, not in
// day 0's, and events past a day's end are in neither.
func TestExpectedFollowsDeliveryAndEventDay(t *testing.T) {
	w := generate(t, DefaultConfig())
	full := w.Expected(0, w.Slots())
	cut := w.Expected(0, w.SlotsThroughDay(0))
	if reflect.DeepEqual(full, cut) {
		t.Fatal("late day-0 events delivered on day 1 change nothing in the model; pick another seed")
	}
}

// Every message of every format decodes, through binlake's own decoders,
// to the model's changes: operation, event time, table, and each value in
// canonical form; positions grow in binlog order.
func TestEncodedMessagesDecodeToTheModel(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Days = 1
	w := generate(t, cfg)
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			enc, err := NewEncoder(format, 3)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := cdc.New(cdc.Options{Format: format})
			if err != nil {
				t.Fatal(err)
			}
			// An event's changes are checked after all its messages are
			// decoded: their row images must outlive the next Decode.
			var arena []cdc.Column
			dec.CarveColumnsFrom(&arena)
			offsets := map[int32]int64{}
			// Canal and rowjson positions are Kafka offsets: ordered
			// within a partition. Debezium and Maxwell positions are
			// binlog coordinates: ordered across partitions too.
			byOffset := format == "canal" || format == "rowjson"
			lastPos := map[int32]cdc.Pos{}
			for i := range w.Events {
				ev := &w.Events[i]
				msgs, err := enc.Encode(ev)
				if err != nil {
					t.Fatal(err)
				}
				var got []cdc.Change
				for _, m := range msgs {
					rec := &cdc.Record{Topic: "binlog", Partition: m.Partition, Offset: offsets[m.Partition], Key: m.Key, Value: m.Value, Timestamp: m.Timestamp}
					offsets[m.Partition]++
					n := len(got)
					got, _, err = dec.Decode(got, rec)
					if err != nil {
						t.Fatalf("event %d: %v\n%s", ev.Seq, err, m.Value)
					}
					p := m.Partition
					if !byOffset {
						p = -1
					}
					for _, c := range got[n:] {
						if c.Pos.Compare(lastPos[p]) < 0 {
							t.Fatalf("event %d: position %v before %v (partition %d)", ev.Seq, c.Pos, lastPos[p], p)
						}
						lastPos[p] = c.Pos
					}
				}
				checkChanges(t, ev, got)
			}
		})
	}
}

// checkChanges compares decoded changes with the event's rows. rowjson
// writes a key change as a delete and an upsert; the others as one update
// (Canal, Maxwell) or delete and insert (Debezium).
func checkChanges(t *testing.T, ev *Event, got []cdc.Change) {
	t.Helper()
	type want struct {
		op  string
		row Row
	}
	var wants []want
	for i, rc := range ev.Rows {
		switch {
		case ev.Op == Delete:
			wants = append(wants, want{"delete", rc.Before})
		case ev.Op == Insert:
			wants = append(wants, want{"upsert", rc.After})
		case ev.KeyChanged(i) && len(got) > len(ev.Rows):
			wants = append(wants, want{"delete", rc.Before}, want{"upsert", rc.After})
		default:
			wants = append(wants, want{"upsert", rc.After})
		}
	}
	if len(got) != len(wants) {
		t.Fatalf("event %d (%s of %d rows): %d changes, want %d", ev.Seq, ev.Op, len(ev.Rows), len(got), len(wants))
	}
	for i, c := range got {
		op := "upsert"
		if c.Op == cdc.Delete {
			op = "delete"
		}
		if op != wants[i].op || c.Database != ev.DB || c.Table != ev.Tbl || !c.EventTime.Equal(ev.Time) {
			t.Fatalf("event %d change %d: %s %s.%s at %v, want %s %s.%s at %v", ev.Seq, i, c.Op, c.Database, c.Table, c.EventTime, wants[i].op, ev.DB, ev.Tbl, ev.Time)
		}
		byName := map[string]cdc.Column{}
		for j, col := range c.Columns {
			byName[col.Name] = col
			if j >= len(ev.Table.Columns) || col.Name != ev.Table.Columns[j].Name {
				t.Fatalf("event %d change %d: column %d is %s, not in table order", ev.Seq, i, j, col.Name)
			}
		}
		for j, col := range ev.Table.Columns {
			v, ok := byName[col.Name]
			if !ok {
				t.Fatalf("event %d change %d: no column %s", ev.Seq, i, col.Name)
			}
			g, err := col.Canonical(v.Value)
			if err != nil {
				t.Fatalf("event %d change %d: %v", ev.Seq, i, err)
			}
			if e := col.Expect(wants[i].row[j]); show(g) != show(e) {
				t.Fatalf("event %d change %d column %s: %s, want %s", ev.Seq, i, col.Name, show(g), show(e))
			}
		}
	}
}

func show(p *string) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *p)
}
