#!/usr/bin/env bash
# Everything the CUDA backend needs a GPU for, in one go: build, the GPU tests, the ceilings and
# kernel probe, and the model benchmarks (SmolLM2-135M and the Llama-3-8B shape in Q4_0, Q8_0 and
# F16 with random weights). Results go to OUT_DIR (default bench-cuda-out/) as JSON lines.
#
# Usage: bash bench/cuda/run_all.sh [OUT_DIR]
# Env:   BUILD (default build-cuda), KESTREL_MODELS (default models/), RANDOM_MODELS (default
#        $OUT_DIR/models: where the 8B-shaped GGUFs are written, ~28 GB in all), SKIP_8B=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT_DIR=${1:-bench-cuda-out}
BUILD=${BUILD:-build-cuda}
MODELS=${KESTREL_MODELS:-models}
RANDOM_MODELS=${RANDOM_MODELS:-$OUT_DIR/models}
mkdir -p "$OUT_DIR" "$RANDOM_MODELS"
export PATH="$PATH:/usr/local/cuda/bin"

nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv \
  | tee "$OUT_DIR/gpu.txt" || true
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DKESTREL_CUDA=ON
cmake --build "$BUILD" -j "$(nproc)" --target cuda_tests cuda_host_tests cuda_probe cuda_model_bench

# A failing test is reported but does not stop the benchmarks.
KESTREL_MODELS="$MODELS" ctest --test-dir "$BUILD" --output-on-failure -R Cuda -V \
  2>&1 | tee "$OUT_DIR/tests.log" || echo "SOME GPU TESTS FAILED: see $OUT_DIR/tests.log"

"$BUILD/bench/cuda/cuda_probe" | tee "$OUT_DIR/probe.jsonl"

"$BUILD/bench/cuda/cuda_model_bench" -m "$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf" \
  --prompt 2048 --context 128 --steps 64 --batches 1,8,32,128 | tee "$OUT_DIR/smollm2.jsonl"

if [ "${SKIP_8B:-0}" != 1 ]; then
  for t in q4_0 q8_0 f16; do
    m="$RANDOM_MODELS/llama3-8b-random-$t.gguf"
    [ -f "$m" ] || python3 bench/cuda/make_random_llama8b.py "$m" --type "$t"
    "$BUILD/bench/cuda/cuda_model_bench" -m "$m" --prompt 2048 --context 128 --steps 32 \
      --batches 1,8,32,128 | tee "$OUT_DIR/llama3-8b-$t.jsonl"
    rm -f "$m"  # the next variant needs the disk
  done
fi
echo "results in $OUT_DIR"
