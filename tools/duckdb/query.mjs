#!/usr/bin/env node
// query.mjs — run SQL against an in-memory DuckDB and print the result of the
// last statement as one JSON document on stdout:
//
//   {"columns":[{"name":"id","type":"DECIMAL(20,0)"},...],"rows":[["1",null,...],...]}
//
// Usage:  node query.mjs "SELECT ..."      (all arguments are joined with spaces)
//         echo "SELECT ..." | node query.mjs
//         node query.mjs --serve            (many queries, one JSON line each way; see serve)
//
// The SQL may hold several statements separated by ';'; only the last one's
// result is printed. DuckDB will not try to download extensions; the ICU
// extension is not built into @duckdb/node-api, so there is no TimeZone
// setting and TIMESTAMP WITH TIME ZONE is always handled in UTC.
//
// "type" is DuckDB's own type name (INTEGER, BIGINT, DECIMAL(20,0), DOUBLE,
// DATE, TIMESTAMP, TIMESTAMP WITH TIME ZONE, VARCHAR, BLOB, ...).
//
// Every non-NULL value is a JSON string in a canonical, lossless form; NULL is
// JSON null:
//   BOOLEAN                      true | false
//   TINYINT..UBIGINT, HUGEINT,   decimal integer, '-' for negatives: 18446744073709551615
//   UHUGEINT, BIGNUM
//   DECIMAL(p,s)                 exact, exactly s fractional digits: -0.05, 1.50, 18446744073709551615
//   DOUBLE                       shortest text that round-trips, laid out as JavaScript's
//                                Number#toString (0.1, 1e+21, 1.5e-7, 100), plus -0, NaN,
//                                Infinity, -Infinity
//   FLOAT                        shortest text that round-trips to the same float32, same layout
//   VARCHAR (also JSON), ENUM    the text itself
//   BLOB                         lowercase hex, no prefix ("" for an empty blob)
//   DATE                         YYYY-MM-DD (astronomical year, '-' before years < 0; infinity, -infinity)
//   TIME                         HH:MM:SS.ffffff (always 6 fractional digits)
//   TIME_NS                      HH:MM:SS.fffffffff
//   TIME WITH TIME ZONE          HH:MM:SS.ffffff+HH:MM (the value's own offset)
//   TIMESTAMP, TIMESTAMP_S,      YYYY-MM-DDTHH:MM:SS.ffffff (no zone; always 6 fractional digits)
//   TIMESTAMP_MS
//   TIMESTAMP_NS                 YYYY-MM-DDTHH:MM:SS.fffffffff
//   TIMESTAMP WITH TIME ZONE     YYYY-MM-DDTHH:MM:SS.ffffff+00:00 (always UTC)
//                                (timestamps: infinity, -infinity as DuckDB says)
//   INTERVAL                     "<months> months <days> days <micros> micros"
//   UUID                         8-4-4-4-12 lowercase hex
//   BIT                          string of 0 and 1
//   LIST, ARRAY                  JSON text of an array of canonical values ([] of strings/null)
//   STRUCT                       JSON text of an object {"field": canonical, ...} in field order
//   MAP                          JSON text of an array of [key, value] pairs
//   UNION                        JSON text {"<tag>": canonical}
// Errors go to stderr and the exit code is 1.

import { DuckDBInstance, DuckDBTypeId } from '@duckdb/node-api';

const MICROS_PER_DAY = 86400000000n;
const TS_POS_INF = 9223372036854775807n;
const TS_NEG_INF = -9223372036854775807n;
const DATE_POS_INF = 2147483647;
const DATE_NEG_INF = -2147483647;

