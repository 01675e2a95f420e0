// Micro-kernels of the 256-element K-quant formats against Q8_K activations.
// The sub-block scales are small integers, so a whole super-block accumulates
// in int32 (products by the scales with madd) and only one float multiply-add
// per super-block remains, plus one for the minimum term.
#pragma once

#include "backend/cpu/x86/avx2/simd.h"

namespace kestrel::backend::avx2 {

// Q8_K activation block: [0,4) d (f32); [4,260) qs; [260,292) bsums (16 x
// int16).
constexpr size_t kQ8KBytes = 292;
inline float q8k_d(const uint8_t* p) {
  float d;
  std::memcpy(&d, p, sizeof d);
  return d;
}

// Q4_K, 144 bytes: [d][dmin][12 bytes of 6-bit scales/mins][128 nibble bytes];
// 64-element chunk c uses bytes 32c..32c+31, low nibbles sub-block 2c, high
// nibbles 2c+1. x = d*sc*q - dmin*m.
struct Q4KKernel {
  static constexpr int kMaxNW = 2;
  static constexpr int kMaxNA = 4;

  struct W {
    const uint8_t* qs;
    __m256i sc[8];  // sc[j] in all 16 int16 lanes
    __m256i mins;   // 16 x int16: m[j] in lanes 2j, 2j+1
    float d;
    float dmin;
  };

  static W load(const uint8_t* p) {
    uint8_t sc[8], m[8];
    const uint8_t* s = p + 4;
    for (int j = 0; j < 4; ++j) {
      sc[j] = s[j] & 63;
      m[j] = s[j + 4] & 63;
      sc[j + 4] = (s[j + 8] & 0x0f) | ((s[j] >> 6) << 4);
      m[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
    }
    W w;
    w.qs = p + 16;
    for (int j = 0; j < 8; ++j) w.sc[j] = _mm256_set1_epi16(sc[j]);
    w.mins = _mm256_setr_epi16(m[0], m[0], m[1], m[1], m[2], m[2], m[3], m[3], m[4], m[4], m[5],
                               m[5], m[6], m[6], m[7], m[7]);
    w.d = f16(load_u16(p));
    w.dmin = f16(load_u16(p + 2));
    return w;
  }

  template <int NW, int NA>
  static void run(int64_t n_in, const uint8_t* w, size_t w_stride, const uint8_t* a,
                  size_t a_stride, float* y, int64_t ldy) {
    const int64_t nb = n_in / 256;
    __m256 acc[NW][NA];
    for (int i = 0; i < NW; ++i) {
      for (int r = 0; r < NA; ++r) acc[i][r] = _mm256_setzero_ps();
    }
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    for (int64_t b = 0; b < nb; ++b) {
      W wb[NW];
      for (int i = 0; i < NW; ++i) wb[i] = load(w + i * w_stride + b * 144);
      for (int r = 0; r < NA; ++r) {
        const uint8_t* ab = a + r * a_stride + b * kQ8KBytes;
        const uint8_t* aq = ab + 4;
        const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab + 260));
        const float da = q8k_d(ab);
        for (int i = 0; i < NW; ++i) {
          __m256i isum = _mm256_setzero_si256();
          for (int c = 0; c < 4; ++c) {
            const __m256i q =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[i].qs + 32 * c));
            const __m256i a_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq + 64 * c));
            const __m256i a_hi =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq + 64 * c + 32));
            const __m256i p_lo = _mm256_maddubs_epi16(_mm256_and_si256(q, low4), a_lo);
            const __m256i p_hi =
                _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), a_hi);
            // All of p_lo belongs to sub-block 2c, all of p_hi to 2c + 1.
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p_lo, wb[i].sc[2 * c]));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p_hi, wb[i].sc[2 * c + 1]));
          }
          // Minimum term: sum_j m[j] * sum(q_a over sub-block j) = mins .
          // bsums.
          const __m256i msum = _mm256_madd_epi16(bsums, wb[i].mins);
          acc[i][r] =
              _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(wb[i].d * da), acc[i][r]);
          acc[i][r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_set1_ps(-wb[i].dmin * da),
                                      acc[i][r]);
        }
      }
    }
    for (int i = 0; i < NW; ++i) {
      for (int r = 0; r < NA; ++r) y[r * ldy + i] = hsum(acc[i][r]);
    }
  }
};

