# routekeeper — one Makefile for building, testing, linting, benchmarking and the demo.
#
# Two commands on a fresh machine: `make demo` (the local stack) and `make test`.
# Both install what they need through `make tools`.

SHELL        := /bin/bash
GO           ?= go
BUILD        := .build
GOBIN        := $(shell $(GO) env GOPATH)/bin
PYUSERBIN    := $(shell python3 -m site --user-base 2>/dev/null)/bin
export PATH  := $(GOBIN):$(PYUSERBIN):$(PATH)

# Pinned tool versions.
RIE_MODULE   := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
RIE_VERSION  := v0.0.0-20261030222936-bef5c4ba774d
MOTO_VERSION := 5.2.1
CFNLINT_VERSION := 1.51.0

# Every folder under functions/ with a main.go is a Lambda.
FUNCTIONS    := $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go))
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'

TEST_TIMEOUT ?= 15m
FUZZTIME     ?= 10s

# SAM makefile builder (template.yaml: Metadata BuildMethod makefile, CodeUri .): `sam build`
# runs `make build-<LogicalId> ARTIFACTS_DIR=<dir>` and packages $(ARTIFACTS_DIR)/bootstrap.
# A new function is one line here, mapping its logical ID to its folder under functions/.
build-ApplyFunction: LAMBDA_DIR := apply
build-WebhookFunction: LAMBDA_DIR := webhook
build-OccupancyFunction: LAMBDA_DIR := occupancy
build-DriftScanFunction: LAMBDA_DIR := driftscan
SAM_BUILD_TARGETS := build-ApplyFunction build-WebhookFunction build-OccupancyFunction build-DriftScanFunction

# `make invoke FN=apply EVENT=events/apply/batch.json [CONFIG=path]`: sam local invoke
# without Docker. CONFIG publishes that routing config to the local table first (as
# `routekeeper publish` does, version "local") and runs the function for its environment.
# With GENESYS_API_URL (or GENESYS_REGION), GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET in
# the environment (GENESYS_LOGIN_URL optional), the function talks to that org (your
# sandbox) instead of the bundled simulator. The event must be of the function's event
# type (an invalid one is reported before anything starts); RAW=1 sends it as it is.
FN     ?=
EVENT  ?=
CONFIG ?=

.PHONY: all build cli functions test test-go fuzz-short lint bench bench-quick bench-driftscan generate sim tools demo invoke clean $(SAM_BUILD_TARGETS)

all: build

build: cli functions

cli:
	$(GO) build -trimpath -o $(BUILD)/routekeeper ./cmd/routekeeper

functions: $(addprefix $(BUILD)/,$(addsuffix /bootstrap,$(FUNCTIONS)))

$(BUILD)/%/bootstrap: FORCE
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o $@ ./functions/$*

FORCE:

$(SAM_BUILD_TARGETS):
	@test -n "$(ARTIFACTS_DIR)" || { echo "$@: ARTIFACTS_DIR is not set (sam build sets it; by hand: make $@ ARTIFACTS_DIR=/tmp/out)"; exit 2; }
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(LAMBDA_DIR)

# The local stack (infra/localstack): moto + Genesys simulator + each function's bootstrap
# under aws-lambda-rie + the SQS event-source emulation, a scripted walk through the product
# with the real CLI, then everything stops.
demo: tools build
	$(GO) run ./infra/localstack demo --cli $(BUILD)/routekeeper

invoke: tools
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function folder, e.g. apply> EVENT=events/<function>/<scenario>.json [CONFIG=path] [RAW=1]"; exit 2; }
	$(GO) run ./infra/localstack invoke --fn $(FN) --event $(EVENT)$(if $(CONFIG), --config '$(CONFIG)')$(if $(RAW), --raw)

tools:
	@command -v aws-lambda-rie >/dev/null || { echo "installing aws-lambda-rie $(RIE_VERSION)"; $(GO) install $(RIE_MODULE)@$(RIE_VERSION); }
	@moto_server --help >/dev/null 2>&1 || { echo "installing moto[server] $(MOTO_VERSION)"; python3 -m pip install --user "moto[server]==$(MOTO_VERSION)"; }
	@cfn-lint --version >/dev/null 2>&1 || { echo "installing cfn-lint $(CFNLINT_VERSION)"; python3 -m pip install --user "cfn-lint==$(CFNLINT_VERSION)"; }
	@command -v aws-lambda-rie moto_server cfn-lint >/dev/null && echo "tools: aws-lambda-rie, moto_server and cfn-lint are on PATH"

test: tools test-go fuzz-short

# The race detector runs over every package: concurrency lives in the client (pages in
# parallel), the stores, the pollers and event sources, and the demo's output.
test-go:
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

# Every fuzz target runs for a short bounded time in CI; longer runs: make fuzz-short FUZZTIME=10m
fuzz-short:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //'); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime=5s $$pkg; \
	  done; \
	done

lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if [ -f template.yaml ]; then cfn-lint template.yaml; fi

# Every benchmark, at full size: about 30 minutes, most of it the per-entity export/plan
# baseline (6,200 GETs at 300 requests/minute) and the real-clock apply run.
bench: tools
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

# The drift scan against a simulated org paced at 300 requests/minute with 50 ms latency:
# its bootstrap under aws-lambda-rie with the table on moto at 5,000 queues, 1,000 skills and
# 200 worktypes (first scan, then the unchanged org: Genesys calls, wall time, the function's
# peak RSS, DynamoDB writes), and the scan engine without a table at that size and ten
# times it (calls, wall time, heap). About 5 minutes.
bench-driftscan: tools
	$(GO) test -run '^$$' -bench 'DriftScan|ScanEngine' -benchtime 1x -timeout 30m ./infra/localstack/stack/ ./shared/drift/

# A few minutes: the simulated org of BenchmarkExportPlan at 5 % of its size.
bench-quick: tools
	ROUTEKEEPER_BENCH_SCALE=0.05 $(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...

# `make chaos [N=1000] [SEED=7]`: N change requests through the real apply and webhook
# bootstraps under aws-lambda-rie, SQS FIFO and DynamoDB on moto and a Genesys simulator
# injecting 503s (half after the write), 429 bursts, dropped connections and admin edits,
# every message delivered twice and apply runtimes SIGKILLed mid-batch; an oracle judges
# the simulator's write log, the change records and the dead-letter queue (infra/chaos).
# It ends with one line and fails when a request was lost, a change applied twice or an
# admin's edit lost unseen. SEED (default: from the clock) is printed at the start.
N    ?= 1000
SEED ?=
.PHONY: chaos
chaos: tools
	$(GO) run ./infra/chaos -n $(N)$(if $(SEED), -seed $(SEED))

# Regenerate the committed JSON Schema of the routing config from the Go types.
generate:
	$(GO) generate ./shared/routing

# The Genesys Cloud simulator on its own (prints its URL; client routekeeper-local / routekeeper-local-secret).
sim:
	$(GO) run ./infra/genesyssim --addr 127.0.0.1:0 --seed 7

clean:
	rm -rf $(BUILD)
