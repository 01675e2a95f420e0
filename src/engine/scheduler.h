// Iteration-level scheduling with a token budget per step (continuous batching).
//
// Two queues: `running` (admitted, holding KV blocks) and `waiting` (arrived or preempted, holding
// none). Each step, first every running sequence in arrival order gets min(its uncomputed tokens,
// budget left) tokens, so decodes (1 token) are never starved by a long prompt, which is chunked
// across steps. Then waiting sequences are admitted first come first served while the budget, the
// running limit and the KV cache allow; an admitted sequence first takes the longest matching
// cached prefix (prefix caching), so only the rest is computed.
//
// Preemption by recompute: when a running sequence cannot get the blocks it needs, the most
// recently admitted running sequence is preempted (its blocks released, n_computed back to 0, put
// at the head of the waiting queue), repeatedly, until it fits; if it is itself the newest, it is
// the one preempted. Its tokens (prompt and generated) are kept, so after re-admission it
// recomputes them (mostly from the prefix cache) and continues exactly where it was.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "engine/sequence.h"
#include "engine/step_plan.h"
#include "kv/kv_cache_manager.h"

namespace kestrel::engine {

struct SchedulerLimits {
  int64_t token_budget = 512;  // most tokens per step
  int32_t max_running = 64;    // most admitted sequences
};

struct SchedulerStats {
  int64_t preemptions = 0;
  int64_t admitted = 0;
  int64_t cached_tokens = 0;  // prompt tokens taken from the prefix cache at admission
};

class Scheduler {
 public:
  Scheduler(kv::KvCacheManager& kv, SchedulerLimits limits, bool prefix_cache);

  void add(Sequence* seq);  // joins the waiting queue
  // Forgets the sequence (the caller frees its KV blocks).
  void remove(SeqId id);
  bool empty() const { return running_.empty() && waiting_.empty(); }
  const std::vector<Sequence*>& running() const { return running_; }
  const std::deque<Sequence*>& waiting() const { return waiting_; }

  // Plans one step and reserves its KV blocks (preempting where needed).
  StepPlan schedule();

  const SchedulerLimits& limits() const { return limits_; }
  // Takes effect at the next schedule() (the TPOT controller tunes these between steps).
  void set_limits(const SchedulerLimits& limits);
  const SchedulerStats& stats() const { return stats_; }

 private:
  void preempt(Sequence* seq);
  static void add_chunk(StepPlan& plan, Sequence* seq, int32_t n);

  kv::KvCacheManager& kv_;
  SchedulerLimits limits_;
  bool prefix_cache_;
  std::vector<Sequence*> running_;  // admission order
  std::deque<Sequence*> waiting_;   // arrival order; preempted sequences go to the front
  SchedulerStats stats_;
};

}  // namespace kestrel::engine
