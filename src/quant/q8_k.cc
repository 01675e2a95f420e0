// Q8_K: the activation format of the K-quants: 256 int8 values, a float scale and int16 sums of
// each 16 values, so min terms of Q4_K/Q5_K need no pass over the values (layout in blocks.h).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/kernels.h"

namespace kestrel::quant {

// The element of largest magnitude, max, maps to q = -127 * sign: iscale = -127 / max,
// q = min(127, round-half-even(iscale * x)), d = 1 / iscale (kept in f32).
void quantize_row_q8_k(const float* x, void* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* xb = x + i * kQK_K;
    float max = 0, amax = 0;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(xb[j]) > amax) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    BlockQ8_K b;
    std::memset(&b, 0, sizeof b);
    if (amax != 0) {
      const float iscale = -127.0f / max;
      for (int j = 0; j < kQK_K; ++j) {
        b.qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * xb[j])));
      }
      for (int g = 0; g < kQK_K / 16; ++g) {
        int sum = 0;
        for (int l = 0; l < 16; ++l) sum += b.qs[16 * g + l];
        b.bsums[g] = static_cast<int16_t>(sum);
      }
      b.d = 1 / iscale;
    }
    store_block(y, i, b);
  }
}

void dequantize_row_q8_k(const void* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto b = load_block<BlockQ8_K>(x, i);
    for (int j = 0; j < kQK_K; ++j) y[i * kQK_K + j] = b.d * b.qs[j];
  }
}

}  // namespace kestrel::quant
