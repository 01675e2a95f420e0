// Q8_1: Q8_0 plus s = d * sum(q), so a dot product with Q4_1/Q5_1 weights gets the weight minimum's
// contribution m * sum(x) from one multiply (layout in blocks.h). Activation format only.
#include <cmath>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/kernels.h"

namespace kestrel::quant {

// Same d and rounding as Q8_0; s is computed from the float d and the integer sum of q.
void quantize_row_q8_1(const float* x, void* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK8_1; ++i) {
    const float* xb = x + i * kQK8_1;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_1; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ8_1 b;
    int32_t sum = 0;
    for (int j = 0; j < kQK8_1; ++j) {
      b.qs[j] = static_cast<int8_t>(std::round(xb[j] * id));
      sum += b.qs[j];
    }
    b.d = fp32_to_fp16(d);
    b.s = fp32_to_fp16(static_cast<float>(sum) * d);
    store_block(y, i, b);
  }
}

void dequantize_row_q8_1(const void* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK8_1; ++i) {
    const auto b = load_block<BlockQ8_1>(x, i);
    const float d = fp16_to_fp32(b.d);
    for (int j = 0; j < kQK8_1; ++j) y[i * kQK8_1 + j] = b.qs[j] * d;
  }
}

}  // namespace kestrel::quant
