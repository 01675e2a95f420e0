#include "engine/scheduler.h"

#include <algorithm>

#include "core/error.h"

namespace kestrel::engine {

Scheduler::Scheduler(kv::KvCacheManager& kv, SchedulerLimits limits, bool prefix_cache)
    : kv_(kv), prefix_cache_(prefix_cache) {
  set_limits(limits);
}

void Scheduler::set_limits(const SchedulerLimits& limits) {
  KESTREL_CHECK(limits.token_budget > 0, "scheduler: token budget must be positive");
  KESTREL_CHECK(limits.max_running > 0, "scheduler: max running sequences must be positive");
  limits_ = limits;
}

void Scheduler::add(Sequence* seq) {
  seq->running = false;
  waiting_.push_back(seq);
}

void Scheduler::remove(SeqId id) {
  auto match = [id](const Sequence* s) { return s->id == id; };
  running_.erase(std::remove_if(running_.begin(), running_.end(), match), running_.end());
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), match), waiting_.end());
}

void Scheduler::preempt(Sequence* seq) {
  kv_.free(seq->id);
  seq->n_computed = 0;
  seq->running = false;
  ++seq->n_preempted;
  ++stats_.preemptions;
  running_.erase(std::find(running_.begin(), running_.end(), seq));
  waiting_.push_front(seq);
}

void Scheduler::add_chunk(StepPlan& plan, Sequence* seq, int32_t n) {
  ScheduledChunk chunk;
  chunk.seq = seq->id;
  chunk.first = seq->n_computed;
  chunk.n_tokens = n;
  chunk.wants_logits = (n == seq->n_uncomputed());
  plan.chunks.push_back(chunk);
  plan.n_tokens += n;
}

StepPlan Scheduler::schedule() {
  StepPlan plan;
  int64_t budget = limits_.token_budget;
  // Running sequences, oldest first. Preemption removes from the back, i.e. only sequences not
  // yet visited in this loop, so the plan never refers to a preempted sequence.
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Sequence* seq = running_[i];
    const int32_t want = seq->n_uncomputed();
    if (want <= 0) {
      ++i;
      continue;
    }
    const int32_t n = static_cast<int32_t>(std::min<int64_t>(want, budget));
    bool fits = kv_.allocate(seq->id, n);
    while (!fits && running_.back() != seq) {
      preempt(running_.back());
      fits = kv_.allocate(seq->id, n);
    }
    if (!fits) {
      preempt(seq);  // the newest itself: it waits until others finish
      continue;
    }
    add_chunk(plan, seq, n);
    budget -= n;
    ++i;
  }
  // Admission, first come first served: stop at the first sequence that does not fit, so a long
  // prompt is not overtaken forever by short ones.
  while (!waiting_.empty() && budget > 0 &&
         static_cast<int32_t>(running_.size()) < limits_.max_running) {
    Sequence* seq = waiting_.front();
    if (!kv_.contains(seq->id)) {
      seq->n_cached = prefix_cache_ ? kv_.match_prefix(seq->id, seq->tokens, seq->cache_salt) : 0;
      seq->n_computed = seq->n_cached;
    }
    const int32_t want = seq->n_uncomputed();
    const int32_t n = static_cast<int32_t>(std::min<int64_t>(want, budget));
    if (!kv_.allocate(seq->id, n)) {
      // Give the matched blocks back (they stay cached) and retry next step.
      kv_.free(seq->id);
      seq->n_computed = 0;
      break;
    }
    waiting_.pop_front();
    running_.push_back(seq);
    seq->running = true;
    ++stats_.admitted;
    stats_.cached_tokens += seq->n_cached;
    add_chunk(plan, seq, n);
    budget -= n;
  }
  return plan;
}

}  // namespace kestrel::engine
