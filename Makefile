# DartSync build, test and benchmark targets. `make test` is what CI runs.
GO        ?= go
BIN       := bin/dartsync
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
PKGS      := ./...
FUZZTIME  ?= 10s

.PHONY: all build test lint e2e bench fuzz cross proto pi-check demo bench-rsync bench-speed bench-scale chaos clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/dartsync

# test: formatting, vet, then every test (unit, integration over real QUIC on
# loopback, end-to-end with real dartsync processes) under the race detector.
# DARTSYNC_SIM_KNOWN=stuck-wants: the simulation (peer/simtest) reports, without
# failing, wants no peer can fill that remain after a tracker was restored from
# an older backup (the backup's version of a path that every peer has deleted
# since, with a history that does not prove the deletion newer; no version is
# lost, each peer kept the file it deleted among its versions). The same kind
# after conflicts and crashes is fixed (tracker/conflict_origin.go). Every
# safety check of the simulation still fails the run.
test: lint
	DARTSYNC_SIM_KNOWN=$${DARTSYNC_SIM_KNOWN-stuck-wants} $(GO) test -race -count=1 -timeout 30m $(PKGS)

# chaos: the fault-injection suite (internal/chaos): a tracker and four peers as
# real processes, a seeded random workload and a nemesis (SIGKILL/restart,
# SIGSTOP, disk full on a tmpfs peer, partitions and packet loss where the
# namespace LAN can be made) for CHAOS_BUDGET, then the invariants. CHAOS_SEED
# replays a run (0: a random seed, printed). CHAOS_FAULTS limits the fault
# kinds (kill,stop,fill,partition,impair; empty: all). CHAOS_KNOWN lists
# violation kinds reported without failing (see internal/chaos/invariants.go;
# empty by default: every violation fails the run). A failed run's folders,
# logs and history are kept (the path is printed).
CHAOS_BUDGET ?= 5m
CHAOS_SEED   ?= 0
CHAOS_KNOWN  ?=
CHAOS_FAULTS ?=
chaos:
	$(GO) test -count=1 -timeout 60m -v -run '^TestChaos$$' ./internal/chaos \
	  -chaos.budget $(CHAOS_BUDGET) -chaos.seed $(CHAOS_SEED) -chaos.known '$(CHAOS_KNOWN)' -chaos.faults '$(CHAOS_FAULTS)'

# e2e: only the end-to-end tests: real dartsync processes (cmd/dartsync/e2e).
e2e:
	$(GO) test -race -count=1 -timeout 30m ./cmd/dartsync/e2e/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# fuzz: a short bounded run of every fuzz target (FUZZTIME each).
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# cross: every release target, pure Go.
cross:
	@set -e; for t in linux/amd64 linux/arm64 linux/arm/6 linux/arm/7 darwin/arm64 windows/amd64; do \
	  os=$${t%%/*}; rest=$${t#*/}; arch=$${rest%%/*}; arm=; ext=; \
	  case $$rest in */*) arm=$${rest#*/};; esac; \
	  case $$os in windows) ext=.exe;; esac; \
	  out=bin/dartsync-$$os-$$arch$${arm:+v$$arm}$$ext; \
	  echo "build $$out"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOARM=$$arm $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$out ./cmd/dartsync; \
	done

# proto: regenerate the committed Go code from the .proto schemas.
proto:
	@for f in $$(git ls-files '*.proto'); do echo "protoc $$f"; protoc --go_out=. --go_opt=paths=source_relative $$f; done

# pi-check: the linux/arm64 tracker under qemu-aarch64 answers a client.
pi-check:
	bash .ci/pi-check.sh

# demo: a tracker and four peers on localhost, folders under demo/.
demo: build
	bash peer/demo/demo.sh

# bench-rsync: DartSync against rsync --no-whole-file on the same changes.
bench-rsync: build
	bash benchmarks/rsync.sh

# bench-speed: small files to two receivers and save -> synced latency,
# default settings, rsync measured in the same run.
bench-speed: build
	NOBUILD=1 bash benchmarks/e2e_speed.sh

# bench-scale: issue 19's scale figures (docs/scale.md): trees of SIZES small
# files (default 50000; e.g. SIZES="50000 200000 1000000"), a tracker and two
# real peers on loopback; first scan, rescan, receive, peak memory, state
# bytes per file, log lines. The table goes to benchmarks/out/.
bench-scale: build
	SIZES="$(SIZES)" bash benchmarks/scale.sh

clean:
	rm -rf bin demo
