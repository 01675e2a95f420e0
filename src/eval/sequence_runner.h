// Runs one sequence through a model a batch at a time over its own paged KV cache, handing back
// the logits of every token fed. Unlike engine::evaluate_logits it keeps only one batch of logits
// alive, so two models can be stepped side by side (perplexity with --kl-base) without storing
// either's logits for a whole chunk.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/kv_storage.h"
#include "kv/kv_cache_manager.h"
#include "model/model.h"

namespace kestrel::eval {

class SequenceRunner {
 public:
  // n_ctx: the most tokens one sequence holds before reset().
  SequenceRunner(model::Model& model, int32_t n_ctx);

  // Starts a new, empty sequence.
  void reset();
  // Feeds n tokens (n <= model.max_batch()) at the next positions. Returns logits F32
  // [n, n_vocab], valid until the next call.
  const float* feed(const int32_t* tokens, int32_t n);
  int32_t n_past() const { return n_past_; }

 private:
  static constexpr int32_t kBlock = 16;
  model::Model& model_;
  int32_t n_ctx_;
  int32_t n_past_ = 0;
  std::unique_ptr<kv::KvCacheManager> kv_;
  backend::KvStorage storage_;
  std::vector<int32_t> positions_, seq_of_token_, slots_, rows_;
  std::vector<float> logits_;  // F32 [max_batch, n_vocab]
};

}  // namespace kestrel::eval
