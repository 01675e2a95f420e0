#include "sample/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "sample/rng.h"

namespace kestrel::sample {
namespace {

SamplingParams plain(float temperature, uint64_t seed = 1234) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = seed;
  return p;
}

std::vector<float> random_logits(int32_t n, uint64_t seed, double scale = 6.0) {
  Rng rng(seed);
  std::vector<float> l(n);
  for (float& x : l) x = static_cast<float>((rng.uniform() - 0.5) * scale);
  return l;
}

TEST(Sampler, GreedyPicksArgmaxTiesToLowestId) {
  Sampler s(plain(0.0f), 6);
  const std::vector<float> a = {0.1f, 2.0f, -1.0f, 3.5f, 0.0f, 3.4f};
  EXPECT_EQ(s.sample(a.data()), 3);
  const std::vector<float> tie = {1.0f, 5.0f, 2.0f, 5.0f, 5.0f, 0.0f};
  EXPECT_EQ(s.sample(tie.data()), 1);
  // Greedy ignores the truncation settings and is the same every call.
  SamplingParams p = plain(0.0f);
  p.top_k = 2;
  p.top_p = 0.1f;
  p.min_p = 0.9f;
  Sampler g(p, 6);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(g.sample(tie.data()), 1);
}

TEST(Sampler, GreedySeesPenalties) {
  SamplingParams p = plain(0.0f);
  p.repeat_penalty = 4.0f;
  Sampler s(p, 3);
  const std::vector<float> l = {1.0f, 3.0f, 2.0f};
  EXPECT_EQ(s.sample(l.data()), 1);
  s.accept(1);  // 3 / 4 = 0.75 < 2
  EXPECT_EQ(s.sample(l.data()), 2);
  s.reset();
  EXPECT_EQ(s.sample(l.data()), 1);
}

TEST(Sampler, TopKOneIsGreedyAtAnyTemperature) {
  const std::vector<float> l = random_logits(5000, 99);
  Sampler greedy(plain(0.0f), 5000);
  const int32_t want = greedy.sample(l.data());
  for (float t : {0.1f, 0.8f, 1.0f, 5.0f, 100.0f}) {
    SamplingParams p = plain(t, 42);
    p.top_k = 1;
    Sampler s(p, 5000);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(l.data()), want) << "t = " << t;
  }
  // Ties: top-k 1 keeps the lowest id, like greedy.
  const std::vector<float> tie = {0.0f, 7.0f, 7.0f};
  SamplingParams p = plain(1.0f);
  p.top_k = 1;
  Sampler s(p, 3);
  EXPECT_EQ(s.sample(tie.data()), 1);
}

// Draws n times and returns the counts per id.
std::vector<int64_t> histogram(Sampler& s, const std::vector<float>& l, int n) {
  std::vector<int64_t> counts(l.size(), 0);
  for (int i = 0; i < n; ++i) ++counts[s.sample(l.data())];
  return counts;
}

// Pearson chi-square statistic of counts against probabilities.
double chi_square(const std::vector<int64_t>& counts, const std::vector<double>& probs, int n) {
  double chi2 = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double expected = probs[i] * n;
    if (expected == 0.0) {
      EXPECT_EQ(counts[i], 0) << "id " << i << " drawn but has probability 0";
      continue;
    }
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  return chi2;
}

std::vector<double> softmax(const std::vector<float>& l, double t) {
  std::vector<double> p(l.size());
  double z = 0.0;
  for (size_t i = 0; i < l.size(); ++i) z += p[i] = std::exp(l[i] / t);
  for (double& x : p) x /= z;
  return p;
}

TEST(Sampler, FrequenciesMatchSoftmax) {
  // Fixed seed, so the statistic is deterministic; the bound is the 99.99th percentile of
  // chi-square with 5 degrees of freedom (25.7), i.e. a correct sampler passes on ~all seeds.
  const std::vector<float> l = {1.0f, 0.0f, -0.5f, 2.0f, 0.3f, -2.0f};
  constexpr int n = 200000;
  for (float t : {1.0f, 0.7f, 1.8f}) {
    Sampler s(plain(t, 2024), 6);
    const std::vector<int64_t> counts = histogram(s, l, n);
    EXPECT_LT(chi_square(counts, softmax(l, t), n), 25.7) << "t = " << t;
  }
}

