#!/usr/bin/env python3
"""Regenerates golden_full.json: the perplexity that llama.cpp's own `llama-perplexity` tool prints
for the test models over the whole of gpl3.txt at -c 512 (every chunk; the figure users quote).

llama-perplexity is built from the llama.cpp sources vendored in llama-cpp-python 0.3.36, in the
tree bench/side_by_side.py builds (python3 bench/side_by_side.py --build-llama-only, then
cmake --build .cache/llama-build --target llama-perplexity), or given with --tool.

  python3 tests/golden/perplexity/generate_full.py [--tool PATH] [--threads 2]
"""
import argparse
import json
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MODELS = os.environ.get("KESTREL_MODELS", os.path.join(ROOT, "models"))
TEXT = os.path.join(HERE, "gpl3.txt")
N_CTX = 512
FILES = ["SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", default=os.path.join(ROOT, ".cache", "llama-build", "bin",
                                                   "llama-perplexity"))
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    out = {}
    for name in FILES:
        log = subprocess.run([a.tool, "-m", os.path.join(MODELS, name), "-f", TEXT, "-c",
                              str(N_CTX), "-t", str(a.threads)], check=True, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout
        chunks = re.search(r"calculating perplexity over (\d+) chunks", log)
        ppl = re.search(r"Final estimate: PPL = ([0-9.]+)", log)
        if not chunks or not ppl:
            raise SystemExit(f"no perplexity in llama-perplexity's output for {name}:\n{log}")
        out[name] = {"n_ctx": N_CTX, "chunks": int(chunks.group(1)), "ppl": float(ppl.group(1))}
        print(name, out[name])
    with open(os.path.join(HERE, "golden_full.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
