#!/usr/bin/env bash
# Checks the Go client against proto/ and builds it: fails when the committed
# stubs in clients/go/gen are stale (generate.sh --check), runs the package's
# unit tests, and builds the example into build/clients/go/bin/example (the
# binary test/clients.e2e.test.ts runs). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/../.."
clients/go/generate.sh --check
go -C clients/go vet ./...
go -C clients/go test ./...
go -C clients/go build -buildvcs=false -o "$PWD/build/clients/go/bin/example" ./cmd/example
echo "go client: example at build/clients/go/bin/example"
