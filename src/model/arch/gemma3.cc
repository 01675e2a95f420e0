// Gemma 3: embeddings scaled by sqrt(n_embd); RMSNorm on each q and k head; norms after attention
// and FFN outputs; GELU(tanh) gated FFN; NeoX RoPE; every sliding_window_pattern-th layer is global
// (base rope.freq_base), the others attend over a sliding window with RoPE base 10000.
// (The GGUF converter already folds Gemma's "1 + weight" into the stored norm weights.)
#include <cmath>

#include "core/error.h"
#include "io/gguf/gguf_file.h"
#include "model/arch/registry.h"

namespace kestrel::model {

void read_gemma3_hparams(const io::GgufFile& file, HParams& hp) {
  hp.rope_style = backend::RopeStyle::kNeox;
  hp.activation = backend::Activation::kGeluTanh;
  hp.embed_scale = std::sqrt(static_cast<float>(hp.n_embd));
  hp.qk_norm = true;
  hp.post_norms = true;
  // Gemma 3 scales queries by query_pre_attn_scalar^-1/2 = head_dim^-1/2 for the sizes up to 12B.
  hp.attn_scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));
  hp.rope_base_swa = 10000.0f;
  hp.sliding_window = static_cast<int32_t>(file.get_int_or("gemma3.attention.sliding_window", 0));
  KESTREL_CHECK(hp.sliding_window >= 0, "model: gemma3.attention.sliding_window is negative");
  constexpr int kPattern = 6;  // five sliding-window layers, then one global layer
  for (int il = 0; il < hp.n_layer; ++il) {
    hp.layer_is_swa[il] = hp.sliding_window > 0 && (il + 1) % kPattern != 0;
  }
}

}  // namespace kestrel::model
