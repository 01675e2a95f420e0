// Q5_1: 32 5-bit values with an f16 scale and an f16 minimum; bit 4 of each value lives in the
// 32-bit qh field (layout in blocks.h, packing in q5_pack.h). Dots with Q8_1.
#include <algorithm>
#include <cfloat>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/kernels.h"
#include "quant/q5_pack.h"

namespace kestrel::quant {

// As Q4_1 with 5 bits: d = (max - min) / 31, m = min, q = min(31, trunc((x - min) / d + 0.5)).
void quantize_row_q5_1(const float* x, void* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK5_1; ++i) {
    const float* xb = x + i * kQK5_1;
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK5_1; ++j) {
      if (xb[j] < min) min = xb[j];
      if (xb[j] > max) max = xb[j];
    }
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    int q[kQK5_1];
    for (int j = 0; j < kQK5_1; ++j) {
      q[j] = std::min(31, static_cast<int>((xb[j] - min) * id + 0.5f));
    }
    BlockQ5_1 b;
    b.d = fp32_to_fp16(d);
    b.m = fp32_to_fp16(min);
    pack_q5(q, b.qs, b.qh);
    store_block(y, i, b);
  }
}

void dequantize_row_q5_1(const void* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK5_1; ++i) {
    const auto b = load_block<BlockQ5_1>(x, i);
    const float d = fp16_to_fp32(b.d);
    const float m = fp16_to_fp32(b.m);
    int q[kQK5_1];
    unpack_q5(b.qs, b.qh, q);
    for (int j = 0; j < kQK5_1; ++j) y[i * kQK5_1 + j] = q[j] * d + m;
  }
}

// (d_w d_a) * sum_j q_j a_j + m * s_a, as Q4_1.
float vec_dot_q5_1_q8_1(int64_t n, const void* w, const void* a) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK5_1; ++i) {
    const auto bw = load_block<BlockQ5_1>(w, i);
    const auto ba = load_block<BlockQ8_1>(a, i);
    int q[kQK5_1];
    unpack_q5(bw.qs, bw.qh, q);
    int32_t sumi = 0;
    for (int j = 0; j < kQK5_1; ++j) sumi += q[j] * ba.qs[j];
    sum += (fp16_to_fp32(bw.d) * fp16_to_fp32(ba.d)) * static_cast<float>(sumi) +
           fp16_to_fp32(bw.m) * fp16_to_fp32(ba.s);
  }
  return sum;
}

}  // namespace kestrel::quant
