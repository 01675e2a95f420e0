// AVX2 pieces of tiled attention (the driver is src/backend/cpu/attention.cc):
// score and probability-times-value tiles register-blocked over rows and keys,
// a vectorized exp, and F16 row conversions with F16C; and the gated activations
// (SiLU, GELU) on the same exp.
#include <cmath>

#include "backend/cpu/kernel_table.h"
#include "backend/cpu/x86/avx2/simd.h"

namespace kestrel::backend {
namespace {

// Horizontal sums of four vectors: lane i of the result is the sum of the lanes
// of v[i].
inline __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 ab = _mm256_hadd_ps(a, b);
  const __m256 cd = _mm256_hadd_ps(c, d);
  const __m256 abcd = _mm256_hadd_ps(ab, cd);
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

float dot_tail(const float* q, const float* k, int64_t from, int64_t d) {
  float sum = 0.0f;
  for (int64_t i = from; i < d; ++i) sum += q[i] * k[i];
  return sum;
}

// Two query rows x four keys per step: 8 accumulators, 6 loads per 8
// multiply-adds.
void scores(const float* q, int64_t ldq, int rows, const float* k, int64_t ldk, int n_keys,
            int64_t d, float* s, int64_t lds) {
  const int64_t d8 = d / 8 * 8;
  int r = 0;
  for (; r < rows; r += 2) {
    const bool two = r + 1 < rows;
    const float* q0 = q + r * ldq;
    const float* q1 = two ? q0 + ldq : q0;
    int j = 0;
    for (; j + 4 <= n_keys; j += 4) {
      const float* k0 = k + j * ldk;
      __m256 a[2][4];
      for (auto& row : a) {
        for (auto& v : row) v = _mm256_setzero_ps();
      }
      for (int64_t i = 0; i < d8; i += 8) {
        const __m256 x0 = _mm256_loadu_ps(q0 + i);
        const __m256 x1 = _mm256_loadu_ps(q1 + i);
        for (int c = 0; c < 4; ++c) {
          const __m256 kv = _mm256_loadu_ps(k0 + c * ldk + i);
          a[0][c] = _mm256_fmadd_ps(x0, kv, a[0][c]);
          a[1][c] = _mm256_fmadd_ps(x1, kv, a[1][c]);
        }
      }
      for (int t = 0; t < (two ? 2 : 1); ++t) {
        const float* qt = t == 0 ? q0 : q1;
        float out[4];
        _mm_storeu_ps(out, hsum4(a[t][0], a[t][1], a[t][2], a[t][3]));
        for (int c = 0; c < 4; ++c) {
          s[(r + t) * lds + j + c] = out[c] + dot_tail(qt, k0 + c * ldk, d8, d);
        }
      }
    }
    for (; j < n_keys; ++j) {
      const float* kj = k + j * ldk;
      for (int t = 0; t < (two ? 2 : 1); ++t) {
        const float* qt = t == 0 ? q0 : q1;
        __m256 acc = _mm256_setzero_ps();
        for (int64_t i = 0; i < d8; i += 8) {
          acc = _mm256_fmadd_ps(_mm256_loadu_ps(qt + i), _mm256_loadu_ps(kj + i), acc);
        }
        s[(r + t) * lds + j] = avx2::hsum(acc) + dot_tail(qt, kj, d8, d);
      }
    }
  }
}

// Up to four rows x 16 output dims per pass: each value vector is loaded once
// for four rows.
void pv(const float* p, int64_t ldp, int rows, const float* v, int64_t ldv, int n_keys, int64_t d,
        float* o, int64_t ldo) {
  const int64_t d16 = d / 16 * 16;
  for (int r0 = 0; r0 < rows; r0 += 4) {
    const int nr = rows - r0 < 4 ? rows - r0 : 4;
    for (int64_t i = 0; i < d16; i += 16) {
      __m256 acc[4][2];
      for (int r = 0; r < nr; ++r) {
        acc[r][0] = _mm256_loadu_ps(o + (r0 + r) * ldo + i);
        acc[r][1] = _mm256_loadu_ps(o + (r0 + r) * ldo + i + 8);
      }
      for (int j = 0; j < n_keys; ++j) {
        const __m256 v0 = _mm256_loadu_ps(v + j * ldv + i);
        const __m256 v1 = _mm256_loadu_ps(v + j * ldv + i + 8);
        for (int r = 0; r < nr; ++r) {
          const __m256 pj = _mm256_broadcast_ss(p + (r0 + r) * ldp + j);
          acc[r][0] = _mm256_fmadd_ps(pj, v0, acc[r][0]);
          acc[r][1] = _mm256_fmadd_ps(pj, v1, acc[r][1]);
        }
      }
      for (int r = 0; r < nr; ++r) {
        _mm256_storeu_ps(o + (r0 + r) * ldo + i, acc[r][0]);
        _mm256_storeu_ps(o + (r0 + r) * ldo + i + 8, acc[r][1]);
      }
    }
    for (int r = r0; r < r0 + nr; ++r) {
      for (int j = 0; j < n_keys; ++j) {
        for (int64_t i = d16; i < d; ++i) o[r * ldo + i] += p[r * ldp + j] * v[j * ldv + i];
      }
    }
  }
}

// exp(x) for x in [-87, 88]: x = n ln2 + f, |f| <= ln2/2, exp(f) by a degree-7 polynomial
// (relative error below 2^-23), then 2^n through the exponent bits.
inline __m256 exp_in_range(__m256 x) {
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 f = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  f = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), f);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(f, f), _mm256_add_ps(f, _mm256_set1_ps(1.0f)));
  const __m256i pow2 =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(pow2));
}

