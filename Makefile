# binlake — see README.md. `make demo` and `make test` are the two entry points.
GO ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
VERSITYGW_VERSION := v1.8.0
GOLANGCI_LINT_VERSION := v2.15.0

.PHONY: build test deps lint bench demo clean

build:
	$(GO) build -o bin/binlake ./cmd/binlake

# What the tests need besides Go: an S3 server (versitygw) and DuckDB as an
# independent Parquet reader. MariaDB comes from Debian (.ci/run installs it).
deps: $(GOBIN)/versitygw tools/duckdb/node_modules/.installed

$(GOBIN)/versitygw:
	$(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

tools/duckdb/node_modules/.installed: tools/duckdb/package.json tools/duckdb/package-lock.json
	npm ci --prefix tools/duckdb --no-audit --no-fund
	touch $@

# Everything under the race detector, then the tests that drive real
# binlake processes over a million records, which skip themselves under it.
test: deps
	PATH="$(GOBIN):$$PATH" $(GO) test -race -count=1 -timeout 15m ./...
	PATH="$(GOBIN):$$PATH" $(GO) test -count=1 -timeout 15m -run 'UnderKill' ./...

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) run ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo: build
	@echo "binlake demo: the end-to-end demo (embedded Kafka, two days of changes, merge, report)"
	@echo "is not built yet. Meanwhile, the shipped example configuration:"
	RDS1_PASSWORD=demo RDS2_PASSWORD=demo KAFKA_PASSWORD=demo S3_SECRET_KEY=demo ./bin/binlake config check --config binlake.example.yaml

clean:
	rm -rf bin
