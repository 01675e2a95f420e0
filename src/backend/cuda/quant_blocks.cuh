// Reading GGUF quantized blocks in place on the device, one 32-element sub-block at a time.
//
// SubBlock32<type>::load(row, sb) returns the 32 values of sub-block sb of a weight row as
//   value(i) = (i < 16 ? d_lo : d_hi) * q(i) + m,
// with the 32 integer levels q packed four per int32 (element order, little-endian bytes, signed
// int8), ready for __dp4a against int8 activations. Offsets that the formats subtract (Q4_0's 8,
// Q5_0's 16) go into m; Q6_K's 32 is subtracted in the bytes because its two 16-element halves
// have different scales. Block layouts: src/quant/blocks.h.
//
// Rows only need 2-byte alignment (every block size is even); 4-byte words are read as two 2-byte
// halves where a block's alignment does not guarantee 4. Consecutive lanes read consecutive
// sub-blocks, so a warp's loads cover contiguous bytes.
#pragma once

#include <cstdint>

#include "backend/cuda/common.cuh"
#include "tensor/dtype.h"

namespace kestrel::backend::cuda {

struct Sub32 {
  int32_t q[8];
  float d_lo;
  float d_hi;
  float m;
};

__device__ __forceinline__ uint32_t load_u32_a2(const uint8_t* p) {
  const uint16_t* h = reinterpret_cast<const uint16_t*>(p);
  return static_cast<uint32_t>(h[0]) | (static_cast<uint32_t>(h[1]) << 16);
}
__device__ __forceinline__ uint16_t load_u16(const uint8_t* p) {
  return *reinterpret_cast<const uint16_t*>(p);
}

// Bit 4 of each of the 4 bytes from 4 consecutive bits of `bits` (starting at bit 0).
__device__ __forceinline__ uint32_t spread_bits_to_bit4(uint32_t bits) {
  return ((bits & 1u) << 4) | ((bits & 2u) << 11) | ((bits & 4u) << 18) | ((bits & 8u) << 25);
}

template <tensor::DType T>
struct SubBlock32;

template <>
struct SubBlock32<tensor::DType::Q4_0> {
  static constexpr int kBlockBytes = 18;
  static constexpr int kSubPerBlock = 1;
  __device__ static Sub32 load(const uint8_t* row, int64_t sb) {
    const uint8_t* b = row + sb * kBlockBytes;
    Sub32 s;
    s.d_lo = s.d_hi = half_to_float(load_u16(b));
    s.m = -8.0f * s.d_lo;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const uint32_t w = load_u32_a2(b + 2 + 4 * k);
      s.q[k] = static_cast<int32_t>(w & 0x0f0f0f0fu);
      s.q[k + 4] = static_cast<int32_t>((w >> 4) & 0x0f0f0f0fu);
    }
    return s;
  }
};

template <>
struct SubBlock32<tensor::DType::Q4_1> {
  static constexpr int kBlockBytes = 20;
  static constexpr int kSubPerBlock = 1;
  __device__ static Sub32 load(const uint8_t* row, int64_t sb) {
    const uint8_t* b = row + sb * kBlockBytes;
    Sub32 s;
    s.d_lo = s.d_hi = half_to_float(load_u16(b));
    s.m = half_to_float(load_u16(b + 2));
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const uint32_t w = load_u32_a2(b + 4 + 4 * k);
      s.q[k] = static_cast<int32_t>(w & 0x0f0f0f0fu);
      s.q[k + 4] = static_cast<int32_t>((w >> 4) & 0x0f0f0f0fu);
    }
    return s;
  }
};

// Q5_0 / Q5_1: qh bit j is bit 4 of element j.
__device__ __forceinline__ void unpack_q5(const uint8_t* qs, uint32_t qh, int32_t (&q)[8]) {
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const uint32_t w = load_u32_a2(qs + 4 * k);
    q[k] = static_cast<int32_t>((w & 0x0f0f0f0fu) | spread_bits_to_bit4(qh >> (4 * k)));
    q[k + 4] = static_cast<int32_t>(((w >> 4) & 0x0f0f0f0fu) |
                                    spread_bits_to_bit4(qh >> (16 + 4 * k)));
  }
}

template <>
struct SubBlock32<tensor::DType::Q5_0> {
  static constexpr int kBlockBytes = 22;
  static constexpr int kSubPerBlock = 1;
  __device__ static Sub32 load(const uint8_t* row, int64_t sb) {
    const uint8_t* b = row + sb * kBlockBytes;
    Sub32 s;
    s.d_lo = s.d_hi = half_to_float(load_u16(b));
    s.m = -16.0f * s.d_lo;
    unpack_q5(b + 6, load_u32_a2(b + 2), s.q);
    return s;
  }
};

template <>
struct SubBlock32<tensor::DType::Q5_1> {
  static constexpr int kBlockBytes = 24;
  static constexpr int kSubPerBlock = 1;
  __device__ static Sub32 load(const uint8_t* row, int64_t sb) {
    const uint8_t* b = row + sb * kBlockBytes;
    Sub32 s;
    s.d_lo = s.d_hi = half_to_float(load_u16(b));
    s.m = half_to_float(load_u16(b + 2));
    unpack_q5(b + 8, load_u32_a2(b + 4), s.q);
    return s;
  }
};

