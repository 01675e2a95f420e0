// The decoder-only transformer every supported architecture is an instance of: pre-norm blocks of
// attention and gated FFN, with the per-family differences (RoPE style, activation, q/k norms,
// post norms, biases, sliding windows, embedding scale) read from HParams.
#pragma once

#include <memory>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "core/thread_pool.h"
#include "io/gguf/gguf_file.h"
#include "model/model.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace kestrel::model {

class DecoderModel final : public Model {
 public:
  DecoderModel(std::unique_ptr<io::GgufFile> file, HParams hp, const ModelOptions& options);

  const HParams& hparams() const override { return hp_; }
  const io::GgufFile& gguf() const override { return *file_; }
  const tokenizer::Tokenizer& tokenizer() const override { return *tokenizer_; }
  int64_t max_batch() const override { return max_batch_; }
  void forward(const BatchView& batch, backend::KvStorage& kv, float* logits) override;

 private:
  void load_weights();
  void attention_block(int il, const BatchView& batch, backend::KvStorage& kv);
  void ffn_block(int il, int64_t n);

  std::unique_ptr<io::GgufFile> file_;
  HParams hp_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  int64_t max_batch_;
  ThreadPool pool_;
  backend::CpuOps ops_;

  backend::WeightMatrix tok_embd_;  // [n_embd -> n_vocab] rows are token embeddings
  backend::WeightMatrix output_;    // tok_embd_ when the embeddings are tied
  const float* output_norm_ = nullptr;
  std::vector<LayerWeights> layers_;

  // Scratch activations, sized for max_batch_ tokens once.
  std::vector<float> x_;     // F32 [max_batch, n_embd] residual stream
  std::vector<float> cur_;   // F32 [max_batch, max(n_embd, n_head*head_dim)]
  std::vector<float> q_;     // F32 [max_batch, n_head*head_dim]
  std::vector<float> k_;     // F32 [max_batch, n_head_kv*head_dim]
  std::vector<float> v_;     // F32 [max_batch, n_head_kv*head_dim]
  std::vector<float> attn_;  // F32 [max_batch, n_head*head_dim]
  std::vector<float> gate_;  // F32 [max_batch, n_ff]
  std::vector<float> up_;    // F32 [max_batch, n_ff]
};

}  // namespace kestrel::model
