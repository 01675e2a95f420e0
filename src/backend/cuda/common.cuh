// Device helpers shared by the kernels: warp and block reductions, half/bfloat16 bit conversions,
// launch geometry.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>

namespace kestrel::backend::cuda {

// Helpers that also run on the host (block decoding, checked by CPU-only tests).
#define KESTREL_HD __host__ __device__ __forceinline__
// `#pragma unroll` for code that the host compiler sees too (it would warn about the pragma).
#ifdef __CUDA_ARCH__
#define KESTREL_UNROLL _Pragma("unroll")
#else
#define KESTREL_UNROLL
#endif

inline constexpr unsigned kFullMask = 0xffffffffu;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
  return v;
}

__device__ __forceinline__ double warp_sum(double v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, o));
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
// `shared` holds 32 values; the call synchronizes the block.
template <class T>
__device__ __forceinline__ T block_sum(T v, T* shared) {
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  v = warp_sum(v);
  __syncthreads();  // `shared` may still be read from a previous call
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  const int n_warps = blockDim.x / 32;
  T r = lane < n_warps ? shared[lane] : T(0);
  return warp_sum(r);
}

KESTREL_HD float half_to_float(uint16_t h) {
  return __half2float(__ushort_as_half(h));
}
__device__ __forceinline__ uint16_t float_to_half(float f) {
  return __half_as_ushort(__float2half_rn(f));
}
// F32 -> F16 -> F32: the rounding the CPU backend applies where it converts to F16.
__device__ __forceinline__ float round_half(float f) { return __half2float(__float2half_rn(f)); }

KESTREL_HD float bf16_to_float(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
#ifdef __CUDA_ARCH__
  return __uint_as_float(bits);
#else
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
#endif
}
// Round to nearest even, NaN kept quiet: bit for bit quant::fp32_to_bf16.
__device__ __forceinline__ uint16_t float_to_bf16(float f) {
  const uint32_t bits = __float_as_uint(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 64);
  return static_cast<uint16_t>((bits + (0x7fffu + ((bits >> 16) & 1u))) >> 16);
}
__device__ __forceinline__ float round_bf16(float f) { return bf16_to_float(float_to_bf16(f)); }

inline unsigned div_up(int64_t a, int64_t b) { return static_cast<unsigned>((a + b - 1) / b); }

}  // namespace kestrel::backend::cuda
