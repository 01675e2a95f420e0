// K and V rows to F16 cache slots.
#include "backend/cuda/common.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_ops.h"

namespace kestrel::backend::cuda {
namespace {

__global__ void write_kv_kernel(const float* k, const float* v, const int32_t* slots,
                                int64_t total, int64_t row, uint16_t* k_cache, uint16_t* v_cache) {
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int64_t t = idx / row;
  const int64_t i = idx % row;
  const int64_t dst = static_cast<int64_t>(slots[t]) * row + i;
  k_cache[dst] = float_to_half(k[idx]);
  v_cache[dst] = float_to_half(v[idx]);
}

}  // namespace

void CudaOps::write_kv(const float* k, const float* v, const int32_t* slots, int64_t n_tokens,
                       int64_t row, uint16_t* k_cache, uint16_t* v_cache) {
  const int64_t total = n_tokens * row;
  if (total == 0) return;
  const int threads = 256;
  write_kv_kernel<<<div_up(total, threads), threads, 0, stream_>>>(k, v, slots, total, row,
                                                                   k_cache, v_cache);
  KESTREL_CUDA_LAUNCH_CHECK();
}

}  // namespace kestrel::backend::cuda
