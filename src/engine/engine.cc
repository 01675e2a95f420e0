#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace kestrel::engine {
namespace {

int32_t blocks_for(const EngineOptions& o) {
  KESTREL_CHECK(o.n_ctx > 0 && o.n_seq_max > 0 && o.block_size > 0,
                "engine: n_ctx, n_seq_max and block_size must be positive");
  const int64_t per_seq = (static_cast<int64_t>(o.n_ctx) + o.block_size - 1) / o.block_size;
  if (o.n_blocks > 0) {
    // One sequence must always fit at full length, or preemption could not make progress.
    KESTREL_CHECK(o.n_blocks >= per_seq, "engine: ", o.n_blocks, " KV blocks of ", o.block_size,
                  " tokens cannot hold one sequence of the context length ", o.n_ctx);
    return o.n_blocks;
  }
  return static_cast<int32_t>(per_seq * o.n_seq_max);
}

SchedulerLimits limits_for(const EngineOptions& o, const model::Model& model) {
  SchedulerLimits l;
  l.token_budget = std::min<int64_t>(o.token_budget, model.max_batch());
  l.max_running = o.max_running;
  return l;
}

}  // namespace

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kNone: return "none";
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kAborted: return "aborted";
  }
  return "?";
}

Engine::Engine(model::Model& model, const EngineOptions& options)
    : model_(model),
      options_(options),
      kv_(blocks_for(options), options.block_size),
      kv_storage_(model.hparams().n_layer, static_cast<int64_t>(blocks_for(options)) * options.block_size,
                  model.hparams().kv_row()),
      scheduler_(kv_, limits_for(options, model), options.prefix_cache),
      runner_(model, kv_, kv_storage_) {}

SeqId Engine::add(GenerationRequest request, TokenCallback on_token) {
  TokenEventCallback on_event;
  if (on_token) {
    on_event = [cb = std::move(on_token)](const TokenEvent& e) { cb(e.seq, e.token, e.finish); };
  }
  return add(std::move(request), std::move(on_event));
}

void Engine::set_limits(const SchedulerLimits& limits) {
  SchedulerLimits l = limits;
  l.token_budget = std::min<int64_t>(l.token_budget, model_.max_batch());
  scheduler_.set_limits(l);
}

SeqId Engine::add(GenerationRequest request, TokenEventCallback on_token) {
  const int32_t n_vocab = model_.hparams().n_vocab;
  KESTREL_CHECK(!request.prompt.empty(), "engine: empty prompt");
  KESTREL_CHECK(static_cast<int64_t>(request.prompt.size()) < options_.n_ctx, "engine: prompt of ",
                request.prompt.size(), " tokens does not fit the context of ", options_.n_ctx);
  for (int32_t t : request.prompt) {
    KESTREL_CHECK(t >= 0 && t < n_vocab, "engine: token id ", t, " outside the vocabulary");
  }
  const SeqId id = next_id_++;
  auto seq = std::make_unique<Sequence>(id, std::move(request), n_vocab, std::move(on_token));
  for (int32_t t : seq->tokens) seq->sampler.accept(t);
  seqs_[id] = seq.get();
  scheduler_.add(seq.get());
  owned_[id] = std::move(seq);
  return id;
}

void Engine::cancel(SeqId id) {
  // Only flagged here: cancel may be called from inside a token callback, while the sequence is
  // in use. reap_cancelled() ends it at a safe point.
  auto it = seqs_.find(id);
  if (it != seqs_.end()) it->second->cancelled = true;
}

void Engine::reap_cancelled() {
  std::vector<Sequence*> doomed;
  for (auto& [id, seq] : seqs_) {
    if (seq->cancelled) doomed.push_back(seq);
  }
  for (Sequence* seq : doomed) finish(*seq, FinishReason::kAborted, -1);
}

void Engine::finish(Sequence& seq, FinishReason reason, int32_t last_token) {
  seq.finish = reason;
  const SeqId id = seq.id;
  TokenEventCallback cb = std::move(seq.on_token);
  const TokenEvent event = event_of(seq, last_token, reason);
  scheduler_.remove(id);
  if (kv_.contains(id)) kv_.free(id);
  seqs_.erase(id);
  // The event may point into the sequence (its prompt log-probabilities): it lives in `node`
  // until the callback has run.
  const auto node = owned_.extract(id);
  if (cb) cb(event);
}

TokenEvent Engine::event_of(Sequence& seq, int32_t token, FinishReason reason) {
  TokenEvent e{seq.id, token, reason, token >= 0 && seq.logprobs >= 0 ? &logprobs_ : nullptr};
  if (seq.prompt_logprobs >= 0 && !seq.prompt_lps_sent) {
    e.prompt_logprobs = &seq.prompt_lps;
    seq.prompt_lps_sent = true;
  }
  return e;
}

