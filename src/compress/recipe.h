// Which type each tensor of a model gets when quantizing: a plain type (every weight matrix in
// that type) or a recipe (llama.cpp's per-tensor mixes, e.g. q4_k_m). Both apply GGUF's fallbacks
// when a matrix's row length is not a multiple of the chosen type's block size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tensor/dtype.h"

namespace kestrel::compress {

using tensor::DType;

struct Recipe {
  std::string name;        // as given on the command line: "q4_0", "q4_k_m", ...
  DType base = DType::F16;  // the type most matrices get
  bool mixed = false;      // a llama.cpp mix (q4_k_s/m, q5_k_s/m): per-tensor rules apply
  bool small = false;      // the _s variant of a mix
  uint32_t file_type = 1;  // general.file_type (llama.cpp's LLAMA_FTYPE numbering)
};

// Throws kestrel::Error listing the accepted names for an unknown one.
Recipe parse_recipe(std::string_view name);
std::string recipe_names();  // "f32, f16, bf16, q8_0, ..., q4_k_m" for help and errors

// What the rules need to know about one tensor.
struct TensorSlot {
  std::string name;      // GGUF tensor name, e.g. "blk.3.ffn_down.weight"
  int n_dims = 0;
  int64_t n_in = 0;      // ne[0]: the row length
  int n_layer = 0;       // blocks in the model
  bool tied_output = false;  // the model has no output.weight (token_embd is the output)
};

// Whether the tensor is a weight matrix that quantization converts (2-D or more, name ending in
// "weight"); norms, biases and other vectors keep their type.
bool is_quantizable(const TensorSlot& t);

// The type a quantizable tensor gets under the recipe. A plain type is strict unless
// allow_fallback: a row length its block does not divide throws kestrel::Error naming the tensor.
// Mixes always fall back:
//   mixes: output (or tied token_embd) -> Q6_K; attn_v and ffn_down -> Q6_K on the layers
//   llama.cpp's use_more_bits picks (q4_k_m, q5_k_m); q4_k_s: Q5_K for attn_v of layers
//   0..3 and ffn_down of the first eighth;
//   fallbacks when n_in is not a multiple of 256: Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0 (and the
//   output -> Q8_0); any type whose block does not divide n_in -> F16 (-> F32 if odd).
DType choose_type(const Recipe& recipe, const TensorSlot& t, bool allow_fallback);

// The layer index of "blk.N.*" names, or -1.
int layer_of(std::string_view name);

}  // namespace kestrel::compress
