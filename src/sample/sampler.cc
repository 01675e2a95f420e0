#include "sample/sampler.h"

#include <cmath>
#include <random>

#include "core/error.h"
#include "sample/filters.h"

namespace kestrel::sample {
namespace {

uint64_t resolve_seed(uint64_t seed) {
  if (seed != SamplingParams::kRandomSeed) return seed;
  std::random_device rd;
  const uint64_t s = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  // Never hand back the "random" marker itself, so seed() can always be replayed.
  return s == SamplingParams::kRandomSeed ? 0 : s;
}

const SamplingParams& validated(const SamplingParams& params) {
  params.validate();
  return params;
}

}  // namespace

Sampler::Sampler(const SamplingParams& params, int32_t n_vocab)
    : params_(validated(params)),
      n_vocab_(n_vocab),
      seed_(resolve_seed(params.seed)),
      rng_(seed_),
      penalties_(params, n_vocab > 0 ? n_vocab : 0),
      cands_(n_vocab > 0 ? n_vocab : 0) {
  KESTREL_CHECK(n_vocab > 0, "sampling: n_vocab must be > 0, got ", n_vocab);
  weights_.resize(n_vocab);
}

int32_t Sampler::sample(const float* logits) {
  cands_.fill(logits);
  penalties_.apply(cands_);
  if (params_.temperature == 0.0f) return cands_[cands_.best_index()].id;
  top_k(cands_, params_.top_k);
  top_p(cands_, params_.top_p);
  min_p(cands_, params_.min_p);
  apply_temperature(cands_, params_.temperature);
  return draw();
}

int32_t Sampler::draw() {
  const int32_t n = cands_.size();
  const int32_t best = cands_.best_index();
  const float max_logit = cands_[best].logit;
  // One draw per call whatever happens below, so the stream position depends only on the number
  // of sample() calls.
  const double u = rng_.uniform();
  // Every logit -inf (all masked): no distribution to draw from; fall back to greedy's choice.
  if (std::isinf(max_logit) && max_logit < 0) return cands_[best].id;
  double z = 0.0;
  for (int32_t i = 0; i < n; ++i) {
    weights_[i] = std::exp(cands_[i].logit - max_logit);  // float exp, double sum (as in top_p)
    z += weights_[i];
  }
  const double target = u * z;
  double cum = 0.0;
  for (int32_t i = 0; i < n; ++i) {
    cum += weights_[i];
    if (target < cum) return cands_[i].id;
  }
  // u * z rounded up to z: take the last candidate with any weight.
  for (int32_t i = n - 1; i >= 0; --i) {
    if (weights_[i] > 0.0) return cands_[i].id;
  }
  return cands_[best].id;
}

void Sampler::accept(int32_t token) {
  KESTREL_CHECK(token >= 0 && token < n_vocab_, "sampling: token ", token,
                " outside the vocabulary of ", n_vocab_);
  penalties_.accept(token);
}

void Sampler::reset() {
  penalties_.reset();
  rng_.reseed(seed_);
}

}  // namespace kestrel::sample
