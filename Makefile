GO ?= go
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2
DEMO_DIR ?= .demo

.PHONY: run test build vet staticcheck demo-data bench clean

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

clean:
	rm -rf procq $(DEMO_DIR)
