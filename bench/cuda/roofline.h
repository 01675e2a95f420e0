// The GPU's ceilings, measured: device-to-device copy bandwidth and cuBLAS matrix rate. Shared by
// cuda_probe and cuda_model_bench so that every report carries the ceilings of its own run.
#pragma once

#include <cuda_runtime_api.h>
#include <library_types.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "backend/cuda/cuda_check.h"

namespace kestrel::backend::cuda {

// Median of `reps` timed runs of fn on `stream`, in seconds, after `warmup` untimed runs.
template <class Fn>
double time_median(cudaStream_t stream, int warmup, int reps, Fn&& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  cudaEvent_t a, b;
  KESTREL_CUDA_CHECK(cudaEventCreate(&a));
  KESTREL_CUDA_CHECK(cudaEventCreate(&b));
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    KESTREL_CUDA_CHECK(cudaEventRecord(a, stream));
    fn();
    KESTREL_CUDA_CHECK(cudaEventRecord(b, stream));
    KESTREL_CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    KESTREL_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms * 1e-3);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Copies `bytes` device to device; prints a JSON line and returns bytes read + written per second
// in GB/s.
double probe_copy(cudaStream_t stream, size_t bytes);
// n x n x n product of `type` (CUDA_R_16BF, CUDA_R_16F) with F32 accumulation; prints a JSON line
// and returns TFLOP/s.
double probe_gemm(cudaStream_t stream, int n, cudaDataType_t type, const char* name);

}  // namespace kestrel::backend::cuda
