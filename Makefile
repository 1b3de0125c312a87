# gohands — one static binary. "make run" starts it, "make test" runs every test.
GO       ?= go
BIN      := bin/gohands
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: build run test bench lint clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gohands

run: build
	./$(BIN) serve $(ARGS)

test:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 20m ./...
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/gohands

# Benchmarks are run by hand and recorded in docs/benchmarks.md; they are not part of "make test".
bench:
	$(GO) test -run='^$$' -bench=. -benchtime=2s ./internal/events/ ./internal/storage/eventlog/
	bash bench/eventlog.sh
	bash bench/socketio/run.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin
