#!/usr/bin/env bash
# Regenerates the committed Go stubs under clients/go/gen from proto/
# (protoc-gen-go and protoc-gen-go-grpc driven by buf with buf.gen.go.yaml).
# With --check it generates into a scratch directory instead and fails when
# the committed stubs differ, which is how CI keeps them in step with proto/.
# The generators go to .tools/bin; protoc-gen-go is always the version of the
# google.golang.org/protobuf runtime in go.mod, so the two cannot drift.
set -euo pipefail
cd "$(dirname "$0")/../.."
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
tools=$PWD/.tools/bin

# The runtime version the module pins, read without loading the module graph.
protobuf_version=$(awk '$1 == "google.golang.org/protobuf" { print $2 }' clients/go/go.mod)

install_tool() { # package version "what --version prints"
  if [[ "$("$tools/${1##*/}" --version 2>/dev/null)" != "$3" ]]; then
    GOBIN=$tools go install "$1@$2"
  fi
}
install_tool google.golang.org/protobuf/cmd/protoc-gen-go "$protobuf_version" "protoc-gen-go $protobuf_version"
install_tool google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION" "protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC_VERSION#v}"

if [[ "${1:-}" != "--check" ]]; then
  node_modules/.bin/buf generate --template clients/go/buf.gen.go.yaml
  echo "go client: regenerated clients/go/gen"
  exit 0
fi
scratch=build/clients/go-check
rm -rf "$scratch" && mkdir -p "$scratch"
node_modules/.bin/buf generate --template clients/go/buf.gen.go.yaml -o "$scratch"
if ! diff -r "$scratch/clients/go/gen" clients/go/gen >/dev/null; then
  echo "go client: clients/go/gen is stale; run clients/go/generate.sh and commit the result" >&2
  diff -r "$scratch/clients/go/gen" clients/go/gen | head -40 >&2 || true
  exit 1
fi
echo "go client: clients/go/gen is up to date"
