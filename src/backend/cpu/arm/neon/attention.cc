// NEON pieces of tiled attention (the driver is src/backend/cpu/attention.cc): score and
// probability-times-value tiles register-blocked over rows and keys, a vectorized exp, and F16
// row conversions (FCVTL/FCVTN, base Armv8-A).
#include <cmath>

#include "backend/cpu/arm/neon/simd.h"
#include "backend/cpu/kernel_table.h"

namespace kestrel::backend {
namespace {

float dot_tail(const float* q, const float* k, int64_t from, int64_t d) {
  float sum = 0.0f;
  for (int64_t i = from; i < d; ++i) sum += q[i] * k[i];
  return sum;
}

// Two query rows x four keys per step: 8 accumulators, 6 loads per 8 multiply-adds.
void scores(const float* q, int64_t ldq, int rows, const float* k, int64_t ldk, int n_keys,
            int64_t d, float* s, int64_t lds) {
  const int64_t d4 = d / 4 * 4;
  for (int r = 0; r < rows; r += 2) {
    const bool two = r + 1 < rows;
    const float* q0 = q + r * ldq;
    const float* q1 = two ? q0 + ldq : q0;
    int j = 0;
    for (; j + 4 <= n_keys; j += 4) {
      const float* k0 = k + j * ldk;
      float32x4_t a[2][4];
      for (auto& row : a) {
        for (auto& v : row) v = vdupq_n_f32(0.0f);
      }
      for (int64_t i = 0; i < d4; i += 4) {
        const float32x4_t x0 = vld1q_f32(q0 + i);
        const float32x4_t x1 = vld1q_f32(q1 + i);
        for (int c = 0; c < 4; ++c) {
          const float32x4_t kv = vld1q_f32(k0 + c * ldk + i);
          a[0][c] = vfmaq_f32(a[0][c], x0, kv);
          a[1][c] = vfmaq_f32(a[1][c], x1, kv);
        }
      }
      for (int t = 0; t < (two ? 2 : 1); ++t) {
        const float* qt = t == 0 ? q0 : q1;
        // Lane c of the pairwise sums is the total of a[t][c].
        const float32x4_t sums =
            vpaddq_f32(vpaddq_f32(a[t][0], a[t][1]), vpaddq_f32(a[t][2], a[t][3]));
        float out[4];
        vst1q_f32(out, sums);
        for (int c = 0; c < 4; ++c) {
          s[(r + t) * lds + j + c] = out[c] + dot_tail(qt, k0 + c * ldk, d4, d);
        }
      }
    }
    for (; j < n_keys; ++j) {
      const float* kj = k + j * ldk;
      for (int t = 0; t < (two ? 2 : 1); ++t) {
        const float* qt = t == 0 ? q0 : q1;
        float32x4_t acc = vdupq_n_f32(0.0f);
        for (int64_t i = 0; i < d4; i += 4)
          acc = vfmaq_f32(acc, vld1q_f32(qt + i), vld1q_f32(kj + i));
        s[(r + t) * lds + j] = vaddvq_f32(acc) + dot_tail(qt, kj, d4, d);
      }
    }
  }
}

// Up to four rows x 16 output dims per pass: each value vector is loaded once for four rows.
void pv(const float* p, int64_t ldp, int rows, const float* v, int64_t ldv, int n_keys, int64_t d,
        float* o, int64_t ldo) {
  const int64_t d16 = d / 16 * 16;
  for (int r0 = 0; r0 < rows; r0 += 4) {
    const int nr = rows - r0 < 4 ? rows - r0 : 4;
    for (int64_t i = 0; i < d16; i += 16) {
      float32x4_t acc[4][4];
      for (int r = 0; r < nr; ++r) {
        for (int c = 0; c < 4; ++c) acc[r][c] = vld1q_f32(o + (r0 + r) * ldo + i + 4 * c);
      }
      for (int j = 0; j < n_keys; ++j) {
        float32x4_t vv[4];
        for (int c = 0; c < 4; ++c) vv[c] = vld1q_f32(v + j * ldv + i + 4 * c);
        for (int r = 0; r < nr; ++r) {
          const float pj = p[(r0 + r) * ldp + j];
          for (int c = 0; c < 4; ++c) acc[r][c] = vfmaq_n_f32(acc[r][c], vv[c], pj);
        }
      }
      for (int r = 0; r < nr; ++r) {
        for (int c = 0; c < 4; ++c) vst1q_f32(o + (r0 + r) * ldo + i + 4 * c, acc[r][c]);
      }
    }
    for (int r = r0; r < r0 + nr; ++r) {
      for (int j = 0; j < n_keys; ++j) {
        for (int64_t i = d16; i < d; ++i) o[r * ldo + i] += p[r * ldp + j] * v[j * ldv + i];
      }
    }
  }
}

// exp(x) for x <= 0 (softmax arguments): x = n ln2 + f, |f| <= ln2/2, exp(f) by a degree-7
// polynomial (relative error below 2^-23), then 2^n through the exponent bits. Arguments below
// -87 (including -inf, the masked keys) give exactly 0.
inline float32x4_t exp_nonpositive(float32x4_t x) {
  const uint32x4_t underflow = vcltq_f32(x, vdupq_n_f32(-87.0f));
  x = vmaxq_f32(x, vdupq_n_f32(-87.0f));
  const float32x4_t n = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
  float32x4_t f = vfmsq_f32(x, n, vdupq_n_f32(0.693359375f));
  f = vfmsq_f32(f, n, vdupq_n_f32(-2.12194440e-4f));
  float32x4_t y = vdupq_n_f32(1.9875691500e-4f);
  y = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), y, f);
  y = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), y, f);
  y = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), y, f);
  y = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), y, f);
  y = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), y, f);
  y = vfmaq_f32(vaddq_f32(f, vdupq_n_f32(1.0f)), y, vmulq_f32(f, f));
  const int32x4_t pow2 = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
  y = vmulq_f32(y, vreinterpretq_f32_s32(pow2));
  return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(y), underflow));
}

float exp_sum(float* x, int64_t n, float max) {
  const float32x4_t m = vdupq_n_f32(max);
  float32x4_t acc = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t e = exp_nonpositive(vsubq_f32(vld1q_f32(x + i), m));
    vst1q_f32(x + i, e);
    acc = vaddq_f32(acc, e);
  }
  float sum = vaddvq_f32(acc);
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  return sum;
}

void f16_to_f32(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(x + i));
    vst1q_f32(y + i, vcvt_f32_f16(vget_low_f16(h)));
    vst1q_f32(y + i + 4, vcvt_high_f32_f16(h));
  }
  for (; i < n; ++i) y[i] = neon::f16(reinterpret_cast<const uint8_t*>(x + i));
}

// float -> half with the FPCR rounding mode (round to nearest even, as quant::fp32_to_fp16).
void round_f16(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vcvt_f32_f16(vcvt_f16_f32(vld1q_f32(x + i))));
  for (; i < n; ++i) x[i] = static_cast<float>(static_cast<__fp16>(x[i]));
}

}  // namespace

void install_neon_attention(KernelTable& t) {
  t.scores = scores;
  t.pv = pv;
  t.exp_sum = exp_sum;
  t.f16_to_f32 = f16_to_f32;
  t.round_f16 = round_f16;
}

}  // namespace kestrel::backend
