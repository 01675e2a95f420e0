#!/usr/bin/env python3
"""Regenerates the quant golden files from gguf-py (GGUF's Python package), the outside reference.

    pip install gguf numpy
    python3 tests/golden/quant/generate.py            # from the repository root

Writes into this folder:
  input.f32                    fixed pseudo-random and edge-case float32 rows (2048 values)
  <type>.quant.bin             gguf-py's quantization of input.f32 (types gguf-py can quantize)
  <type>.dequant.f32           gguf-py's dequantization of those bytes
  q8_1.quant.bin, q8_k.quant.bin   activation formats gguf-py lacks, from the numpy versions of
                               GGUF's reference formulas below (an independent implementation)
  random_<type>.bin/.dequant.f32   random bytes (sane f16/f32 scale fields) dequantized by gguf-py:
                               every bit of every layout, including types no model here uses
  model_<type>.bin/.dequant.f32    the first blocks of a real tensor of that type from the test
                               models (models/), dequantized by gguf-py (skipped if absent)
  manifest.txt                 one line per case: kind type n_elements bytes_file floats_file
"""
import os
import sys

import numpy as np
from gguf import GGUFReader, GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
QK_K = 256


def make_input() -> np.ndarray:
    """2048 float32 values: Gaussian blocks at several scales plus edge-case blocks of 32."""
    rng = np.random.default_rng(20240611)
    x = rng.standard_normal(2048).astype(np.float32)
    x[256:512] *= np.float32(1e-3)
    x[512:768] *= np.float32(300.0)
    x[768:800] = 0.0                                   # all-zero block
    x[800:832] = np.float32(0.75)                      # constant block
    x[832:864] = np.float32(-2.5)                      # negative constant block
    x[864:896] = 0.0
    x[870] = np.float32(-7.0)                          # single outlier
    x[896:928] = np.linspace(-1, 1, 32, dtype=np.float32)  # exact ties for some scales
    x[928:960] = np.abs(x[928:960])                    # all positive (min > 0)
    x[960:992] = -np.abs(x[960:992])                   # all negative
    x[1024:1280] = 0.0                                 # an all-zero K super-block
    x[1280:1536] = np.abs(x[1280:1536]) + np.float32(1.0)  # K super-block with positive min
    return x


def f16(v):
    return np.asarray(v, dtype=np.float32).astype(np.float16)


def q8_1_quantize(x: np.ndarray) -> np.ndarray:
    """GGUF's reference Q8_1: d = amax/127, q = roundf(x/d) (ties away), s = f16(d * sum(q))."""
    out = bytearray()
    for b in x.reshape(-1, 32):
        amax = np.float32(np.max(np.abs(b)))
        d = np.float32(amax / np.float32(127))
        idv = np.float32(1) / d if d != 0 else np.float32(0)
        v = (b * idv).astype(np.float32)
        q = (np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))).astype(np.int8)
        s = np.float32(np.float32(int(q.astype(np.int32).sum())) * d)
        out += f16(d).tobytes() + f16(s).tobytes() + q.tobytes()
    return np.frombuffer(bytes(out), dtype=np.uint8)


def q8_k_quantize(x: np.ndarray) -> np.ndarray:
    """GGUF's reference Q8_K: max = element of largest magnitude, iscale = -127/max,
    q = min(127, round-half-even(iscale * x)), d = 1/iscale (f32), bsums of 16."""
    out = bytearray()
    for b in x.reshape(-1, QK_K):
        i = int(np.argmax(np.abs(b)))
        mx = b[i]
        if mx == 0:
            out += np.float32(0).tobytes() + bytes(QK_K) + bytes(32)
            continue
        iscale = np.float32(np.float32(-127) / mx)
        q = np.minimum(127, np.rint((iscale * b).astype(np.float32))).astype(np.int8)
        bsums = q.astype(np.int32).reshape(16, 16).sum(axis=1).astype(np.int16)
        d = np.float32(np.float32(1) / iscale)
        out += d.tobytes() + q.tobytes() + bsums.tobytes()
    return np.frombuffer(bytes(out), dtype=np.uint8)


def dequant_q8_x(q: np.ndarray, qtype: str) -> np.ndarray:
    if qtype == "q8_1":
        blk = q.reshape(-1, 36)
        d = blk[:, 0:2].copy().view(np.float16).astype(np.float32)
        return (blk[:, 4:].copy().view(np.int8).astype(np.float32) * d).reshape(-1)
    blk = q.reshape(-1, 292)
    d = blk[:, 0:4].copy().view(np.float32)
    return (blk[:, 4:260].copy().view(np.int8).astype(np.float32) * d).reshape(-1)


