// Reading GGUF quantized blocks in place on the device, one 32-element sub-block at a time.
//
// SubBlock32<type>::load(row, sb) returns the 32 values of sub-block sb of a weight row as
//   value(i) = (i < 16 ? d_lo : d_hi) * q(i) + m,
// with the 32 integer levels q packed four per int32 (element order, little-endian bytes, signed
// int8), ready for __dp4a against int8 activations. Offsets that the formats subtract (Q4_0's 8,
// Q5_0's 16) go into m; Q6_K's 32 is subtracted in the bytes because its two 16-element halves
// have different scales. Block layouts: src/quant/blocks.h.
//
// The loaders are host and device functions so that CPU-only CI checks them against the reference
// dequantizers (tests/cuda/quant_blocks_test.cc).
//
// Rows only need 2-byte alignment (every block size is even); 4-byte words are read as two 2-byte
// halves where a block's alignment does not guarantee 4. Consecutive lanes read consecutive
// sub-blocks, so a warp's loads cover contiguous bytes.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "backend/cuda/common.cuh"
#include "tensor/dtype.h"

namespace kestrel::backend::cuda {

struct Sub32 {
  int32_t q[8];
  float d_lo;
  float d_hi;
  float m;
};

KESTREL_HD uint16_t load_u16(const uint8_t* p) {
#ifdef __CUDA_ARCH__
  return *reinterpret_cast<const uint16_t*>(p);
#else
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
#endif
}
KESTREL_HD uint32_t load_u32_a2(const uint8_t* p) {
  return static_cast<uint32_t>(load_u16(p)) | (static_cast<uint32_t>(load_u16(p + 2)) << 16);
}

// Each byte (0..63) minus 32, as signed bytes: setting bit 7 first keeps the subtraction from
// borrowing across bytes, and flipping it back gives the two's complement result.
KESTREL_HD uint32_t sub32_per_byte(uint32_t x) {
  return ((x | 0x80808080u) - 0x20202020u) ^ 0x80808080u;
}

// Bit 4 of each of the 4 bytes from 4 consecutive bits of `bits` (starting at bit 0).
KESTREL_HD uint32_t spread_bits_to_bit4(uint32_t bits) {
  return ((bits & 1u) << 4) | ((bits & 2u) << 11) | ((bits & 4u) << 18) | ((bits & 8u) << 25);
}

template <tensor::DType T>
struct SubBlock32;

template <>
struct SubBlock32<tensor::DType::Q4_0> {
  static constexpr int kBlockBytes = 18;
  static constexpr int kSubPerBlock = 1;
  KESTREL_HD static Sub32 load(const uint8_t* row, int64_t sb) {
    const uint8_t* b = row + sb * kBlockBytes;
    Sub32 s;
    s.d_lo = s.d_hi = half_to_float(load_u16(b));
    s.m = -8.0f * s.d_lo;
KESTREL_UNROLL
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
  KESTREL_HD static Sub32 load(const uint8_t* row, int64_t sb) {
    const uint8_t* b = row + sb * kBlockBytes;
    Sub32 s;
    s.d_lo = s.d_hi = half_to_float(load_u16(b));
    s.m = half_to_float(load_u16(b + 2));
KESTREL_UNROLL
    for (int k = 0; k < 4; ++k) {
      const uint32_t w = load_u32_a2(b + 4 + 4 * k);
      s.q[k] = static_cast<int32_t>(w & 0x0f0f0f0fu);
      s.q[k + 4] = static_cast<int32_t>((w >> 4) & 0x0f0f0f0fu);
    }
    return s;
  }
};

// Q5_0 / Q5_1: qh bit j is bit 4 of element j.
KESTREL_HD void unpack_q5(const uint8_t* qs, uint32_t qh, int32_t (&q)[8]) {
KESTREL_UNROLL
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
  KESTREL_HD static Sub32 load(const uint8_t* row, int64_t sb) {
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
  KESTREL_HD static Sub32 load(const uint8_t* row, int64_t sb) {
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
  KESTREL_HD static Sub32 load(const uint8_t* row, int64_t sb) {
    const uint8_t* b = row + sb * kBlockBytes;
    Sub32 s;
    s.d_lo = s.d_hi = half_to_float(load_u16(b));
    s.m = 0.0f;
KESTREL_UNROLL
    for (int k = 0; k < 8; ++k) s.q[k] = static_cast<int32_t>(load_u32_a2(b + 2 + 4 * k));
    return s;
  }
};

// Q4_K / Q5_K 6-bit scale and min of sub-block j (the packing of src/quant/k_quant_common.h).
KESTREL_HD void scale_min_k4(int j, const uint8_t* bytes, int* sc, int* m) {
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
  KESTREL_HD static Sub32 load(const uint8_t* row, int64_t sb) {
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
KESTREL_UNROLL
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
  KESTREL_HD static Sub32 load(const uint8_t* row, int64_t sb) {
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
KESTREL_UNROLL
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
  KESTREL_HD static Sub32 load(const uint8_t* row, int64_t sb) {
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
KESTREL_UNROLL
    for (int i = 0; i < 8; ++i) {
      const uint32_t lo = (load_u32_a2(ql + 4 * i) >> lshift) & 0x0f0f0f0fu;
      const uint32_t hi = ((load_u32_a2(qh + 4 * i) >> (2 * k)) & 0x03030303u) << 4;
      s.q[i] = static_cast<int32_t>(sub32_per_byte(lo | hi));
    }
    return s;
  }
};

// Element i (0..31) of a loaded sub-block as a float.
KESTREL_HD float sub32_value(const Sub32& s, int i) {
  const int8_t q = static_cast<int8_t>((s.q[i / 4] >> (8 * (i % 4))) & 0xff);
  return fmaf(i < 16 ? s.d_lo : s.d_hi, static_cast<float>(q), s.m);
}

// Dot product of four signed bytes packed in a and b.
KESTREL_HD int dot4_i8(int32_t a, int32_t b, int acc) {
#ifdef __CUDA_ARCH__
  return __dp4a(a, b, acc);
#else
  for (int k = 0; k < 4; ++k) {
    acc += static_cast<int8_t>((a >> (8 * k)) & 0xff) * static_cast<int8_t>((b >> (8 * k)) & 0xff);
  }
  return acc;
#endif
}

// Activations for the dp4a kernels: blocks of 32 as int8 q with an F32 scale d = amax / 127 and
// ds = (d, d * sum(q)); x ~ d * q.
KESTREL_HD float q8_scale(float amax) { return amax / 127.0f; }
KESTREL_HD int q8_level(float x, float d) {
  if (!(d > 0.0f)) return 0;
#ifdef __CUDA_ARCH__
  const int q = __float2int_rn(x / d);
#else
  const int q = static_cast<int>(std::nearbyint(x / d));  // ties to even, as __float2int_rn
#endif
  return q < -127 ? -127 : (q > 127 ? 127 : q);
}

// The contribution of one 32-element weight sub-block times one activation block a (8 packed
// words) with ds = (d_a, d_a * sum(q_a)):  sum_i w_i * d_a * q_a,i
//   = d_a * (d_lo * dot(q_lo, a_lo) + d_hi * dot(q_hi, a_hi)) + m * d_a * sum(q_a).
KESTREL_HD float sub32_dot(const Sub32& s, const int32_t (&a)[8], float d_a, float s_a) {
  int lo = 0;
  int hi = 0;
KESTREL_UNROLL
  for (int k = 0; k < 4; ++k) {
    lo = dot4_i8(s.q[k], a[k], lo);
    hi = dot4_i8(s.q[k + 4], a[k + 4], hi);
  }
  return d_a * (s.d_lo * static_cast<float>(lo) + s.d_hi * static_cast<float>(hi)) + s.m * s_a;
}

}  // namespace kestrel::backend::cuda
