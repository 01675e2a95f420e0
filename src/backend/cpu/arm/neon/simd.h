// NEON building blocks shared by the kernels of this folder.
//
// The folder is compiled for baseline AArch64 (Advanced SIMD is mandatory there); only
// dotprod.cc adds the dot-product extension. Every integer kernel is therefore a template over a
// `Dot` policy with one function, Dot::dot(acc, x, y), which adds the 16 int8 x int8 products of
// x and y into the 4 int32 lanes of acc (which lane gets which product is the policy's business:
// callers only ever reduce a whole accumulator). The policies live in anonymous namespaces of
// their translation units, so every instantiation has internal linkage and code built with the
// dot-product flags can never be picked by the linker for the baseline path.
//
// Matrix kernels keep NW weight rows x NA activation rows of 4-lane accumulators in registers
// and walk the rows block by block, so each weight block is unpacked once for NA activation rows
// and each activation block loaded once for NW weight rows; `run_tiles` covers an arbitrary
// n_w x n_a tile with those shapes.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#define KESTREL_NEON_INLINE inline __attribute__((always_inline))

namespace kestrel::backend::neon {

// IEEE half -> float with the FP unit's conversion (exact, like every f16 -> f32 conversion).
KESTREL_NEON_INLINE float f16(const uint8_t* p) {
  __fp16 h;
  std::memcpy(&h, p, sizeof h);
  return static_cast<float>(h);
}

KESTREL_NEON_INLINE float load_f32(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, sizeof f);
  return f;
}

KESTREL_NEON_INLINE int8x16_t load_s8(const uint8_t* p) {
  return vld1q_s8(reinterpret_cast<const int8_t*>(p));
}

// 16 bits -> 16 bytes, byte j = 0xff where bit j of `bits` is set.
KESTREL_NEON_INLINE uint8x16_t bits_to_bytes(uint32_t bits) {
  static const uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t v = vcombine_u8(vdup_n_u8(static_cast<uint8_t>(bits)),
                                   vdup_n_u8(static_cast<uint8_t>(bits >> 8)));
  return vtstq_u8(v, vld1q_u8(kBit));
}

// Covers y[r * ldy + o], o < n_w, r < n_a, with the micro-kernels K::run<NW, NA>; K::kMaxNW x
// K::kMaxNA is the register-blocked shape for prefill, 4 x 1 the one for decode.
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
  // Leftover activation rows (all of them in decode): tall weight tiles of one row each.
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

}  // namespace kestrel::backend::neon