// Q6_K, 210 bytes: [128 ql][64 qh][16 int8 scales][d f16]; half h, l < 32, k <
// 4: element 128h + 32k + l has low bits in nibble k>>1 of ql[64h + 32(k&1) +
// l] and high bits at bits 2k of qh[32h + l]; x = d * scales[e / 16] * (q -
// 32).
struct Q6KKernel {
  static constexpr int kMaxNW = 2;
  static constexpr int kMaxNA = 4;

  struct W {
    const uint8_t* ql;
    const uint8_t* qh;
    __m256i scales16;  // 16 x int16 scales, for the -32 offset against bsums
    int8_t scales[16];
    float d;
  };

  static W load(const uint8_t* p) {
    W w;
    w.ql = p;
    w.qh = p + 128;
    std::memcpy(w.scales, p + 192, 16);
    w.scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 192)));
    w.d = f16(load_u16(p + 208));
    return w;
  }

  template <int NW, int NA>
  static void run(int64_t n_in, const uint8_t* w, size_t w_stride, const uint8_t* a,
                  size_t a_stride, float* y, int64_t ldy) {
    const int64_t nb = n_in / 256;
    __m256 acc[NW][NA];
    for (int i = 0; i < NW; ++i) {
      for (int r = 0; r < NA; ++r) acc[i][r] = _mm256_setzero_ps();
    }
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i low2 = _mm256_set1_epi8(0x03);
    for (int64_t b = 0; b < nb; ++b) {
      W wb[NW];
      for (int i = 0; i < NW; ++i) wb[i] = load(w + i * w_stride + b * 210);
      for (int r = 0; r < NA; ++r) {
        const uint8_t* ab = a + r * a_stride + b * kQ8KBytes;
        const uint8_t* aq = ab + 4;
        const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab + 260));
        const float da = q8k_d(ab);
        for (int i = 0; i < NW; ++i) {
          __m256i isum = _mm256_setzero_si256();
          for (int h = 0; h < 2; ++h) {
            const auto* ql = reinterpret_cast<const __m256i*>(wb[i].ql + 64 * h);
            const __m256i ql0 = _mm256_loadu_si256(ql);
            const __m256i ql1 = _mm256_loadu_si256(ql + 1);
            const __m256i qh =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[i].qh + 32 * h));
            for (int k = 0; k < 4; ++k) {
              const __m256i lo_src = (k & 1) ? ql1 : ql0;
              const __m256i lo = (k >> 1) ? _mm256_and_si256(_mm256_srli_epi16(lo_src, 4), low4)
                                          : _mm256_and_si256(lo_src, low4);
              const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k),
                                                  low2);                        // bits 2k, 2k+1
              const __m256i q = _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));  // 0..63
              const __m256i av =
                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq + 128 * h + 32 * k));
              const __m256i p = _mm256_maddubs_epi16(q, av);
              // Lanes 0..7: sub-block 8h + 2k, lanes 8..15: 8h + 2k + 1.
              const int s = 8 * h + 2 * k;
              const __m256i sc = _mm256_setr_m128i(_mm_set1_epi16(wb[i].scales[s]),
                                                   _mm_set1_epi16(wb[i].scales[s + 1]));
              isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, sc));
            }
          }
          // The -32 offset: 32 * sum_j scales[j] * bsums[j].
          const __m256i off = _mm256_madd_epi16(bsums, wb[i].scales16);
          isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(off, 5));
          acc[i][r] =
              _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(wb[i].d * da), acc[i][r]);
        }
      }
    }
    for (int i = 0; i < NW; ++i) {
      for (int r = 0; r < NA; ++r) y[r * ldy + i] = hsum(acc[i][r]);
    }
  }
};

}  // namespace kestrel::backend::avx2
