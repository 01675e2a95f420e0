// What a caller asks of the engine, and why a sequence stopped. Plain data.
#pragma once

#include <cstdint>
#include <vector>

#include "sample/sampling_params.h"

namespace kestrel::engine {

using SeqId = int64_t;

struct GenerationRequest {
  std::vector<int32_t> prompt;  // token ids, at least one
  sample::SamplingParams sampling;
  int32_t max_tokens = 128;  // tokens to generate at most; -1: until the context is full
  bool ignore_eos = false;   // keep going past end-of-generation tokens
};

enum class FinishReason {
  kNone,     // still running
  kStop,     // an end-of-generation token (or the caller stopped it on a stop string)
  kLength,   // max_tokens reached, or the context is full
  kAborted,  // cancelled
};

const char* finish_reason_name(FinishReason reason);

}  // namespace kestrel::engine
