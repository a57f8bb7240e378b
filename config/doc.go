// Package config loads, expands, validates and prints binlake's YAML
// configuration file. binlake.example.yaml at the root of the repository
// shows every key with its default.
//
// # Loading
//
// Load reads a file and Parse parses bytes; both return a *Config in which
// every default is filled in and every value is typed (durations, byte
// sizes, compiled regexes, time zones, the parsed warehouse location), or
// an error listing every problem found. Config is plain data: safe for
// concurrent reads, never modified by this package after Parse returns. The
// package keeps no global state. Parse reads the process's current
// directory (to make a relative warehouse path absolute) and os.TempDir
// (the default merge.spill_dir), and nothing else outside its arguments.
//
// # Environment variables
//
// ${NAME} in any value (not in keys) is replaced by the environment
// variable NAME, looked up through the env function given to Load or Parse.
// $$ is a literal $; a $ followed by anything else is kept as it is, so
// regexes such as ^binlog_.*$ need no escaping. A variable that is not set
// is an error; one set to "" expands to "". Expansion happens per scalar on
// the parsed YAML tree, so a value containing #, : or quotes cannot change
// the structure of the file, and an unquoted value is typed after
// expansion, so tombstone_days: ${DAYS} fills an integer. Quoted values stay
// strings. Inside a flow mapping ({dsn: …}) YAML reads { and } as brackets,
// so a value holding ${…} there must be quoted.
//
// # Errors
//
// Every problem is an *Error, formatted as
//
//	file:LINE: key.path: message
//
// with key paths such as kafka.format, tables[1].match or
// sources.rds1.dsn (names with dots are quoted: kafka.partitions["a.b"]).
// YAML syntax errors carry the parser's line and no path. Unknown keys and
// keys written twice in one mapping are errors. Parse reports all problems
// at once, joined with errors.Join and sorted by line. A required key that
// is missing is reported at the line of the mapping that should hold it.
//
// # Decisions
//
//   - tables is required and must hold at least one rule; every other
//     section is optional, because each command needs only some of them
//     (sources, for instance, only matter to binlake snapshot).
//   - A relative warehouse path (including the default ./warehouse) is
//     relative to the current directory, not to the configuration file.
//   - Column names in columns.rename, columns.exclude and columns.boolean
//     are source names and match case-insensitively, as MySQL column names
//     do. A renamed column keeps its new name as written; columns.case only
//     applies to the others. Table.Key names final (output) columns.
//   - Table.Match is used as written: an unanchored regex matches anywhere
//     in "<database>.<table>".
//   - event_time_field (in kafka or in a table rule) is an error unless
//     kafka.format is rowjson, where it is read.
//   - TLS file settings while kafka.tls.enabled is false are an error rather
//     than silently unused. The time zone "Local" is rejected because it
//     depends on the machine.
//   - The program that links this package should import time/tzdata so
//     that time zones load on machines without a zoneinfo database.
//
// # Printing
//
// Config.Redacted prints the resolved configuration as YAML with secrets
// masked; binlake config check prints it. The output is itself a valid
// configuration that loads to the same values apart from the masks.
package config
