// AVX2 pieces of tiled attention (the driver is src/backend/cpu/attention.cc):
// score and probability-times-value tiles register-blocked over rows and keys,
// a vectorized exp, and F16 row conversions with F16C; and the gated activations
// (SiLU, GELU) on the same exp.
#include <cmath>

#include "backend/cpu/kernel_table.h"
#include "backend/cpu/x86/avx2/simd.h"

namespace kestrel::backend {
namespace {

// Keys and values come as F32 rows (a converted tile) or straight from the F16 cache; the
// kernels are the same templates over the element type, so both give identical sums.
inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline float to_float(float x) { return x; }
inline float to_float(uint16_t x) { return _cvtsh_ss(x); }

template <class T>
float dot_tail(const float* q, const T* k, int64_t from, int64_t d) {
  float sum = 0.0f;
  // Explicit fma: the F32 and F16 instantiations must round alike.
  for (int64_t i = from; i < d; ++i) sum = std::fma(q[i], to_float(k[i]), sum);
  return sum;
}

// Sums of the lanes of four (eight) vectors, as the lanes of one vector.
inline __m128 hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 u = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(u), _mm256_extractf128_ps(u, 1));
}
inline __m256 hsum8(const __m256* a) {
  const __m256 u0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
  const __m256 u1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// R query rows x C keys of accumulators (R * C = 8), reduced to C scores per row at once; each
// loaded key vector feeds R multiply-adds. d is a multiple of 8 here.
template <int R, int C, class T>
[[gnu::always_inline]] inline void score_block(const float* q, int64_t ldq, const T* k,
                                               int64_t ldk, int64_t d, float* s, int64_t lds) {
  __m256 acc[R][C];
  for (auto& row : acc) {
    for (auto& v : row) v = _mm256_setzero_ps();
  }
  for (int64_t i = 0; i < d; i += 8) {
    for (int c = 0; c < C; ++c) {
      const __m256 kv = load8(k + c * ldk + i);
      for (int r = 0; r < R; ++r) {
        acc[r][c] = _mm256_fmadd_ps(_mm256_loadu_ps(q + r * ldq + i), kv, acc[r][c]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    if constexpr (C == 8) {
      _mm256_storeu_ps(s + r * lds, hsum8(acc[r]));
    } else {
      _mm_storeu_ps(s + r * lds, hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]));
    }
  }
}

template <class T>
float dot(const float* q, const T* k, int64_t d) {
  const int64_t d8 = d / 8 * 8;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < d8; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load8(k + i), acc);
  return avx2::hsum(acc) + dot_tail(q, k, d8, d);
}

// Rows of R against the keys, C at a time; leftover keys (and head sizes that are not a multiple
// of 8) one dot product at a time.
template <int R, int C, class T>
void score_rows(const float* q, int64_t ldq, const T* k, int64_t ldk, int n_keys, int64_t d,
                float* s, int64_t lds) {
  int j = 0;
  if (d % 8 == 0) {
    for (; j + C <= n_keys; j += C) score_block<R, C>(q, ldq, k + j * ldk, ldk, d, s + j, lds);
  }
  for (; j < n_keys; ++j) {
    for (int r = 0; r < R; ++r) s[r * lds + j] = dot(q + r * ldq, k + j * ldk, d);
  }
}

template <class T>
void scores(const float* q, int64_t ldq, int rows, const T* k, int64_t ldk, int n_keys, int64_t d,
            float* s, int64_t lds) {
  int r = 0;
  for (; r + 2 <= rows; r += 2) score_rows<2, 4>(q + r * ldq, ldq, k, ldk, n_keys, d, s + r * lds, lds);
  if (r < rows) score_rows<1, 8>(q + r * ldq, ldq, k, ldk, n_keys, d, s + r * lds, lds);
}

// R rows x 8W output dims of accumulators per pass (R * W <= 12): each value vector loaded
// feeds R multiply-adds, each probability broadcast feeds W.
template <int R, int W, class T>
void pv_block(const float* p, int64_t ldp, const T* v, int64_t ldv, int n_keys, float* o,
              int64_t ldo) {
  __m256 acc[R][W];
  for (int r = 0; r < R; ++r) {
    for (int w = 0; w < W; ++w) acc[r][w] = _mm256_loadu_ps(o + r * ldo + 8 * w);
  }
  for (int j = 0; j < n_keys; ++j) {
    __m256 vv[W];
    for (int w = 0; w < W; ++w) vv[w] = load8(v + j * ldv + 8 * w);
    for (int r = 0; r < R; ++r) {
      const __m256 pj = _mm256_broadcast_ss(p + r * ldp + j);
      for (int w = 0; w < W; ++w) acc[r][w] = _mm256_fmadd_ps(pj, vv[w], acc[r][w]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int w = 0; w < W; ++w) _mm256_storeu_ps(o + r * ldo + 8 * w, acc[r][w]);
  }
}

template <int R, class T>
void pv_rows(const float* p, int64_t ldp, const T* v, int64_t ldv, int n_keys, int64_t d,
             float* o, int64_t ldo) {
  constexpr int W = R >= 3 ? 12 / R : 4;  // 8W dims per pass
  int64_t i = 0;
  for (; i + 8 * W <= d; i += 8 * W) pv_block<R, W>(p, ldp, v + i, ldv, n_keys, o + i, ldo);
  for (; i + 8 <= d; i += 8) pv_block<R, 1>(p, ldp, v + i, ldv, n_keys, o + i, ldo);
  for (int r = 0; r < R; ++r) {
    for (int j = 0; j < n_keys; ++j) {
      for (int64_t t = i; t < d; ++t) {
        o[r * ldo + t] = std::fma(p[r * ldp + j], to_float(v[j * ldv + t]), o[r * ldo + t]);
      }
    }
  }
}

template <class T>
void pv(const float* p, int64_t ldp, int rows, const T* v, int64_t ldv, int n_keys, int64_t d,
        float* o, int64_t ldo) {
  int r = 0;
  for (; r + 4 <= rows; r += 4) pv_rows<4>(p + r * ldp, ldp, v, ldv, n_keys, d, o + r * ldo, ldo);
  if (rows - r == 3) pv_rows<3>(p + r * ldp, ldp, v, ldv, n_keys, d, o + r * ldo, ldo);
  if (rows - r == 2) pv_rows<2>(p + r * ldp, ldp, v, ldv, n_keys, d, o + r * ldo, ldo);
  if (rows - r == 1) pv_rows<1>(p + r * ldp, ldp, v, ldv, n_keys, d, o + r * ldo, ldo);
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
  t.scores = scores<float>;
  t.pv = pv<float>;
  t.scores_f16 = scores<uint16_t>;
  t.pv_f16 = pv<uint16_t>;
  t.exp_sum = exp_sum;
  t.f16_to_f32 = f16_to_f32;
  t.round_f16 = round_f16;
  t.glu = glu;
}

}  // namespace kestrel::backend
