// Q5_0: 32 5-bit values offset by 16 and one f16 scale; bit 4 of each value lives in the 32-bit qh
// field (layout in blocks.h, packing in q5_pack.h). Dots with Q8_0.
#include <algorithm>
#include <cmath>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/kernels.h"
#include "quant/q5_pack.h"

namespace kestrel::quant {

// As Q4_0 with 5 bits: d = max / -16 (max = the first element of largest magnitude),
// q = min(31, trunc(x / d + 16.5)).
void quantize_row_q5_0(const float* x, void* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK5_0; ++i) {
    const float* xb = x + i * kQK5_0;
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK5_0; ++j) {
      if (amax < std::fabs(xb[j])) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    int q[kQK5_0];
    for (int j = 0; j < kQK5_0; ++j) q[j] = std::min(31, static_cast<int>(xb[j] * id + 16.5f));
    BlockQ5_0 b;
    b.d = fp32_to_fp16(d);
    pack_q5(q, b.qs, b.qh);
    store_block(y, i, b);
  }
}

void dequantize_row_q5_0(const void* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK5_0; ++i) {
    const auto b = load_block<BlockQ5_0>(x, i);
    const float d = fp16_to_fp32(b.d);
    int q[kQK5_0];
    unpack_q5(b.qs, b.qh, q);
    for (int j = 0; j < kQK5_0; ++j) y[i * kQK5_0 + j] = (q[j] - 16) * d;
  }
}

// Per block: exact integer sum of (q_w - 16) * q_a, times (d_w * d_a); accumulate in float.
float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* a) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK5_0; ++i) {
    const auto bw = load_block<BlockQ5_0>(w, i);
    const auto ba = load_block<BlockQ8_0>(a, i);
    int q[kQK5_0];
    unpack_q5(bw.qs, bw.qh, q);
    int32_t sumi = 0;
    for (int j = 0; j < kQK5_0; ++j) sumi += (q[j] - 16) * ba.qs[j];
    sum += (fp16_to_fp32(bw.d) * fp16_to_fp32(ba.d)) * static_cast<float>(sumi);
  }
  return sum;
}

}  // namespace kestrel::quant
