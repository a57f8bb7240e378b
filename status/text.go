package status

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText prints the report as aligned tables: partitions, days, then
// one row per table and day.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }

	p("INGEST (%s)\n", r.Timezone)
	kafka := false
	for _, x := range r.Partitions {
		kafka = kafka || x.KafkaEndOffset != nil
	}
	p("TOPIC\tPARTITION\tCOMMIT\tEND OFFSET\t")
	if kafka {
		p("KAFKA END\tBEHIND\t")
	}
	p("WATERMARK\tLAG\tDLQ FILES\n")
	for _, x := range r.Partitions {
		p("%s\t%d\t%d\t%d\t", x.Topic, x.Partition, x.Commit, x.EndOffset)
		if kafka {
			p("%s\t%s\t", count(x.KafkaEndOffset), count(x.OffsetsBehind))
		}
		p("%s\t%s\t%d\n", stamp(x.Watermark), lag(x.LagSeconds), x.DLQFiles)
	}
	if len(r.Partitions) == 0 {
		p("(no ingest has committed anything yet)\n")
	}
	p("\nDAY\tREADY HOURS\tMISSING\tDLQ RECORDS\n")
	for _, d := range r.Days {
		p("%s\t%d/%d\t%s\t%d\n", d.Date, d.ReadyHours, d.Hours, missing(d.MissingHours), d.DLQRecords)
	}
	p("\nTABLE\tDAY\tBINLOG ROWS\tLATE\tSNAPSHOT ROWS\tFILES\tKIND\tINSERTED\tUPDATED\tDELETED\n")
	for _, t := range r.Tables {
		for _, d := range t.Days {
			p("%s\t%s\t%d\t%d\t", t.Table, d.Date, d.BinlogRows, d.LateRows)
			if s := d.Snapshot; s != nil {
				p("%d\t%d\t%s\t%d\t%d\t%d\n", s.Rows, s.Files, s.Kind, s.Stats["inserted"], s.Stats["updated"], s.Stats["deleted"])
			} else {
				p("-\t-\t-\t-\t-\t-\n")
			}
		}
	}
	p("\nTABLE\tSNAPSHOT DAYS\tFIRST\tLAST\tLAST MERGE\tLATE ROWS WAITING\n")
	for _, t := range r.Tables {
		last, waiting := "-", "-"
		if m := t.LastMerge; m != nil {
			last = fmt.Sprintf("%s %d rows at %s", m.Kind, m.Rows, stamp(m.CreatedAt))
		}
		if l := t.LateWaiting; l != nil {
			waiting = fmt.Sprintf("%d (%d files)", l.Rows, l.Files)
		}
		p("%s\t%d\t%s\t%s\t%s\t%s\n", t.Table, t.SnapshotDays, dash(t.FirstSnapshot), dash(t.LastSnapshot), last, waiting)
	}
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func lag(s *float64) string {
	if s == nil {
		return "-"
	}
	d := time.Duration(*s * float64(time.Second)).Round(time.Second)
	if d >= 48*time.Hour {
		// Days read better than thousands of hours.
		return fmt.Sprintf("%dd%s", d/(24*time.Hour), (d % (24 * time.Hour)).Round(time.Minute))
	}
	return d.String()
}

func count(n *int64) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}

func missing(h []string) string {
	switch {
	case len(h) == 0:
		return "-"
	case len(h) <= 4:
		return strings.Join(h, ",")
	}
	return fmt.Sprintf("%s … %s", strings.Join(h[:2], ","), h[len(h)-1])
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
