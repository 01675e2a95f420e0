// 2:4 sparse F32 matrix products against the dense F32 product of the same matrix, at SmolLM2's
// FFN shapes, for 1 token (decode) and 16 tokens.
//   build/bench/sparse/sparse_bench
#include <benchmark/benchmark.h>

#include <random>

#include "sparse/sparse24.h"

namespace {

using kestrel::sparse::Sparse24Matrix;

std::vector<float> pruned_24(int64_t rows, int64_t cols) {
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  std::vector<float> w(rows * cols, 0.0f);
  for (int64_t g = 0; g < rows * cols / 4; ++g) {
    w[4 * g + rng() % 2] = nd(rng);
    w[4 * g + 2 + rng() % 2] = nd(rng);
  }
  return w;
}

void args(benchmark::internal::Benchmark* b) {
  for (int64_t n : {1, 16}) {
    b->Args({1536, 576, n});  // ffn_gate / ffn_up: 576 -> 1536
    b->Args({576, 1536, n});  // ffn_down: 1536 -> 576
  }
}

void BM_Dense(benchmark::State& st) {
  const int64_t rows = st.range(0), cols = st.range(1), n = st.range(2);
  const std::vector<float> w = pruned_24(rows, cols);
  std::vector<float> x(n * cols, 0.5f), y(n * rows);
  for (auto _ : st) {
    kestrel::sparse::dense_matmul(w.data(), rows, cols, x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
  }
  st.counters["weight_MiB"] = rows * cols * 4.0 / (1 << 20);
}

void BM_DenseTiled(benchmark::State& st) {
  const int64_t rows = st.range(0), cols = st.range(1), n = st.range(2);
  const std::vector<float> w = pruned_24(rows, cols);
  std::vector<float> x(n * cols, 0.5f), y(n * rows);
  for (auto _ : st) {
    kestrel::sparse::dense_matmul_tiled(w.data(), rows, cols, x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
  }
}

void BM_Sparse24(benchmark::State& st) {
  const int64_t rows = st.range(0), cols = st.range(1), n = st.range(2);
  const std::vector<float> w = pruned_24(rows, cols);
  const Sparse24Matrix m = Sparse24Matrix::compress(w.data(), rows, cols);
  std::vector<float> x(n * cols, 0.5f), y(n * rows);
  for (auto _ : st) {
    m.matmul(x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
  }
  st.counters["weight_MiB"] = m.bytes() / double(1 << 20);
}

BENCHMARK(BM_Dense)->Apply(args);
BENCHMARK(BM_DenseTiled)->Apply(args);
BENCHMARK(BM_Sparse24)->Apply(args);

}  // namespace