// exp(x), arguments below -87 (including -inf) giving exactly 0 and above 88 clamped to exp(88).
inline __m256 exp_clamped(__m256 x) {
  const __m256 underflow = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
  return _mm256_andnot_ps(underflow, exp_in_range(x));
}

float exp_sum(float* x, int64_t n, float max) {
  const __m256 m = _mm256_set1_ps(max);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp_clamped(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  float sum = avx2::hsum(acc);
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  return sum;
}

void f16_to_f32(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  }
  for (; i < n; ++i) y[i] = _cvtsh_ss(x[i]);
}

void round_f16(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm256_storeu_ps(x + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) x[i] = _cvtsh_ss(_cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT));
}

// SiLU: g / (1 + exp(-g)). GELU (tanh form): 0.5 g (1 + tanh(u)), u = sqrt(2/pi) (g + 0.044715
// g^3), with tanh(u) = sign(u) (1 - e) / (1 + e), e = exp(-2|u|) <= 1.
void glu(const float* gate, const float* up, float* out, int64_t n, Activation act) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    __m256 a;
    switch (act) {
      case Activation::kSilu:
        a = _mm256_div_ps(g, _mm256_add_ps(one, exp_clamped(_mm256_xor_ps(g, sign_mask))));
        break;
      case Activation::kGeluTanh: {
        const __m256 g2 = _mm256_mul_ps(g, g);
        const __m256 u =
            _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.79788456080286535587989211986876f), g),
                          _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), g2, one));
        const __m256 au = _mm256_andnot_ps(sign_mask, u);
        const __m256 e = exp_clamped(_mm256_mul_ps(_mm256_set1_ps(-2.0f), au));
        const __m256 t = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
        const __m256 tanh_u = _mm256_or_ps(t, _mm256_and_ps(u, sign_mask));
        a = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), g), _mm256_add_ps(one, tanh_u));
        break;
      }
    }
    _mm256_storeu_ps(out + i, _mm256_mul_ps(a, _mm256_loadu_ps(up + i)));
  }
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  for (; i < n; ++i) {
    const float g = gate[i];
    const float a =
        act == Activation::kSilu
            ? g / (1.0f + std::exp(-g))
            : 0.5f * g * (1.0f + std::tanh(kSqrt2OverPi * g * (1.0f + 0.044715f * g * g)));
    out[i] = a * up[i];
  }
}

}  // namespace

void install_avx2_attention(KernelTable& t) {
  t.scores = scores;
  t.pv = pv;
  t.exp_sum = exp_sum;
  t.f16_to_f32 = f16_to_f32;
  t.round_f16 = round_f16;
  t.glu = glu;
}

}  // namespace kestrel::backend
