package workload

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/binlake/binlake/warehouse"
)

// Kind is a column's MySQL type family.
type Kind uint8

// Column kinds.
const (
	Int       Kind = iota + 1 // tinyint … bigint; Go value int64
	Decimal                   // decimal(p,s); Go value int64, the unscaled number
	Text                      // varchar, text; Go value string
	Enum                      // enum(...); Go value string, the label
	DateTime                  // datetime(fsp); Go value time.Time (wall clock, UTC location)
	Timestamp                 // timestamp(fsp); Go value time.Time (UTC)
	Date                      // date; Go value time.Time (midnight UTC)
)

// Column is one column of a generated table.
type Column struct {
	Name string
	// MySQL is the declared type as Canal's mysqlType spells it.
	MySQL string
	Kind  Kind
	// Precision and Scale of a decimal; Scale is the fsp of a datetime or
	// timestamp.
	Precision, Scale int
	Nullable         bool
	// Unsigned marks an int unsigned.
	Unsigned bool
	// Labels of an enum.
	Labels []string
}

// Table is a logical table: its name, the regex of its physical tables
// and its columns, the first of which, id, is the primary key.
type Table struct {
	Name    string
	Match   string
	Columns []Column
}

// Row is one row image: a value per column of its table, nil for NULL.
type Row []any

// Op is what an event does.
type Op uint8

// Operations.
const (
	Insert Op = iota + 1
	Update
	Delete
)

func (o Op) String() string {
	return [...]string{"", "insert", "update", "delete"}[o]
}

// RowChange is one row of a rows event: Before for updates and deletes,
// After for inserts and updates.
type RowChange struct {
	Before, After Row
}

// Event is one binlog rows event: one operation on one physical table,
// one or more rows.
type Event struct {
	// Seq orders all events of the history (binlog order), from 0.
	Seq int
	// Slot is the hour of the history in which the event is delivered.
	Slot  int
	Table *Table
	// DB and Tbl name the physical table.
	DB, Tbl string
	Op      Op
	Rows    []RowChange
	// Time is the event time (whole seconds, UTC). Late events carry an
	// earlier hour's time.
	Time time.Time
	Late bool
	// File is the binlog file's sequence number (mysql-bin.FILE) and
	// Offset the event's position in it.
	File   int
	Offset int64
	// Xid numbers the event's transaction (Maxwell).
	Xid int64
}

// KeyChanged reports whether row change i moves the row to another id.
func (e *Event) KeyChanged(i int) bool {
	r := e.Rows[i]
	return e.Op == Update && r.Before[0] != r.After[0]
}

// Config says what to generate.
type Config struct {
	// Seed makes the history; the same Config gives the same history.
	Seed uint64
	// Start is the first day; its midnight in Zone is the first slot.
	Start warehouse.Date
	// Zone is the time zone days are counted in, the warehouse's
	// timezone; nil means UTC. A day is 24 slots, so a zone with a
	// daylight saving change inside the history does not fit.
	Zone *time.Location
	// Days is how many days the history covers (plus one tail slot).
	Days int
	// Shards is the number of shop_NN databases, TablesPerShard the
	// orders_NN tables in each.
	Shards, TablesPerShard int
	// EventsPerHour is the mean number of events in a slot.
	EventsPerHour int
	// LateShare is the share of events that are late (0.05: one in twenty).
	LateShare float64
}

// DefaultConfig is a small history: two days, 3 databases of 2 orders
// tables, about 40 events an hour.
func DefaultConfig() Config {
	return Config{
		Seed:           1,
		Start:          warehouse.Date{Year: 2024, Month: time.March, Day: 1},
		Days:           2,
		Shards:         3,
		TablesPerShard: 2,
		EventsPerHour:  40,
		LateShare:      0.05,
	}
}

// Workload is a generated history.
type Workload struct {
	Config Config
	// Orders and Users are the two logical tables.
	Orders, Users *Table
	// Events are all events in binlog order (Events[i].Seq == i).
	Events []Event
	// slotStart[s] is the index of slot s's first event; one extra entry
	// holds len(Events).
	slotStart []int
}

