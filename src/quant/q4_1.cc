// Q4_1: 32 4-bit values with an f16 scale and an f16 minimum (layout in blocks.h); dots with Q8_1.
#include <algorithm>
#include <cfloat>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/kernels.h"

namespace kestrel::quant {

// d = (max - min) / 15, m = min, q = min(15, trunc((x - min) / d + 0.5)); d and m are rounded to
// f16 only when stored.
void quantize_row_q4_1(const float* x, void* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK4_1; ++i) {
    const float* xb = x + i * kQK4_1;
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK4_1; ++j) {
      if (xb[j] < min) min = xb[j];
      if (xb[j] > max) max = xb[j];
    }
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ4_1 b;
    b.d = fp32_to_fp16(d);
    b.m = fp32_to_fp16(min);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const int q0 = std::min(15, static_cast<int>((xb[j] - min) * id + 0.5f));
      const int q1 = std::min(15, static_cast<int>((xb[j + kQK4_1 / 2] - min) * id + 0.5f));
      b.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
    store_block(y, i, b);
  }
}

void dequantize_row_q4_1(const void* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK4_1; ++i) {
    const auto b = load_block<BlockQ4_1>(x, i);
    const float d = fp16_to_fp32(b.d);
    const float m = fp16_to_fp32(b.m);
    float* yb = y + i * kQK4_1;
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      yb[j] = (b.qs[j] & 0x0f) * d + m;
      yb[j + kQK4_1 / 2] = (b.qs[j] >> 4) * d + m;
    }
  }
}

// sum_j (d_w q_j + m) * d_a a_j = (d_w d_a) * sum_j q_j a_j + m * s_a, with s_a = d_a * sum_j a_j
// precomputed (and f16-rounded) by quantize_row_q8_1.
float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* a) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK4_1; ++i) {
    const auto bw = load_block<BlockQ4_1>(w, i);
    const auto ba = load_block<BlockQ8_1>(a, i);
    int32_t sumi = 0;
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      sumi += (bw.qs[j] & 0x0f) * ba.qs[j];
      sumi += (bw.qs[j] >> 4) * ba.qs[j + kQK4_1 / 2];
    }
    sum += (fp16_to_fp32(bw.d) * fp16_to_fp32(ba.d)) * static_cast<float>(sumi) +
           fp16_to_fp32(bw.m) * fp16_to_fp32(ba.s);
  }
  return sum;
}

}  // namespace kestrel::quant
