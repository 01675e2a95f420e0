// Quantized matrix products: y[r, o] = dot(w row o, x row r).
//
// Activations are converted once per call to each weight's vec_dot_type.
// Threads split the weight rows of all the call's matrices together (each
// weight byte is read by one thread, once per call). Within a thread,
// activation rows go in panels that stay in L2 while the thread's weight rows
// stream past in chunks small enough for L1, and the ISA's tile kernel
// register-blocks inside a chunk x panel tile.
#include <algorithm>

#include "backend/cpu/cpu_ops.h"
#include "core/error.h"

namespace kestrel::backend {
namespace {

constexpr int64_t kWeightChunk = 16;  // weight rows per tile call (and per thread-split grain)
constexpr int64_t kRowPanel = 64;     // activation rows per tile call
constexpr int kMaxShared = 4;         // matrices per matmul_shared call

}  // namespace

size_t CpuOps::prepare_weight(WeightMatrix& w) {
  if (kernels_.pack == nullptr || w.packed != nullptr) return 0;
  const size_t group_bytes = kernels_.packed_group_bytes(w.type, w.n_in);
  if (group_bytes == 0 || w.n_out % kernels_.pack_rows != 0) return 0;
  packed_weights_.push_back(kernels_.pack(w.type, w.data, w.row_bytes, w.n_in, w.n_out));
  w.packed = packed_weights_.back().data();
  w.packed_rows = kernels_.pack_rows;
  w.packed_group_bytes = group_bytes;
  return packed_weights_.back().size();
}

void CpuOps::matmul(const WeightMatrix& w, const float* x, int64_t n_rows, float* y,
                    const float* bias) {
  const WeightMatrix* ws[] = {&w};
  float* ys[] = {y};
  const float* bs[] = {bias};
  matmul_shared(ws, 1, x, n_rows, ys, bs);
}

void CpuOps::matmul_shared(const WeightMatrix* const* ws, int count, const float* x, int64_t n_rows,
                           float* const* ys, const float* const* biases) {
  KESTREL_CHECK(count >= 1 && count <= kMaxShared, "matmul_shared: ", count, " matrices");
  const int64_t n_in = ws[0]->n_in;
  struct Part {
    const WeightMatrix* w;
    MatTileFn tile;
    size_t act_offset;  // where this matrix's activation rows start in act_scratch_
    size_t act_row;
    int64_t first;  // index of its first row among all rows of the call
    bool packed;    // use w->packed
  };
  // Activation rows are converted once per distinct format: a weight type's vec_dot_type, or a
  // packed tile's own layout for that weight type.
  struct ActFormat {
    tensor::DType type;
    bool packed_layout;
    size_t offset;  // in act_scratch_
    size_t row;     // bytes per row
  };
  Part parts[kMaxShared];
  ActFormat formats[kMaxShared];
  int n_act = 0;
  size_t act_bytes = 0;
  int64_t total_rows = 0;
  for (int i = 0; i < count; ++i) {
    const WeightMatrix& w = *ws[i];
    KESTREL_CHECK(w.n_in == n_in, "matmul_shared: inputs of ", w.n_in, " and ", n_in);
    // A packed matrix is used when the thread split falls on its groups: every split point is
    // a multiple of kWeightChunk, so its first row must be a multiple of the group size too.
    const bool packed = w.packed != nullptr && w.n_out % w.packed_rows == 0 &&
                        total_rows % w.packed_rows == 0 && kWeightChunk % w.packed_rows == 0;
    const size_t packed_row = packed && kernels_.packed_act_bytes != nullptr
                                  ? kernels_.packed_act_bytes(w.type, n_in)
                                  : 0;
    const bool packed_layout = packed_row != 0;
    const tensor::DType at = packed_layout ? w.type : kernels_.ops(w.type).vec_dot_type;
    int a = 0;
    while (a < n_act && (formats[a].type != at || formats[a].packed_layout != packed_layout)) ++a;
    if (a == n_act) {
      const size_t row = packed_layout ? packed_row : tensor::row_bytes(at, n_in);
      formats[n_act++] = {at, packed_layout, act_bytes, row};
      act_bytes += row * n_rows;
    }
    parts[i] = {&w, kernels_.tile(w.type), formats[a].offset, formats[a].row, total_rows, packed};
    total_rows += w.n_out;
  }
  if (act_scratch_.size() < act_bytes) act_scratch_.resize(act_bytes);
  uint8_t* act = act_scratch_.data();

  pool_.parallel_for(n_rows, 4, [&](int64_t r0, int64_t r1, int) {
    for (int a = 0; a < n_act; ++a) {
      const ActFormat& f = formats[a];
      uint8_t* out = act + f.offset;
      for (int64_t r = r0; r < r1; ++r) {
        if (f.packed_layout) {
          kernels_.packed_act_quantize(f.type, x + r * n_in, out + r * f.row, n_in);
        } else {
          kernels_.ops(f.type).quantize_row(x + r * n_in, out + r * f.row, n_in);
        }
      }
    }
  });

  pool_.parallel_for(total_rows, kWeightChunk, [&](int64_t g0, int64_t g1, int) {
    for (int i = 0; i < count; ++i) {
      const Part& p = parts[i];
      const int64_t n_out = p.w->n_out;
      // This thread's rows of matrix i, in its own row numbers.
      const int64_t o0 = std::max<int64_t>(g0 - p.first, 0);
      const int64_t o1 = std::min<int64_t>(g1 - p.first, n_out);
      if (o0 >= o1) continue;
      const auto* wbase = static_cast<const uint8_t*>(p.w->data);
      float* y = ys[i];
      for (int64_t r0 = 0; r0 < n_rows; r0 += kRowPanel) {
        const int64_t nr = std::min(kRowPanel, n_rows - r0);
        for (int64_t o = o0; o < o1; o += kWeightChunk) {
          const int64_t nw = std::min(kWeightChunk, o1 - o);
          if (p.packed) {  // o and nw are multiples of the group size here
            const int64_t rows = p.w->packed_rows;
            kernels_.packed_tile(p.w->type, n_in, p.w->packed + o / rows * p.w->packed_group_bytes,
                                 p.w->packed_group_bytes, nw / rows,
                                 act + p.act_offset + r0 * p.act_row, p.act_row, nr,
                                 y + r0 * n_out + o, n_out);
            continue;
          }
          p.tile(n_in, wbase + o * p.w->row_bytes, p.w->row_bytes, nw,
                 act + p.act_offset + r0 * p.act_row, p.act_row, nr, y + r0 * n_out + o, n_out);
        }
      }
      const float* bias = biases != nullptr ? biases[i] : nullptr;
      if (bias != nullptr) {
        for (int64_t r = 0; r < n_rows; ++r) {
          for (int64_t o = o0; o < o1; ++o) y[r * n_out + o] += bias[o];
        }
      }
    }
  });
}

}  // namespace kestrel::backend
