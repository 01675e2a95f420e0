// Llama family (Llama 2/3, SmolLM2, Mistral) and Qwen2.
#include "io/gguf/gguf_file.h"
#include "model/arch/registry.h"

namespace kestrel::model {

void read_llama_hparams(const io::GgufFile& file, HParams& hp) {
  // GGUF's llama weights are stored permuted so that RoPE rotates adjacent pairs.
  hp.rope_style = backend::RopeStyle::kNormal;
  hp.activation = backend::Activation::kSilu;
}

void read_qwen2_hparams(const io::GgufFile& file, HParams& hp) {
  hp.rope_style = backend::RopeStyle::kNeox;
  hp.activation = backend::Activation::kSilu;
  hp.qkv_bias = true;
}

}  // namespace kestrel::model
