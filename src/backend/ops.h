// The small set of fused operations a transformer forward pass needs. A backend implements them
// over its own memory; the model code calls them once per layer per step, so one virtual call per
// op is noise next to the work. Kernels know no model, request or sequence: they see rows of
// numbers, weights in their GGUF blocks, and block tables.
//
// Activations are F32, row-major, one row per token: "F32 [n_tokens, dim]" means n_tokens rows of
// dim contiguous floats (dim innermost, as GGUF's ne[0]).
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace kestrel::backend {

// A weight matrix in its GGUF blocks: n_out rows of n_in elements (GGUF ne[0] = n_in).
struct WeightMatrix {
  const void* data = nullptr;
  tensor::DType type = tensor::DType::F32;
  int64_t n_in = 0;
  int64_t n_out = 0;
  size_t row_bytes = 0;
  // Optional copy of the same weights in a backend's own layout (Ops::prepare_weight), owned by
  // that backend: groups of packed_rows rows, packed_group_bytes apart.
  const uint8_t* packed = nullptr;
  int packed_rows = 0;
  size_t packed_group_bytes = 0;
};

enum class RopeStyle {
  kNormal,  // rotate adjacent pairs (x[2i], x[2i+1]): GGUF llama weights are permuted for this
  kNeox,    // rotate halves (x[i], x[i + n_rot/2]): gemma, qwen2, ...
};

enum class Activation { kSilu, kGeluTanh };

// One sequence's view of the paged KV cache: logical position p lives in slot
// block_table[p / block_size] * block_size + p % block_size.
struct SeqKvView {
  const int32_t* block_table = nullptr;
  int32_t n_blocks = 0;
};

struct AttentionArgs {
  const float* q = nullptr;  // F32 [n_tokens, n_head * head_dim], RoPE applied
  float* out = nullptr;      // F32 [n_tokens, n_head * head_dim]
  int64_t n_tokens = 0;
  int n_head = 0;
  int n_head_kv = 0;  // n_head is a multiple of n_head_kv (grouped-query attention)
  int head_dim = 0;
  const int32_t* positions = nullptr;     // [n_tokens]
  const int32_t* seq_of_token = nullptr;  // [n_tokens] index into seqs
  const SeqKvView* seqs = nullptr;
  int32_t block_size = 0;
  const uint16_t* k_cache = nullptr;  // F16 [n_slots, n_head_kv * head_dim] of this layer
  const uint16_t* v_cache = nullptr;  // F16 [n_slots, n_head_kv * head_dim] of this layer
  float scale = 1.0f;                 // multiplies q.k
  int32_t window = 0;  // sliding window: a token at p sees keys at p - window + 1 .. p; 0 = all
};

class Ops {
 public:
  virtual ~Ops() = default;
  virtual const char* name() const = 0;

  // out: F32 [n, table.n_in] = rows ids of the table, times scale.
  virtual void embed(const WeightMatrix& table, const int32_t* ids, int64_t n, float scale,
                     float* out) = 0;
  // y = x / rms(x) * w per row (w may be null); y may alias x.
  virtual void rms_norm(const float* x, const float* w, float* y, int64_t n_rows, int64_t dim,
                        float eps) = 0;
  // Load-time hook: a backend may repack w into a layout its kernels read faster (setting
  // w.packed); returns the bytes of the repacked copy (0: left as it is).
  virtual size_t prepare_weight(WeightMatrix& w) { return 0; }
  // y: F32 [n_rows, w.n_out] = x: F32 [n_rows, w.n_in] times w^T (+ bias [n_out] if not null).
  // Reads each weight row once per call whatever n_rows is.
  virtual void matmul(const WeightMatrix& w, const float* x, int64_t n_rows, float* y,
                      const float* bias) = 0;
  // Several products of the same input (Q, K and V; FFN gate and up) in one pass: the input is
  // converted once per dot-product format and the threads split all weights' rows together.
  // ys[i]: F32 [n_rows, ws[i]->n_out]; biases may be null, or hold null entries.
  virtual void matmul_shared(const WeightMatrix* const* ws, int count, const float* x,
                             int64_t n_rows, float* const* ys, const float* const* biases) = 0;
  // In place on x: F32 [n_tokens, n_heads * head_dim], rotating the first n_rot dims of each head.
  virtual void rope(float* x, const int32_t* positions, int64_t n_tokens, int n_heads, int head_dim,
                    int n_rot, float freq_base, RopeStyle style) = 0;
  // Stores k, v: F32 [n_tokens, row] as F16 into cache rows slots[i].
  virtual void write_kv(const float* k, const float* v, const int32_t* slots, int64_t n_tokens,
                        int64_t row, uint16_t* k_cache, uint16_t* v_cache) = 0;
  // Causal attention of each token over its sequence's cached keys and values (including the
  // token's own, written by write_kv beforehand).
  virtual void attention(const AttentionArgs& args) = 0;
  // out = act(gate) * up, n elements; out may alias gate.
  virtual void glu(const float* gate, const float* up, float* out, int64_t n, Activation act) = 0;
  // x += y, n elements.
  virtual void add(float* x, const float* y, int64_t n) = 0;
};

}  // namespace kestrel::backend
