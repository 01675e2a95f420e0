#include "eval/sequence_runner.h"

#include <numeric>

#include "core/error.h"

namespace kestrel::eval {

SequenceRunner::SequenceRunner(model::Model& model, int32_t n_ctx)
    : model_(model),
      n_ctx_(n_ctx),
      storage_(model.hparams().n_layer, static_cast<int64_t>((n_ctx + kBlock - 1) / kBlock) * kBlock,
               model.hparams().kv_row()) {
  const int64_t b = model.max_batch();
  positions_.resize(b);
  seq_of_token_.assign(b, 0);
  slots_.resize(b);
  rows_.resize(b);
  std::iota(rows_.begin(), rows_.end(), 0);
  logits_.resize(b * model.hparams().n_vocab);
  reset();
}

void SequenceRunner::reset() {
  kv_ = std::make_unique<kv::KvCacheManager>((n_ctx_ + kBlock - 1) / kBlock, kBlock);
  n_past_ = 0;
}

const float* SequenceRunner::feed(const int32_t* tokens, int32_t n) {
  KESTREL_CHECK(n > 0 && n <= model_.max_batch(), "evaluate: batch of ", n, " tokens");
  KESTREL_CHECK(n_past_ + n <= n_ctx_, "evaluate: sequence longer than ", n_ctx_, " tokens");
  const kv::SeqId seq = 0;
  KESTREL_CHECK(kv_->allocate(seq, n), "evaluate: KV cache full");
  kv_->slots(seq, n_past_, n, slots_.data());
  std::iota(positions_.begin(), positions_.begin() + n, n_past_);
  const std::vector<int32_t>& table = kv_->block_table(seq);
  const backend::SeqKvView view{table.data(), static_cast<int32_t>(table.size())};
  model::BatchView b;
  b.n_tokens = n;
  b.token_ids = tokens;
  b.positions = positions_.data();
  b.seq_of_token = seq_of_token_.data();
  b.slots = slots_.data();
  b.n_seqs = 1;
  b.seqs = &view;
  b.block_size = kBlock;
  b.n_logits = n;
  b.logit_rows = rows_.data();
  model_.forward(b, storage_, logits_.data());
  n_past_ += n;
  return logits_.data();
}

}  // namespace kestrel::eval
