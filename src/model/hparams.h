// Hyper-parameters of a decoder-only transformer, read from GGUF metadata ("<arch>.*" keys) by the
// architecture's entry in arch/registry.cc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/ops.h"

namespace kestrel::io {
class GgufFile;
}

namespace kestrel::model {

struct HParams {
  std::string arch;
  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;
  int32_t n_embd = 0;
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;  // per-head size of q and k (and v: Kestrel requires them equal)
  int32_t n_ff = 0;
  int32_t n_rot = 0;     // rotated dims per head
  float norm_eps = 1e-5f;
  float rope_base = 10000.0f;
  float rope_base_swa = 10000.0f;  // RoPE base of sliding-window layers
  backend::RopeStyle rope_style = backend::RopeStyle::kNormal;
  backend::Activation activation = backend::Activation::kSilu;
  float embed_scale = 1.0f;  // token embeddings are multiplied by this (gemma: sqrt(n_embd))
  float attn_scale = 1.0f;   // multiplies q.k
  int32_t sliding_window = 0;
  std::vector<uint8_t> layer_is_swa;  // [n_layer]: 1 where the layer uses the sliding window
  bool qk_norm = false;      // RMSNorm of each q and k head before RoPE (gemma3)
  bool post_norms = false;   // RMSNorm of the attention and FFN outputs before the residual (gemma)
  bool qkv_bias = false;     // biases on q, k, v (qwen2)

  int64_t kv_row() const { return static_cast<int64_t>(n_head_kv) * head_dim; }
};

// The keys every decoder shares: block_count, embedding_length, head counts, ... Throws
// kestrel::Error naming a missing or out-of-range key.
HParams read_common_hparams(const io::GgufFile& file, const std::string& arch);

}  // namespace kestrel::model