// Tables returns the logical tables.
func (w *Workload) Tables() []*Table { return []*Table{w.Orders, w.Users} }

// Slots is the number of slots: Days*24 plus the tail slot.
func (w *Workload) Slots() int { return len(w.slotStart) - 1 }

// Slot returns the events delivered in slot s.
func (w *Workload) Slot(s int) []Event { return w.Events[w.slotStart[s]:w.slotStart[s+1]] }

// SlotTime is the start of slot s's hour.
func (w *Workload) SlotTime(s int) time.Time { return w.start().Add(time.Duration(s) * time.Hour) }

// Day returns day i of the history (0-based).
func (w *Workload) Day(i int) warehouse.Date { return w.Config.Start.AddDays(i) }

// SlotsThroughDay is how many slots a pipeline has ingested when it merges
// day i: the day's 24 and the first hour of the next, which lets the last
// hour become ready.
func (w *Workload) SlotsThroughDay(i int) int { return (i+1)*24 + 1 }

func (w *Workload) start() time.Time { return w.dayStart(0) }

// dayStart is midnight of day i in the zone.
func (w *Workload) dayStart(i int) time.Time {
	d, loc := w.Config.Start, w.Config.Zone
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(d.Year, d.Month, d.Day+i, 0, 0, 0, 0, loc)
}

func ordersTable() *Table {
	return &Table{
		Name:  "orders",
		Match: `^shop_\d+\.orders_\d+$`,
		Columns: []Column{
			{Name: "id", MySQL: "bigint(20)", Kind: Int},
			{Name: "customer_id", MySQL: "int(10) unsigned", Kind: Int, Unsigned: true},
			{Name: "amount", MySQL: "decimal(12,2)", Kind: Decimal, Precision: 12, Scale: 2},
			{Name: "status", MySQL: "enum('new','paid','shipped','cancelled')", Kind: Enum, Labels: []string{"new", "paid", "shipped", "cancelled"}},
			{Name: "note", MySQL: "text", Kind: Text, Nullable: true},
			{Name: "created_at", MySQL: "datetime(3)", Kind: DateTime, Scale: 3},
			{Name: "updated_at", MySQL: "timestamp(6)", Kind: Timestamp, Scale: 6},
			{Name: "ship_date", MySQL: "date", Kind: Date, Nullable: true},
		},
	}
}

func usersTable() *Table {
	return &Table{
		Name:  "users",
		Match: `^app\.users$`,
		Columns: []Column{
			{Name: "id", MySQL: "int(11)", Kind: Int},
			{Name: "name", MySQL: "varchar(64)", Kind: Text},
			{Name: "email", MySQL: "varchar(128)", Kind: Text, Nullable: true},
			{Name: "balance", MySQL: "decimal(10,2)", Kind: Decimal, Precision: 10, Scale: 2},
			{Name: "level", MySQL: "tinyint(4)", Kind: Int},
			{Name: "birthday", MySQL: "date", Kind: Date, Nullable: true},
			{Name: "created_at", MySQL: "datetime", Kind: DateTime},
			{Name: "updated_at", MySQL: "timestamp(3)", Kind: Timestamp, Scale: 3},
		},
	}
}

// physical is the generator's state of one physical table.
type physical struct {
	table   *Table
	db, tbl string
	rows    map[int64]Row
	ids     []int64 // live ids, for picking; order is insertion order
	nextID  int64
}

func (p *physical) add(r Row) {
	id := r[0].(int64)
	p.rows[id] = r
	p.ids = append(p.ids, id)
}

func (p *physical) remove(id int64) {
	delete(p.rows, id)
	i := slices.Index(p.ids, id)
	p.ids = slices.Delete(p.ids, i, i+1)
}

