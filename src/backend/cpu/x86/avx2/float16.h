// Micro-kernel of F16 weights against F16 activations (F16's dot-product format): both rows
// widened to F32 with F16C, 8 elements per instruction, products accumulated with FMA. Rows of
// any length (the tail runs scalar).
#pragma once

#include "backend/cpu/x86/avx2/simd.h"

namespace kestrel::backend::avx2 {

struct F16Kernel {
  static constexpr int kMaxNW = 2;
  static constexpr int kMaxNA = 4;

  static __m256 load8(const uint8_t* row, int64_t i) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * i)));
  }

  template <int NW, int NA>
  static void run(int64_t n_in, const uint8_t* w, size_t w_stride, const uint8_t* a,
                  size_t a_stride, float* y, int64_t ldy) {
    __m256 acc[NW][NA];
    for (int i = 0; i < NW; ++i) {
      for (int r = 0; r < NA; ++r) acc[i][r] = _mm256_setzero_ps();
    }
    const int64_t n8 = n_in / 8 * 8;
    for (int64_t k = 0; k < n8; k += 8) {
      __m256 wv[NW];
      for (int i = 0; i < NW; ++i) wv[i] = load8(w + i * w_stride, k);
      for (int r = 0; r < NA; ++r) {
        const __m256 av = load8(a + r * a_stride, k);
        for (int i = 0; i < NW; ++i) acc[i][r] = _mm256_fmadd_ps(wv[i], av, acc[i][r]);
      }
    }
    for (int i = 0; i < NW; ++i) {
      for (int r = 0; r < NA; ++r) {
        float sum = hsum(acc[i][r]);
        for (int64_t k = n8; k < n_in; ++k) {
          sum += f16(load_u16(w + i * w_stride + 2 * k)) * f16(load_u16(a + r * a_stride + 2 * k));
        }
        y[r * ldy + i] = sum;
      }
    }
  }
};

}  // namespace kestrel::backend::avx2
