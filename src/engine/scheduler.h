// First-come-first-served scheduling with a token budget per step: each running sequence, in
// arrival order, gets min(its uncomputed tokens, budget left) tokens, if the KV cache can hold
// them (all or nothing per chunk). Decoding sequences need one token, so they are never starved by
// a long prompt, which is chunked across steps.
#pragma once

#include <cstdint>
#include <deque>

#include "engine/sequence.h"
#include "engine/step_plan.h"
#include "kv/kv_cache_manager.h"

namespace kestrel::engine {

class Scheduler {
 public:
  Scheduler(kv::KvCacheManager& kv, int64_t token_budget);

  void add(Sequence* seq);
  void remove(SeqId id);
  bool empty() const { return running_.empty(); }
  const std::deque<Sequence*>& running() const { return running_; }

  // Plans one step and reserves its KV blocks.
  StepPlan schedule();

 private:
  kv::KvCacheManager& kv_;
  int64_t token_budget_;
  std::deque<Sequence*> running_;
};

}  // namespace kestrel::engine
