// Quantized matrix product: y[r, o] = dot(w row o, x row r).
//
// Activations are converted once per call to the weight's vec_dot_type. Threads split the weight
// rows (each weight byte is read by one thread, once per call). Within a thread, activation rows
// go in panels that stay in L2 while the thread's weight rows stream past in chunks small enough
// for L1, and the ISA's tile kernel register-blocks inside a chunk x panel tile.
#include <algorithm>

#include "backend/cpu/cpu_ops.h"
#include "core/error.h"

namespace kestrel::backend {
namespace {

constexpr int64_t kWeightChunk = 16;  // weight rows per tile call (and per thread-split grain)
constexpr int64_t kRowPanel = 64;     // activation rows per tile call

}  // namespace

void CpuOps::matmul(const WeightMatrix& w, const float* x, int64_t n_rows, float* y,
                    const float* bias) {
  const quant::TypeOps& wops = kernels_.ops(w.type);
  const quant::TypeOps& aops = kernels_.ops(wops.vec_dot_type);
  const MatTileFn tile = kernels_.tile(w.type);
  const int64_t n_in = w.n_in;
  const int64_t n_out = w.n_out;
  const size_t act_row = tensor::row_bytes(wops.vec_dot_type, n_in);
  if (act_scratch_.size() < act_row * n_rows) act_scratch_.resize(act_row * n_rows);
  uint8_t* act = act_scratch_.data();

  pool_.parallel_for(n_rows, 4, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) aops.quantize_row(x + r * n_in, act + r * act_row, n_in);
  });

  const auto* wbase = static_cast<const uint8_t*>(w.data);
  pool_.parallel_for(n_out, kWeightChunk, [&](int64_t o0, int64_t o1, int) {
    for (int64_t r0 = 0; r0 < n_rows; r0 += kRowPanel) {
      const int64_t nr = std::min(kRowPanel, n_rows - r0);
      for (int64_t o = o0; o < o1; o += kWeightChunk) {
        const int64_t nw = std::min(kWeightChunk, o1 - o);
        tile(n_in, wbase + o * w.row_bytes, w.row_bytes, nw, act + r0 * act_row, act_row, nr,
             y + r0 * n_out + o, n_out);
      }
    }
    if (bias != nullptr) {
      for (int64_t r = 0; r < n_rows; ++r) {
        for (int64_t o = o0; o < o1; ++o) y[r * n_out + o] += bias[o];
      }
    }
  });
}

}  // namespace kestrel::backend
