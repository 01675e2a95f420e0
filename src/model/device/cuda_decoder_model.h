// DecoderModel's forward pass on the GPU: the same sequence of ops (src/model/decoder_model.cc,
// every per-family switch included) on backend::cuda::CudaOps, with the weights uploaded once in
// their GGUF blocks, activations and the paged KV cache in device memory, and batches of up to
// kGraphMaxTokens tokens (decode steps) replayed from captured CUDA graphs.
//
// The KV cache lives on the device: forward() takes the host KvStorage only for its shape (slot
// count, row size) and leaves its bytes untouched; slots and block tables mean the same as on the
// CPU. Logits come back to host memory.
#pragma once

#include <cuda_runtime_api.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backend/cuda/cuda_ops.h"
#include "io/gguf/gguf_file.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace kestrel::model {

struct CudaModelOptions {
  int64_t max_batch = 512;   // most tokens one forward call takes
  int32_t max_context = 0;   // longest sequence (0: the model's training context, capped at 8192)
  bool use_graphs = true;    // replay captured graphs for batches of <= kGraphMaxTokens tokens
};

class CudaDecoderModel final : public Model {
 public:
  static constexpr int64_t kGraphMaxTokens = 256;

  CudaDecoderModel(std::unique_ptr<io::GgufFile> file, HParams hp, const CudaModelOptions& options);
  ~CudaDecoderModel() override;

  const HParams& hparams() const override { return hp_; }
  const io::GgufFile& gguf() const override { return *file_; }
  const tokenizer::Tokenizer& tokenizer() const override { return *tokenizer_; }
  int64_t max_batch() const override { return max_batch_; }
  void forward(const BatchView& batch, backend::KvStorage& kv, float* logits) override;

  backend::cuda::CudaOps& ops() { return ops_; }
  size_t weight_bytes() const { return weight_bytes_; }

 private:
  struct DeviceLayer {
    const float* attn_norm = nullptr;
    backend::WeightMatrix wq, wk, wv, wo;
    const float* bq = nullptr;
    const float* bk = nullptr;
    const float* bv = nullptr;
    const float* q_norm = nullptr;
    const float* k_norm = nullptr;
    const float* post_attn_norm = nullptr;
    const float* ffn_norm = nullptr;
    backend::WeightMatrix gate, up, down;
    const float* post_ffn_norm = nullptr;
  };

  void upload_weights();
  backend::WeightMatrix upload_matrix(const backend::WeightMatrix& host);
  const float* upload_vector(const float* host, int64_t n);
  void ensure_kv(const backend::KvStorage& kv, int32_t block_size);
  void stage_inputs(const BatchView& batch);
  // The kernels of one step for n tokens and n_logits logit rows, reading the staged inputs.
  void run_layers(int64_t n, int64_t n_logits);
  void attention_block(int il, int64_t n);
  void ffn_block(int il, int64_t n);
  void clear_graphs();

  std::unique_ptr<io::GgufFile> file_;
  HParams hp_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  int64_t max_batch_;
  int32_t max_context_;
  bool use_graphs_;
  backend::cuda::CudaOps ops_;

  std::vector<backend::cuda::DeviceBuffer> weights_;  // one allocation per tensor
  size_t weight_bytes_ = 0;
  backend::WeightMatrix tok_embd_, output_;
  const float* output_norm_ = nullptr;
  std::vector<DeviceLayer> layers_;

  // KV cache: F16 [n_layer, n_slots, kv_row] for keys and for values.
  backend::cuda::DeviceBuffer k_cache_, v_cache_;
  int64_t kv_slots_ = 0;
  int32_t block_size_ = 0;
  int32_t max_blocks_per_seq_ = 0;

  // Step inputs: one pinned host block and its device twin, copied with one transfer.
  // Layout (int32): ids, positions, seq_of_token, slots, logit_rows [max_batch each], then block
  // tables [max_batch, max_blocks_per_seq].
  void* host_in_ = nullptr;
  backend::cuda::DeviceBuffer dev_in_;
  size_t in_ints_ = 0;
  float* host_logits_ = nullptr;  // pinned [max_batch, n_vocab]

  // Activations, sized for max_batch tokens once.
  backend::cuda::DeviceBuffer x_, cur_, q_, k_, v_, attn_, gate_, up_, logits_;

  std::map<std::pair<int64_t, int64_t>, cudaGraphExec_t> graphs_;  // (n_tokens, n_logits)
};

// Model::load's counterpart: opens and validates the GGUF file, then builds a CudaDecoderModel.
std::unique_ptr<Model> load_cuda_model(const std::string& path, const CudaModelOptions& options);

}  // namespace kestrel::model
