// The micro-kernel of every 32-element block format (Q4_0, Q4_1, Q5_0, Q5_1,
// Q8_0) against its Q8_0 or Q8_1 activations. Per block pair: an exact integer
// dot product in 8 int32 lanes, converted to float and accumulated with the
// product of the two f16 scales; formats with a minimum (x = d * q + m) add m *
// s_a, where Q8_1's s_a = d_a * sum(q_a) carries the sum.
#pragma once

#include "backend/cpu/x86/avx2/simd.h"

namespace kestrel::backend::avx2 {

// One weight block unpacked: q holds the 32 quantized values as bytes (signed
// for the symmetric formats, unsigned 0..31 for those with a minimum), abs
// their magnitudes (symmetric only).
struct Block32 {
  __m256i q;
  __m256i abs;
  float d;
  float m;
};

// Traits: kWBytes, kAct (Q8_0 or Q8_1 activation layout), kHasMin, load(block)
// -> Block32.
template <class T>
struct Block32Kernel {
  static constexpr int kMaxNW = 2;
  static constexpr int kMaxNA = 3;
  // Q8_0: [d f16][32 x i8]; Q8_1: [d f16][s f16][32 x i8].
  static constexpr size_t kABytes = T::kHasMin ? 36 : 34;
  static constexpr size_t kAQs = T::kHasMin ? 4 : 2;

  template <int NW, int NA>
  static void run(int64_t n_in, const uint8_t* w, size_t w_stride, const uint8_t* a,
                  size_t a_stride, float* y, int64_t ldy) {
    const int64_t nb = n_in / 32;
    __m256 acc[NW][NA];
    float acc_min[NW][NA];
    for (int i = 0; i < NW; ++i) {
      for (int r = 0; r < NA; ++r) {
        acc[i][r] = _mm256_setzero_ps();
        acc_min[i][r] = 0.0f;
      }
    }
    for (int64_t b = 0; b < nb; ++b) {
      Block32 wb[NW];
      for (int i = 0; i < NW; ++i) wb[i] = T::load(w + i * w_stride + b * T::kWBytes);
      for (int r = 0; r < NA; ++r) {
        const uint8_t* ab = a + r * a_stride + b * kABytes;
        const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab + kAQs));
        const float da = f16(load_u16(ab));
        for (int i = 0; i < NW; ++i) {
          __m256i isum;
          if constexpr (T::kHasMin) {
            isum = dot_u8_s8(wb[i].q, aq);
            acc_min[i][r] += wb[i].m * f16(load_u16(ab + 2));
          } else {
            isum = dot_u8_s8(wb[i].abs, _mm256_sign_epi8(aq, wb[i].q));
          }
          acc[i][r] =
              _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(wb[i].d * da), acc[i][r]);
        }
      }
    }
    for (int i = 0; i < NW; ++i) {
      for (int r = 0; r < NA; ++r) y[r * ldy + i] = hsum(acc[i][r]) + acc_min[i][r];
    }
  }
};

// Q4_0, 18 bytes: [d][16 nibble bytes]; x = d * (q - 8).
struct Q4_0Traits {
  static constexpr size_t kWBytes = 18;
  static constexpr bool kHasMin = false;
  static Block32 load(const uint8_t* p) {
    Block32 b;
    b.q = _mm256_sub_epi8(unpack_nibbles_16(p + 2), _mm256_set1_epi8(8));
    b.abs = _mm256_sign_epi8(b.q, b.q);
    b.d = f16(load_u16(p));
    b.m = 0.0f;
    return b;
  }
};

// Q4_1, 20 bytes: [d][m][16 nibble bytes]; x = d * q + m.
struct Q4_1Traits {
  static constexpr size_t kWBytes = 20;
  static constexpr bool kHasMin = true;
  static Block32 load(const uint8_t* p) {
    Block32 b;
    b.q = unpack_nibbles_16(p + 4);
    b.abs = b.q;
    b.d = f16(load_u16(p));
    b.m = f16(load_u16(p + 2));
    return b;
  }
};

// Q5_0, 22 bytes: [d][qh u32][16 nibble bytes]; bit j of qh is bit 4 of element
// j; x = d * (q - 16).
struct Q5_0Traits {
  static constexpr size_t kWBytes = 22;
  static constexpr bool kHasMin = false;
  static Block32 load(const uint8_t* p) {
    uint32_t qh;
    std::memcpy(&qh, p + 2, sizeof qh);
    const __m256i hi = _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10));
    Block32 b;
    b.q = _mm256_sub_epi8(_mm256_or_si256(unpack_nibbles_16(p + 6), hi), _mm256_set1_epi8(16));
    b.abs = _mm256_sign_epi8(b.q, b.q);
    b.d = f16(load_u16(p));
    b.m = 0.0f;
    return b;
  }
};

// Q5_1, 24 bytes: [d][m][qh u32][16 nibble bytes]; x = d * q + m.
struct Q5_1Traits {
  static constexpr size_t kWBytes = 24;
  static constexpr bool kHasMin = true;
  static Block32 load(const uint8_t* p) {
    uint32_t qh;
    std::memcpy(&qh, p + 4, sizeof qh);
    const __m256i hi = _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10));
    Block32 b;
    b.q = _mm256_or_si256(unpack_nibbles_16(p + 8), hi);
    b.abs = b.q;
    b.d = f16(load_u16(p));
    b.m = f16(load_u16(p + 2));
    return b;
  }
};

// Q8_0, 34 bytes: [d][32 x i8]; x = d * q.
struct Q8_0Traits {
  static constexpr size_t kWBytes = 34;
  static constexpr bool kHasMin = false;
  static Block32 load(const uint8_t* p) {
    Block32 b;
    b.q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2));
    b.abs = _mm256_sign_epi8(b.q, b.q);
    b.d = f16(load_u16(p));
    b.m = 0.0f;
    return b;
  }
};

}  // namespace kestrel::backend::avx2
