// Turns a StepPlan into one flat batch (token ids, positions, sequence index, KV slots, block
// tables, logit rows) and runs the model on it. The arrays are reused from step to step.
#pragma once

#include <unordered_map>
#include <vector>

#include "backend/kv_storage.h"
#include "engine/sequence.h"
#include "engine/step_plan.h"
#include "kv/kv_cache_manager.h"
#include "model/model.h"

namespace kestrel::engine {

class Runner {
 public:
  Runner(model::Model& model, kv::KvCacheManager& kv, backend::KvStorage& kv_storage);

  // Runs the plan's tokens. logits_of(i): the logits after chunk i's last token (nullptr unless
  // wants_logits); token_logits_of(i): n_tokens rows, one per token of the chunk (nullptr unless
  // all_logits). Valid until the next run().
  void run(const StepPlan& plan, const std::unordered_map<SeqId, Sequence*>& seqs);
  const float* logits_of(size_t chunk) const { return chunk_logits_[chunk]; }
  const float* token_logits_of(size_t chunk) const { return chunk_rows_[chunk]; }

 private:
  model::Model& model_;
  kv::KvCacheManager& kv_;
  backend::KvStorage& kv_storage_;
  std::vector<int32_t> token_ids_, positions_, seq_of_token_, slots_, logit_rows_;
  std::vector<backend::SeqKvView> seq_views_;
  std::vector<float> logits_;  // F32 [n_logits, n_vocab]
  std::vector<const float*> chunk_logits_;
  std::vector<const float*> chunk_rows_;
};

}  // namespace kestrel::engine
