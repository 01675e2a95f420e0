// The micro-kernel of every 32-element block format (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) against its
// Q8_0 or Q8_1 activations. Per block pair: an exact integer dot product in 4 int32 lanes,
// converted to float and accumulated with the product of the two f16 scales; formats with a
// minimum (x = d * q + m) add m * s_a, where Q8_1's s_a = d_a * sum(q_a) carries the sum.
#pragma once

#include "backend/cpu/arm/neon/simd.h"

namespace kestrel::backend::neon {

// One weight block unpacked: the 32 quantized values as int8 (elements 0..15 in lo, 16..31 in
// hi), offset already removed for the symmetric formats, 0..31 for those with a minimum.
struct Block32 {
  int8x16_t lo;
  int8x16_t hi;
  float d;
  float m;
};

// 16 bytes of packed nibbles -> elements 0..15 (low nibbles) and 16..31 (high nibbles), the
// GGUF order of Q4_0/Q4_1/Q5_*.
KESTREL_NEON_INLINE void unpack_nibbles_16(const uint8_t* p, uint8x16_t& lo, uint8x16_t& hi) {
  const uint8x16_t b = vld1q_u8(p);
  lo = vandq_u8(b, vdupq_n_u8(0x0f));
  hi = vshrq_n_u8(b, 4);
}

// Bit 4 of each of the 32 elements from Q5's qh word (bit j for element j).
KESTREL_NEON_INLINE void fifth_bits(const uint8_t* p, uint8x16_t& lo, uint8x16_t& hi) {
  uint32_t qh;
  std::memcpy(&qh, p, sizeof qh);
  lo = vandq_u8(bits_to_bytes(qh), vdupq_n_u8(0x10));
  hi = vandq_u8(bits_to_bytes(qh >> 16), vdupq_n_u8(0x10));
}

// Q4_0, 18 bytes: [d][16 nibble bytes]; x = d * (q - 8).
struct Q4_0Traits {
  static constexpr size_t kWBytes = 18;
  static constexpr bool kHasMin = false;
  static KESTREL_NEON_INLINE Block32 load(const uint8_t* p) {
    uint8x16_t lo, hi;
    unpack_nibbles_16(p + 2, lo, hi);
    const int8x16_t off = vdupq_n_s8(8);
    return {vsubq_s8(vreinterpretq_s8_u8(lo), off), vsubq_s8(vreinterpretq_s8_u8(hi), off), f16(p),
            0.0f};
  }
};

// Q4_1, 20 bytes: [d][m][16 nibble bytes]; x = d * q + m.
struct Q4_1Traits {
  static constexpr size_t kWBytes = 20;
  static constexpr bool kHasMin = true;
  static KESTREL_NEON_INLINE Block32 load(const uint8_t* p) {
    uint8x16_t lo, hi;
    unpack_nibbles_16(p + 4, lo, hi);
    return {vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi), f16(p), f16(p + 2)};
  }
};

// Q5_0, 22 bytes: [d][qh u32][16 nibble bytes]; x = d * (q - 16).
struct Q5_0Traits {
  static constexpr size_t kWBytes = 22;
  static constexpr bool kHasMin = false;
  static KESTREL_NEON_INLINE Block32 load(const uint8_t* p) {
    uint8x16_t lo, hi, lo5, hi5;
    unpack_nibbles_16(p + 6, lo, hi);
    fifth_bits(p + 2, lo5, hi5);
    const int8x16_t off = vdupq_n_s8(16);
    return {vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, lo5)), off),
            vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(hi, hi5)), off), f16(p), 0.0f};
  }
};

// Q5_1, 24 bytes: [d][m][qh u32][16 nibble bytes]; x = d * q + m.
struct Q5_1Traits {
  static constexpr size_t kWBytes = 24;
  static constexpr bool kHasMin = true;
  static KESTREL_NEON_INLINE Block32 load(const uint8_t* p) {
    uint8x16_t lo, hi, lo5, hi5;
    unpack_nibbles_16(p + 8, lo, hi);
    fifth_bits(p + 4, lo5, hi5);
    return {vreinterpretq_s8_u8(vorrq_u8(lo, lo5)), vreinterpretq_s8_u8(vorrq_u8(hi, hi5)), f16(p),
            f16(p + 2)};
  }
};

// Q8_0, 34 bytes: [d][32 x i8]; x = d * q.
struct Q8_0Traits {
  static constexpr size_t kWBytes = 34;
  static constexpr bool kHasMin = false;
  static KESTREL_NEON_INLINE Block32 load(const uint8_t* p) {
    return {load_s8(p + 2), load_s8(p + 18), f16(p), 0.0f};
  }
};

// Traits: kWBytes, kHasMin (Q8_1 activations if so, else Q8_0), load(block) -> Block32.
template <class T, class Dot>
struct Block32Kernel {
  static constexpr int kMaxNW = 2;
  static constexpr int kMaxNA = 4;
  // Q8_0: [d f16][32 x i8]; Q8_1: [d f16][s f16][32 x i8].
  static constexpr size_t kABytes = T::kHasMin ? 36 : 34;
  static constexpr size_t kAQs = T::kHasMin ? 4 : 2;

  template <int NW, int NA>
  static void run(int64_t n_in, const uint8_t* w, size_t w_stride, const uint8_t* a,
                  size_t a_stride, float* y, int64_t ldy) {
    const int64_t nb = n_in / 32;
    float32x4_t acc[NW][NA];
    float acc_min[NW][NA];
    for (int i = 0; i < NW; ++i) {
      for (int r = 0; r < NA; ++r) {
        acc[i][r] = vdupq_n_f32(0.0f);
        acc_min[i][r] = 0.0f;
      }
    }
    for (int64_t b = 0; b < nb; ++b) {
      Block32 wb[NW];
      for (int i = 0; i < NW; ++i) wb[i] = T::load(w + i * w_stride + b * T::kWBytes);
      for (int r = 0; r < NA; ++r) {
        const uint8_t* ab = a + r * a_stride + b * kABytes;
        const int8x16_t a_lo = load_s8(ab + kAQs);
        const int8x16_t a_hi = load_s8(ab + kAQs + 16);
        const float da = f16(ab);
        for (int i = 0; i < NW; ++i) {
          const int32x4_t isum = Dot::dot(Dot::dot(vdupq_n_s32(0), wb[i].lo, a_lo), wb[i].hi, a_hi);
          acc[i][r] = vfmaq_n_f32(acc[i][r], vcvtq_f32_s32(isum), wb[i].d * da);
          if constexpr (T::kHasMin) acc_min[i][r] += wb[i].m * f16(ab + 2);
        }
      }
    }
    for (int i = 0; i < NW; ++i) {
      for (int r = 0; r < NA; ++r) y[r * ldy + i] = vaddvq_f32(acc[i][r]) + acc_min[i][r];
    }
  }
};

}  // namespace kestrel::backend::neon
