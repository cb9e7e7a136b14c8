#!/usr/bin/env bash
# Restores a backup made by scripts/backup.sh into a data directory. Run it
# with both services stopped; then start the sidecar and the memory service as
# usual: recovery loads the newest committed checkpoint that verifies and
# replays the WAL after it (a warm start), exactly as after a crash.
#
# usage: scripts/restore.sh [options] ARCHIVE     (ARCHIVE "-" reads stdin)
#   -d, --data-dir DIR    where to restore (default $T4DM_DATA_DIR, else ./data)
#       --force           the data directory may be non-empty: its contents are deleted first
#                         (only once the archive has verified; lost+found is kept)
#       --owner UID:GID   chown the restored files (e.g. 1000:1000 for the container image's user)
#       --verify-only     check the archive (checksums, WAL and checkpoints) and stop
#       --skip-qdrant, --skip-neo4j   do not load those backends even if the archive has them
#   -h, --help
# Environment: T4DM_QDRANT_URL, T4DM_QDRANT_API_KEY (to load Qdrant snapshots);
# NEO4J_ADMIN (default neo4j-admin, to load a Neo4j dump: the database must be stopped);
# T4DM_SIDECAR_ADDR (a unix socket that must not be live); T4DM_HOME; NODE.
#
# Checks, in order, before anything in the data directory is touched:
#   the archive's .sha256 file when it sits beside the archive; only regular files and
#   directories under t4dm-backup/; manifest format and version; the size and SHA-256 of every
#   file, and no file the manifest does not list; `t4dm-wal verify` on the WAL and checkpoints
#   (clean, or a torn tail that recovery cuts); no sidecar listening on the data directory.
# Exit status: 0 restored (or verified), 1 refused or failed, 64 usage.
set -euo pipefail
umask 077

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T4DM_HOME=${T4DM_HOME:-$(dirname "$HERE")}
NODE=${NODE:-node}
WAL_TOOL="$T4DM_HOME/services/persistence/dist/cli.js"

log() { printf 'restore: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage() { sed -n '2,/^# Exit status/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit "${1:-64}"; }

data_dir=${T4DM_DATA_DIR:-./data}
force=0
owner=
verify_only=0
skip_qdrant=0
skip_neo4j=0
archive=
while [[ $# -gt 0 ]]; do
  case $1 in
    -d | --data-dir) data_dir=${2:?}; shift 2 ;;
    --force) force=1; shift ;;
    --owner) owner=${2:?}; shift 2 ;;
    --verify-only) verify_only=1; shift ;;
    --skip-qdrant) skip_qdrant=1; shift ;;
    --skip-neo4j) skip_neo4j=1; shift ;;
    -h | --help) usage 0 ;;
    -) archive=-; shift ;;
    -*) log "unknown option: $1"; usage ;;
    *) [[ -z $archive ]] || { log "one archive only"; usage; }; archive=$1; shift ;;
  esac
done
[[ -n $archive ]] || { log "no archive given"; usage; }
[[ -f $WAL_TOOL ]] || die "$WAL_TOOL is missing: build first (npx tsc -b), or set T4DM_HOME to the install"

work=$(mktemp -d "${TMPDIR:-/tmp}/t4dm-restore.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [[ $archive == - ]]; then
  cat >"$work/archive.tar.gz"
  archive=$work/archive.tar.gz
else
  [[ -f $archive ]] || die "$archive: no such file"
  if [[ -f $archive.sha256 ]]; then
    expected=$(cut -d' ' -f1 <"$archive.sha256")
    actual=$("$NODE" -e 'const h=require("node:crypto").createHash("sha256");require("node:fs").createReadStream(process.argv[1]).on("data",(c)=>h.update(c)).on("end",()=>process.stdout.write(h.digest("hex")))' "$archive")
    [[ $expected == "$actual" ]] || die "$archive: sha256 $actual does not match $archive.sha256 ($expected)"
    log "archive checksum matches $archive.sha256"
  fi
fi

# Only regular files and directories, all under t4dm-backup/: no links, devices, or paths out of it.
tar -tvzf "$archive" >"$work/listing" 2>"$work/tar.err" || die "$archive is not a readable .tar.gz: $(head -c 300 "$work/tar.err")"
if grep -qv '^[-d]' "$work/listing"; then die "$archive holds entries other than files and directories"; fi
tar -tzf "$archive" >"$work/names"
if grep -qvE '^t4dm-backup(/|$)' "$work/names" || grep -qE '(^|/)\.\.(/|$)' "$work/names"; then
  die "$archive holds paths outside t4dm-backup/"
fi
mkdir "$work/x"
tar -xzf "$archive" -C "$work/x" --no-same-owner
root=$work/x/t4dm-backup

"$NODE" "$HERE/backup-manifest.mjs" verify "$root" >"$work/manifest.out" || die "the archive does not match its manifest; refusing to restore it"
log "manifest verified: $(cat "$work/manifest.out")"

set +e
"$NODE" "$WAL_TOOL" verify "$root/data" >"$work/verify.out" 2>&1
code=$?
set -e
case $code in
  0) log "WAL and checkpoints verify: $(grep -E '^wal:' "$work/verify.out" | head -1)" ;;
  1) log "WAL verifies up to a torn tail (a record that was being written during the backup); recovery will cut it" ;;
  *) die "the WAL or checkpoints in the archive do not verify (t4dm-wal verify exit $code):
