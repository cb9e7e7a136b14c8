#!/usr/bin/env bash
# Builds the Python client under build/clients/python (never committed):
#   venv/  a virtualenv with the pinned grpcio, grpcio-tools and protobuf
#   gen/   stubs for t4dm.memory.v1 and t4dm.admin.v1 (messages, .pyi, grpc)
# and links gen/ into the venv with a .pth file, so the venv's python imports
# `t4dm.memory.v1` like an installed package. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/clients/python
venv=$out/venv
python=${PYTHON:-python3}

# A venv whose interpreter went away (another Python install) is rebuilt, not patched.
if ! "$venv/bin/python" -c '' 2>/dev/null; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
# pip does nothing (and does not touch the network) when every pin is installed.
if ! cmp -s clients/python/requirements.txt "$venv/.requirements"; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r clients/python/requirements.txt
  cp clients/python/requirements.txt "$venv/.requirements"
fi

# Generate into a fresh directory and swap it in, so a failed run leaves no half-written stubs.
tmp=$(mktemp -d "$out/gen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# grpc_tools.protoc adds its bundled google/protobuf includes itself. Our
# public contracts import nothing else; the internal ones (persistence, wal,
# state) are not part of the client.
"$venv/bin/python" -m grpc_tools.protoc -I proto \
  --python_out="$tmp" --pyi_out="$tmp" --grpc_python_out="$tmp" \
  proto/t4dm/memory/v1/*.proto proto/t4dm/admin/v1/*.proto
rm -rf "$out/gen"
mv "$tmp" "$out/gen"
trap - EXIT

site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
realpath "$out/gen" > "$site/t4dm-client-gen.pth"
# Fail here, not in the example, if the stubs and the pinned runtime disagree.
"$venv/bin/python" -c 'from t4dm.memory.v1 import memory_service_pb2_grpc; from t4dm.admin.v1 import admin_service_pb2_grpc'
echo "python client: $out/gen (use $venv/bin/python)"
