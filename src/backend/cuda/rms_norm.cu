// RMSNorm, one block per row; the sum of squares is accumulated in double like the CPU backend.
#include "backend/cuda/common.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_ops.h"

namespace kestrel::backend::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void rms_norm_kernel(const float* x, const float* w, float* y, int64_t dim, float eps) {
  __shared__ double partial[32];
  const float* xr = x + blockIdx.x * dim;
  float* yr = y + blockIdx.x * dim;
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) sum += static_cast<double>(xr[i]) * xr[i];
  sum = block_sum(sum, partial);
  const float scale = 1.0f / sqrtf(static_cast<float>(sum / static_cast<double>(dim)) + eps);
  // Every thread has read its elements before any writes (block_sum synchronizes), so y may
  // alias x.
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
    const float v = xr[i] * scale;
    yr[i] = w != nullptr ? v * w[i] : v;
  }
}

}  // namespace

void CudaOps::rms_norm(const float* x, const float* w, float* y, int64_t n_rows, int64_t dim,
                       float eps) {
  if (n_rows == 0) return;
  KESTREL_CHECK(n_rows <= 0x7fffffff, "rms_norm: too many rows");
  rms_norm_kernel<<<static_cast<unsigned>(n_rows), kThreads, 0, stream_>>>(x, w, y, dim, eps);
  KESTREL_CUDA_LAUNCH_CHECK();
}

}  // namespace kestrel::backend::cuda
