// Dequantization of whole rows: one thread per 32-element sub-block (quantized types) or per 32
// elements (float types). Used by embed (F32 out, rows picked by token id) and by the quantized
// tensor-core path (F16 tiles of consecutive rows).
#include <algorithm>

#include "backend/cuda/common.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/dequantize.cuh"
#include "backend/cuda/quant_blocks.cuh"

namespace kestrel::backend::cuda {
namespace {

using tensor::DType;

template <class Out>
__device__ __forceinline__ void store(Out* p, float v);
template <>
__device__ __forceinline__ void store<float>(float* p, float v) {
  *p = v;
}
template <>
__device__ __forceinline__ void store<__half>(__half* p, float v) {
  *p = __float2half_rn(v);
}

template <DType T>
__device__ __forceinline__ float float_element(const uint8_t* row, int64_t i) {
  if constexpr (T == DType::F32) {
    return reinterpret_cast<const float*>(row)[i];
  } else if constexpr (T == DType::F16) {
    return half_to_float(reinterpret_cast<const uint16_t*>(row)[i]);
  } else {
    return bf16_to_float(reinterpret_cast<const uint16_t*>(row)[i]);
  }
}

template <DType T, class Out>
__global__ void dequantize_rows_kernel(const uint8_t* base, size_t row_bytes, const int32_t* ids,
                                       int64_t row0, int64_t n_in, float scale, Out* out) {
  const int64_t r = blockIdx.y;
  const int64_t sb = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (sb * 32 >= n_in) return;
  const int64_t src_row = ids != nullptr ? ids[r] : row0 + r;
  const uint8_t* row = base + src_row * row_bytes;
  Out* o = out + r * n_in + sb * 32;
  if constexpr (T == DType::F32 || T == DType::F16 || T == DType::BF16) {
    const int64_t end = min(n_in - sb * 32, int64_t{32});
    for (int64_t i = 0; i < end; ++i) store(o + i, float_element<T>(row, sb * 32 + i) * scale);
  } else {
    const Sub32 s = SubBlock32<T>::load(row, sb);
#pragma unroll
    for (int i = 0; i < 32; ++i) store(o + i, sub32_value(s, i) * scale);
  }
}

template <DType T>
void launch_typed(const WeightMatrix& w, const int32_t* ids, int64_t row0, int64_t n_rows,
                  float scale, float* out_f32, __half* out_f16, cudaStream_t stream) {
  const int threads = 128;
  // Rows go on grid.y (at most 65535 per launch).
  for (int64_t r0 = 0; r0 < n_rows; r0 += 65535) {
    const int64_t n = std::min<int64_t>(65535, n_rows - r0);
    const dim3 grid(div_up(div_up(w.n_in, 32), threads), static_cast<unsigned>(n));
    const uint8_t* base = static_cast<const uint8_t*>(w.data);
    const int32_t* id = ids != nullptr ? ids + r0 : nullptr;
    if (out_f32 != nullptr) {
      dequantize_rows_kernel<T, float><<<grid, threads, 0, stream>>>(
          base, w.row_bytes, id, row0 + r0, w.n_in, scale, out_f32 + r0 * w.n_in);
    } else {
      dequantize_rows_kernel<T, __half><<<grid, threads, 0, stream>>>(
          base, w.row_bytes, id, row0 + r0, w.n_in, scale, out_f16 + r0 * w.n_in);
    }
    KESTREL_CUDA_LAUNCH_CHECK();
  }
}

}  // namespace

void launch_dequantize_rows(const WeightMatrix& w, const int32_t* ids, int64_t row0,
                            int64_t n_rows, float scale, float* out_f32, __half* out_f16,
                            cudaStream_t stream) {
  if (n_rows == 0) return;
  switch (w.type) {
#define KESTREL_CASE(T) \
  case DType::T:        \
    return launch_typed<DType::T>(w, ids, row0, n_rows, scale, out_f32, out_f16, stream);
    KESTREL_CASE(F32)
    KESTREL_CASE(F16)
    KESTREL_CASE(BF16)
    KESTREL_CASE(Q4_0)
    KESTREL_CASE(Q4_1)
    KESTREL_CASE(Q5_0)
    KESTREL_CASE(Q5_1)
    KESTREL_CASE(Q8_0)
    KESTREL_CASE(Q4_K)
    KESTREL_CASE(Q5_K)
    KESTREL_CASE(Q6_K)
#undef KESTREL_CASE
    default:
      fail("CUDA backend: no kernels for weight type ", tensor::dtype_name(w.type));
  }
}

}  // namespace kestrel::backend::cuda
