// Matrix products with many activation rows (prefill, large batches) on the tensor cores through
// cuBLAS: y^T = W x^T, i.e. column-major C[n_out, n_rows] = A^T B with A = W as stored ([n_in,
// n_out] column-major) and B = x ([n_in, n_rows] column-major), F32 accumulation and output.
// Activations are rounded to the weight's float type first (as the CPU backend does). Quantized
// weights are dequantized to F16 in tiles of rows, each tile multiplied as an F16 weight.
#include <algorithm>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "backend/cuda/common.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/dequantize.cuh"

namespace kestrel::backend::cuda {
namespace {

using tensor::DType;

__global__ void to_half_kernel(const float* x, int64_t n, uint16_t* out, bool bf16) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i] = bf16 ? float_to_bf16(x[i]) : float_to_half(x[i]);
}

__global__ void add_bias_kernel(float* y, const float* bias, int64_t n_out, int64_t total) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) y[i] += bias[i % n_out];
}

}  // namespace

void CudaOps::gemm(const WeightMatrix& w, const float* x, int64_t n_rows, float* y,
                   const float* bias) {
  const int64_t n_in = w.n_in;
  const int64_t n_out = w.n_out;
  KESTREL_CHECK(n_in <= 0x7fffffff && n_out <= 0x7fffffff && n_rows <= 0x7fffffff,
                "CUDA gemm: matrix too large");
  const float one = 1.0f;
  const float zero = 0.0f;
  const int threads = 256;

  const void* b = x;
  cudaDataType_t ab_type = CUDA_R_32F;
  if (w.type != DType::F32) {
    const bool bf16 = w.type == DType::BF16;
    ab_type = bf16 ? CUDA_R_16BF : CUDA_R_16F;
    grow(act_half_, static_cast<size_t>(n_rows * n_in) * sizeof(uint16_t));
    to_half_kernel<<<div_up(n_rows * n_in, threads), threads, 0, stream_>>>(
        x, n_rows * n_in, act_half_.as<uint16_t>(), bf16);
    KESTREL_CUDA_LAUNCH_CHECK();
    b = act_half_.get();
  }

  auto gemm_rows = [&](const void* a, int64_t o0, int64_t m) {
    KESTREL_CUBLAS_CHECK(cublasGemmEx(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(m),
                                      static_cast<int>(n_rows), static_cast<int>(n_in), &one, a,
                                      ab_type, static_cast<int>(n_in), b, ab_type,
                                      static_cast<int>(n_in), &zero, y + o0, CUDA_R_32F,
                                      static_cast<int>(n_out), CUBLAS_COMPUTE_32F,
                                      CUBLAS_GEMM_DEFAULT));
  };

  if (w.type == DType::F32 || w.type == DType::F16 || w.type == DType::BF16) {
    gemm_rows(w.data, 0, n_out);
  } else {
    const int64_t tile = std::max<int64_t>(1, std::min<int64_t>(n_out, kDequantTileElems / n_in));
    grow(w_half_, static_cast<size_t>(tile * n_in) * sizeof(__half));
    for (int64_t o0 = 0; o0 < n_out; o0 += tile) {
      const int64_t m = std::min(tile, n_out - o0);
      launch_dequantize_rows(w, nullptr, o0, m, 1.0f, nullptr, w_half_.as<__half>(), stream_);
      gemm_rows(w_half_.get(), o0, m);
    }
  }
  if (bias != nullptr) {
    add_bias_kernel<<<div_up(n_rows * n_out, threads), threads, 0, stream_>>>(y, bias, n_out,
                                                                             n_rows * n_out);
    KESTREL_CUDA_LAUNCH_CHECK();
  }
}

}  // namespace kestrel::backend::cuda
