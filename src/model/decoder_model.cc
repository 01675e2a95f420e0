#include "model/decoder_model.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "core/error.h"
#include "core/log.h"

namespace kestrel::model {
namespace {

int resolve_threads(int n) {
  if (n > 0) return n;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

DecoderModel::DecoderModel(std::unique_ptr<io::GgufFile> file, HParams hp,
                           const ModelOptions& options)
    : file_(std::move(file)),
      hp_(std::move(hp)),
      tokenizer_(tokenizer::Tokenizer::from_gguf(*file_)),
      max_batch_(std::max<int64_t>(1, options.max_batch)),
      pool_(resolve_threads(options.n_threads)),
      ops_(pool_) {
  KESTREL_CHECK(tokenizer_->n_vocab() == hp_.n_vocab, "model: tokenizer has ",
                tokenizer_->n_vocab(), " tokens but the model's vocabulary is ", hp_.n_vocab);
  load_weights();
  const int64_t q_dim = static_cast<int64_t>(hp_.n_head) * hp_.head_dim;
  const int64_t b = max_batch_;
  x_.resize(b * hp_.n_embd);
  cur_.resize(b * std::max<int64_t>(hp_.n_embd, q_dim));
  q_.resize(b * q_dim);
  k_.resize(b * hp_.kv_row());
  v_.resize(b * hp_.kv_row());
  attn_.resize(b * q_dim);
  gate_.resize(b * hp_.n_ff);
  up_.resize(b * hp_.n_ff);
  log_info("model: ", hp_.arch, ", ", hp_.n_layer, " layers, n_embd ", hp_.n_embd, ", ", hp_.n_head,
           "/", hp_.n_head_kv, " heads of ", hp_.head_dim, ", vocab ", hp_.n_vocab, ", ",
           pool_.size(), " threads, kernels ", ops_.name());
}

void DecoderModel::load_weights() {
  const WeightLoader w(*file_);
  const int64_t n_embd = hp_.n_embd;
  const int64_t q_dim = static_cast<int64_t>(hp_.n_head) * hp_.head_dim;
  const int64_t kv_dim = hp_.kv_row();
  tok_embd_ = w.matrix("token_embd.weight", n_embd, hp_.n_vocab);
  output_ = w.has("output.weight") ? w.matrix("output.weight", n_embd, hp_.n_vocab) : tok_embd_;
  output_norm_ = w.vector("output_norm.weight", n_embd);
  layers_.resize(hp_.n_layer);
  for (int il = 0; il < hp_.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    LayerWeights& l = layers_[il];
    l.attn_norm = w.vector(p + "attn_norm.weight", n_embd);
    l.wq = w.matrix(p + "attn_q.weight", n_embd, q_dim);
    l.wk = w.matrix(p + "attn_k.weight", n_embd, kv_dim);
    l.wv = w.matrix(p + "attn_v.weight", n_embd, kv_dim);
    l.wo = w.matrix(p + "attn_output.weight", q_dim, n_embd);
    if (hp_.qkv_bias) {
      l.bq = w.vector(p + "attn_q.bias", q_dim);
      l.bk = w.vector(p + "attn_k.bias", kv_dim);
      l.bv = w.vector(p + "attn_v.bias", kv_dim);
    }
    if (hp_.qk_norm) {
      l.q_norm = w.vector(p + "attn_q_norm.weight", hp_.head_dim);
      l.k_norm = w.vector(p + "attn_k_norm.weight", hp_.head_dim);
    }
    if (hp_.post_norms) {
      l.post_attn_norm = w.vector(p + "post_attention_norm.weight", n_embd);
      l.post_ffn_norm = w.vector(p + "post_ffw_norm.weight", n_embd);
    }
    l.ffn_norm = w.vector(p + "ffn_norm.weight", n_embd);
    l.gate = w.matrix(p + "ffn_gate.weight", n_embd, hp_.n_ff);
    l.up = w.matrix(p + "ffn_up.weight", n_embd, hp_.n_ff);
    l.down = w.matrix(p + "ffn_down.weight", hp_.n_ff, n_embd);
  }
  // Let the backend repack the matrices its kernels read faster in another layout.
  size_t repacked = 0;
  int n_repacked = 0;
  auto prepare = [&](backend::WeightMatrix& m) {
    const size_t bytes = ops_.prepare_weight(m);
    repacked += bytes;
    n_repacked += bytes > 0;
    // The kernels now read the copy: let the file's pages go (the embedding table, which
    // lookups still read, stays).
    if (bytes > 0 && m.data != tok_embd_.data) file_->release_pages(m.data, m.row_bytes * m.n_out);
  };
  for (LayerWeights& l : layers_) {
    for (backend::WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down})
      prepare(*m);
  }
  prepare(output_);
  if (n_repacked > 0) {
    log_info("model: repacked ", n_repacked, " weight matrices (", repacked / 1000000,
             " MB) into the ", ops_.name(), " kernels' row-group layout");
  }
}

void DecoderModel::attention_block(int il, const BatchView& batch, backend::KvStorage& kv) {
  const LayerWeights& l = layers_[il];
  const int64_t n = batch.n_tokens;
  const int64_t n_embd = hp_.n_embd;
  const float eps = hp_.norm_eps;
  float* cur = cur_.data();
  ops_.rms_norm(x_.data(), l.attn_norm, cur, n, n_embd, eps);
  const backend::WeightMatrix* qkv[] = {&l.wq, &l.wk, &l.wv};
  float* qkv_out[] = {q_.data(), k_.data(), v_.data()};
  const float* qkv_bias[] = {l.bq, l.bk, l.bv};
  ops_.matmul_shared(qkv, 3, cur, n, qkv_out, qkv_bias);
  if (hp_.qk_norm) {
    ops_.rms_norm(q_.data(), l.q_norm, q_.data(), n * hp_.n_head, hp_.head_dim, eps);
    ops_.rms_norm(k_.data(), l.k_norm, k_.data(), n * hp_.n_head_kv, hp_.head_dim, eps);
  }
  const bool swa = hp_.layer_is_swa[il] != 0;
  const float base = swa ? hp_.rope_base_swa : hp_.rope_base;
  ops_.rope(q_.data(), batch.positions, n, hp_.n_head, hp_.head_dim, hp_.n_rot, base,
            hp_.rope_style);
  ops_.rope(k_.data(), batch.positions, n, hp_.n_head_kv, hp_.head_dim, hp_.n_rot, base,
            hp_.rope_style);
  ops_.write_kv(k_.data(), v_.data(), batch.slots, n, hp_.kv_row(), kv.k(il), kv.v(il));

  backend::AttentionArgs a;
  a.q = q_.data();
  a.out = attn_.data();
  a.n_tokens = n;
  a.n_head = hp_.n_head;
  a.n_head_kv = hp_.n_head_kv;
  a.head_dim = hp_.head_dim;
  a.positions = batch.positions;
  a.seq_of_token = batch.seq_of_token;
  a.seqs = batch.seqs;
  a.block_size = batch.block_size;
  a.k_cache = kv.k(il);
  a.v_cache = kv.v(il);
  a.scale = hp_.attn_scale;
  a.window = swa ? hp_.sliding_window : 0;
  ops_.attention(a);

  ops_.matmul(l.wo, attn_.data(), n, cur, nullptr);
  if (hp_.post_norms) ops_.rms_norm(cur, l.post_attn_norm, cur, n, n_embd, eps);
  ops_.add(x_.data(), cur, n * n_embd);
}

void DecoderModel::ffn_block(int il, int64_t n) {
  const LayerWeights& l = layers_[il];
  const int64_t n_embd = hp_.n_embd;
  float* cur = cur_.data();
  ops_.rms_norm(x_.data(), l.ffn_norm, cur, n, n_embd, hp_.norm_eps);
  const backend::WeightMatrix* gate_up[] = {&l.gate, &l.up};
  float* gate_up_out[] = {gate_.data(), up_.data()};
  ops_.matmul_shared(gate_up, 2, cur, n, gate_up_out, nullptr);
  ops_.glu(gate_.data(), up_.data(), gate_.data(), n * hp_.n_ff, hp_.activation);
  ops_.matmul(l.down, gate_.data(), n, cur, nullptr);
  if (hp_.post_norms) ops_.rms_norm(cur, l.post_ffn_norm, cur, n, n_embd, hp_.norm_eps);
  ops_.add(x_.data(), cur, n * n_embd);
}

void DecoderModel::forward(const BatchView& batch, backend::KvStorage& kv, float* logits) {
  const int64_t n = batch.n_tokens;
  KESTREL_CHECK(n > 0 && n <= max_batch_, "forward: batch of ", n, " tokens (limit ", max_batch_,
                ")");
  KESTREL_CHECK(kv.row() == hp_.kv_row(), "forward: KV storage row ", kv.row(),
                " != ", hp_.kv_row());
  ops_.embed(tok_embd_, batch.token_ids, n, hp_.embed_scale, x_.data());
  for (int il = 0; il < hp_.n_layer; ++il) {
    attention_block(il, batch, kv);
    ffn_block(il, n);
  }
  // Only the rows whose logits are wanted go through the output norm and the vocabulary matmul.
  const int64_t n_embd = hp_.n_embd;
  float* h = cur_.data();
  for (int64_t i = 0; i < batch.n_logits; ++i) {
    const int32_t row = batch.logit_rows[i];
    KESTREL_CHECK(row >= 0 && row < n, "forward: logit row ", row, " outside the batch");
    std::memcpy(h + i * n_embd, x_.data() + row * n_embd, n_embd * sizeof(float));
  }
  ops_.rms_norm(h, output_norm_, h, batch.n_logits, n_embd, hp_.norm_eps);
  ops_.matmul(output_, h, batch.n_logits, logits, nullptr);
}

}  // namespace kestrel::model
