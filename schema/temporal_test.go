package schema

import (
	"testing"
	"time"
)

func TestParseCivil(t *testing.T) {
	for _, bad := range []string{"2024-1-01", "2024-01-01 1:00:00", "2024-01-01 24:00:00", "2024-01-01 00:60:00",
		"2024-01-01 00:00:60", "2024-01-01 00:00:00.", "2024-01-01 00:00:00.1234567890", "2024-01-01x", "2024/01/01", "2024-01-32"} {
		if _, err := parseCivil(bad, false); err == nil {
			t.Errorf("parseCivil(%q) succeeded", bad)
		}
	}
	if _, err := parseCivil("2024-01-01T00:00:00+0800", false); err == nil {
		t.Error("an offset is accepted only where asked for")
	}
	for in, off := range map[string]int{"2024-01-01T00:00:00Z": 0, "2024-01-01T00:00:00+08": 8 * 3600, "2024-01-01T00:00:00-0130": -5400, "2024-01-01T00:00:00+05:45": 20700} {
		c, err := parseCivil(in, true)
		if err != nil || !c.zoned || c.offsetSec != off {
			t.Errorf("parseCivil(%q) = %+v, %v; want offset %d", in, c, err, off)
		}
	}
}

func TestParseZoned(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2024-05-01T18:30:00+08:00":   time.Date(2024, 5, 1, 10, 30, 0, 0, time.UTC),
		"2024-05-01 10:30:00.123456Z": time.Date(2024, 5, 1, 10, 30, 0, 123456000, time.UTC),
		"1969-12-31T23:00:00-01:00":   time.Unix(0, 0),
	} {
		if us, ok := ParseZoned(in); !ok || us != want.UnixMicro() {
			t.Errorf("ParseZoned(%q) = %d, %v; want %d", in, us, ok, want.UnixMicro())
		}
	}
	for _, bad := range []string{"2024-05-01 18:30:00", "2024-05-01", "0000-00-00T00:00:00Z", "2024-02-30T00:00:00Z", "x"} {
		if us, ok := ParseZoned(bad); ok {
			t.Errorf("ParseZoned(%q) = %d, want failure", bad, us)
		}
	}
}
