// Package mariadbtest starts private MariaDB servers for tests: the MySQL
// source of DESIGN.md §11, with row-based binary logging.
//
// # Contract
//
// Start(t) gives each caller its own mariadbd process:
//
//   - listening on 127.0.0.1 only, on a free port (Server.Port), and on a
//     unix socket in a private temporary directory; no systemd, no packaged
//     service, no configuration files (--no-defaults);
//   - with a fresh data directory under t.TempDir(), copied from a template
//     made once by mariadb-install-db (about 1 s) and cached across test
//     processes under os.UserCacheDir()/binlake-mariadbtest/<key> (about
//     26 MB; the key covers the server binary and options, a manifest of
//     file sizes catches a damaged template). With
//     BINLAKE_MARIADBTEST_CACHE=off, or no writable cache directory,
//     mariadb-install-db runs for every server instead;
//   - user root with no password, reachable over TCP (root@127.0.0.1);
//   - binary log on (binlog.NNNNNN in the data directory), binlog_format=ROW,
//     binlog_row_image=FULL, server_id=1; character_set_server=utf8mb4;
//     small buffers and no durability (innodb_flush_log_at_trx_commit=2,
//     sync_binlog=0, no doublewrite) for speed; the server's default time
//     zone is left as the machine's, so code under test must set its own
//     session time zone (DSN does);
//   - ready when a go-sql-driver/mysql connection over TCP succeeds, within
//     StartTimeout; a failure to start fails the test with the server's
//     error log;
//   - stopped by t.Cleanup: SIGTERM, then SIGKILL after StopTimeout. On
//     Linux the server also gets SIGKILL if the test process dies first.
//
// StartWith(t, Options{ExtraArgs: ...}) appends server options, such as
// "--default-time-zone=+08:00" or "--binlog-row-image=MINIMAL".
//
// Binaries are looked up on PATH, then in /usr/sbin and /usr/bin: mariadbd or
// mysqld, and mariadb-install-db or mysql_install_db. When they are missing the
// test fails with t.Fatalf if the environment variable CI is non-empty and is
// otherwise skipped with t.Skipf, naming the install command:
//
//	apt-get install -y mariadb-server
//
// Servers are independent: several may run at once in one test process.
//
// On Debian 12 (MariaDB 10.11) both SHOW MASTER STATUS and SHOW BINLOG
// STATUS (MariaDB 10.5.2+) report the binary log file and position;
// Server.BinlogPosition uses SHOW BINLOG STATUS and falls back to SHOW MASTER
// STATUS for servers that lack it.
package mariadbtest
