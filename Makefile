GO ?= go
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2
DEMO_DIR ?= .demo

.PHONY: run test build vet staticcheck demo-data bench clean

# run: the main job on a built-in demo data set.
run: build
	@mkdir -p $(DEMO_DIR)
	@test -f $(DEMO_DIR)/demo.snap || ./procq gen --out $(DEMO_DIR)/demo.snap --processes 20000 --seed 1
	./procq query --snapshot $(DEMO_DIR)/demo.snap --request docs/demo-request.json

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
