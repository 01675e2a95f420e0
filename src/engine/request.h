// What a caller asks of the engine, and why a sequence stopped. Plain data.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "sample/sampling_params.h"

namespace kestrel::engine {

using SeqId = int64_t;

struct GenerationRequest {
  std::vector<int32_t> prompt;  // token ids, at least one
  sample::SamplingParams sampling;
  int32_t max_tokens = 128;  // tokens to generate at most; -1: until the context is full
  bool ignore_eos = false;   // keep going past end-of-generation tokens
  // Prefix-cache namespace: sequences only reuse KV blocks computed under the same salt (the
  // server derives it from the API key, so tenants never share cached blocks).
  uint64_t cache_salt = 0;
  // Log-probabilities of each sampled token under the model's raw distribution, plus this many
  // most likely alternatives; -1: none.
  int32_t logprobs = -1;
  // Log-probabilities of the prompt's own tokens (each given the ones before it), with this many
  // alternatives; -1: none. Such a prompt is computed in full (no prefix-cache reuse). With
  // max_tokens 0 the prompt is computed (and scored) and nothing is generated.
  int32_t prompt_logprobs = -1;
};

// Log-probabilities of one sampled token (the model's log-softmax, before sampling filters).
struct TokenLogprobs {
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;  // most likely first
};

enum class FinishReason {
  kNone,     // still running
  kStop,     // an end-of-generation token (or the caller stopped it on a stop string)
  kLength,   // max_tokens reached, or the context is full
  kAborted,  // cancelled
};

const char* finish_reason_name(FinishReason reason);

}  // namespace kestrel::engine
