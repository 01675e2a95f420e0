// Quantized matrix products through CpuOps::matmul, per weight type and thread count:
//   BM_MatVec: one activation row against a 2048 x 8192 weight (an FFN matrix of a 1B model) as a
//     decode step does; copies of the matrix span 256 MiB and are cycled so the weights stream
//     from DRAM. Counter GB (per second) = weight bytes read per second (compare: bandwidth_probe).
//   BM_MatMul: 128 activation rows against a 2048 x 2048 weight (prefill; the weight stays in
//     cache). Counter GFLOP (per second) = 2 * rows * n_in * n_out per second.
#include <vector>

#include "kernel_bench_util.h"

namespace kestrel::bench {
namespace {

using tensor::DType;

constexpr DType kTypes[] = {DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_1,
                            DType::Q5_0, DType::Q4_K, DType::Q5_K, DType::Q6_K};

void BM_MatVec(benchmark::State& state, DType type) {
  const int threads = static_cast<int>(state.range(0));
  constexpr int64_t kIn = 2048, kOut = 8192;
  const WeightCopies& w = weight_copies(type, kOut, kIn, kBeyondCache);
  backend::CpuOps& ops = cpu_ops(threads);
  const std::vector<float> x = random_floats(kIn, 11);
  std::vector<float> y(kOut);
  int copy = 0;
  for (auto _ : state) {
    ops.matmul(w.matrix(copy), x.data(), 1, y.data(), nullptr);
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % w.copies;
  }
  set_rate(state, "GB", static_cast<double>(w.matrix_bytes));
  set_rate(state, "GFLOP", 2.0 * kIn * kOut);
}

void BM_MatMul(benchmark::State& state, DType type) {
  const int threads = static_cast<int>(state.range(0));
  constexpr int64_t kIn = 2048, kOut = 2048, kRows = 128;
  const WeightCopies& w = weight_copies(type, kOut, kIn, 0);
  backend::CpuOps& ops = cpu_ops(threads);
  const std::vector<float> x = random_floats(kIn * kRows, 13);
  std::vector<float> y(kOut * kRows);
  for (auto _ : state) {
    ops.matmul(w.matrix(0), x.data(), kRows, y.data(), nullptr);
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state, "GFLOP", 2.0 * kIn * kOut * kRows);
}

int register_all() {
  for (DType t : kTypes) {
    const std::string name = tensor::dtype_name(t);
    benchmark::RegisterBenchmark(("BM_MatVec/" + name).c_str(), BM_MatVec, t)
        ->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_MatMul/" + name).c_str(), BM_MatMul, t)
        ->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace kestrel::bench