// pick returns n distinct live ids (fewer if there are fewer).
func (p *physical) pick(rng *rand.Rand, n int) []int64 {
	n = min(n, len(p.ids))
	seen := map[int64]bool{}
	var out []int64
	for len(out) < n {
		id := p.ids[rng.IntN(len(p.ids))]
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

type generator struct {
	rng    *rand.Rand
	w      *Workload
	orders []*physical
	users  *physical
	file   int
	offset int64
	xid    int64
	now    time.Time // the event time being generated
}

// Generate builds the history of cfg.
func Generate(cfg Config) (*Workload, error) {
	if cfg.Days < 1 || cfg.Shards < 1 || cfg.TablesPerShard < 1 || cfg.EventsPerHour < 1 {
		return nil, fmt.Errorf("workload: Days, Shards, TablesPerShard and EventsPerHour must be at least 1: %+v", cfg)
	}
	if cfg.LateShare < 0 || cfg.LateShare > 1 {
		return nil, fmt.Errorf("workload: LateShare %v is not a share between 0 and 1", cfg.LateShare)
	}
	w := &Workload{Config: cfg, Orders: ordersTable(), Users: usersTable()}
	g := &generator{rng: rand.New(rand.NewPCG(cfg.Seed, 0x62696e6c616b65)), w: w, file: 1, offset: 4}
	for s := range cfg.Shards {
		for t := range cfg.TablesPerShard {
			g.orders = append(g.orders, &physical{table: w.Orders, db: fmt.Sprintf("shop_%02d", s), tbl: fmt.Sprintf("orders_%02d", t), rows: map[int64]Row{}, nextID: 1})
		}
	}
	g.users = &physical{table: w.Users, db: "app", tbl: "users", rows: map[int64]Row{}, nextID: 1}
	slots := cfg.Days*24 + 1
	for s := range slots {
		w.slotStart = append(w.slotStart, len(w.Events))
		if s > 0 && s%8 == 0 { // binlog rotation
			g.file++
			g.offset = 4
		}
		n := cfg.EventsPerHour/2 + g.rng.IntN(cfg.EventsPerHour+1)
		secs := make([]int, n)
		for i := range secs {
			secs[i] = g.rng.IntN(3600)
		}
		slices.Sort(secs)
		for _, sec := range secs {
			g.now = w.SlotTime(s).Add(time.Duration(sec) * time.Second)
			ev := g.event()
			ev.Seq, ev.Slot = len(w.Events), s
			ev.Time = g.now
			if s >= 2 && g.rng.Float64() < cfg.LateShare {
				back := time.Duration(1+g.rng.IntN(min(s, 36))) * time.Hour
				ev.Time = g.now.Add(-back).Truncate(time.Second)
				if ev.Time.Before(w.start()) {
					ev.Time = w.start()
				}
				ev.Late = true
			}
			g.offset += 120 + int64(g.rng.IntN(900))
			g.xid++
			ev.File, ev.Offset, ev.Xid = g.file, g.offset, g.xid
			w.Events = append(w.Events, ev)
		}
	}
	w.slotStart = append(w.slotStart, len(w.Events))
	return w, nil
}

// event makes the next change from the current state and applies it.
func (g *generator) event() Event {
	r := g.rng.Float64()
	o := g.orders[g.rng.IntN(len(g.orders))]
	switch {
	case r < 0.30:
		return g.insert(o, 1)
	case r < 0.38:
		return g.insert(o, 2+g.rng.IntN(3))
	case r < 0.56:
		return g.update(o, 1, false)
	case r < 0.61:
		return g.update(o, 2+g.rng.IntN(2), false)
	case r < 0.68:
		return g.delete(o, 1)
	case r < 0.71:
		return g.delete(o, 2+g.rng.IntN(2))
	case r < 0.76:
		return g.update(o, 1, true)
	case r < 0.84:
		return g.insert(g.users, 1)
	case r < 0.95:
		return g.update(g.users, 1+g.rng.IntN(2), false)
	case r < 0.98:
		return g.delete(g.users, 1)
	}
	return g.update(g.users, 1, true)
}

func (g *generator) newEvent(p *physical, op Op) Event {
	return Event{Table: p.table, DB: p.db, Tbl: p.tbl, Op: op}
}

func (g *generator) insert(p *physical, n int) Event {
	ev := g.newEvent(p, Insert)
	for range n {
		r := g.newRow(p)
		p.add(r)
		ev.Rows = append(ev.Rows, RowChange{After: r})
	}
	return ev
}

func (g *generator) update(p *physical, n int, keyChange bool) Event {
	if len(p.ids) == 0 {
		return g.insert(p, n)
	}
	ev := g.newEvent(p, Update)
	for _, id := range p.pick(g.rng, n) {
		before := p.rows[id]
		after := g.changed(p, before)
		if keyChange {
			after[0] = p.nextID
			p.nextID++
			p.remove(id)
			p.add(after)
		} else {
			p.rows[id] = after
		}
		ev.Rows = append(ev.Rows, RowChange{Before: before, After: after})
	}
	return ev
}

func (g *generator) delete(p *physical, n int) Event {
	if len(p.ids) == 0 {
		return g.insert(p, n)
	}
	ev := g.newEvent(p, Delete)
	for _, id := range p.pick(g.rng, n) {
		ev.Rows = append(ev.Rows, RowChange{Before: p.rows[id]})
		p.remove(id)
	}
	return ev
}

var (
	noteWords = []string{"gift wrap", "leave at door", "订单备注", "rush 🚀", `say "hi"`, `C:\path`, "line1\nline2", "ça va", "tab\there", "emoji 👍🏽"}
	names     = []string{"Alice", "Bob", "Zoë", "李雷", "Ольга", "José", "O'Brien", "🙂 smile", "Åsa", "Nguyễn"}
)

func (g *generator) note() any {
	if g.rng.IntN(4) == 0 {
		return nil
	}
	return noteWords[g.rng.IntN(len(noteWords))] + fmt.Sprintf(" #%d", g.rng.IntN(1000))
}

// stamp is the event time plus a random fraction, cut to fsp digits.
func (g *generator) stamp(fsp int) time.Time {
	t := g.now.Add(time.Duration(g.rng.IntN(1_000_000)) * time.Microsecond)
	return t.Truncate(time.Duration(pow10(6-fsp)) * time.Microsecond)
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

func (g *generator) date() any {
	if g.rng.IntN(3) == 0 {
		return nil
	}
	return time.Date(1960+g.rng.IntN(60), time.Month(1+g.rng.IntN(12)), 1+g.rng.IntN(28), 0, 0, 0, 0, time.UTC)
}

func (g *generator) newRow(p *physical) Row {
	id := p.nextID
	p.nextID++
	if p.table.Name == "orders" {
		return Row{id, int64(1 + g.rng.IntN(5000)), int64(g.rng.IntN(10_000_000)), "new", g.note(),
			g.stamp(3), g.stamp(6), g.date()}
	}
	var email any
	if g.rng.IntN(3) > 0 {
		email = fmt.Sprintf("user%d@example.com", id)
	}
	return Row{id, names[g.rng.IntN(len(names))], email, int64(g.rng.IntN(2_000_000) - 500_000), int64(g.rng.IntN(10)),
		g.date(), g.stamp(0), g.stamp(3)}
}

// changed returns a copy of r with some columns changed, updated_at among
// them.
func (g *generator) changed(p *physical, r Row) Row {
	c := slices.Clone(r)
	if p.table.Name == "orders" {
		c[3] = p.table.Columns[3].Labels[g.rng.IntN(4)]
		if g.rng.IntN(2) == 0 {
			c[2] = int64(g.rng.IntN(10_000_000))
		}
		if g.rng.IntN(3) == 0 {
			c[4] = g.note()
		}
		if g.rng.IntN(3) == 0 {
			c[7] = g.date()
		}
		c[6] = g.stamp(6)
		return c
	}
	switch g.rng.IntN(3) {
	case 0:
		c[1] = names[g.rng.IntN(len(names))] + " " + strings.Repeat("x", g.rng.IntN(3))
	case 1:
		c[3] = int64(g.rng.IntN(2_000_000) - 500_000)
	default:
		c[4] = int64(g.rng.IntN(10))
		c[5] = g.date()
	}
	c[7] = g.stamp(3)
	return c
}

// ExpectedRow is one row of a table's expected snapshot.
type ExpectedRow struct {
	DB, Tbl string
	Row     Row
}

// Expected returns each table's snapshot for day (0-based) after the first
// slots slots have been ingested: per key the last delivered change in
// binlog order whose event time is on or before the end of day, deletes
// removing the key. Rows are sorted by (_source_db, _source_table, id).
func (w *Workload) Expected(day, slots int) map[string][]ExpectedRow {
	end := w.dayStart(day + 1)
	type key struct {
		db, tbl string
		id      int64
	}
	state := map[string]map[key]Row{}
	for _, t := range w.Tables() {
		state[t.Name] = map[key]Row{}
	}
	for _, ev := range w.Events[:w.slotStart[min(slots, w.Slots())]] {
		if !ev.Time.Before(end) {
			continue
		}
		m := state[ev.Table.Name]
		for _, rc := range ev.Rows {
			switch ev.Op {
			case Insert:
				m[key{ev.DB, ev.Tbl, rc.After[0].(int64)}] = rc.After
			case Update:
				delete(m, key{ev.DB, ev.Tbl, rc.Before[0].(int64)})
				m[key{ev.DB, ev.Tbl, rc.After[0].(int64)}] = rc.After
			case Delete:
				delete(m, key{ev.DB, ev.Tbl, rc.Before[0].(int64)})
			}
		}
	}
	out := map[string][]ExpectedRow{}
	for name, m := range state {
		rows := make([]ExpectedRow, 0, len(m))
		for k, r := range m {
			rows = append(rows, ExpectedRow{k.db, k.tbl, r})
		}
		slices.SortFunc(rows, func(a, b ExpectedRow) int {
			if c := strings.Compare(a.DB, b.DB); c != 0 {
				return c
			}
			if c := strings.Compare(a.Tbl, b.Tbl); c != 0 {
				return c
			}
			return int(a.Row[0].(int64) - b.Row[0].(int64))
		})
		out[name] = rows
	}
	return out
}

// Stats counts what the history holds, for reports.
type Stats struct {
	Events, Rows, Inserts, Updates, Deletes, KeyChanges, MultiRow, Late int
	// BinlogRows is, per logical table, the rows ingest writes for these
	// events: one per row change, two for a change of the key (a delete
	// and an upsert).
	BinlogRows map[string]int
}

// Stats counts the events of the first slots slots.
func (w *Workload) Stats(slots int) Stats {
	s := Stats{BinlogRows: map[string]int{}}
	for i := range w.Events[:w.slotStart[min(slots, w.Slots())]] {
		ev := &w.Events[i]
		s.Events++
		s.Rows += len(ev.Rows)
		s.BinlogRows[ev.Table.Name] += len(ev.Rows)
		if len(ev.Rows) > 1 {
			s.MultiRow++
		}
		if ev.Late {
			s.Late++
		}
		switch ev.Op {
		case Insert:
			s.Inserts += len(ev.Rows)
		case Update:
			s.Updates += len(ev.Rows)
			for j := range ev.Rows {
				if ev.KeyChanged(j) {
					s.KeyChanges++
					s.BinlogRows[ev.Table.Name]++
				}
			}
		case Delete:
			s.Deletes += len(ev.Rows)
		}
	}
	return s
}

// TablesYAML is the tables: section of a binlake configuration for the
// workload's tables: both start empty, so no bootstrap snapshot is needed.
func (w *Workload) TablesYAML() string {
	var b strings.Builder
	b.WriteString("tables:\n")
	for _, t := range w.Tables() {
		fmt.Fprintf(&b, "  - name: %s\n    match: '%s'\n    key: [id]\n    bootstrap: empty\n", t.Name, t.Match)
	}
	return b.String()
}
