// A sequence's state inside the engine. Invariant: tokens[0 .. n_computed) have their k and v in
// the KV cache; the scheduler hands out the rest, a chunk per step, from a token budget (there is
// no separate prefill phase: a prompt is just many uncomputed tokens, and a preempted sequence is
// one whose n_computed went back to 0).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/request.h"
#include "sample/sampler.h"

namespace kestrel::engine {

// Called once per generated token (finish == kNone while the sequence goes on), and once more with
// token -1 when a sequence ends without producing a token (cancelled, context full).
using TokenCallback = std::function<void(SeqId seq, int32_t token, FinishReason finish)>;

// The same, with the token's log-probabilities when the request asked for them (else nullptr).
struct TokenEvent {
  SeqId seq = 0;
  int32_t token = -1;
  FinishReason finish = FinishReason::kNone;
  const TokenLogprobs* logprobs = nullptr;
  // On a sequence's first event only, when the request asked for prompt log-probabilities: entry
  // i is prompt token i + 1's (the first prompt token has none).
  const std::vector<TokenLogprobs>* prompt_logprobs = nullptr;
};
using TokenEventCallback = std::function<void(const TokenEvent& event)>;

struct Sequence {
  Sequence(SeqId id_, GenerationRequest request, int32_t n_vocab, TokenEventCallback callback)
      : id(id_),
        tokens(std::move(request.prompt)),
        n_prompt(static_cast<int32_t>(tokens.size())),
        max_tokens(request.max_tokens),
        ignore_eos(request.ignore_eos),
        cache_salt(request.cache_salt),
        logprobs(request.logprobs),
        prompt_logprobs(request.prompt_logprobs),
        sampler(request.sampling, n_vocab),
        on_token(std::move(callback)) {}

  int32_t n_generated() const { return static_cast<int32_t>(tokens.size()) - n_prompt; }
  int32_t n_uncomputed() const { return static_cast<int32_t>(tokens.size()) - n_computed; }
  // Prompt log-probabilities still to compute: its chunks need every token's logits.
  bool wants_prompt_logits() const {
    return prompt_logprobs >= 0 && static_cast<int32_t>(prompt_lps.size()) < n_prompt - 1;
  }

  SeqId id;
  std::vector<int32_t> tokens;  // prompt, then generated tokens
  int32_t n_prompt;
  int32_t n_computed = 0;
  int32_t max_tokens;
  bool ignore_eos;
  uint64_t cache_salt;
  int32_t logprobs;
  int32_t prompt_logprobs;
  std::vector<TokenLogprobs> prompt_lps;  // computed so far, in prompt order (see TokenEvent)
  bool prompt_lps_sent = false;
  sample::Sampler sampler;
  TokenEventCallback on_token;
  FinishReason finish = FinishReason::kNone;
  bool cancelled = false;
  bool running = false;       // admitted (holds KV blocks) rather than waiting
  int32_t n_cached = 0;       // prompt tokens reused from the prefix cache at the last admission
  int32_t n_preempted = 0;    // times its KV was dropped to make room (then recomputed)
};

}  // namespace kestrel::engine