void Engine::step() {
  reap_cancelled();
  const StepPlan plan = scheduler_.schedule();
  if (plan.empty()) {
    // Nothing runs and the oldest waiting sequence does not fit in an otherwise empty KV cache
    // (cannot happen with the sizes the constructor checks, but must not spin): end it.
    if (scheduler_.running().empty() && !scheduler_.waiting().empty()) {
      finish(*scheduler_.waiting().front(), FinishReason::kLength, -1);
    }
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  runner_.run(plan, seqs_);
  bool has_prompt = false;
  for (const ScheduledChunk& c : plan.chunks) {
    const Sequence& s = *seqs_.at(c.seq);
    const int32_t prompt_part = std::max(0, std::min(c.first + c.n_tokens, s.n_prompt) - c.first);
    stats_.prompt_tokens += prompt_part;
    has_prompt = has_prompt || prompt_part > 0;
  }
  commit(plan);
  reap_cancelled();
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  (has_prompt ? stats_.prompt_seconds : stats_.generate_seconds) += dt;
  stats_.last_step_seconds = dt;
  stats_.last_step_tokens = plan.n_tokens;
  ++stats_.steps;
}

void Engine::commit(const StepPlan& plan) {
  const tokenizer::Tokenizer& tok = model_.tokenizer();
  for (size_t c = 0; c < plan.chunks.size(); ++c) {
    const ScheduledChunk& chunk = plan.chunks[c];
    auto it = seqs_.find(chunk.seq);
    if (it == seqs_.end()) continue;  // cancelled by a callback earlier in this commit
    Sequence& seq = *it->second;
    if (seq.cancelled) continue;
    if (chunk.all_logits) record_prompt_logprobs(seq, chunk, runner_.token_logits_of(c));
    seq.n_computed += chunk.n_tokens;
    if (options_.prefix_cache) {
      kv_.cache_computed(seq.id, seq.tokens, seq.n_computed, seq.cache_salt);
    }
    if (!chunk.wants_logits) continue;
    if (seq.max_tokens == 0) {  // the prompt only (scored, when prompt_logprobs asks)
      finish(seq, FinishReason::kLength, -1);
      continue;
    }
    const float* logits = runner_.logits_of(c);
    const int32_t token = seq.sampler.sample(logits);
    if (seq.logprobs >= 0) compute_logprobs(logits, token, seq.logprobs);
    seq.sampler.accept(token);
    seq.tokens.push_back(token);
    ++stats_.generated_tokens;
    FinishReason reason = FinishReason::kNone;
    if (!seq.ignore_eos && tok.is_eog(token)) {
      reason = FinishReason::kStop;
    } else if ((seq.max_tokens >= 0 && seq.n_generated() >= seq.max_tokens) ||
               static_cast<int32_t>(seq.tokens.size()) >= options_.n_ctx) {
      reason = FinishReason::kLength;
    }
    if (reason == FinishReason::kNone) {
      seq.on_token(event_of(seq, token, reason));
    } else {
      finish(seq, reason, token);
    }
  }
}

void Engine::record_prompt_logprobs(Sequence& seq, const ScheduledChunk& chunk,
                                    const float* rows) {
  const int64_t n_vocab = model_.hparams().n_vocab;
  for (int32_t i = 0; i < chunk.n_tokens; ++i) {
    // Row i follows position p and predicts prompt token p + 1. A recomputation after preemption
    // revisits positions already recorded: skip them.
    const int32_t p = chunk.first + i;
    if (p != static_cast<int32_t>(seq.prompt_lps.size()) || p + 1 >= seq.n_prompt) continue;
    compute_logprobs(rows + i * n_vocab, seq.tokens[p + 1], seq.prompt_logprobs);
    seq.prompt_lps.push_back(logprobs_);
  }
}

void Engine::compute_logprobs(const float* logits, int32_t token, int32_t n_top) {
  const int32_t n_vocab = model_.hparams().n_vocab;
  float mx = logits[0];
  for (int32_t i = 1; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i] - mx));
  const double log_z = mx + std::log(sum);
  logprobs_.logprob = static_cast<float>(logits[token] - log_z);
  logprobs_.top.clear();
  const int32_t k = std::min(n_top, n_vocab);
  if (k <= 0) return;
  top_ids_.resize(n_vocab);
  for (int32_t i = 0; i < n_vocab; ++i) top_ids_[i] = i;
  std::partial_sort(top_ids_.begin(), top_ids_.begin() + k, top_ids_.end(),
                    [logits](int32_t a, int32_t b) {
                      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
                    });
  for (int32_t i = 0; i < k; ++i) {
    logprobs_.top.emplace_back(top_ids_[i], static_cast<float>(logits[top_ids_[i]] - log_z));
  }
}

void Engine::run_until_idle() {
  while (!idle()) step();
}

}  // namespace kestrel::engine
