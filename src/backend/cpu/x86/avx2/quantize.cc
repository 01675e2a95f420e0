// AVX2 activation quantizers for Q8_0, Q8_1 and Q8_K, byte-identical to the
// generic ones (src/quant/q8_0.cc, q8_1.cc): d = amax / 127 in float, q =
// round-half-away(x * (1/d)), and for Q8_1 s = d * sum(q). The rounding is
// emulated exactly (truncate, then step away from zero when the dropped
// fraction is at least one half), since AVX2's own rounding ties to even.
#include "backend/cpu/kernel_table.h"
#include "backend/cpu/x86/avx2/packed_x8.h"
#include "backend/cpu/x86/avx2/simd.h"

namespace kestrel::backend {
namespace {

inline __m256 round_half_away(__m256 v) {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_andnot_ps(sign_mask, _mm256_sub_ps(v, t));
  const __m256 step = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, sign_mask));
  return _mm256_add_ps(t,
                       _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), step));
}

// Quantizes 32 floats to int8 at `qs`; returns d and (through sum) the sum of
// the values.
inline float quantize32(const float* x, int8_t* qs, int32_t* sum) {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_mask, v[k]));
  }
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  const float d = _mm_cvtss_f32(m) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const __m256 idv = _mm256_set1_ps(id);
  __m256i q[4];
  for (int k = 0; k < 4; ++k) q[k] = _mm256_cvtps_epi32(round_half_away(_mm256_mul_ps(v[k], idv)));
  const __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
  __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  s4 = _mm_hadd_epi32(s4, s4);
  s4 = _mm_hadd_epi32(s4, s4);
  *sum = _mm_cvtsi128_si32(s4);
  // Pack 4 x 8 int32 to 32 int8; the packs work per 128-bit lane, so restore
  // the order after.
  const __m256i packed =
      _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), _mm256_permutevar8x32_epi32(packed, order));
  return d;
}

void store_f16(uint8_t* p, float f) {
  const uint16_t h = _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
  std::memcpy(p, &h, sizeof h);
}

// Q8_0 block: [d f16][32 x int8].
void quantize_row_q8_0(const float* x, void* y, int64_t n) {
  auto* out = static_cast<uint8_t*>(y);
  for (int64_t i = 0; i < n / 32; ++i) {
    int32_t sum;
    const float d = quantize32(x + 32 * i, reinterpret_cast<int8_t*>(out + 34 * i + 2), &sum);
    store_f16(out + 34 * i, d);
  }
}

// Q8_1 block: [d f16][s f16][32 x int8].
void quantize_row_q8_1(const float* x, void* y, int64_t n) {
  auto* out = static_cast<uint8_t*>(y);
  for (int64_t i = 0; i < n / 32; ++i) {
    int32_t sum;
    const float d = quantize32(x + 32 * i, reinterpret_cast<int8_t*>(out + 36 * i + 4), &sum);
    store_f16(out + 36 * i, d);
    store_f16(out + 36 * i + 2, static_cast<float>(sum) * d);
  }
}

// Q8_K block (292 bytes): [d f32][256 x int8][16 x int16 sums of 16]. As the
// reference: max is the first element of largest magnitude, iscale = -127 /
// max, q = min(127, nearest-even(iscale x)), d = 1 / iscale; an all-zero block
// stays zero.
void quantize_row_q8_k(const float* x, void* y, int64_t n) {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  auto* out = static_cast<uint8_t*>(y);
  for (int64_t i = 0; i < n / 256; ++i, out += 292) {
    const float* xb = x + 256 * i;
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 32; ++k)
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_mask, _mm256_loadu_ps(xb + 8 * k)));
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float am = _mm_cvtss_f32(m);
    std::memset(out, 0, 292);
    if (am == 0.0f) continue;
    float max = am;
    const __m256 amv = _mm256_set1_ps(am);
    for (int k = 0; k < 32; ++k) {
      const __m256 v = _mm256_loadu_ps(xb + 8 * k);
      const int hits =
          _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign_mask, v), amv, _CMP_EQ_OQ));
      if (hits != 0) {
        max = xb[8 * k + __builtin_ctz(static_cast<unsigned>(hits))];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m256 is = _mm256_set1_ps(iscale);
    auto* qs = reinterpret_cast<int8_t*>(out + 4);
    const __m256i cap = _mm256_set1_epi32(127);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int c = 0; c < 8; ++c) {  // 32 values per step
      __m256i q[4];
      for (int k = 0; k < 4; ++k) {
        q[k] = _mm256_min_epi32(
            cap, _mm256_cvtps_epi32(_mm256_mul_ps(is, _mm256_loadu_ps(xb + 32 * c + 8 * k))));
      }
      const __m256i packed =
          _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs + 32 * c),
                          _mm256_permutevar8x32_epi32(packed, order));
    }
    int16_t bsums[16];
    for (int g = 0; g < 16; ++g) {
      // Sum of 16 int8: widen to int16 and add horizontally.
      const __m256i w =
          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs + 16 * g)));
      __m128i s8 = _mm_add_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
      s8 = _mm_hadd_epi16(s8, s8);
      s8 = _mm_hadd_epi16(s8, s8);
      s8 = _mm_hadd_epi16(s8, s8);
      bsums[g] = static_cast<int16_t>(_mm_extract_epi16(s8, 0));
    }
    std::memcpy(out + 260, bsums, sizeof bsums);
    const float d = 1 / iscale;
    std::memcpy(out, &d, sizeof d);
  }
}

}  // namespace

namespace avx2 {

// Packed-activation row (packed_x8.h): the Q8_0 / Q8_1 block values, d as the f32 of its f16.
void quantize_packed_act(tensor::DType type, const float* x, void* y, int64_t n) {
  const int64_t nb = n / 32;
  auto* d_out = static_cast<float*>(y);
  auto* extra = reinterpret_cast<int32_t*>(d_out + nb);
  auto* q = reinterpret_cast<int8_t*>(extra + nb);
  const int32_t offset = type == tensor::DType::Q4_0 ? 8 : type == tensor::DType::Q5_0 ? 16 : 0;
  for (int64_t i = 0; i < nb; ++i) {
    int32_t sum;
    const float d = quantize32(x + 32 * i, q + 32 * i, &sum);
    d_out[i] = _cvtsh_ss(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT));
    if (type == tensor::DType::Q4_1) {
      const float s = _cvtsh_ss(_cvtss_sh(static_cast<float>(sum) * d, _MM_FROUND_TO_NEAREST_INT));
      std::memcpy(extra + i, &s, sizeof s);
    } else {
      extra[i] = offset * sum;
    }
  }
}

}  // namespace avx2

void install_avx2_quantizers(KernelTable& t) {
  t.types[static_cast<size_t>(tensor::DType::Q8_0)].quantize_row = quantize_row_q8_0;
  t.types[static_cast<size_t>(tensor::DType::Q8_1)].quantize_row = quantize_row_q8_1;
  t.types[static_cast<size_t>(tensor::DType::Q8_K)].quantize_row = quantize_row_q8_k;
}

}  // namespace kestrel::backend
