// Q6_K: super-blocks of 256 = 16 sub-blocks of 16 with 6-bit values offset by 32, an int8 scale per
// sub-block and an f16 super-block scale (layout in blocks.h). Dots with Q8_K.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/k_quant_common.h"
#include "quant/kernels.h"

namespace kestrel::quant {
namespace {

constexpr float kGroupMaxEps = 1e-15f;

// The signed values of a super-block (q - 32, -32..31) in element order.
void unpack_q6_k(const BlockQ6_K& b, int8_t (&q)[kQK_K]) {
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    int8_t* out = q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      out[l] = static_cast<int8_t>(((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32);
      out[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32);
      out[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      out[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

}  // namespace

// Per sub-block make_qx_quants (32 levels each side, weights x^2) finds a signed scale; the one of
// largest magnitude maps to int8 -128, d = that scale / -128, each sub-block scale is rounded to
// an int8 multiple of d, and the values re-rounded against the stored scales.
void quantize_row_q6_k(const float* x, void* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* xb = x + i * kQK_K;
    int8_t L[kQK_K];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < 16; ++ib) {
      scales[ib] = make_qx_quants(16, 32, xb + 16 * ib, L + 16 * ib);
      if (std::fabs(scales[ib]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[ib]);
        max_scale = scales[ib];
      }
    }
    BlockQ6_K b;
    std::memset(&b, 0, sizeof b);
    if (max_abs_scale < kGroupMaxEps) {  // all (near) zero: an all-zero block
      store_block(y, i, b);
      continue;
    }
    const float iscale = -128.0f / max_scale;
    b.d = fp32_to_fp16(1 / iscale);
    for (int ib = 0; ib < 16; ++ib) {
      b.scales[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
    }
    for (int j = 0; j < 16; ++j) {
      const float d = fp16_to_fp32(b.d) * b.scales[j];
      if (d == 0.0f) continue;  // keep the search's levels
      for (int l = 0; l < 16; ++l) {
        const int q = std::clamp(nearest_int(xb[16 * j + l] / d), -32, 31);
        L[16 * j + l] = static_cast<int8_t>(q + 32);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const int8_t* Lh = L + 128 * h;
      for (int l = 0; l < 32; ++l) {
        b.ql[64 * h + l] = static_cast<uint8_t>((Lh[l] & 0x0f) | ((Lh[l + 64] & 0x0f) << 4));
        b.ql[64 * h + l + 32] =
            static_cast<uint8_t>((Lh[l + 32] & 0x0f) | ((Lh[l + 96] & 0x0f) << 4));
        b.qh[32 * h + l] = static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                                ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
      }
    }
    store_block(y, i, b);
  }
}

void dequantize_row_q6_k(const void* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto b = load_block<BlockQ6_K>(x, i);
    int8_t q[kQK_K];
    unpack_q6_k(b, q);
    const float d = fp16_to_fp32(b.d);
    for (int j = 0; j < 16; ++j) {
      const float dj = d * b.scales[j];
      for (int l = 0; l < 16; ++l) y[i * kQK_K + 16 * j + l] = dj * q[16 * j + l];
    }
  }
}

// (d d_a) * sum_j scale_j * sum_{e in j} (q_e - 32) a_e, the inner sums exact in int32.
float vec_dot_q6_k_q8_k(int64_t n, const void* w, const void* a) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto bw = load_block<BlockQ6_K>(w, i);
    const auto ba = load_block<BlockQ8_K>(a, i);
    int8_t q[kQK_K];
    unpack_q6_k(bw, q);
    int32_t isum = 0;
    for (int j = 0; j < 16; ++j) {
      int32_t s = 0;
      for (int l = 0; l < 16; ++l) s += q[16 * j + l] * ba.qs[16 * j + l];
      isum += bw.scales[j] * s;
    }
    sum += (fp16_to_fp32(bw.d) * ba.d) * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace kestrel::quant
