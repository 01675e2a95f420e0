#!/usr/bin/env python3
"""Regenerates smollm2.json: llama.cpp's own quantization of the SmolLM2 F16 base, as the type and
a 64-bit hash (tensor_hash) of the bytes of every tensor, for tests/compress/llama_cpp_quantize_test.cc.

The F16 base is the shipped Q4_1 file dequantized by `kestrel quantize --allow-requantize IN OUT
f16` (F16 holds every Q4_1 value exactly, so the base is the same whichever tool writes it).
llama.cpp (llama-cpp-python 0.3.36, llama_model_quantize) then quantizes it: q8_0, q4_0 and q5_1
with `pure` (every matrix that type, like kestrel's plain types), q4_k_m and q5_k_s as its recipes.

  python3 tests/golden/quantize/generate.py build/apps/kestrel/kestrel
"""
import ctypes
import json
import os
import subprocess
import sys
import tempfile

import gguf
import numpy as np
import llama_cpp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MODELS = os.environ.get("KESTREL_MODELS", os.path.join(ROOT, "models"))
SMOL = os.path.join(MODELS, "SmolLM2-135M-Instruct.Q4_1.gguf")

# name -> (llama.cpp LLAMA_FTYPE, pure)
CASES = {"q8_0": (7, True), "q4_0": (2, True), "q5_1": (9, True), "q4_k_m": (15, False),
         "q5_k_s": (16, False)}


def tensor_hash(buf):
    """sum_i w_i * (2 i + 1) mod 2^64 over the bytes read as little-endian u64 words (zero-padded),
    xor the byte count: any change of one word changes it (odd multipliers are invertible)."""
    b = bytes(buf)
    pad = (-len(b)) % 8
    w = np.frombuffer(b + bytes(pad), dtype="<u8")
    mult = np.arange(len(w), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    with np.errstate(over="ignore"):
        h = int(np.sum(w * mult, dtype=np.uint64))
    return "%016x" % (h ^ len(b))


def main():
    kestrel = sys.argv[1]
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base.f16.gguf")
        subprocess.run([kestrel, "quantize", "-q", "--allow-requantize", SMOL, base, "f16"], check=True)
        for name, (ftype, pure) in CASES.items():
            dst = os.path.join(tmp, name + ".gguf")
            p = llama_cpp.llama_model_quantize_default_params()
            p.ftype = ftype
            p.pure = pure
            p.nthread = 2
            rc = llama_cpp.llama_model_quantize(base.encode(), dst.encode(), ctypes.byref(p))
            assert rc == 0, (name, rc)
            r = gguf.GGUFReader(dst)
            out[name] = {t.name: [t.tensor_type.name.lower(), tensor_hash(t.data.tobytes())]
                         for t in r.tensors}
            print(name, len(out[name]), "tensors", file=sys.stderr)
    with open(os.path.join(HERE, "smollm2.json"), "w") as f:
        json.dump(out, f, indent=0, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
