#!/usr/bin/env bash
# Checks the Python client against proto/ and installs it: fails when the
# committed stubs are stale (generate.sh --check, which also makes the
# virtualenv build/clients/python/venv), then `pip install`s a clean copy of
# clients/python into that venv, so its python runs clients/python/example.py
# (what test/clients.e2e.test.ts does) on the package as users get it.
set -euo pipefail
cd "$(dirname "$0")/../.."
clients/python/generate.sh --check
# A copy, so the build leaves no build/ or *.egg-info in the repository.
copy=$(mktemp -d "${TMPDIR:-/tmp}/t4dm-python-client.XXXXXX")
trap 'rm -rf "$copy"' EXIT
cp -r clients/python/. "$copy/"
build/clients/python/venv/bin/python -m pip install --quiet --disable-pip-version-check --no-input "$copy"
build/clients/python/venv/bin/python -c 'import t4dm; from t4dm.memory.v1 import memory_service_pb2_grpc'
echo "python client: installed into build/clients/python/venv"
