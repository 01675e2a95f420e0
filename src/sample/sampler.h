// Sampler: picks one token from a row of logits for one sequence, and keeps that sequence's
// history for the penalties and its seeded random stream.
//
// The chain (llama.cpp's default order, common_sampler with the samplers we support):
//   penalties -> top-k -> top-p -> min-p -> temperature -> draw
// Truncation runs before temperature, so top-p and min-p judge the temperature-1 distribution
// (as in llama.cpp); temperature then only reshapes what is left. temperature == 0 is greedy:
// the argmax of the penalized logits, ties to the lowest id, with no random draw (the truncation
// filters always keep the argmax, so skipping them changes nothing).
//
// Reproducibility: a seed gives the same token sequence on every platform for the same logits
// (our own RNG and float conversion; candidates are in a canonical order when drawn), up to the
// last-ulp differences of std::exp between C libraries. Each non-greedy sample() draws exactly
// one random number.
//
// Cost: sample() is O(n_vocab) plus the sort work the filters state; it never allocates (every
// buffer is sized in the constructor). accept() is O(1). Not thread-safe; one per sequence.
#pragma once

#include <cstdint>
#include <vector>

#include "sample/candidates.h"
#include "sample/penalties.h"
#include "sample/rng.h"
#include "sample/sampling_params.h"

namespace kestrel::sample {

class Sampler {
 public:
  // Validates params (throws kestrel::Error) and sizes every buffer for n_vocab (> 0).
  Sampler(const SamplingParams& params, int32_t n_vocab);

  // Picks a token from logits (F32 [n_vocab]); the logits are not modified. Does not record the
  // token: call accept() with the token the sequence keeps.
  int32_t sample(const float* logits);
  // Adds a token to the penalty history; prompt tokens are accepted too. Throws kestrel::Error
  // unless 0 <= token < n_vocab.
  void accept(int32_t token);
  // Forgets the history and restarts the random stream from the seed, as llama.cpp's reset does.
  void reset();

  const SamplingParams& params() const { return params_; }
  // The seed in use: params().seed, or the one drawn when that was kRandomSeed.
  uint64_t seed() const { return seed_; }
  int32_t n_vocab() const { return n_vocab_; }

 private:
  int32_t draw();

  SamplingParams params_;
  int32_t n_vocab_;
  uint64_t seed_;
  Rng rng_;
  Penalties penalties_;
  CandidateSet cands_;
  std::vector<double> weights_;  // [n_vocab] exp(logit - max) of the final set, for the draw
};

}  // namespace kestrel::sample
