#include "engine/scheduler.h"

#include <algorithm>

#include "core/error.h"

namespace kestrel::engine {
namespace {

// Most tokens per step whose logits are all kept (prompt log-probabilities): each holds a whole
// vocabulary row, which for a 262k vocabulary is a megabyte.
constexpr int64_t kPromptLogitRows = 64;

}  // namespace

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
  chunk.all_logits = seq->wants_prompt_logits();
  plan.chunks.push_back(chunk);
  plan.n_tokens += n;
}

StepPlan Scheduler::schedule() {
  StepPlan plan;
  int64_t budget = limits_.token_budget;
  int64_t logit_rows = kPromptLogitRows;
  // Tokens a sequence may run now: its want, within the token budget and, when it keeps every
  // logit row, within the step's rows for that.
  auto take = [&](const Sequence* seq, int32_t want) {
    int64_t n = std::min<int64_t>(want, budget);
    if (seq->wants_prompt_logits()) n = std::min(n, logit_rows);
    return static_cast<int32_t>(n);
  };
  auto spend = [&](const Sequence* seq, int32_t n) {
    budget -= n;
    if (seq->wants_prompt_logits()) logit_rows -= n;
  };
  // Running sequences, oldest first. Preemption removes from the back, i.e. only sequences not
  // yet visited in this loop, so the plan never refers to a preempted sequence.
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Sequence* seq = running_[i];
    const int32_t want = seq->n_uncomputed();
    if (want <= 0) {
      ++i;
      continue;
    }
    const int32_t n = take(seq, want);
    if (n <= 0) {  // out of logit rows this step
      ++i;
      continue;
    }
    bool fits = kv_.allocate(seq->id, n);
    while (!fits && running_.back() != seq) {
      preempt(running_.back());
      fits = kv_.allocate(seq->id, n);
    }
    if (!fits) {
      preempt(seq);  // the newest itself: it waits until others finish
      continue;
    }
    spend(seq, n);
    add_chunk(plan, seq, n);
    ++i;
  }
  // Admission, first come first served: stop at the first sequence that does not fit, so a long
  // prompt is not overtaken forever by short ones.
  while (!waiting_.empty() && budget > 0 &&
         static_cast<int32_t>(running_.size()) < limits_.max_running) {
    Sequence* seq = waiting_.front();
    if (!kv_.contains(seq->id)) {
      // A prompt being scored is computed in full: cached blocks would skip its logits.
      seq->n_cached = prefix_cache_ && !seq->wants_prompt_logits()
                          ? kv_.match_prefix(seq->id, seq->tokens, seq->cache_salt)
                          : 0;
      seq->n_computed = seq->n_cached;
    }
    const int32_t want = seq->n_uncomputed();
    const int32_t n = take(seq, want);
    if (n <= 0 || !kv_.allocate(seq->id, n)) {
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
    spend(seq, n);
    add_chunk(plan, seq, n);
  }
  return plan;
}

}  // namespace kestrel::engine
