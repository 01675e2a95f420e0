#include "sample/filters.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "sample/candidates.h"
#include "sample/penalties.h"
#include "sample/rng.h"

namespace kestrel::sample {
namespace {

std::set<int32_t> ids_of(const CandidateSet& c) {
  std::set<int32_t> out;
  for (int32_t i = 0; i < c.size(); ++i) out.insert(c[i].id);
  return out;
}

// Probabilities 0.5, 0.3, 0.15, 0.05 placed at ids 2, 0, 3, 1 (not in rank order on purpose).
std::vector<float> four_token_logits() {
  std::vector<float> l(4);
  l[2] = std::log(0.5f);
  l[0] = std::log(0.3f);
  l[3] = std::log(0.15f);
  l[1] = std::log(0.05f);
  return l;
}

TEST(TopK, KeepsTheKBestSorted) {
  const std::vector<float> l = four_token_logits();
  CandidateSet c(4);
  c.fill(l.data());
  top_k(c, 2);
  ASSERT_EQ(c.size(), 2);
  EXPECT_EQ(c[0].id, 2);
  EXPECT_EQ(c[1].id, 0);
  c.fill(l.data());
  top_k(c, 0);  // off
  EXPECT_EQ(c.size(), 4);
  top_k(c, 10);  // larger than the set
  EXPECT_EQ(c.size(), 4);
}

TEST(TopK, TiesGoToTheLowestId) {
  const std::vector<float> l = {1.0f, 3.0f, 3.0f, 0.0f, 3.0f};
  CandidateSet c(5);
  c.fill(l.data());
  top_k(c, 2);
  EXPECT_EQ(ids_of(c), (std::set<int32_t>{1, 2}));
}

TEST(TopK, LargeVocabularyMatchesAFullSort) {
  // Logits on a coarse grid so that ties are common; covers the heap-selection path (small k)
  // and the nth_element path (large k).
  constexpr int32_t n = 100000;
  Rng rng(21);
  std::vector<float> l(n);
  for (float& x : l) x = static_cast<float>(static_cast<int>(rng.uniform() * 200)) * 0.1f;
  std::vector<Candidate> all(n);
  for (int32_t i = 0; i < n; ++i) all[i] = {l[i], i};
  std::sort(all.begin(), all.end(), better);
  for (int32_t k : {1, 40, 256, 300, 5000, n - 1}) {
    CandidateSet c(n);
    c.fill(l.data());
    top_k(c, k);
    ASSERT_EQ(c.size(), k);
    for (int32_t i = 0; i < k; ++i) ASSERT_EQ(c[i].id, all[i].id) << "k = " << k << " i " << i;
  }
}

TEST(TopP, KeepsTheSmallestPrefixReachingP) {
  const std::vector<float> l = four_token_logits();
  CandidateSet c(4);
  struct Case {
    float p;
    std::set<int32_t> want;
  };
  for (const Case& k : {Case{0.4f, {2}}, Case{0.75f, {2, 0}}, Case{0.81f, {2, 0, 3}},
                        Case{0.97f, {2, 0, 3, 1}}, Case{1.0f, {0, 1, 2, 3}}}) {
    c.fill(l.data());
    top_p(c, k.p);
    EXPECT_EQ(ids_of(c), k.want) << "p = " << k.p;
  }
}

TEST(TopP, SeesOnlyWhatTopKLeft) {
  // After top-k 2 the set is {0.5, 0.3} renormalized to {0.625, 0.375}; p = 0.6 keeps one.
  const std::vector<float> l = four_token_logits();
  CandidateSet c(4);
  c.fill(l.data());
  top_k(c, 2);
  top_p(c, 0.6f);
  EXPECT_EQ(ids_of(c), (std::set<int32_t>{2}));
}

TEST(TopP, LargeVocabularyMatchesAFullSort) {
  constexpr int32_t n = 262144;
  Rng rng(7);
  std::vector<float> l(n);
  for (float& x : l) x = static_cast<float>(rng.uniform() * 12.0);  // broad: many tokens matter
  for (float p : {0.1f, 0.5f, 0.9f, 0.99f}) {
    CandidateSet c(n);
    c.fill(l.data());
    top_p(c, p);
    // Reference: sort everything, walk the cumulative mass.
    std::vector<Candidate> all(n);
    for (int32_t i = 0; i < n; ++i) all[i] = {l[i], i};
    std::sort(all.begin(), all.end(), better);
    double z = 0.0;
    // Same arithmetic as top_p: float exp, double sums.
    for (const Candidate& a : all) z += std::exp(a.logit - all[0].logit);
    double cum = 0.0;
    int32_t want = n;
    for (int32_t i = 0; i < n; ++i) {
      cum += std::exp(all[i].logit - all[0].logit);
      if (cum >= p * z) {
        want = i + 1;
        break;
      }
    }
    ASSERT_EQ(c.size(), want) << "p = " << p;
    for (int32_t i = 0; i < want; ++i) ASSERT_EQ(c[i].id, all[i].id) << "p = " << p << " i " << i;
  }
}

TEST(MinP, KeepsTokensAboveTheScaledMax) {
  const std::vector<float> l = four_token_logits();
  CandidateSet c(4);
  struct Case {
    float p;
    std::set<int32_t> want;
  };
  // Thresholds p * 0.5: 0.305 -> {0.5}; 0.295 -> {0.5, 0.3}; 0.125 -> three; 0.05 -> all.
  for (const Case& k : {Case{0.61f, {2}}, Case{0.59f, {2, 0}}, Case{0.25f, {2, 0, 3}},
                        Case{0.09f, {0, 1, 2, 3}}, Case{0.0f, {0, 1, 2, 3}}, Case{1.0f, {2}}}) {
    c.fill(l.data());
    min_p(c, k.p);
    EXPECT_EQ(ids_of(c), k.want) << "p = " << k.p;
    // Unsorted input stays in id order.
    for (int32_t i = 1; i < c.size(); ++i) EXPECT_LT(c[i - 1].id, c[i].id);
  }
  // Sorted input (after top-k) is truncated in place and stays sorted.
  c.fill(l.data());
  top_k(c, 3);
  min_p(c, 0.59f);
  ASSERT_EQ(c.size(), 2);
  EXPECT_EQ(c[0].id, 2);
  EXPECT_EQ(c[1].id, 0);
}

TEST(Temperature, DividesLogits) {
  const std::vector<float> l = {2.0f, -1.0f, 0.5f};
  CandidateSet c(3);
  c.fill(l.data());
  apply_temperature(c, 0.5f);
  EXPECT_FLOAT_EQ(c[0].logit, 4.0f);
  EXPECT_FLOAT_EQ(c[1].logit, -2.0f);
  EXPECT_FLOAT_EQ(c[2].logit, 1.0f);
}

TEST(Candidates, NaNBecomesMinusInfinity) {
  const std::vector<float> l = {NAN, 1.0f};
  CandidateSet c(2);
  c.fill(l.data());
  EXPECT_TRUE(std::isinf(c[0].logit) && c[0].logit < 0);
  EXPECT_EQ(c[c.best_index()].id, 1);
}

SamplingParams penalty_params(float repeat, float freq, float presence, int32_t last_n) {
  SamplingParams p;
  p.repeat_penalty = repeat;
  p.frequency_penalty = freq;
  p.presence_penalty = presence;
  p.repeat_last_n = last_n;
  return p;
}

TEST(Penalties, ChangeExactlyTheSeenTokens) {
  const std::vector<float> l = {2.0f, -2.0f, 0.0f, 1.0f, 4.0f, -1.0f};
  Penalties pen(penalty_params(2.0f, 0.5f, 0.25f, 64), 6);
  for (int32_t t : {0, 1, 1, 2, 0, 0}) pen.accept(t);  // counts: 0 x3, 1 x2, 2 x1
  CandidateSet c(6);
  c.fill(l.data());
  pen.apply(c);
  EXPECT_FLOAT_EQ(c[0].logit, 2.0f / 2 - (3 * 0.5f + 0.25f));   // positive: divided
  EXPECT_FLOAT_EQ(c[1].logit, -2.0f * 2 - (2 * 0.5f + 0.25f));  // negative: multiplied
  EXPECT_FLOAT_EQ(c[2].logit, 0.0f * 2 - (1 * 0.5f + 0.25f));   // zero: multiplied (stays 0)
  EXPECT_FLOAT_EQ(c[3].logit, 1.0f);                            // unseen: untouched
  EXPECT_FLOAT_EQ(c[4].logit, 4.0f);
  EXPECT_FLOAT_EQ(c[5].logit, -1.0f);
}

TEST(Penalties, WindowForgetsOldTokens) {
  Penalties pen(penalty_params(1.5f, 0.0f, 0.0f, 3), 8);
  for (int32_t t : {5, 6, 6, 7}) pen.accept(t);  // window is now {6, 6, 7}
  EXPECT_EQ(pen.count(5), 0);
  EXPECT_EQ(pen.count(6), 2);
  EXPECT_EQ(pen.count(7), 1);
  pen.accept(1);  // {6, 7, 1}
  EXPECT_EQ(pen.count(6), 1);
  pen.reset();
  EXPECT_EQ(pen.count(6), 0);
  EXPECT_EQ(pen.count(7), 0);

  Penalties all(penalty_params(1.5f, 0.0f, 0.0f, -1), 8);
  for (int i = 0; i < 1000; ++i) all.accept(3);
  EXPECT_EQ(all.count(3), 1000);
}

TEST(Penalties, NeutralSettingsAreOff) {
  EXPECT_FALSE(Penalties(penalty_params(1.0f, 0.0f, 0.0f, 64), 4).active());
  EXPECT_FALSE(Penalties(penalty_params(1.3f, 0.5f, 0.5f, 0), 4).active());
  Penalties off(penalty_params(1.0f, 0.0f, 0.0f, 64), 4);
  off.accept(1);
  const std::vector<float> l = {1, 2, 3, 4};
  CandidateSet c(4);
  c.fill(l.data());
  off.apply(c);
  for (int32_t i = 0; i < 4; ++i) EXPECT_EQ(c[i].logit, l[i]);
}

}  // namespace
}  // namespace kestrel::sample
