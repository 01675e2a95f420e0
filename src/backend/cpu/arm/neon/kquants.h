// Micro-kernels of the 256-element K-quant formats against Q8_K activations. The sub-block
// scales are small integers, so a whole super-block accumulates in int32 lanes (each sub-block's
// dot product multiplied by its scale) and only one float multiply-add per super-block remains,
// plus one for Q4_K's minimum term. Each weight super-block is unpacked once per tile, 16
// elements at a time, and used against every activation row of the tile.
#pragma once

#include "backend/cpu/arm/neon/simd.h"

namespace kestrel::backend::neon {

// Q8_K activation block: [0,4) d (f32); [4,260) qs; [260,292) bsums (16 x int16).
constexpr size_t kQ8KBytes = 292;

// Q4_K, 144 bytes: [d][dmin][12 bytes of 6-bit scales/mins][128 nibble bytes]; 64-element chunk
// c uses bytes 32c..32c+31, low nibbles sub-block 2c, high nibbles 2c+1. x = d*sc*q - dmin*m.
template <class Dot>
struct Q4KKernel {
  static constexpr int kMaxNW = 2;
  static constexpr int kMaxNA = 4;

  struct W {
    const uint8_t* qs;
    int32_t sc[8];
    int16x8_t mins;
    float d;
    float dmin;
  };

  static KESTREL_NEON_INLINE W load(const uint8_t* p) {
    int16_t m[8];
    W w;
    const uint8_t* s = p + 4;
    for (int j = 0; j < 4; ++j) {
      w.sc[j] = s[j] & 63;
      m[j] = s[j + 4] & 63;
      w.sc[j + 4] = (s[j + 8] & 0x0f) | ((s[j] >> 6) << 4);
      m[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
    }
    w.qs = p + 16;
    w.mins = vld1q_s16(m);
    w.d = f16(p);
    w.dmin = f16(p + 2);
    return w;
  }

  template <int NW, int NA>
  static void run(int64_t n_in, const uint8_t* w, size_t w_stride, const uint8_t* a,
                  size_t a_stride, float* y, int64_t ldy) {
    const int64_t nb = n_in / 256;
    float32x4_t acc[NW][NA];
    for (int i = 0; i < NW; ++i) {
      for (int r = 0; r < NA; ++r) acc[i][r] = vdupq_n_f32(0.0f);
    }
    const uint8x16_t low4 = vdupq_n_u8(0x0f);
    const int32x4_t zero = vdupq_n_s32(0);
    for (int64_t b = 0; b < nb; ++b) {
      W wb[NW];
      for (int i = 0; i < NW; ++i) wb[i] = load(w + i * w_stride + b * 144);
      int32x4_t isum[NW][NA];
      for (int i = 0; i < NW; ++i) {
        for (int r = 0; r < NA; ++r) isum[i][r] = zero;
      }
      for (int c = 0; c < 4; ++c) {
        int8x16_t lo0[NW], lo1[NW], hi0[NW], hi1[NW];
        for (int i = 0; i < NW; ++i) {
          const uint8x16_t q0 = vld1q_u8(wb[i].qs + 32 * c);
          const uint8x16_t q1 = vld1q_u8(wb[i].qs + 32 * c + 16);
          lo0[i] = vreinterpretq_s8_u8(vandq_u8(q0, low4));
          lo1[i] = vreinterpretq_s8_u8(vandq_u8(q1, low4));
          hi0[i] = vreinterpretq_s8_u8(vshrq_n_u8(q0, 4));
          hi1[i] = vreinterpretq_s8_u8(vshrq_n_u8(q1, 4));
        }
        for (int r = 0; r < NA; ++r) {
          const uint8_t* aq = a + r * a_stride + b * kQ8KBytes + 4 + 64 * c;
          const int8x16_t a0 = load_s8(aq), a1 = load_s8(aq + 16);
          const int8x16_t a2 = load_s8(aq + 32), a3 = load_s8(aq + 48);
          for (int i = 0; i < NW; ++i) {
            const int32x4_t dlo = Dot::dot(Dot::dot(zero, lo0[i], a0), lo1[i], a1);
            const int32x4_t dhi = Dot::dot(Dot::dot(zero, hi0[i], a2), hi1[i], a3);
            isum[i][r] = vmlaq_n_s32(isum[i][r], dlo, wb[i].sc[2 * c]);
            isum[i][r] = vmlaq_n_s32(isum[i][r], dhi, wb[i].sc[2 * c + 1]);
          }
        }
      }
      for (int r = 0; r < NA; ++r) {
        const uint8_t* ab = a + r * a_stride + b * kQ8KBytes;
        const float da = load_f32(ab);
        // Minimum term: sum_j m[j] * sum(q_a over sub-block j); the 16-element bsums pair up
        // into the 8 sub-blocks (each pair sum fits int16: at most 32 * 127).
        const int16x8_t sub = vpaddq_s16(vld1q_s16(reinterpret_cast<const int16_t*>(ab + 260)),
                                         vld1q_s16(reinterpret_cast<const int16_t*>(ab + 276)));
        for (int i = 0; i < NW; ++i) {
          const int32x4_t msum = vmlal_high_s16(
              vmull_s16(vget_low_s16(sub), vget_low_s16(wb[i].mins)), sub, wb[i].mins);
          acc[i][r] = vfmaq_n_f32(acc[i][r], vcvtq_f32_s32(isum[i][r]), wb[i].d * da);
          acc[i][r] = vfmaq_n_f32(acc[i][r], vcvtq_f32_s32(msum), -wb[i].dmin * da);
        }
      }
    }
    for (int i = 0; i < NW; ++i) {
      for (int r = 0; r < NA; ++r) y[r * ldy + i] = vaddvq_f32(acc[i][r]);
    }
  }
};

// Q6_K, 210 bytes: [128 ql][64 qh][16 int8 scales][d f16]; half h, l < 32, k < 4: element
// 128h + 32k + l has low bits in nibble k>>1 of ql[64h + 32(k&1) + l] and high bits at bits 2k of
// qh[32h + l]; x = d * scales[e / 16] * (q - 32).
template <class Dot>
struct Q6KKernel {
  static constexpr int kMaxNW = 2;
  static constexpr int kMaxNA = 4;

