#!/usr/bin/env bash
# Regenerates the contracts into a scratch directory and fails if the
# committed output under libs/proto differs (the Python and Go client stubs
# are checked by clients/{python,go}/generate.sh --check, which `make clients`
# runs; the TypeScript client's copy is generated at build time); then runs `buf breaking`
# against the main branch (or $T4DM_PROTO_BASE) when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
buf=node_modules/.bin/buf
scratch=build/proto-check
rm -rf "$scratch" && mkdir -p "$scratch"

"$buf" generate -o "$scratch"
"$buf" build -o "$scratch/descriptor.binpb"
if ! diff -r "$scratch/libs/proto/src/gen" libs/proto/src/gen >/dev/null || ! cmp -s "$scratch/descriptor.binpb" libs/proto/descriptor.binpb; then
  echo "proto-check: libs/proto is stale; run 'make proto' and commit the result" >&2
  diff -r "$scratch/libs/proto/src/gen" libs/proto/src/gen | head -40 >&2 || true
  exit 1
fi
echo "proto-check: generated code is up to date"

base=${T4DM_PROTO_BASE:-main}
if git rev-parse --verify -q "$base^{commit}" >/dev/null && git cat-file -e "$base:proto" 2>/dev/null; then
  against="$scratch/against"
  mkdir -p "$against"
  git archive "$base" proto buf.yaml | tar -x -C "$against"
  mkdir -p "$against/build" && cp -r build/proto-deps "$against/build/"
  (cd "$against" && "$OLDPWD/$buf" build -o image.binpb)
  # Compare images: the workspace has two modules (ours and the gathered deps).
  "$buf" breaking "$scratch/descriptor.binpb" --against "$against/image.binpb" \
    --config '{"version":"v2","breaking":{"use":["FILE"]}}'
  echo "proto-check: no breaking changes against $base"
else
  echo "proto-check: no $base branch with proto/ yet; skipping buf breaking"
fi