template <>
struct SubBlock32<tensor::DType::Q8_0> {
  static constexpr int kBlockBytes = 34;
  static constexpr int kSubPerBlock = 1;
  __device__ static Sub32 load(const uint8_t* row, int64_t sb) {
    const uint8_t* b = row + sb * kBlockBytes;
    Sub32 s;
    s.d_lo = s.d_hi = half_to_float(load_u16(b));
    s.m = 0.0f;
#pragma unroll
    for (int k = 0; k < 8; ++k) s.q[k] = static_cast<int32_t>(load_u32_a2(b + 2 + 4 * k));
    return s;
  }
};

// Q4_K / Q5_K 6-bit scale and min of sub-block j (the packing of src/quant/k_quant_common.h).
__device__ __forceinline__ void scale_min_k4(int j, const uint8_t* bytes, int* sc, int* m) {
  if (j < 4) {
    *sc = bytes[j] & 63;
    *m = bytes[j + 4] & 63;
  } else {
    *sc = (bytes[j + 4] & 0x0f) | ((bytes[j - 4] >> 6) << 4);
    *m = (bytes[j + 4] >> 4) | ((bytes[j] >> 6) << 4);
  }
}

template <>
struct SubBlock32<tensor::DType::Q4_K> {
  static constexpr int kBlockBytes = 144;
  static constexpr int kSubPerBlock = 8;
  __device__ static Sub32 load(const uint8_t* row, int64_t sb) {
    const uint8_t* b = row + (sb / 8) * kBlockBytes;
    const int j = static_cast<int>(sb % 8);
    int sc, mn;
    scale_min_k4(j, b + 4, &sc, &mn);
    Sub32 s;
    s.d_lo = s.d_hi = half_to_float(load_u16(b)) * static_cast<float>(sc);
    s.m = -(half_to_float(load_u16(b + 2)) * static_cast<float>(mn));
    // Sub-block j: chunk j/2 of 32 bytes, low nibbles for even j, high for odd.
    const uint8_t* qs = b + 16 + 32 * (j / 2);
    const int shift = 4 * (j % 2);
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      s.q[k] = static_cast<int32_t>((load_u32_a2(qs + 4 * k) >> shift) & 0x0f0f0f0fu);
    }
    return s;
  }
};

template <>
struct SubBlock32<tensor::DType::Q5_K> {
  static constexpr int kBlockBytes = 176;
  static constexpr int kSubPerBlock = 8;
  __device__ static Sub32 load(const uint8_t* row, int64_t sb) {
    const uint8_t* b = row + (sb / 8) * kBlockBytes;
    const int j = static_cast<int>(sb % 8);
    int sc, mn;
    scale_min_k4(j, b + 4, &sc, &mn);
    Sub32 s;
    s.d_lo = s.d_hi = half_to_float(load_u16(b)) * static_cast<float>(sc);
    s.m = -(half_to_float(load_u16(b + 2)) * static_cast<float>(mn));
    const uint8_t* qh = b + 16;
    const uint8_t* qs = b + 48 + 32 * (j / 2);
    const int shift = 4 * (j % 2);
    // Bit 4 of element l of sub-block j is bit j of qh[l] (bit 2c + hi, with j = 2c + hi).
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      const uint32_t h = (load_u32_a2(qh + 4 * k) >> j) & 0x01010101u;
      s.q[k] = static_cast<int32_t>(((load_u32_a2(qs + 4 * k) >> shift) & 0x0f0f0f0fu) | (h << 4));
    }
    return s;
  }
};

template <>
struct SubBlock32<tensor::DType::Q6_K> {
  static constexpr int kBlockBytes = 210;
  static constexpr int kSubPerBlock = 8;
  __device__ static Sub32 load(const uint8_t* row, int64_t sb) {
    const uint8_t* b = row + (sb / 8) * kBlockBytes;
    const int j = static_cast<int>(sb % 8);
    const int h = j / 4;
    const int k = j % 4;
    const float d = half_to_float(load_u16(b + 208));
    const int8_t* scales = reinterpret_cast<const int8_t*>(b + 192);
    Sub32 s;
    s.d_lo = d * static_cast<float>(scales[2 * j]);
    s.d_hi = d * static_cast<float>(scales[2 * j + 1]);
    s.m = 0.0f;
    // Element l: low 4 bits in nibble k/2 of ql[64h + l + 32(k%2)], high 2 bits at bit 2k of
    // qh[32h + l]; minus 32.
    const uint8_t* ql = b + 64 * h + 32 * (k % 2);
    const uint8_t* qh = b + 128 + 32 * h;
    const int lshift = 4 * (k / 2);
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const uint32_t lo = (load_u32_a2(ql + 4 * i) >> lshift) & 0x0f0f0f0fu;
      const uint32_t hi = ((load_u32_a2(qh + 4 * i) >> (2 * k)) & 0x03030303u) << 4;
      s.q[i] = static_cast<int32_t>(__vsubss4(lo | hi, 0x20202020u));
    }
    return s;
  }
};

// Element i (0..31) of a loaded sub-block as a float.
__device__ __forceinline__ float sub32_value(const Sub32& s, int i) {
  const int8_t q = static_cast<int8_t>((s.q[i / 4] >> (8 * (i % 4))) & 0xff);
  return fmaf(i < 16 ? s.d_lo : s.d_hi, static_cast<float>(q), s.m);
}

}  // namespace kestrel::backend::cuda
