#!/usr/bin/env bash
# Fuzzes the GGUF reader for a bounded time.
#   usage: scripts/run_fuzz.sh BUILD_DIR SECONDS
# BUILD_DIR is a clang build configured with -DKESTREL_FUZZ=ON in which fuzz_gguf is built. Seeds:
# small valid files from gguf_seed_gen (synthetic, plus miniatures of the models in models/ or
# $KESTREL_MODELS) and the first KiB of each model. Prints one summary line; exits non-zero when the
# fuzzer finds a crash, a leak, a timeout or an out-of-memory input (kept under BUILD_DIR).
set -uo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build=$1
seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
fuzzer="$build/tests/fuzz/fuzz_gguf"
seedgen="$build/tests/fuzz/gguf_seed_gen"
for exe in "$fuzzer" "$seedgen"; do
  if [ ! -x "$exe" ]; then
    echo "run_fuzz: $exe is not built (cmake --build $build --target fuzz_gguf)" >&2
    exit 2
  fi
done

work="$build/fuzz_gguf"
corpus="$work/corpus"
artifacts="$work/artifacts"
log="$work/fuzz.log"
mkdir -p "$corpus" "$artifacts"

models=()
for m in "${KESTREL_MODELS:-$root/models}"/*.gguf; do
  [ -f "$m" ] && models+=("$m")
done
if ! "$seedgen" "$corpus" "${models[@]}"; then
  echo "run_fuzz: seed generation failed" >&2
  exit 2
fi
for m in "${models[@]}"; do
  head -c 1024 "$m" >"$corpus/head_$(basename "$m")"
done

"$fuzzer" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 \
  -max_len=16384 -timeout=10 -dict="$root/tests/fuzz/gguf.dict" -print_final_stats=1 \
  -artifact_prefix="$artifacts/" >"$log" 2>&1
rc=$?

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
files=$(find "$corpus" -type f | wc -l)
if [ $rc -ne 0 ]; then
  found=$(ls -t "$artifacts" 2>/dev/null | head -1)
  echo "fuzz_gguf: FAILED (exit $rc) after ${runs:-?} runs; input: $artifacts/${found:-?}; log: $log"
  grep -m1 -E 'ERROR: |runtime error|==ERROR' "$log" >&2
  exit 1
fi
echo "fuzz_gguf: ok: ${runs:-0} runs in ${seconds}s, coverage ${cov:-?} edges, corpus $files files, no crash"
