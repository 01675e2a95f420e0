#include "engine/scheduler.h"

#include <algorithm>

#include "core/error.h"

namespace kestrel::engine {

Scheduler::Scheduler(kv::KvCacheManager& kv, int64_t token_budget)
    : kv_(kv), token_budget_(token_budget) {
  KESTREL_CHECK(token_budget > 0, "scheduler: token budget must be positive");
}

void Scheduler::add(Sequence* seq) { running_.push_back(seq); }

void Scheduler::remove(SeqId id) {
  running_.erase(std::remove_if(running_.begin(), running_.end(),
                                [id](const Sequence* s) { return s->id == id; }),
                 running_.end());
}

StepPlan Scheduler::schedule() {
  StepPlan plan;
  int64_t budget = token_budget_;
  for (Sequence* seq : running_) {
    if (budget == 0) break;
    const int32_t want = seq->n_uncomputed();
    if (want <= 0) continue;
    const int32_t n = static_cast<int32_t>(std::min<int64_t>(want, budget));
    if (!kv_.allocate(seq->id, n)) continue;  // no room this step; later sequences may fit
    ScheduledChunk chunk;
    chunk.seq = seq->id;
    chunk.first = seq->n_computed;
    chunk.n_tokens = n;
    chunk.wants_logits = (n == want);
    plan.chunks.push_back(chunk);
    plan.n_tokens += n;
    budget -= n;
  }
  return plan;
}

}  // namespace kestrel::engine
