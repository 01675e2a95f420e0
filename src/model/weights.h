// Named views of a GGUF file's tensors with their shapes checked against the hyper-parameters.
// No copies: every view points into the memory map.
#pragma once

#include <cstdint>
#include <string>

#include "backend/ops.h"

namespace kestrel::io {
class GgufFile;
}

namespace kestrel::model {

class WeightLoader {
 public:
  explicit WeightLoader(const io::GgufFile& file) : file_(file) {}

  bool has(const std::string& name) const;
  // A matrix of n_out rows of n_in elements in a computable type; throws naming the tensor when it
  // is missing, of another shape, or of a type Kestrel cannot multiply with.
  backend::WeightMatrix matrix(const std::string& name, int64_t n_in, int64_t n_out) const;
  // An F32 vector of n elements.
  const float* vector(const std::string& name, int64_t n) const;
  const float* optional_vector(const std::string& name, int64_t n) const;

 private:
  const io::GgufFile& file_;
};

struct LayerWeights {
  const float* attn_norm = nullptr;       // F32 [n_embd]
  backend::WeightMatrix wq, wk, wv, wo;   // [n_embd -> n_head*head_dim], kv: n_head_kv*head_dim
  const float* bq = nullptr;              // F32 [n_head*head_dim] (qwen2), else null
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* q_norm = nullptr;          // F32 [head_dim] (gemma3)
  const float* k_norm = nullptr;
  const float* post_attn_norm = nullptr;  // F32 [n_embd] (gemma)
  const float* ffn_norm = nullptr;        // F32 [n_embd]
  backend::WeightMatrix gate, up, down;   // [n_embd -> n_ff], down: [n_ff -> n_embd]
  const float* post_ffn_norm = nullptr;   // F32 [n_embd] (gemma)
};

}  // namespace kestrel::model
