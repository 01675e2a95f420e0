// The engine loop: schedule -> forward -> sample -> commit, over any number of sequences sharing
// one paged KV cache. step() runs one iteration on the calling thread; `kestrel run` calls it until
// idle, the server will call it from its engine thread.
#pragma once

#include <memory>
#include <unordered_map>

#include "backend/kv_storage.h"
#include "engine/runner.h"
#include "engine/scheduler.h"
#include "engine/sequence.h"
#include "kv/kv_cache_manager.h"
#include "model/model.h"

namespace kestrel::engine {

struct EngineOptions {
  int32_t n_ctx = 4096;        // most tokens (prompt + generated) one sequence may hold
  int32_t n_seq_max = 1;       // sequences that fit in the KV cache at full length
  int32_t n_blocks = 0;        // KV blocks in all; 0: n_seq_max full-length sequences' worth
  int32_t block_size = 16;     // tokens per KV block
  int64_t token_budget = 512;  // most tokens per step (capped by the model's max_batch)
  int32_t max_running = 64;    // most sequences admitted at once (the rest wait)
  bool prefix_cache = true;    // reuse computed KV blocks of equal prefixes
};

struct EngineStats {
  int64_t steps = 0;
  int64_t prompt_tokens = 0;     // tokens computed that were prompt
  int64_t generated_tokens = 0;  // tokens sampled
  double prompt_seconds = 0;     // time in steps that carried prompt tokens
  double generate_seconds = 0;   // time in steps that carried only generated tokens
  double last_step_seconds = 0;  // duration of the latest step
  int64_t last_step_tokens = 0;  // tokens it computed
};

class Engine {
 public:
  Engine(model::Model& model, const EngineOptions& options);

  // Queues a request; throws kestrel::Error for an empty or too long prompt or invalid sampling.
  SeqId add(GenerationRequest request, TokenCallback on_token);
  // The same, with log-probabilities in the events when request.logprobs >= 0.
  SeqId add(GenerationRequest request, TokenEventCallback on_event);
  // Ends a sequence at the next safe point (its callback then gets token -1 with kAborted);
  // callable from a token callback; unknown ids are ignored.
  void cancel(SeqId id);
  bool idle() const { return seqs_.empty(); }
  void step();
  void run_until_idle();
  const EngineStats& stats() const { return stats_; }
  const kv::KvCacheManager& kv() const { return kv_; }
  const Scheduler& scheduler() const { return scheduler_; }
  int32_t n_running() const { return static_cast<int32_t>(scheduler_.running().size()); }
  int32_t n_waiting() const { return static_cast<int32_t>(scheduler_.waiting().size()); }
  void set_limits(const SchedulerLimits& limits);
  const EngineOptions& options() const { return options_; }

 private:
  void commit(const StepPlan& plan);
  void finish(Sequence& seq, FinishReason reason, int32_t last_token);
  void reap_cancelled();
  void compute_logprobs(const float* logits, int32_t token, int32_t n_top);
  void record_prompt_logprobs(Sequence& seq, const ScheduledChunk& chunk, const float* rows);
  // The event for `seq`'s next callback (its prompt log-probabilities ride on the first one).
  TokenEvent event_of(Sequence& seq, int32_t token, FinishReason reason);

  model::Model& model_;
  EngineOptions options_;
  kv::KvCacheManager kv_;
  backend::KvStorage kv_storage_;
  Scheduler scheduler_;
  Runner runner_;
  std::unordered_map<SeqId, Sequence*> seqs_;
  std::unordered_map<SeqId, std::unique_ptr<Sequence>> owned_;
  SeqId next_id_ = 1;
  EngineStats stats_;
  TokenLogprobs logprobs_;          // scratch for the current token's event
  std::vector<int32_t> top_ids_;    // scratch for compute_logprobs
};

}  // namespace kestrel::engine
