# binlake — see README.md. `make demo` and `make test` are the two entry points.
GO ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
VERSITYGW_VERSION := v1.8.0
GOLANGCI_LINT_VERSION := v2.15.0
GOTESTSUM_VERSION := v1.13.0
# gotestsum prints one line per test (so CI shows which ran, the S3 suite
# against versitygw among them) and the whole output of any that failed.
GOTEST := PATH="$(GOBIN):$$PATH" $(GOBIN)/gotestsum --format testname --

.PHONY: build test deps lint bench bench-merge demo clean

build:
	$(GO) build -o bin/binlake ./cmd/binlake

# What the tests need besides Go: an S3 server (versitygw) and DuckDB as an
# independent Parquet reader. MariaDB comes from Debian (.ci/run installs it).
deps: $(GOBIN)/versitygw $(GOBIN)/gotestsum tools/duckdb/node_modules/.installed

$(GOBIN)/versitygw:
	$(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

$(GOBIN)/gotestsum:
	$(GO) install gotest.tools/gotestsum@$(GOTESTSUM_VERSION)

tools/duckdb/node_modules/.installed: tools/duckdb/package.json tools/duckdb/package-lock.json
	npm ci --prefix tools/duckdb --no-audit --no-fund
	touch $@

# Everything under the race detector, then the tests that drive real
# binlake processes over a million records, which skip themselves under it.
test: deps
	$(GOTEST) -race -count=1 -timeout 15m ./...
	$(GOTEST) -count=1 -timeout 15m -run 'UnderKill' ./...

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) run ./...

# The ingest benchmark of issue 3 (tools/bench): binlake ingest against DuckDB
# on the same Canal messages, interleaved runs, goals, and the top of a CPU
# profile of ingest (bin/ingest-cpu.prof, allocations in bin/ingest-alloc.prof).
# Override BENCH_N, BENCH_RUNS or BENCH_FLAGS; `go run ./tools/bench -h` lists
# the flags. The Go micro-benchmarks: go test -run '^$$' -bench . -benchmem ./...
BENCH_N ?= 1000000
BENCH_RUNS ?= 3
BENCH_FLAGS ?= -profile bin/ingest-cpu.prof -memprofile bin/ingest-alloc.prof
bench: tools/duckdb/node_modules/.installed
	@mkdir -p bin
	$(GO) run ./tools/bench -n $(BENCH_N) -runs $(BENCH_RUNS) $(BENCH_FLAGS)

# binlake merge against the same merge in DuckDB SQL (issue 4): a 20M-row
# base and a 2M-change day, uniform and clustered, sides alternating.
# BENCH_MERGE_FLAGS="-rows 2000000 -changes 200000" runs a smaller one;
# "-integer-encoding delta" sets merge.integer_encoding. tools/mergeprof
# profiles one merge over a warehouse the benchmark generated.
bench-merge: tools/duckdb/node_modules/.installed
	$(GO) run ./merge/bench $(BENCH_MERGE_FLAGS)

# The whole pipeline on generated changes in an embedded Kafka, then a
# report and a self-check against the generator's model (exit 1 on FAIL).
# DEMO_FLAGS="--format debezium" for another format; binlake demo --help.
demo: build
	./bin/binlake demo $(DEMO_FLAGS)

clean:
	rm -rf bin demo-warehouse
