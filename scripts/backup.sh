#!/usr/bin/env bash
# Backs up a T4DM data directory into one .tar.gz with a manifest (SHA-256 of
# every file), while the services keep running.
#
# usage: scripts/backup.sh [options]
#   -d, --data-dir DIR    the data directory (default $T4DM_DATA_DIR, else ./data)
#   -u, --http URL        the memory service's HTTP base URL, for the forced checkpoint
#                         (default http://$T4DM_HTTP_ADDR, else http://127.0.0.1:8080)
#   -o, --output FILE     the archive (default ./t4dm-backup-<UTC time>.tar.gz); "-" writes it to
#                         stdout (e.g. `kubectl exec ... -- scripts/backup.sh -o - > b.tar.gz`)
#       --no-checkpoint   do not ask for a checkpoint first (services stopped, or no admin key);
#                         the copy is still complete: the WAL carries everything after the last checkpoint
#       --neo4j-dump FILE with T4DM_NEO4J_URI: include this neo4j-admin dump instead of running neo4j-admin
#       --skip-qdrant, --skip-neo4j   leave a configured external store out (the manifest says so)
#   -h, --help
# Environment: T4DM_ADMIN_KEY or T4DM_ADMIN_KEY_FILE (admin API key, when keys are configured);
# T4DM_QDRANT_URL, T4DM_QDRANT_API_KEY, T4DM_QDRANT_COLLECTION_PREFIX (default t4dm);
# T4DM_NEO4J_URI, T4DM_NEO4J_DATABASE (default neo4j), NEO4J_ADMIN (default neo4j-admin);
# T4DM_HOME (the install, default this script's parent), NODE (default node).
#
# Why the copy is consistent (see scripts/README.md):
# 1. POST /api/v1/checkpoint writes and commits a checkpoint, so a restore replays little.
# 2. checkpoints/ is copied, then wal/. The state is "newest committed checkpoint + the WAL
#    after it"; a checkpoint file whose CHECKPOINT_COMPLETE is not in the copied WAL is ignored
#    by recovery, exactly as after a crash. A WAL record still being written when it is read
#    is a torn tail, which recovery cuts: it had not been fsynced, so it was never acknowledged.
#    The copy is then checked with the offline tool (`t4dm-wal verify`); if a segment vanished
#    under us (retention after a newer checkpoint) the coverage check fails and we copy again.
# 3. Only then the store: each SQLite file through the online backup API (scripts/backup-store.mjs),
#    Qdrant through collection snapshots, Neo4j through neo4j-admin. Because the store is copied
#    after the WAL, it holds every promotion the copied WAL says was written (STORE_SYNCED);
#    anything newer in it is harmless: store writes are idempotent upserts keyed by memory id,
#    and a promotion the copied WAL has not yet released is simply upserted again on restart.
# Exit status: 0 done, 1 failed, 64 usage.
set -euo pipefail
umask 077

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T4DM_HOME=${T4DM_HOME:-$(dirname "$HERE")}
NODE=${NODE:-node}
WAL_TOOL="$T4DM_HOME/services/persistence/dist/cli.js"

log() { printf 'backup: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage() { sed -n '2,/^# Exit status/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit "${1:-64}"; }

default_http() {
  local addr=${T4DM_HTTP_ADDR:-127.0.0.1:8080} scheme=http
  [[ -n ${T4DM_TLS_CERT_FILE:-} ]] && scheme=https
  addr=${addr/#0.0.0.0:/127.0.0.1:}
  addr=${addr/#\[::\]:/[::1]:}
  printf '%s://%s' "$scheme" "$addr"
}

data_dir=${T4DM_DATA_DIR:-./data}
http_url=$(default_http)
output=./t4dm-backup-$(date -u +%Y%m%dT%H%M%SZ).tar.gz
checkpoint=1
neo4j_dump=
skip_qdrant=0
skip_neo4j=0
while [[ $# -gt 0 ]]; do
  case $1 in
    -d | --data-dir) data_dir=${2:?}; shift 2 ;;
    -u | --http) http_url=${2:?}; shift 2 ;;
    -o | --output) output=${2:?}; shift 2 ;;
    --no-checkpoint) checkpoint=0; shift ;;
    --neo4j-dump) neo4j_dump=${2:?}; shift 2 ;;
    --skip-qdrant) skip_qdrant=1; shift ;;
    --skip-neo4j) skip_neo4j=1; shift ;;
    -h | --help) usage 0 ;;
    *) log "unknown argument: $1"; usage ;;
  esac
done

