// AVX2 building blocks shared by the kernels of this folder (compiled with
// -mavx2 -mfma -mf16c).
//
// Every matrix kernel here has the same shape: a micro-kernel that keeps NW
// weight rows x NA activation rows of 8-lane float accumulators in registers
// and walks the rows block by block, so each weight block is unpacked once for
// NA activation rows and each activation block loaded once for NW weight rows.
// `run_tiles` covers an arbitrary n_w x n_a tile with those shapes.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace kestrel::backend::avx2 {

inline float f16(uint16_t h) { return _cvtsh_ss(h); }

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 16 bytes of packed nibbles -> 32 bytes: low nibbles in bytes 0..15, high
// nibbles in 16..31 (GGUF's Q4_0/Q4_1/Q5_* element order: element j low,
// element j + 16 high).
inline __m256i unpack_nibbles_16(const uint8_t* p) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

// 32 bits -> 32 bytes, byte j = 0xff where bit j is set.
inline __m256i bits_to_bytes(uint32_t bits) {
  const __m256i shuffle = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                             0x0202020202020202, 0x0303030303030303);
  __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuffle);
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  v = _mm256_and_si256(v, bit);
  return _mm256_cmpeq_epi8(v, bit);
}

// Sum of u8 x s8 products, as 8 int32 lanes (each lane 4 adjacent products).
inline __m256i dot_u8_s8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// Sum of s8 x s8 products (neither -128), as 8 int32 lanes.
inline __m256i dot_s8_s8(__m256i x, __m256i y) {
  return dot_u8_s8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

// Covers y[r * ldy + o], o < n_w, r < n_a, with the micro-kernels K::run<NW,
// NA>; K::kMaxNW x K::kMaxNA is the register-blocked shape (a few accumulators
// short of the 16 registers).
template <class K>
void run_tiles(int64_t n_in, const uint8_t* w, size_t w_stride, int64_t n_w, const uint8_t* a,
               size_t a_stride, int64_t n_a, float* y, int64_t ldy) {
  int64_t r = 0;
  for (; r + K::kMaxNA <= n_a; r += K::kMaxNA) {
    int64_t o = 0;
    for (; o + K::kMaxNW <= n_w; o += K::kMaxNW) {
      K::template run<K::kMaxNW, K::kMaxNA>(n_in, w + o * w_stride, w_stride, a + r * a_stride,
                                            a_stride, y + r * ldy + o, ldy);
    }
    for (; o < n_w; ++o) {
      K::template run<1, K::kMaxNA>(n_in, w + o * w_stride, w_stride, a + r * a_stride, a_stride,
                                    y + r * ldy + o, ldy);
    }
  }
  // Leftover activation rows (all of them in decode): tall weight tiles of one
  // row each.
  for (; r < n_a; ++r) {
    int64_t o = 0;
    for (; o + 4 <= n_w; o += 4) {
      K::template run<4, 1>(n_in, w + o * w_stride, w_stride, a + r * a_stride, a_stride,
                            y + r * ldy + o, ldy);
    }
    for (; o < n_w; ++o) {
      K::template run<1, 1>(n_in, w + o * w_stride, w_stride, a + r * a_stride, a_stride,
                            y + r * ldy + o, ldy);
    }
  }
}

}  // namespace kestrel::backend::avx2
