#!/usr/bin/env bash
# Produces the benchmark models of bench/side_by_side.py in models/bench/ (git-ignored; set
# KESTREL_MODELS to use another models folder). Skips files that exist. Quantization is llama.cpp's
# (scripts/quantize_gguf.py through llama-cpp-python), so both engines read the same bytes.
#   SmolLM2-135M-Instruct re-quantized from the Q4_1 test model to Q8_0 and Q4_0;
#   random-llama-1b: Llama-3.2-1B-shaped random F16 weights (scripts/make_random_model.py),
#     quantized to Q4_0, Q8_0 and Q4_K_M; the ~2.5 GB F16 file is deleted afterwards unless
#     KEEP_F16=1.
set -euo pipefail
cd "$(dirname "$0")/.."
models="${KESTREL_MODELS:-models}"
out="$models/bench"
mkdir -p "$out"

# The random model's writer needs numpy and the gguf package.
python3 -c "import numpy, gguf" 2>/dev/null || python3 -m pip install --quiet numpy gguf

smollm="$models/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ ! -f "$smollm" ]; then
  echo "make_bench_models: $smollm missing (run scripts/fetch_models.sh first)" >&2
  exit 2
fi
for t in Q8_0 Q4_0; do
  f="$out/SmolLM2-135M-Instruct.$t.gguf"
  [ -f "$f" ] || python3 scripts/quantize_gguf.py "$smollm" "$f" "$t"
done

f16="$out/random-llama-1b.F16.gguf"
need_f16=0
for t in Q4_0 Q8_0 Q4_K_M; do
  [ -f "$out/random-llama-1b.$t.gguf" ] || need_f16=1
done
if [ "$need_f16" = 1 ]; then
  if [ ! -f "$f16" ]; then
    python3 scripts/make_random_model.py "$f16.tmp"
    mv -f "$f16.tmp" "$f16"
  fi
  for t in Q4_0 Q8_0 Q4_K_M; do
    f="$out/random-llama-1b.$t.gguf"
    [ -f "$f" ] || python3 scripts/quantize_gguf.py "$f16" "$f" "$t"
  done
fi
if [ "${KEEP_F16:-0}" != 1 ]; then rm -f "$f16"; fi
ls -l "$out"
