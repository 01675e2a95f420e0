#!/usr/bin/env python3
"""Structured pruning outputs load and run in llama.cpp (through llama-cpp-python 0.3.36).

For each structured method (FFN channels, query heads, layers) this prunes SmolLM2-135M with
`kestrel prune`, loads the result in llama.cpp, checks that llama.cpp reads the new shape from the
metadata, and that llama.cpp's greedy continuation of a prompt starts like Kestrel's own
(`kestrel run --temp 0`) on the same file.

  python3 tests/prune/llama_cpp_check.py BUILD/apps/kestrel/kestrel
"""
import os
import subprocess
import sys
import tempfile

try:
    import llama_cpp
except ImportError:  # ctest reports exit code 77 as skipped (SKIP_RETURN_CODE)
    print("SKIP: llama-cpp-python is not installed (pip install llama-cpp-python==0.3.36)")
    sys.exit(77)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.environ.get("KESTREL_MODELS", os.path.join(ROOT, "models"))
MODEL = os.path.join(MODELS, "SmolLM2-135M-Instruct.Q4_1.gguf")
CALIB = "/usr/share/common-licenses/Apache-2.0"  # Debian base-files
PROMPT = "The capital of France is"
N = 8

CASES = [
    ("ffn", ["--remove", "128"], "llama.feed_forward_length", "1408"),
    ("heads", ["--remove", "3"], "llama.attention.head_count", "6"),
    ("layers", ["--remove", "2"], "llama.block_count", "28"),
]


def main():
    kestrel = sys.argv[1]
    if not os.path.exists(MODEL):
        print("SKIP: model not fetched")
        return 77
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for method, args, key, want in CASES:
            out = os.path.join(tmp, method + ".gguf")
            subprocess.run([kestrel, "prune", MODEL, out, "--method", method, *args, "--calib", CALIB,
                            "--calib-tokens", "64", "-t", "2"], check=True, stderr=subprocess.DEVNULL)
            llm = llama_cpp.Llama(out, n_ctx=128, n_threads=2, verbose=False)
            got = llm.metadata.get(key)
            ref = llm(PROMPT, max_tokens=N, temperature=0.0)["choices"][0]["text"]
            ours = subprocess.run([kestrel, "run", "-m", out, "-p", PROMPT, "-n", str(N), "--temp", "0",
                                   "-t", "2"], check=True, capture_output=True, text=True).stdout
            ours = ours[:-1] if ours.endswith("\n") else ours
            common = os.path.commonprefix([ref, ours])
            ok = got == want and len(common) >= min(10, len(ref))
            print(f"{method}: {key}={got} (want {want}); llama.cpp {ref!r}; kestrel {ours!r}:",
                  "ok" if ok else "MISMATCH")
            failures += not ok
            del llm
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
