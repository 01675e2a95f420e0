// Q8_0: 32 int8 values and one f16 scale (layout in blocks.h). Also the activation format for
// Q4_0, Q5_0 and Q8_0 weights.
#include <cmath>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/kernels.h"

namespace kestrel::quant {

// d = amax / 127 and q = round-half-away(x / d) (via x * (1/d)), both from the unrounded float d;
// only the stored d is rounded to f16.
void quantize_row_q8_0(const float* x, void* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    const float* xb = x + i * kQK8_0;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ8_0 b;
    b.d = fp32_to_fp16(d);
    for (int j = 0; j < kQK8_0; ++j) b.qs[j] = static_cast<int8_t>(std::round(xb[j] * id));
    store_block(y, i, b);
  }
}

void dequantize_row_q8_0(const void* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    const auto b = load_block<BlockQ8_0>(x, i);
    const float d = fp16_to_fp32(b.d);
    for (int j = 0; j < kQK8_0; ++j) y[i * kQK8_0 + j] = b.qs[j] * d;
  }
}

// Per block: exact integer sum of q_w * q_a, times (d_w * d_a); blocks accumulate in float.
float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* a) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    const auto bw = load_block<BlockQ8_0>(w, i);
    const auto ba = load_block<BlockQ8_0>(a, i);
    int32_t sumi = 0;
    for (int j = 0; j < kQK8_0; ++j) sumi += bw.qs[j] * ba.qs[j];
    sum += (fp16_to_fp32(bw.d) * fp16_to_fp32(ba.d)) * static_cast<float>(sumi);
  }
  return sum;
}

}  // namespace kestrel::quant
