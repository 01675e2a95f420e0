#!/usr/bin/env bash
# Runs bench/serve/load.py against kestrel serve and llama.cpp's llama-server at equal settings
# (same model, 2 threads, same prompts and output lengths), then the shared-prefix workload
# against kestrel with and without prefix caching. Results: $OUT/*.json and the printed table.
#
# llama-server is built from llama-cpp-python 0.3.36's vendored llama.cpp sources into .cache/:
#   bash bench/serve/build_llama_server.sh
#
# Usage: bench/serve/run_compare.sh [BUILD_DIR] [MODEL]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
MODEL=${2:-models/SmolLM2-135M-Instruct.Q4_1.gguf}
LLAMA_SERVER=${LLAMA_SERVER:-.cache/llama/build/bin/llama-server}
OUT=${OUT:-.cache/serve-bench}
CONC=${CONC:-1,4,16,32}
THREADS=${THREADS:-2}
LOAD_ARGS=${LOAD_ARGS:-}  # e.g. "--output-tokens 32"
mkdir -p "$OUT"

wait_up() {
  for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "server on port $1 did not come up" >&2
  return 1
}

run_kestrel() {  # label port extra-args...
  local label=$1 port=$2
  shift 2
  "$BUILD/apps/kestrel/kestrel" serve -m "$MODEL" -t "$THREADS" --port "$port" -c 2048 \
    --kv-tokens 65536 "$@" >/dev/null 2>"$OUT/$label.log" &
  local pid=$!
  wait_up "$port"
  echo "$pid"
}

# 1. Fixed lengths, kestrel.
pid=$(run_kestrel kestrel 18181)
python3 bench/serve/load.py http://127.0.0.1:18181 kestrel --concurrency "$CONC" $LOAD_ARGS \
  --out "$OUT/kestrel.json"
# 2. Shared prefix with prefix caching (same server, cache warm from the warm-up request).
python3 bench/serve/load.py http://127.0.0.1:18181 kestrel-prefix-cache --concurrency 16 \
  --shared-prefix --output-tokens 16 --out "$OUT/kestrel-prefix.json"
kill "$pid"; wait "$pid" 2>/dev/null || true

# 3. Shared prefix without prefix caching.
pid=$(run_kestrel kestrel-nocache 18182 --no-prefix-cache)
python3 bench/serve/load.py http://127.0.0.1:18182 kestrel-no-prefix-cache --concurrency 16 \
  --shared-prefix --output-tokens 16 --out "$OUT/kestrel-noprefix.json"
kill "$pid"; wait "$pid" 2>/dev/null || true

# 4. llama-server: 4 slots (its usual configuration), same threads, 2048 context per slot.
if [ -x "$LLAMA_SERVER" ]; then
  "$LLAMA_SERVER" -m "$MODEL" -t "$THREADS" -np 4 -c 8192 --port 18183 >/dev/null 2>"$OUT/llama.log" &
  pid=$!
  wait_up 18183
  python3 bench/serve/load.py http://127.0.0.1:18183 llama-server-np4 --concurrency "$CONC" $LOAD_ARGS \
    --out "$OUT/llama.json"
  python3 bench/serve/load.py http://127.0.0.1:18183 llama-server-np4 --concurrency 16 \
    --shared-prefix --output-tokens 16 --out "$OUT/llama-prefix.json"
  kill "$pid"; wait "$pid" 2>/dev/null || true
else
  echo "no llama-server at $LLAMA_SERVER: run bench/serve/build_llama_server.sh" >&2
fi
