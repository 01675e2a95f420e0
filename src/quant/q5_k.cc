// Q5_K: Q4_K with a fifth bit per value in qh (layout in blocks.h, scale packing in
// k_quant_common.h). Dots with Q8_K.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/k_quant_common.h"
#include "quant/kernels.h"

namespace kestrel::quant {
namespace {

// The 5-bit values of a super-block (0..31) in element order.
void unpack_q5_k(const BlockQ5_K& b, uint8_t (&q)[kQK_K]) {
  for (int c = 0; c < kQK_K / 64; ++c) {
    for (int l = 0; l < 32; ++l) {
      q[64 * c + l] =
          static_cast<uint8_t>((b.qs[32 * c + l] & 0x0f) | (((b.qh[l] >> (2 * c)) & 1) << 4));
      q[64 * c + 32 + l] =
          static_cast<uint8_t>((b.qs[32 * c + l] >> 4) | (((b.qh[l] >> (2 * c + 1)) & 1) << 4));
    }
  }
}

}  // namespace

// As Q4_K with 31 levels and the search make_qkx2_quants(rmin -0.5, rdelta 0.1, 16 grids).
void quantize_row_q5_k(const float* x, void* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* xb = x + i * kQK_K;
    uint8_t L[kQK_K], Laux[32];
    float weights[32], mins[8], scales[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
      float sum_x2 = 0;
      for (int l = 0; l < 32; ++l) sum_x2 += xb[32 * j + l] * xb[32 * j + l];
      const float av_x = std::sqrt(sum_x2 / 32);
      for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xb[32 * j + l]);
      scales[j] = make_qkx2_quants(32, 31, xb + 32 * j, weights, L + 32 * j, &mins[j], Laux, -0.5f,
                                   0.1f, 15);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    int ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
      ls[j] = std::min(63, nearest_int(inv_scale * scales[j]) & 0xff);  // as a u8
      lm[j] = std::min(63, nearest_int(inv_min * mins[j]) & 0xff);
    }
    BlockQ5_K b;
    pack_scale_min_k4(ls, lm, b.scales);
    b.d = fp32_to_fp16(max_scale / 63.0f);
    b.dmin = fp32_to_fp16(max_min / 63.0f);
    for (int j = 0; j < 8; ++j) {
      int sc, m;
      get_scale_min_k4(j, b.scales, &sc, &m);
      const float d = fp16_to_fp32(b.d) * sc;
      if (d == 0.0f) continue;  // keep the search's levels
      const float dm = fp16_to_fp32(b.dmin) * m;
      for (int l = 0; l < 32; ++l) {
        const int q = nearest_int((xb[32 * j + l] + dm) / d);
        L[32 * j + l] = static_cast<uint8_t>(std::clamp(q, 0, 31));
      }
    }
    std::memset(b.qh, 0, sizeof b.qh);
    for (int c = 0; c < kQK_K / 64; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
        b.qs[32 * c + l] = static_cast<uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
        b.qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
    store_block(y, i, b);
  }
}

void dequantize_row_q5_k(const void* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto b = load_block<BlockQ5_K>(x, i);
    uint8_t q[kQK_K];
    unpack_q5_k(b, q);
    dequantize_sc_min_k(q, b.scales, fp16_to_fp32(b.d), fp16_to_fp32(b.dmin), y + i * kQK_K);
  }
}

float vec_dot_q5_k_q8_k(int64_t n, const void* w, const void* a) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto bw = load_block<BlockQ5_K>(w, i);
    uint8_t q[kQK_K];
    unpack_q5_k(bw, q);
    sum += dot_sc_min_k(q, bw.scales, fp16_to_fp32(bw.d), fp16_to_fp32(bw.dmin),
                        load_block<BlockQ8_K>(a, i));
  }
  return sum;
}

}  // namespace kestrel::quant
