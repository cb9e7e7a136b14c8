#!/usr/bin/env bash
# Gathers the third-party .proto files our contracts import (google.rpc for
# error details, grpc.health and grpc.reflection for the descriptor set that
# reflection serves) from installed npm packages into build/proto-deps, so
# no third-party proto is committed to this repository.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/proto-deps
rm -rf "$out"
mkdir -p "$out/google/rpc" "$out/grpc/health/v1" "$out/grpc/reflection/v1"
cp node_modules/google-proto-files/google/rpc/status.proto \
   node_modules/google-proto-files/google/rpc/error_details.proto "$out/google/rpc/"
cp node_modules/grpc-health-check/proto/health/v1/health.proto "$out/grpc/health/v1/"
cp node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto "$out/grpc/reflection/v1/"