TEST(Sampler, FrequenciesAfterTruncationMatchRenormalizedSet) {
  // probabilities 0.5, 0.3, 0.15, 0.05 at ids 2, 0, 3, 1; top-p 0.75 keeps {2, 0}, renormalized
  // to 0.625 / 0.375 (temperature 1).
  std::vector<float> l(4);
  l[2] = std::log(0.5f);
  l[0] = std::log(0.3f);
  l[3] = std::log(0.15f);
  l[1] = std::log(0.05f);
  SamplingParams p = plain(1.0f, 5);
  p.top_p = 0.75f;
  Sampler s(p, 4);
  constexpr int n = 100000;
  const std::vector<int64_t> counts = histogram(s, l, n);
  // 1 degree of freedom: 99.99th percentile 15.1.
  EXPECT_LT(chi_square(counts, {0.375, 0.0, 0.625, 0.0}, n), 15.1);
}

TEST(Sampler, SameSeedSameSequenceDifferentSeedDiffers) {
  const std::vector<float> l = random_logits(1000, 3, 2.0);
  SamplingParams p;  // llama.cpp defaults: penalties off, top-k 40, top-p 0.95, min-p 0.05
  p.seed = 77;
  auto run = [&](const SamplingParams& params) {
    Sampler s(params, 1000);
    std::vector<int32_t> out;
    for (int i = 0; i < 200; ++i) out.push_back(s.sample(l.data()));
    return out;
  };
  const std::vector<int32_t> a = run(p);
  EXPECT_EQ(a, run(p));
  p.seed = 78;
  EXPECT_NE(a, run(p));
  // reset() restarts the stream.
  p.seed = 77;
  Sampler s(p, 1000);
  for (int i = 0; i < 50; ++i) s.sample(l.data());
  s.reset();
  for (int i = 0; i < 200; ++i) ASSERT_EQ(s.sample(l.data()), a[i]);
}

TEST(Sampler, RandomSeedIsResolvedAndReplayable) {
  SamplingParams p = plain(1.0f, SamplingParams::kRandomSeed);
  Sampler s(p, 100);
  EXPECT_NE(s.seed(), SamplingParams::kRandomSeed);
  const std::vector<float> l = random_logits(100, 11);
  std::vector<int32_t> a;
  for (int i = 0; i < 50; ++i) a.push_back(s.sample(l.data()));
  Sampler replay(plain(1.0f, s.seed()), 100);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(replay.sample(l.data()), a[i]);
}

TEST(Sampler, LogitsAreNotModified) {
  const std::vector<float> l = random_logits(64, 8);
  std::vector<float> copy = l;
  SamplingParams p;
  p.seed = 1;
  p.repeat_penalty = 1.3f;
  Sampler s(p, 64);
  s.accept(3);
  s.sample(copy.data());
  EXPECT_EQ(copy, l);
}

TEST(Sampler, AllMaskedFallsBackToLowestId) {
  const float inf = INFINITY;
  const std::vector<float> l = {-inf, -inf, -inf};
  Sampler s(plain(1.0f), 3);
  EXPECT_EQ(s.sample(l.data()), 0);
}

TEST(Sampler, RejectsBadInput) {
  EXPECT_THROW(Sampler(plain(-1.0f), 10), Error);
  EXPECT_THROW(Sampler(plain(1.0f), 0), Error);
  Sampler s(plain(1.0f), 10);
  EXPECT_THROW(s.accept(10), Error);
  EXPECT_THROW(s.accept(-1), Error);
  EXPECT_NO_THROW(s.accept(9));
}

TEST(Rng, StreamIsPinned) {
  // xoshiro256** seeded by splitmix64 (whose first output for seed 0, 0xe220a8397b1dcdaf, is the
  // published test value). Values from an independent implementation of the two published
  // algorithms; a change here changes every seeded sampling result.
  Rng r0(0);
  EXPECT_EQ(r0.next(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(r0.next(), 0xbf6e1f784956452aull);
  EXPECT_EQ(r0.next(), 0x1a5f849d4933e6e0ull);
  Rng r42(42);
  EXPECT_EQ(r42.next(), 0x15780b2e0c2ec716ull);
  EXPECT_EQ(r42.next(), 0x6104d9866d113a7eull);
  r42.reseed(0);
  EXPECT_EQ(r42.next(), 0x99ec5f36cb75f2b4ull);
  double sum = 0.0;
  Rng u(5);
  for (int i = 0; i < 100000; ++i) {
    const double x = u.uniform();
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
    sum += x;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.005);
}

}  // namespace
}  // namespace kestrel::sample
