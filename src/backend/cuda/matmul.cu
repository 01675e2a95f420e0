// Matrix products with few activation rows (decode): memory-bound mat-vec kernels that read each
// weight byte once per launch for up to kMaxRows activation rows.
//
// Quantized weights: activations are quantized once per call to int8 blocks of 32 with an F32
// scale d and s = d * sum(q); one warp per weight row, lane l takes sub-blocks l, l + 32, ... and
// accumulates  d_a * (d_lo * dot_lo + d_hi * dot_hi) + m * s_a  (dot_* exact int32 by __dp4a).
// Float weights: one warp per row, 16-byte weight loads where the row length allows, activations
// rounded to the weight's type first (the CPU backend's vec_dot_type) and F32 accumulation.
#include <algorithm>
#include <cstdint>

#include "backend/cuda/common.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/quant_blocks.cuh"

namespace kestrel::backend::cuda {
namespace {

using tensor::DType;

constexpr int kMaxRows = 8;
constexpr int kWarpsPerBlock = 4;

__global__ void quantize_q8_kernel(const float* x, int64_t n_blocks, int8_t* q, float2* ds) {
  const int64_t blk = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (blk >= n_blocks) return;  // warp-uniform
  const float v = x[blk * 32 + lane];
  const float amax = warp_max(fabsf(v));
  const float d = q8_scale(amax);
  const int qi = q8_level(v, d);
  int sum = qi;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(kFullMask, sum, o);
  q[blk * 32 + lane] = static_cast<int8_t>(qi);
  if (lane == 0) ds[blk] = make_float2(d, d * static_cast<float>(sum));
}

template <DType T>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    matvec_q_kernel(const uint8_t* w, size_t row_bytes, int64_t n_out, int64_t n_sub,
                    const int8_t* aq, const float2* ads, int nr, float* y, const float* bias) {
  const int lane = threadIdx.x % 32;
  const int64_t o = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (o >= n_out) return;  // warp-uniform
  const uint8_t* row = w + o * row_bytes;
  float acc[kMaxRows];
#pragma unroll
  for (int r = 0; r < kMaxRows; ++r) acc[r] = 0.0f;
  for (int64_t sb = lane; sb < n_sub; sb += 32) {
    const Sub32 s = SubBlock32<T>::load(row, sb);
#pragma unroll
    for (int r = 0; r < kMaxRows; ++r) {
      if (r < nr) {
        const int4* ap = reinterpret_cast<const int4*>(aq + (r * n_sub + sb) * 32);
        const int4 a0 = ap[0];
        const int4 a1 = ap[1];
        const int32_t a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
        const float2 ds = ads[r * n_sub + sb];
        acc[r] += sub32_dot(s, a, ds.x, ds.y);
      }
    }
  }
  const float b = bias != nullptr ? bias[o] : 0.0f;
#pragma unroll
  for (int r = 0; r < kMaxRows; ++r) {
    if (r < nr) {
      const float v = warp_sum(acc[r]);
      if (lane == 0) y[r * n_out + o] = v + b;
    }
  }
}

// Element j of a float-type weight row, and an activation rounded to that type.
template <DType T>
__device__ __forceinline__ float weight_element(const uint8_t* row, int64_t j) {
  if constexpr (T == DType::F32) return reinterpret_cast<const float*>(row)[j];
  if constexpr (T == DType::F16) return half_to_float(reinterpret_cast<const uint16_t*>(row)[j]);
  if constexpr (T == DType::BF16) return bf16_to_float(reinterpret_cast<const uint16_t*>(row)[j]);
  return 0.0f;
}
template <DType T>
__device__ __forceinline__ float round_act(float x) {
  if constexpr (T == DType::F16) return round_half(x);
  if constexpr (T == DType::BF16) return round_bf16(x);
  return x;
}

// kVec: F16/BF16 rows of a multiple of 8 elements, read 8 at a time with 16-byte loads.
template <DType T, bool kVec>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    matvec_f_kernel(const uint8_t* w, size_t row_bytes, int64_t n_out, int64_t n_in,
                    const float* x, int nr, float* y, const float* bias) {
  const int lane = threadIdx.x % 32;
  const int64_t o = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (o >= n_out) return;
  const uint8_t* row = w + o * row_bytes;
  float acc[kMaxRows];
#pragma unroll
  for (int r = 0; r < kMaxRows; ++r) acc[r] = 0.0f;
  if constexpr (kVec) {
    for (int64_t j0 = lane * 8; j0 < n_in; j0 += 32 * 8) {
      const uint4 raw = *reinterpret_cast<const uint4*>(row + j0 * 2);
      const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
      float wv[8];
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const uint16_t lo = static_cast<uint16_t>(words[k] & 0xffff);
        const uint16_t hi = static_cast<uint16_t>(words[k] >> 16);
        wv[2 * k] = T == DType::F16 ? half_to_float(lo) : bf16_to_float(lo);
        wv[2 * k + 1] = T == DType::F16 ? half_to_float(hi) : bf16_to_float(hi);
      }
#pragma unroll
      for (int r = 0; r < kMaxRows; ++r) {
        if (r < nr) {
          const float4* xr = reinterpret_cast<const float4*>(x + r * n_in + j0);
          const float4 x0 = xr[0];
          const float4 x1 = xr[1];
          const float xv[8] = {x0.x, x0.y, x0.z, x0.w, x1.x, x1.y, x1.z, x1.w};
#pragma unroll
          for (int k = 0; k < 8; ++k) acc[r] = fmaf(wv[k], round_act<T>(xv[k]), acc[r]);
        }
      }
    }
  } else {
    for (int64_t j = lane; j < n_in; j += 32) {
      const float wj = weight_element<T>(row, j);
#pragma unroll
      for (int r = 0; r < kMaxRows; ++r) {
        if (r < nr) acc[r] = fmaf(wj, round_act<T>(x[r * n_in + j]), acc[r]);
      }
    }
  }
  const float b = bias != nullptr ? bias[o] : 0.0f;
#pragma unroll
  for (int r = 0; r < kMaxRows; ++r) {
    if (r < nr) {
      const float v = warp_sum(acc[r]);
      if (lane == 0) y[r * n_out + o] = v + b;
    }
  }
}

template <DType T>
void launch_matvec_q(const WeightMatrix& w, const int8_t* aq, const float2* ads, int nr, float* y,
                     const float* bias, cudaStream_t stream) {
  const int64_t n_sub = w.n_in / 32;
  matvec_q_kernel<T><<<div_up(w.n_out, kWarpsPerBlock), kWarpsPerBlock * 32, 0, stream>>>(
      static_cast<const uint8_t*>(w.data), w.row_bytes, w.n_out, n_sub, aq, ads, nr, y, bias);
  KESTREL_CUDA_LAUNCH_CHECK();
}

template <DType T>
void launch_matvec_f(const WeightMatrix& w, const float* x, int nr, float* y, const float* bias,
                     cudaStream_t stream) {
  const dim3 grid(div_up(w.n_out, kWarpsPerBlock));
  const auto* base = static_cast<const uint8_t*>(w.data);
  const bool aligned = reinterpret_cast<uintptr_t>(base) % 16 == 0 && w.row_bytes % 16 == 0 &&
                       reinterpret_cast<uintptr_t>(x) % 16 == 0;
  if (T != DType::F32 && w.n_in % 8 == 0 && aligned) {
    matvec_f_kernel<T, true><<<grid, kWarpsPerBlock * 32, 0, stream>>>(base, w.row_bytes, w.n_out,
                                                                      w.n_in, x, nr, y, bias);
  } else {
    matvec_f_kernel<T, false><<<grid, kWarpsPerBlock * 32, 0, stream>>>(base, w.row_bytes, w.n_out,
                                                                       w.n_in, x, nr, y, bias);
  }
  KESTREL_CUDA_LAUNCH_CHECK();
}

bool is_float_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

}  // namespace