function pad(n, width) {
  const s = String(n);
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian
// (year, month, day) — Howard Hinnant's algorithm, exact for any int32 day.
function civilFromDays(days) {
  let z = BigInt(days) + 719468n;
  const era = (z >= 0n ? z : z - 146096n) / 146097n;
  const doe = z - era * 146097n;
  const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n;
  let y = yoe + era * 400n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const d = doy - (153n * mp + 2n) / 5n + 1n;
  const m = mp < 10n ? mp + 3n : mp - 9n;
  if (m <= 2n) y += 1n;
  return [y, Number(m), Number(d)];
}

function formatDays(days) {
  const [y, m, d] = civilFromDays(days);
  const ys = y < 0n ? '-' + pad(-y, 4) : pad(y, 4);
  return `${ys}-${pad(m, 2)}-${pad(d, 2)}`;
}

function floorDiv(a, b) {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

// formatTimeOfDay formats sub-day units (unitsPerSecond = 10^digits).
function formatTimeOfDay(units, unitsPerSecond, digits) {
  const secs = units / unitsPerSecond;
  const frac = units % unitsPerSecond;
  const h = secs / 3600n;
  const mi = (secs % 3600n) / 60n;
  const s = secs % 60n;
  return `${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(frac, digits)}`;
}

function formatTimestamp(units, unitsPerSecond, digits) {
  const unitsPerDay = unitsPerSecond * 86400n;
  const days = floorDiv(units, unitsPerDay);
  const rest = units - days * unitsPerDay;
  return `${formatDays(days)}T${formatTimeOfDay(rest, unitsPerSecond, digits)}`;
}

function formatMicrosTimestamp(micros) {
  if (micros === TS_POS_INF) return 'infinity';
  if (micros === TS_NEG_INF) return '-infinity';
  return formatTimestamp(micros, 1000000n, 6);
}

function formatDouble(x) {
  if (Object.is(x, -0)) return '-0';
  return String(x); // ECMAScript Number::toString: shortest round-trip
}

function formatFloat(x) {
  if (!Number.isFinite(x) || x === 0) return formatDouble(x);
  for (let p = 1; p <= 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return String(Number(s));
  }
  return String(x);
}

function hex(bytes) {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

function formatDecimal(value, scale) {
  const neg = value < 0n;
  let digits = (neg ? -value : value).toString();
  if (scale > 0) {
    if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
    digits = digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale);
  }
  return (neg ? '-' : '') + digits;
}

function formatOffset(seconds) {
  const sign = seconds < 0 ? '-' : '+';
  const a = Math.abs(seconds);
  const hm = `${pad(Math.floor(a / 3600), 2)}:${pad(Math.floor((a % 3600) / 60), 2)}`;
  return a % 60 ? `${sign}${hm}:${pad(a % 60, 2)}` : `${sign}${hm}`;
}

// canonical returns the canonical string of a non-null value of the given
// DuckDB type; nested values are JSON text of their canonical children.
function canonical(type, v) {
  if (v === null || v === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return v ? 'true' : 'false';
    case DuckDBTypeId.TINYINT: case DuckDBTypeId.SMALLINT: case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT: case DuckDBTypeId.UTINYINT: case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER: case DuckDBTypeId.UBIGINT: case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT: case DuckDBTypeId.BIGNUM:
      return typeof v === 'object' ? String(v) : BigInt(v).toString();
    case DuckDBTypeId.FLOAT:
      return formatFloat(v);
    case DuckDBTypeId.DOUBLE:
      return formatDouble(v);
    case DuckDBTypeId.DECIMAL:
      return formatDecimal(v.value, v.scale);
    case DuckDBTypeId.VARCHAR: case DuckDBTypeId.ENUM:
      return String(v);
    case DuckDBTypeId.BLOB:
      return hex(v.bytes);
    case DuckDBTypeId.DATE:
      if (v.days === DATE_POS_INF) return 'infinity';
      if (v.days === DATE_NEG_INF) return '-infinity';
      return formatDays(v.days);
    case DuckDBTypeId.TIME:
      return formatTimeOfDay(v.micros, 1000000n, 6);
    case DuckDBTypeId.TIME_NS:
      return formatTimeOfDay(BigInt(v.nanos), 1000000000n, 9);
    case DuckDBTypeId.TIME_TZ:
      return formatTimeOfDay(v.micros, 1000000n, 6) + formatOffset(v.offset);
    case DuckDBTypeId.TIMESTAMP:
      return formatMicrosTimestamp(v.micros);
    case DuckDBTypeId.TIMESTAMP_TZ: {
      const s = formatMicrosTimestamp(v.micros);
      return s.endsWith('infinity') ? s : s + '+00:00';
    }
    case DuckDBTypeId.TIMESTAMP_S:
      if (!v.isFinite) return String(v);
      return formatTimestamp(BigInt(v.seconds) * 1000000n, 1000000n, 6);
    case DuckDBTypeId.TIMESTAMP_MS:
      if (!v.isFinite) return String(v);
      return formatTimestamp(BigInt(v.millis) * 1000n, 1000000n, 6);
    case DuckDBTypeId.TIMESTAMP_NS:
      if (!v.isFinite) return String(v);
      return formatTimestamp(v.nanos, 1000000000n, 9);
    case DuckDBTypeId.INTERVAL:
      return `${v.months} months ${v.days} days ${v.micros} micros`;
    case DuckDBTypeId.LIST:
      return JSON.stringify(v.items.map((x) => canonical(type.valueType, x)));
    case DuckDBTypeId.ARRAY:
      return JSON.stringify(v.items.map((x) => canonical(type.valueType, x)));
    case DuckDBTypeId.STRUCT: {
      const o = {};
      type.entryNames.forEach((name, i) => {
        o[name] = canonical(type.entryTypes[i], v.entries[name]);
      });
      return JSON.stringify(o);
    }
    case DuckDBTypeId.MAP:
      return JSON.stringify(v.entries.map((e) => [canonical(type.keyType, e.key), canonical(type.valueType, e.value)]));
    case DuckDBTypeId.UNION: {
      const i = type.memberTags.indexOf(v.tag);
      return JSON.stringify({ [v.tag]: canonical(type.memberTypes[i], v.value) });
    }
    default: // UUID, BIT, GEOMETRY, VARIANT, ...
      return String(v);
  }
}

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

// runSQL runs sql in a fresh in-memory DuckDB and returns {columns, rows}.
async function runSQL(sql) {
  if (sql.trim() === '') throw new Error('no SQL given');
  const instance = await DuckDBInstance.create(':memory:', {
    // Never reach for the network: extensions that are not built in stay unavailable.
    autoinstall_known_extensions: 'false',
  });
  try {
    const conn = await instance.connect();
    try {
      // Run the statements one by one (each is prepared only after the ones
      // before it ran, so later ones may use tables that earlier ones create);
      // keep the last one's result.
      const statements = await conn.extractStatements(sql);
      if (statements.count === 0) throw new Error('no SQL statement given');
      let result;
      for (let i = 0; i < statements.count; i++) {
        const prepared = await statements.prepare(i);
        if (i < statements.count - 1) await prepared.run();
        else result = await prepared.runAndReadAll();
      }
      const types = result.columnTypes();
      const columns = result.columnNames().map((name, i) => ({ name, type: types[i].toString() }));
      const rows = result.getRows().map((row) => row.map((v, i) => canonical(types[i], v)));
      return { columns, rows };
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

function errorText(err) {
  return err && err.message ? err.message : String(err);
}

function write(text) {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

// serve answers requests until stdin ends: each request is one line of JSON
// {"sql": "..."}, each answer one line of JSON, either {"columns":..,"rows":..}
// or {"error": "..."}. Every request gets a fresh in-memory DuckDB. The Go
// harness keeps one such process per test binary, which saves the ~0.4 s that
// starting node and loading DuckDB costs per query.
async function serve() {
  const readline = await import('node:readline');
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let answer;
    try {
      const req = JSON.parse(line);
      if (typeof req.sql !== 'string') throw new Error('request without "sql" string');
      answer = JSON.stringify(await runSQL(req.sql));
    } catch (err) {
      answer = JSON.stringify({ error: errorText(err) });
    }
    await write(answer + '\n');
  }
}

try {
  if (process.argv[2] === '--serve') {
    await serve();
  } else {
    const sql = process.argv.length > 2 ? process.argv.slice(2).join(' ') : await readStdin();
    await write(JSON.stringify(await runSQL(sql)) + '\n');
  }
} catch (err) {
  process.stderr.write(`duckdb: ${errorText(err)}\n`);
  process.exitCode = 1;
}