  template <int NW, int NA>
  static void run(int64_t n_in, const uint8_t* w, size_t w_stride, const uint8_t* a,
                  size_t a_stride, float* y, int64_t ldy) {
    const int64_t nb = n_in / 256;
    float32x4_t acc[NW][NA];
    for (int i = 0; i < NW; ++i) {
      for (int r = 0; r < NA; ++r) acc[i][r] = vdupq_n_f32(0.0f);
    }
    const uint8x16_t low4 = vdupq_n_u8(0x0f);
    const int8x16_t off = vdupq_n_s8(32);
    const int32x4_t zero = vdupq_n_s32(0);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* wp[NW];
      for (int i = 0; i < NW; ++i) wp[i] = w + i * w_stride + b * 210;
      int32x4_t isum[NW][NA];
      for (int i = 0; i < NW; ++i) {
        for (int r = 0; r < NA; ++r) isum[i][r] = zero;
      }
      // 16 elements at a time: l in [16 part, 16 part + 16) of half h.
      for (int h = 0; h < 2; ++h) {
        for (int part = 0; part < 2; ++part) {
          uint8x16_t ql0[NW], ql1[NW], qh[NW];
          for (int i = 0; i < NW; ++i) {
            ql0[i] = vld1q_u8(wp[i] + 64 * h + 16 * part);
            ql1[i] = vld1q_u8(wp[i] + 64 * h + 32 + 16 * part);
            qh[i] = vld1q_u8(wp[i] + 128 + 32 * h + 16 * part);
          }
          for (int k = 0; k < 4; ++k) {
            int8x16_t q[NW];
            for (int i = 0; i < NW; ++i) {
              const uint8x16_t src = (k & 1) ? ql1[i] : ql0[i];
              const uint8x16_t lo = (k >> 1) ? vshrq_n_u8(src, 4) : vandq_u8(src, low4);
              // Bits 2k, 2k+1 of qh moved to bits 4, 5 (a negative count shifts right).
              const uint8x16_t hi = vshlq_u8(vandq_u8(qh[i], vdupq_n_u8(3 << (2 * k))),
                                             vdupq_n_s8(static_cast<int8_t>(4 - 2 * k)));
              q[i] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, hi)), off);  // -32..31
            }
            const int sub = 8 * h + 2 * k + part;
            for (int r = 0; r < NA; ++r) {
              const int8x16_t av =
                  load_s8(a + r * a_stride + b * kQ8KBytes + 4 + 128 * h + 32 * k + 16 * part);
              for (int i = 0; i < NW; ++i) {
                const int32_t sc = static_cast<int8_t>(wp[i][192 + sub]);
                isum[i][r] = vmlaq_n_s32(isum[i][r], Dot::dot(zero, q[i], av), sc);
              }
            }
          }
        }
      }
      for (int r = 0; r < NA; ++r) {
        const float da = load_f32(a + r * a_stride + b * kQ8KBytes);
        for (int i = 0; i < NW; ++i) {
          acc[i][r] = vfmaq_n_f32(acc[i][r], vcvtq_f32_s32(isum[i][r]), f16(wp[i] + 208) * da);
        }
      }
    }
    for (int i = 0; i < NW; ++i) {
      for (int r = 0; r < NA; ++r) y[r * ldy + i] = vaddvq_f32(acc[i][r]);
    }
  }
};

}  // namespace kestrel::backend::neon
