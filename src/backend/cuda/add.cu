// Residual add and row gather.
#include "backend/cuda/common.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_ops.h"

namespace kestrel::backend::cuda {
namespace {

__global__ void add_kernel(float* x, const float* y, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] += y[i];
}

__global__ void gather_rows_kernel(const float* src, const int32_t* rows, int64_t dim,
                                   int64_t total, float* dst) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  dst[i] = src[static_cast<int64_t>(rows[i / dim]) * dim + i % dim];
}

}  // namespace

void CudaOps::add(float* x, const float* y, int64_t n) {
  if (n == 0) return;
  const int threads = 256;
  add_kernel<<<div_up(n, threads), threads, 0, stream_>>>(x, y, n);
  KESTREL_CUDA_LAUNCH_CHECK();
}

void CudaOps::gather_rows(const float* src, const int32_t* rows, int64_t n_rows, int64_t dim,
                          float* dst) {
  const int64_t total = n_rows * dim;
  if (total == 0) return;
  const int threads = 256;
  gather_rows_kernel<<<div_up(total, threads), threads, 0, stream_>>>(src, rows, dim, total, dst);
  KESTREL_CUDA_LAUNCH_CHECK();
}

}  // namespace kestrel::backend::cuda