bool CudaOps::supports(tensor::DType type) {
  switch (type) {
    case DType::F32:
    case DType::F16:
    case DType::BF16:
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q8_0:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
      return true;
    default:
      return false;
  }
}

void CudaOps::quantize_activations(const float* x, int64_t n_rows, int64_t n_in) {
  const int64_t n_blocks = n_rows * (n_in / 32);
  grow(act_q_, static_cast<size_t>(n_rows * n_in));
  grow(act_ds_, static_cast<size_t>(n_blocks) * sizeof(float2));
  const int threads = 256;
  quantize_q8_kernel<<<div_up(n_blocks * 32, threads), threads, 0, stream_>>>(
      x, n_blocks, act_q_.as<int8_t>(), act_ds_.as<float2>());
  KESTREL_CUDA_LAUNCH_CHECK();
}

void CudaOps::matmul(const WeightMatrix& w, const float* x, int64_t n_rows, float* y,
                     const float* bias) {
  KESTREL_CHECK(supports(w.type), "CUDA backend: no kernels for weight type ",
                tensor::dtype_name(w.type));
  if (n_rows == 0 || w.n_out == 0) return;
  if (n_rows >= gemm_min_rows_) {
    gemm(w, x, n_rows, y, bias);
  } else {
    matvec(w, x, n_rows, y, bias);
  }
}

void CudaOps::matvec(const WeightMatrix& w, const float* x, int64_t n_rows, float* y,
                     const float* bias) {
  const bool is_float = is_float_type(w.type);
  if (!is_float) quantize_activations(x, n_rows, w.n_in);
  for (int64_t r0 = 0; r0 < n_rows; r0 += kMaxRows) {
    const int nr = static_cast<int>(std::min<int64_t>(kMaxRows, n_rows - r0));
    float* yr = y + r0 * w.n_out;
    if (is_float) {
      const float* xr = x + r0 * w.n_in;
      switch (w.type) {
        case DType::F32: launch_matvec_f<DType::F32>(w, xr, nr, yr, bias, stream_); break;
        case DType::F16: launch_matvec_f<DType::F16>(w, xr, nr, yr, bias, stream_); break;
        default: launch_matvec_f<DType::BF16>(w, xr, nr, yr, bias, stream_); break;
      }
      continue;
    }
    const int8_t* aq = act_q_.as<int8_t>() + r0 * w.n_in;
    const float2* ads = act_ds_.as<float2>() + r0 * (w.n_in / 32);
    switch (w.type) {
#define KESTREL_CASE(T) \
  case DType::T: launch_matvec_q<DType::T>(w, aq, ads, nr, yr, bias, stream_); break;
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
        fail("CUDA backend: no mat-vec kernel for ", tensor::dtype_name(w.type));
    }
  }
}

}  // namespace kestrel::backend::cuda
