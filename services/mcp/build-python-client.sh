#!/usr/bin/env bash
# Builds build/mcp-python/venv (never committed): a virtualenv with the pinned Python `mcp`
# package, whose client services/mcp/test/mcp-python.e2e.test.ts drives the MCP server with.
# `make test` runs it (target mcp-python). Safe to re-run; pip touches nothing when every pin is in.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=build/mcp-python/venv
requirements=services/mcp/test/python/requirements.txt
python=${PYTHON:-python3}

# A venv whose interpreter went away (another Python install) is rebuilt, not patched.
if ! "$venv/bin/python" -c '' 2>/dev/null; then
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
fi
if ! cmp -s "$requirements" "$venv/.requirements"; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
  cp "$requirements" "$venv/.requirements"
fi
"$venv/bin/python" -c 'import mcp, httpx2'
echo "python MCP client: $venv/bin/python"