[[ -f $WAL_TOOL ]] || die "$WAL_TOOL is missing: build first (npx tsc -b), or set T4DM_HOME to the install"
[[ -d $data_dir/wal ]] || die "$data_dir/wal does not exist: is $data_dir a T4DM data directory?"
data_dir=$(cd "$data_dir" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/t4dm-backup.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/t4dm-backup
mkdir -p "$root/data"

# 1. A fresh checkpoint, so a restore replays only the WAL written since.
checkpoint_json=null
forced_checkpoint=
if [[ $checkpoint == 1 ]]; then
  log "asking $http_url for a checkpoint"
  checkpoint_json=$("$NODE" "$HERE/backup-remote.mjs" checkpoint "$http_url") ||
    die "the checkpoint request failed (is the service up, and T4DM_ADMIN_KEY set when keys are configured? --no-checkpoint skips it)"
  file=$(printf '%s' "$checkpoint_json" | "$NODE" -e 'let s="";process.stdin.on("data",(c)=>s+=c).on("end",()=>process.stdout.write(require("node:path").basename(JSON.parse(s).fileName)))')
  forced_checkpoint=$file
  # Guards against backing up one directory while checkpointing another service.
  [[ -f $data_dir/checkpoints/$file ]] ||
    die "the service at $http_url wrote $file, which is not in $data_dir/checkpoints: wrong --data-dir or --http?"
  log "checkpoint committed: $checkpoint_json"
fi

# Runs `t4dm-wal verify` on the staged copy; its exit code is in $code, its report in verify.out.
verify_copy() {
  set +e
  "$NODE" "$WAL_TOOL" verify "$root/data" >"$work/verify.out" 2>&1
  code=$?
  set -e
}

# A kept checkpoint that fails verification (bit rot, a truncated file) is one recovery would
# skip too, falling back to the next older one: leave it out of the copy and say so, rather
# than failing the backup of a healthy service. The verify report names each one as
# "checkpoints: corrupt: <file>: <problem>", so the checkpoint format stays in the tool.
skipped_json='[]'
skip_corrupt_checkpoints() {
  local line file problem
  while IFS= read -r line; do
    file=${line#checkpoints: corrupt: }
    problem=${file#*: }
    file=${file%%: *}
    [[ $file == */* || ! -f $root/data/checkpoints/$file ]] && continue
    [[ $file == "${forced_checkpoint:-}" ]] && die "the checkpoint just forced, $file, does not verify: $problem (check the disk)"
    rm -f "$root/data/checkpoints/$file"
    log "skipped checkpoints/$file: $problem; the backup restores from the newest valid checkpoint instead"
    skipped_json=$(file=$file problem=$problem skipped=$skipped_json "$NODE" -e \
      'const e = process.env; process.stdout.write(JSON.stringify([...JSON.parse(e.skipped), { fileName: e.file, problem: e.problem }]))')
  done < <(grep -E '^checkpoints: corrupt: ' "$work/verify.out" || true)
}

# 2. checkpoints/, then wal/ (then quarantine/, for the record), checked with the offline tool.
wal_state=
for attempt in 1 2 3 4 5; do
  rm -rf "$root/data/checkpoints" "$root/data/wal" "$root/data/quarantine"
  skipped_json='[]'
  copied=1
  for sub in checkpoints wal quarantine; do
    if [[ -d $data_dir/$sub ]]; then
      cp -R -p "$data_dir/$sub" "$root/data/$sub" 2>"$work/cp.err" || { copied=0; log "copy of $sub/ failed (attempt $attempt): $(head -c 300 "$work/cp.err")"; break; }
    fi
  done
  if [[ $copied == 1 ]]; then
    verify_copy
    if [[ $code == 2 ]] && grep -qE '^checkpoints: corrupt: ' "$work/verify.out"; then
      skip_corrupt_checkpoints
      verify_copy
    fi
    case $code in
      0) wal_state=clean; break ;;
      1) wal_state="torn tail"; break ;; # a record mid-write at the live end; recovery cuts it
      2) log "the copy does not verify (attempt $attempt): $(grep -E 'corrupt|coverage' "$work/verify.out" | head -3 | tr '\n' ' ')" ;;
      *) die "t4dm-wal verify failed with exit $code: $(tail -5 "$work/verify.out")" ;;
    esac
  fi
  sleep "$attempt"
done
[[ -n $wal_state ]] || die "could not take a WAL copy that verifies after 5 attempts; see above"
wal_summary=$(grep -E '^wal:' "$work/verify.out" | head -1 || true)
log "WAL and checkpoints copied ($wal_state): $wal_summary"

# 3. The stores, after the WAL.
episodic=embedded
graph=embedded
if [[ -d $data_dir/store ]]; then
  "$NODE" "$HERE/backup-store.mjs" "$data_dir/store" "$root/data/store" >"$work/store.out" || die "the embedded store copy failed"
  log "embedded store copied: $(cat "$work/store.out")"
fi

qdrant_json=null
if [[ -n ${T4DM_QDRANT_URL:-} ]]; then
  episodic=qdrant
  if [[ $skip_qdrant == 1 ]]; then
    qdrant_json='{"skipped":true}'
    log "Qdrant is configured but skipped (--skip-qdrant): its collections are NOT in this backup"
  else
    mkdir -p "$root/qdrant"
    prefix=${T4DM_QDRANT_COLLECTION_PREFIX:-t4dm}
    qdrant_json=$("$NODE" "$HERE/backup-remote.mjs" qdrant-snapshot "$T4DM_QDRANT_URL" "$prefix" "$root/qdrant") || die "Qdrant snapshots failed"
    log "Qdrant snapshots: $qdrant_json"
  fi
fi

neo4j_json=null
if [[ -n ${T4DM_NEO4J_URI:-} ]]; then
  graph=neo4j
  database=${T4DM_NEO4J_DATABASE:-neo4j}
  if [[ $skip_neo4j == 1 ]]; then
    neo4j_json='{"skipped":true}'
    log "Neo4j is configured but skipped (--skip-neo4j): the graph is NOT in this backup"
  else
    mkdir -p "$root/neo4j"
    if [[ -n $neo4j_dump ]]; then
      cp -p "$neo4j_dump" "$root/neo4j/$database.dump"
    elif command -v "${NEO4J_ADMIN:-neo4j-admin}" >/dev/null; then
      # Community edition dumps only a stopped database; Enterprise users can pass an online backup with --neo4j-dump.
      "${NEO4J_ADMIN:-neo4j-admin}" database dump "$database" --to-path="$root/neo4j" >&2 ||
        die "neo4j-admin database dump failed (Community edition needs the database stopped; or pass --neo4j-dump FILE)"
    else
      die "T4DM_NEO4J_URI is set but neo4j-admin is not on PATH: run it on the Neo4j host and pass --neo4j-dump FILE, or --skip-neo4j"
    fi
    neo4j_json="{\"database\":\"$database\"}"
  fi
fi

# 4. The manifest, then one archive.
T4DM_HOME=$T4DM_HOME checkpoint_json=$checkpoint_json skipped_json=$skipped_json qdrant_json=$qdrant_json neo4j_json=$neo4j_json wal_state=$wal_state \
  wal_summary=$wal_summary data_dir=$data_dir episodic=$episodic graph=$graph \
  "$NODE" -e '
    const e = process.env;
    const version = (() => { try { return require(e.T4DM_HOME + "/services/memory/package.json").version; } catch { return "unknown"; } })();
    process.stdout.write(JSON.stringify({
      createdAt: new Date().toISOString(),
      host: require("node:os").hostname(),
      t4dmVersion: version,
      source: { dataDir: e.data_dir },
      checkpoint: JSON.parse(e.checkpoint_json),
      skippedCheckpoints: JSON.parse(e.skipped_json),
      wal: { verify: e.wal_state, summary: e.wal_summary },
      stores: { episodic: e.episodic, graph: e.graph },
      qdrant: JSON.parse(e.qdrant_json),
      neo4j: JSON.parse(e.neo4j_json),
    }));' >"$work/meta.json"
"$NODE" "$HERE/backup-manifest.mjs" write "$root" "$work/meta.json" >"$work/manifest.out"
log "manifest: $(cat "$work/manifest.out")"

tar_args=(-C "$work" --sort=name --owner=0 --group=0 --numeric-owner -czf)
if [[ $output == - ]]; then
  tar "${tar_args[@]}" - t4dm-backup
  log "archive written to stdout"
else
  output_dir=$(cd "$(dirname "$output")" && pwd)
  output=$output_dir/$(basename "$output")
  tar "${tar_args[@]}" "$output.partial" t4dm-backup
  sync "$output.partial" 2>/dev/null || sync
  mv "$output.partial" "$output"
  if command -v sha256sum >/dev/null; then
    (cd "$output_dir" && sha256sum "$(basename "$output")" >"$(basename "$output").sha256")
  else
    (cd "$output_dir" && shasum -a 256 "$(basename "$output")" >"$(basename "$output").sha256")
  fi
  log "archive: $output ($(wc -c <"$output") bytes), checksum in $output.sha256"
  printf '%s\n' "$output"
fi
