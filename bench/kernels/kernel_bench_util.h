// Shared set-up of the kernel micro-benchmarks: thread pools, CPU ops and seeded inputs. Every
// kernel is called through the public dispatch (backend::CpuOps and its kernel table of
// quant::TypeOps), so the numbers follow the ISA that select_isa() picks at run time;
// KESTREL_FORCE_ISA=generic|avx2|... measures another one.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "core/thread_pool.h"
#include "tensor/dtype.h"

namespace kestrel::bench {

// CpuOps over a pool of n threads, made once per n and kept for the process.
backend::CpuOps& cpu_ops(int n_threads);

std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f);

// A weight matrix of `type` (n_out x n_in, quantized from seeded normals by the reference
// quantizer), repeated in as many copies as it takes to span at least `min_bytes`, so that cycling
// through the copies reads from DRAM rather than cache.
struct WeightCopies {
  std::vector<uint8_t> bytes;
  // The same copies in the selected ISA's load-time layout (CpuOps::prepare_weight), when it
  // repacks this type: what a loaded model's matrix products read.
  std::vector<uint8_t> packed;
  size_t packed_matrix_bytes = 0;
  int packed_rows = 0;
  size_t packed_group_bytes = 0;
  size_t matrix_bytes = 0;
  int copies = 0;
  backend::WeightMatrix matrix(int i) const;
  tensor::DType type;
  int64_t n_in = 0, n_out = 0;
};
const WeightCopies& weight_copies(tensor::DType type, int64_t n_out, int64_t n_in,
                                  size_t min_bytes);

// Bytes beyond the last-level cache of the machines Kestrel targets (tens of MiB).
constexpr size_t kBeyondCache = size_t{256} << 20;

// Sets a rate counter: `amount` (in units of 1e9: GB, GFLOP) per iteration, shown per second of
// real time (for benchmarks marked UseRealTime, as the threaded ones are), e.g. "GB=12.3/s".
inline void set_rate(benchmark::State& state, const char* name, double amount_per_iter) {
  state.counters[name] = benchmark::Counter(amount_per_iter * 1e-9 * state.iterations(),
                                            benchmark::Counter::kIsRate);
}

}  // namespace kestrel::bench
