#!/usr/bin/env python3
"""Quantizes a GGUF file with llama.cpp's quantizer (llama_model_quantize, through the installed
llama-cpp-python package): the same code path as llama.cpp's llama-quantize tool, so the files are
what llama.cpp users run.

    quantize_gguf.py IN.gguf OUT.gguf TYPE      TYPE: Q4_0, Q4_1, Q5_0, Q8_0, Q4_K_M, Q5_K_M, Q6_K

Already-quantized inputs are re-quantized (allow_requantize): fine for speed benchmarks, not for
quality comparisons.
"""
import ctypes
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FTYPES = {"Q4_0": "LLAMA_FTYPE_MOSTLY_Q4_0", "Q4_1": "LLAMA_FTYPE_MOSTLY_Q4_1",
          "Q5_0": "LLAMA_FTYPE_MOSTLY_Q5_0", "Q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0",
          "Q4_K_M": "LLAMA_FTYPE_MOSTLY_Q4_K_M", "Q5_K_M": "LLAMA_FTYPE_MOSTLY_Q5_K_M",
          "Q6_K": "LLAMA_FTYPE_MOSTLY_Q6_K"}


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in FTYPES:
        sys.exit(f"usage: quantize_gguf.py IN.gguf OUT.gguf {{{','.join(FTYPES)}}}")
    src, dst, name = sys.argv[1:]
    try:
        import llama_cpp
    except ImportError:
        # The same quantizer as a program: llama-quantize from the llama.cpp build of
        # bench/side_by_side.py (cmake --build .cache/llama-build --target llama-quantize).
        tool = Path(os.environ.get("LLAMA_QUANTIZE", ROOT / ".cache/llama-build/bin/llama-quantize"))
        if not tool.exists():
            sys.exit("quantize_gguf.py: needs the llama-cpp-python package "
                     "(pip install llama-cpp-python==0.3.36) or llama-quantize (LLAMA_QUANTIZE)")
        rc = subprocess.run([str(tool), "--allow-requantize", src, dst, name],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if rc.returncode != 0:
            sys.exit(f"quantize_gguf.py: llama-quantize failed for {src} -> {dst}:\n{rc.stderr}")
        print(f"wrote {dst} ({name}, llama-quantize)")
        return
    # llama.cpp logs every tensor; keep its errors only.
    @llama_cpp.llama_log_callback
    def quiet(level, text, user_data):
        if level == 4:  # GGML_LOG_LEVEL_ERROR
            sys.stderr.write(text.decode(errors="replace"))

    llama_cpp.llama_log_set(quiet, ctypes.c_void_p())
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, FTYPES[name])
    params.allow_requantize = True
    params.nthread = 0  # all cores
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), params)
    if rc != 0:
        sys.exit(f"quantize_gguf.py: llama_model_quantize failed ({rc}) for {src} -> {dst}")
    print(f"wrote {dst} ({name})")


if __name__ == "__main__":
    main()