# (type, block elements, block bytes, [(offset, kind)] of scale fields to make sane)
RANDOM_LAYOUTS = [
    (T.Q4_0, 32, 18, [(0, "f16")]),
    (T.Q4_1, 32, 20, [(0, "f16"), (2, "f16")]),
    (T.Q5_0, 32, 22, [(0, "f16")]),
    (T.Q5_1, 32, 24, [(0, "f16"), (2, "f16")]),
    (T.Q8_0, 32, 34, [(0, "f16")]),
    (T.Q4_K, 256, 144, [(0, "f16"), (2, "f16")]),
    (T.Q5_K, 256, 176, [(0, "f16"), (2, "f16")]),
    (T.Q6_K, 256, 210, [(208, "f16")]),
]


def random_blocks(qtype, block, size, fields, n_blocks, rng) -> np.ndarray:
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    for off, _ in fields:
        vals = f16(rng.uniform(-0.05, 0.05, n_blocks)).view(np.uint8).reshape(n_blocks, 2)
        raw[:, off:off + 2] = vals
    return raw.reshape(-1)


MODEL_TENSORS = {  # type -> (model file, tensor name)
    T.Q4_1: ("SmolLM2-135M-Instruct.Q4_1.gguf", "blk.0.ffn_down.weight"),
    T.Q8_0: ("gemma-3-270m-q4_k_m.gguf", None),
    T.Q5_0: ("gemma-3-270m-q4_k_m.gguf", None),
    T.Q4_K: ("gemma-3-270m-q4_k_m.gguf", None),
    T.Q6_K: ("gemma-3-270m-q4_k_m.gguf", None),
}


def main() -> int:
    manifest = []

    def write(name: str, arr: np.ndarray) -> str:
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(np.ascontiguousarray(arr).tobytes())
        return name

    x = make_input()
    write("input.f32", x)
    n = x.size
    for qtype, name in [(T.F16, "f16"), (T.BF16, "bf16"), (T.Q4_0, "q4_0"), (T.Q4_1, "q4_1"),
                        (T.Q5_0, "q5_0"), (T.Q5_1, "q5_1"), (T.Q8_0, "q8_0")]:
        q = np.asarray(quantize(x.reshape(1, -1), qtype)).view(np.uint8).reshape(-1)
        deq = np.asarray(dequantize(q.reshape(1, -1), qtype), dtype=np.float32).reshape(-1)
        manifest.append(("quantize", name, n, write(f"{name}.quant.bin", q),
                         write(f"{name}.dequant.f32", deq)))
    for name, fn in [("q8_1", q8_1_quantize), ("q8_k", q8_k_quantize)]:
        q = fn(x)
        manifest.append(("quantize", name, n, write(f"{name}.quant.bin", q),
                         write(f"{name}.dequant.f32", dequant_q8_x(q, name))))

    rng = np.random.default_rng(7)
    for qtype, block, size, fields in RANDOM_LAYOUTS:
        n_blocks = 4 if block == QK_K else 16
        raw = random_blocks(qtype, block, size, fields, n_blocks, rng)
        deq = np.asarray(dequantize(raw.reshape(1, -1), qtype), dtype=np.float32).reshape(-1)
        name = qtype.name.lower()
        manifest.append(("dequantize", name, n_blocks * block, write(f"random_{name}.bin", raw),
                         write(f"random_{name}.dequant.f32", deq)))

    readers = {}
    for qtype, (model, tensor_name) in MODEL_TENSORS.items():
        path = os.path.join(os.environ.get("KESTREL_MODELS", os.path.join(ROOT, "models")), model)
        if not os.path.exists(path):
            print(f"skipping {qtype.name}: {path} not found", file=sys.stderr)
            continue
        reader = readers.setdefault(path, GGUFReader(path))
        tensor = next(t for t in reader.tensors if t.tensor_type == qtype and
                      (tensor_name is None or t.name == tensor_name))
        block, size = {T.Q4_1: (32, 20), T.Q8_0: (32, 34), T.Q5_0: (32, 22),
                       T.Q4_K: (256, 144), T.Q6_K: (256, 210)}[qtype]
        n_blocks = 8 if block == QK_K else 32
        raw = np.asarray(tensor.data).view(np.uint8).reshape(-1)[: n_blocks * size].copy()
        deq = np.asarray(dequantize(raw.reshape(1, -1), qtype), dtype=np.float32).reshape(-1)
        name = qtype.name.lower()
        manifest.append(("dequantize", name, n_blocks * block, write(f"model_{name}.bin", raw),
                         write(f"model_{name}.dequant.f32", deq)))
        print(f"{name}: {n_blocks} blocks of {tensor.name} from {model}")

    with open(os.path.join(HERE, "manifest.txt"), "w") as f:
        f.write("# kind type n_elements bytes_file floats_file (written by generate.py)\n")
        for row in manifest:
            f.write(" ".join(str(v) for v in row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
