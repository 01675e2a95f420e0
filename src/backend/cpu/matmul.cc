// Quantized matrix product: y[r, o] = dot(w row o, x row r).
#include <algorithm>

#include "backend/cpu/cpu_ops.h"
#include "core/error.h"
#include "quant/type_ops.h"

namespace kestrel::backend {

void CpuOps::matmul(const WeightMatrix& w, const float* x, int64_t n_rows, float* y,
                    const float* bias) {
  const quant::TypeOps& wops = quant::generic_type_ops(w.type);
  const quant::TypeOps& aops = quant::generic_type_ops(wops.vec_dot_type);
  const int64_t n_in = w.n_in;
  const int64_t n_out = w.n_out;
  const size_t act_row = tensor::row_bytes(wops.vec_dot_type, n_in);
  if (act_scratch_.size() < act_row * n_rows) act_scratch_.resize(act_row * n_rows);
  uint8_t* act = act_scratch_.data();

  pool_.parallel_for(n_rows, 1, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) aops.quantize_row(x + r * n_in, act + r * act_row, n_in);
  });

  // Weight rows in groups of 16 per thread range; within a range, each weight row is used for
  // every activation row while it is hot in cache.
  const auto* wbase = static_cast<const uint8_t*>(w.data);
  const quant::VecDotFn vec_dot = wops.vec_dot;
  pool_.parallel_for(n_out, 16, [&](int64_t o0, int64_t o1, int) {
    for (int64_t o = o0; o < o1; ++o) {
      const uint8_t* wrow = wbase + o * w.row_bytes;
      const float b = bias != nullptr ? bias[o] : 0.0f;
      for (int64_t r = 0; r < n_rows; ++r) {
        y[r * n_out + o] = vec_dot(n_in, wrow, act + r * act_row) + b;
      }
    }
  });
}

}  // namespace kestrel::backend
