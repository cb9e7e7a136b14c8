"""Reference vectors for the golden test of the TypeScript MiniLM embedder.

Runs the same model.onnx and tokenizer.json with the Python reference stack (onnxruntime +
tokenizers), pooling as sentence-transformers does for all-MiniLM-L6-v2: truncate at 256 word
pieces, mean over the attention mask, L2-normalise. Run once, by hand; the output is committed:

  .tools/model-venv/bin/python tools/model/reference.py .cache/models/all-MiniLM-L6-v2 \
      > services/memory/test/golden/minilm-reference.json

The venv: python3 -m venv .tools/model-venv && .tools/model-venv/bin/pip install \
  onnxruntime==1.23.2 tokenizers==0.22.1 numpy==2.3.4
"""

import hashlib
import json
import sys

import numpy as np
import onnxruntime
from tokenizers import Tokenizer

MAX_SEQ_LENGTH = 256  # sentence_bert_config.json of all-MiniLM-L6-v2

SENTENCES = [
    "Alice adopted a cat.",
    "Alice is vegetarian.",
    "The deploy script is tools/deploy.sh",
    "Ünïcödé, emoji 🐈 and 中文 characters mixed with punctuation!?",
    # Longer than the model window: the reference truncates it, as sentence-transformers does.
    " ".join(["The quick brown fox jumps over the lazy dog near the riverbank."] * 30),
]


def main(model_dir: str) -> None:
    tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
    session = onnxruntime.InferenceSession(f"{model_dir}/model.onnx", providers=["CPUExecutionProvider"])
    out = []
    for sentence in SENTENCES:
        full = len(tokenizer.encode(sentence).overflowing) > 0
        encoding = tokenizer.encode(sentence)
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.array([encoding.attention_mask], dtype=np.int64)
        (hidden,) = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        vector = pooled[0] / max(np.linalg.norm(pooled[0]), 1e-12)
        out.append({"text": sentence, "tokens": len(encoding.ids), "truncated": full, "vector": [round(float(x), 7) for x in vector]})
    with open(f"{model_dir}/model.onnx", "rb") as f:
        model_sha256 = hashlib.sha256(f.read()).hexdigest()
    json.dump(
        {
            "model": "all-MiniLM-L6-v2",
            "modelSha256": model_sha256,
            "maxSeqLength": MAX_SEQ_LENGTH,
            "generator": f"tools/model/reference.py (onnxruntime {onnxruntime.__version__})",
            "sentences": out,
        },
        sys.stdout,
        indent=1,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
