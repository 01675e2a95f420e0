// Q4_0: 32 4-bit values offset by 8 and one f16 scale (layout in blocks.h); dots with Q8_0.
#include <algorithm>
#include <cmath>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/kernels.h"

namespace kestrel::quant {

// d = max / -8 where max is the (first) element of largest magnitude, so that element maps to
// q = 0 exactly and the other side gets the extra level. q = min(15, trunc(x / d + 8.5)).
void quantize_row_q4_0(const float* x, void* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK4_0; ++i) {
    const float* xb = x + i * kQK4_0;
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK4_0; ++j) {
      if (amax < std::fabs(xb[j])) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ4_0 b;
    b.d = fp32_to_fp16(d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const int q0 = std::min(15, static_cast<int>(xb[j] * id + 8.5f));
      const int q1 = std::min(15, static_cast<int>(xb[j + kQK4_0 / 2] * id + 8.5f));
      b.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
    store_block(y, i, b);
  }
}

void dequantize_row_q4_0(const void* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK4_0; ++i) {
    const auto b = load_block<BlockQ4_0>(x, i);
    const float d = fp16_to_fp32(b.d);
    float* yb = y + i * kQK4_0;
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      yb[j] = ((b.qs[j] & 0x0f) - 8) * d;
      yb[j + kQK4_0 / 2] = ((b.qs[j] >> 4) - 8) * d;
    }
  }
}

// Per block: exact integer sum of (q_w - 8) * q_a, times (d_w * d_a); accumulate in float.
float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* a) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK4_0; ++i) {
    const auto bw = load_block<BlockQ4_0>(w, i);
    const auto ba = load_block<BlockQ8_0>(a, i);
    int32_t sumi = 0;
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      sumi += ((bw.qs[j] & 0x0f) - 8) * ba.qs[j];
      sumi += ((bw.qs[j] >> 4) - 8) * ba.qs[j + kQK4_0 / 2];
    }
    sum += (fp16_to_fp32(bw.d) * fp16_to_fp32(ba.d)) * static_cast<float>(sumi);
  }
  return sum;
}

}  // namespace kestrel::quant
