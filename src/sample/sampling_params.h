// SamplingParams: how one request picks its next token. The fields and their defaults follow
// llama.cpp (common_params_sampling), so the same settings give comparable behaviour.
// Validated once at the edge (server, CLI) with validate(); the Sampler validates again.
#pragma once

#include <cstdint>

namespace kestrel::sample {

struct SamplingParams {
  // Seed value that asks for a fresh random seed (llama.cpp's LLAMA_DEFAULT_SEED plays this role).
  // The Sampler draws one from std::random_device and reports it through Sampler::seed().
  static constexpr uint64_t kRandomSeed = UINT64_MAX;

  float temperature = 0.8f;        // 0 = greedy (argmax, ties to the lowest id); must be >= 0
  int32_t top_k = 40;              // 0 = off (keep the whole vocabulary)
  float top_p = 0.95f;             // in (0, 1]; 1 = off
  float min_p = 0.05f;             // in [0, 1]; 0 = off; keeps p >= min_p * p_max
  float repeat_penalty = 1.0f;     // > 0; 1 = off
  int32_t repeat_last_n = 64;      // tokens of history the penalties see; 0 = off, -1 = all
  float frequency_penalty = 0.0f;  // subtracted once per occurrence in the window
  float presence_penalty = 0.0f;   // subtracted once if the token occurs in the window
  uint64_t seed = kRandomSeed;

  // Throws kestrel::Error naming the first bad field and its value.
  void validate() const;
};

}  // namespace kestrel::sample
