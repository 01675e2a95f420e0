#!/usr/bin/env bash
# Cross-builds the model-free test executables for 64-bit Arm Linux and runs them under
# qemu-user, twice for the CPU backend: as a CPU with the dot-product extension (SDOT kernels)
# and as a Cortex-A72 without it (baseline NEON kernels). Needs g++-aarch64-linux-gnu,
# qemu-user and googletest's sources (scripts/install_deps.sh installs them).
# Usage: scripts/test_neon.sh [BUILD_DIR]  (default build-aarch64; JOBS=N for parallel builds)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-aarch64}
jobs=${JOBS:-$(nproc)}
triple=aarch64-linux-gnu
toolchain=$PWD/cmake/toolchains/$triple.cmake
gtest_src=/usr/src/googletest

for tool in $triple-g++ qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "test_neon: $tool not found (run scripts/install_deps.sh)" >&2; exit 1; }
done
[ -f "$gtest_src/CMakeLists.txt" ] || { echo "test_neon: $gtest_src missing (package googletest)" >&2; exit 1; }

# googletest for the target, from Debian's source package, installed inside the build dir.
gtest_prefix=$PWD/$build/googletest-install
if [ ! -f "$gtest_prefix/lib/libgtest.a" ]; then
  cmake -S "$gtest_src" -B "$build/googletest" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_GMOCK=OFF -DCMAKE_INSTALL_PREFIX="$gtest_prefix"
  cmake --build "$build/googletest" -j "$jobs"
  cmake --install "$build/googletest"
fi

# Only the libraries without third-party run-time dependencies, and their tests: the tokenizer
# (PCRE2) and everything built on it are left out, as are tests that need models.
cmake -S . -B "$build/kestrel" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=Release \
  -DGTest_DIR="$gtest_prefix/lib/cmake/GTest" -DKESTREL_BUILD_BENCH=OFF
tests=(core_tests quant_tests backend_tests kv_tests sample_tests)
cmake --build "$build/kestrel" -j "$jobs" --target "${tests[@]}"

export QEMU_LD_PREFIX=/usr/$triple
status=0
run() {
  local cpu=$1 exe=$2
  echo "== $exe (qemu-aarch64 -cpu $cpu)"
  QEMU_CPU=$cpu qemu-aarch64 "$build/kestrel/tests/$exe" --gtest_brief=1 || status=1
}
for t in "${tests[@]}"; do run max "$t"; done
run cortex-a72 backend_tests
[ $status -eq 0 ] && echo "test_neon: all passed" || echo "test_neon: FAILED" >&2
exit $status
