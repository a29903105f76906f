GO ?= go
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2
DEMO_DIR ?= .demo

.PHONY: run test build vet staticcheck demo-data bench chart clean

# run: serve the HTTP API on a generated demo data set (--demo) of 100000 processes
# until Ctrl-C; it prints the URL and a curl example that queries it.
# ADDR=host:port listens elsewhere.
ADDR ?= 127.0.0.1:8080
run: build
	./procq serve --demo --addr $(ADDR)

# test: every check CI runs.
test: vet staticcheck
	test -z "$$(gofmt -l . | tee /dev/stderr)"
	$(GO) test -race -count=1 ./...

build:
	$(GO) build -o procq ./cmd/procq

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# chart: redraw docs/bench-latency.svg, the chart at the top of
# docs/BENCHMARKS.md, from the median latency table in that file (a new
# run: procq bench --plot FILE.svg draws its own).
chart:
	$(GO) run ./internal/tools/benchchart -in docs/BENCHMARKS.md -out docs/bench-latency.svg

clean:
	rm -rf procq $(DEMO_DIR)