$(cat "$work/verify.out")" ;;
esac

if [[ $verify_only == 1 ]]; then
  log "archive OK (--verify-only: nothing restored)"
  exit 0
fi

# The external stores' tools, checked before the data directory is touched.
if [[ -d $root/qdrant && $skip_qdrant == 0 && -z ${T4DM_QDRANT_URL:-} ]]; then
  die "the archive has Qdrant snapshots but T4DM_QDRANT_URL is not set (or pass --skip-qdrant); nothing was restored"
fi
if [[ -d $root/neo4j && $skip_neo4j == 0 ]] && ! command -v "${NEO4J_ADMIN:-neo4j-admin}" >/dev/null; then
  die "the archive has a Neo4j dump but neo4j-admin is not on PATH: run the restore where it is, or pass --skip-neo4j and load t4dm-backup/neo4j/ on the Neo4j host; nothing was restored"
fi
for store in qdrant neo4j; do
  if [[ $("$NODE" "$HERE/backup-manifest.mjs" get "$root" "$store.skipped") == true ]]; then
    log "warning: $store was configured but left out of this backup (--skip-$store): it must be restored separately"
  fi
done

# Never under a running sidecar.
sockets=("$data_dir/sidecar.sock")
[[ ${T4DM_SIDECAR_ADDR:-} == unix:* ]] && sockets+=("${T4DM_SIDECAR_ADDR#unix:}")
for socket in "${sockets[@]}"; do
  if [[ -S $socket ]] && "$NODE" "$HERE/backup-remote.mjs" socket-alive "$socket"; then
    die "a sidecar is listening on $socket: stop both services before restoring"
  fi
done

# Empties a directory but keeps it (and lost+found): it may be a mount point, and so may
# a directory inside it (docker compose mounts the store as its own volume).
clear_dir() {
  local dir=$1 entry
  while IFS= read -r -d '' entry; do
    if [[ -d $entry && ! -L $entry && $(stat -c %d "$entry") != $(stat -c %d "$dir") ]]; then
      clear_dir "$entry"
    else
      rm -rf "$entry"
    fi
  done < <(find "$dir" -mindepth 1 -maxdepth 1 ! -name lost+found -print0)
}

mkdir -p "$data_dir"
data_dir=$(cd "$data_dir" && pwd)
# Empty means no files at all: empty directories (such as mount points) do not count.
mapfile -t existing < <(find "$data_dir" -mindepth 1 ! -type d ! -path "$data_dir/lost+found/*" -printf '%P\n' | sort | head -5)
if [[ ${#existing[@]} -gt 0 ]]; then
  [[ $force == 1 ]] || die "$data_dir is not empty (${existing[*]} ...); restore into an empty directory, or pass --force to replace its contents"
  log "--force: deleting the contents of $data_dir"
  clear_dir "$data_dir"
fi

cp -R "$root/data/." "$data_dir/"
[[ -z $owner ]] || chown -R "$owner" "$data_dir"
# Make the restored files durable before anyone starts on them.
sync -f "$data_dir" 2>/dev/null || sync
log "restored $(find "$data_dir" -type f | wc -l) files into $data_dir"

if [[ -d $root/qdrant ]]; then
  if [[ $skip_qdrant == 1 ]]; then
    log "--skip-qdrant: the archive's Qdrant snapshots were not loaded"
  else
    "$NODE" "$HERE/backup-remote.mjs" qdrant-restore "$T4DM_QDRANT_URL" "$root/qdrant" >"$work/qdrant.out" || die "loading the Qdrant snapshots failed; the data directory IS restored"
    log "Qdrant collections recovered: $(cat "$work/qdrant.out")"
  fi
fi
if [[ -d $root/neo4j ]]; then
  database=$("$NODE" "$HERE/backup-manifest.mjs" get "$root" neo4j.database)
  if [[ $skip_neo4j == 1 ]]; then
    log "--skip-neo4j: the archive's Neo4j dump (t4dm-backup/neo4j/) was not loaded"
  else
    "${NEO4J_ADMIN:-neo4j-admin}" database load "$database" --from-path="$root/neo4j" --overwrite-destination=true >&2 ||
      die "neo4j-admin database load failed (the database must be stopped); the data directory IS restored"
    log "Neo4j database $database loaded"
  fi
fi

checkpoint=$("$NODE" "$HERE/backup-manifest.mjs" get "$root" checkpoint.lsn || true)
log "done: start the sidecar, then the memory service; recovery starts from the newest committed checkpoint${checkpoint:+ (the backup forced one at LSN $checkpoint)} and replays the WAL after it"
