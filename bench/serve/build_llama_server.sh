#!/usr/bin/env bash
# Builds llama.cpp's llama-server from the sources vendored in llama-cpp-python 0.3.36 (the
# reference the rest of the project uses) into .cache/llama (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=.cache/llama
mkdir -p "$dir"
cd "$dir"
[ -f llama_cpp_python-0.3.36.tar.gz ] ||
  python3 -m pip download --no-binary :all: --no-deps llama-cpp-python==0.3.36 -d .
[ -d llama_cpp_python-0.3.36 ] || tar xzf llama_cpp_python-0.3.36.tar.gz
cmake -S llama_cpp_python-0.3.36/vendor/llama.cpp -B build -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_CURL=OFF -DGGML_NATIVE=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
cmake --build build -j "${JOBS:-2}" --target llama-server
