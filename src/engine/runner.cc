#include "engine/runner.h"

#include "core/error.h"

namespace kestrel::engine {

Runner::Runner(model::Model& model, kv::KvCacheManager& kv, backend::KvStorage& kv_storage)
    : model_(model), kv_(kv), kv_storage_(kv_storage) {}

void Runner::run(const StepPlan& plan, const std::unordered_map<SeqId, Sequence*>& seqs) {
  const int64_t n_vocab = model_.hparams().n_vocab;
  token_ids_.clear();
  positions_.clear();
  seq_of_token_.clear();
  logit_rows_.clear();
  seq_views_.clear();
  slots_.resize(plan.n_tokens);
  for (size_t c = 0; c < plan.chunks.size(); ++c) {
    const ScheduledChunk& chunk = plan.chunks[c];
    const Sequence& seq = *seqs.at(chunk.seq);
    kv_.slots(chunk.seq, chunk.first, chunk.n_tokens, slots_.data() + token_ids_.size());
    for (int32_t i = 0; i < chunk.n_tokens; ++i) {
      if (chunk.all_logits) logit_rows_.push_back(static_cast<int32_t>(token_ids_.size()));
      token_ids_.push_back(seq.tokens[chunk.first + i]);
      positions_.push_back(chunk.first + i);
      seq_of_token_.push_back(static_cast<int32_t>(c));
    }
    if (chunk.wants_logits && !chunk.all_logits) {
      logit_rows_.push_back(static_cast<int32_t>(token_ids_.size()) - 1);
    }
    const std::vector<int32_t>& table = kv_.block_table(chunk.seq);
    seq_views_.push_back({table.data(), static_cast<int32_t>(table.size())});
  }
  logits_.resize(logit_rows_.size() * n_vocab);

  model::BatchView batch;
  batch.n_tokens = static_cast<int64_t>(token_ids_.size());
  batch.token_ids = token_ids_.data();
  batch.positions = positions_.data();
  batch.seq_of_token = seq_of_token_.data();
  batch.slots = slots_.data();
  batch.n_seqs = static_cast<int32_t>(seq_views_.size());
  batch.seqs = seq_views_.data();
  batch.block_size = kv_.block_size();
  batch.n_logits = static_cast<int64_t>(logit_rows_.size());
  batch.logit_rows = logit_rows_.data();
  model_.forward(batch, kv_storage_, logits_.data());

  chunk_logits_.assign(plan.chunks.size(), nullptr);
  chunk_rows_.assign(plan.chunks.size(), nullptr);
  size_t next = 0;  // logit rows are in chunk order
  for (size_t c = 0; c < plan.chunks.size(); ++c) {
    const ScheduledChunk& chunk = plan.chunks[c];
    const float* first = logits_.data() + next * n_vocab;
    const size_t rows = chunk.all_logits ? chunk.n_tokens : chunk.wants_logits ? 1 : 0;
    if (chunk.all_logits) chunk_rows_[c] = first;
    if (chunk.wants_logits) chunk_logits_[c] = first + (rows - 1) * n_vocab;
    next += rows;
  }
}

}  // namespace kestrel::engine
