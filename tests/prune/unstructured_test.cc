#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "prune/unstructured.h"

namespace kestrel::prune {
namespace {

std::vector<float> random_matrix(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  std::vector<float> w(n);
  for (float& v : w) v = nd(rng);
  return w;
}

int64_t zeros(const std::vector<float>& w) {
  int64_t z = 0;
  for (float v : w) z += v == 0.0f;
  return z;
}

TEST(PruneMagnitude, ZeroesExactlyTheSmallestFraction) {
  std::vector<float> w = random_matrix(8 * 16, 1);
  const std::vector<float> orig = w;
  prune_magnitude(w, 8, 16, 0.3);
  EXPECT_EQ(zeros(w), static_cast<int64_t>(std::floor(0.3 * 128)));
  // Every kept weight is at least as large as every pruned one.
  float max_pruned = 0, min_kept = INFINITY;
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i] == 0) {
      max_pruned = std::max(max_pruned, std::fabs(orig[i]));
    } else {
      min_kept = std::min(min_kept, std::fabs(orig[i]));
      EXPECT_EQ(w[i], orig[i]);
    }
  }
  EXPECT_LE(max_pruned, min_kept);
}

TEST(PruneMagnitude, ZeroAndFullSparsity) {
  std::vector<float> w = random_matrix(64, 2);
  const std::vector<float> orig = w;
  prune_magnitude(w, 4, 16, 0.0);
  EXPECT_EQ(w, orig);
  prune_magnitude(w, 4, 16, 1.0);
  EXPECT_EQ(zeros(w), 64);
}

TEST(PruneWanda, RanksByWeightTimesInputNormPerRow) {
  // Row [1, 1, 1, 1] with input norms [4, 1, 9, 0.25]^2: the scores are 4, 1, 9, 0.25, so half
  // sparsity removes columns 1 and 3 although all weights are equal. Row [2, -3, 0.5, 1] scores
  // 8, 3, 4.5, 0.25: columns 3 and 1 go, although |0.5| is the smallest weight.
  std::vector<float> w{1, 1, 1, 1, 2, -3, 0.5f, 1};
  const std::vector<double> in_sq{16, 1, 81, 0.0625};
  prune_wanda(w, 2, 4, 0.5, in_sq);
  EXPECT_EQ(w, (std::vector<float>{1, 0, 1, 0, 2, 0, 0.5f, 0}));
}

TEST(Prune24, KeepsTwoLargestOfEveryFour) {
  std::vector<float> w = random_matrix(6 * 32, 3);
  const std::vector<float> orig = w;
  prune_2_4(w, 6, 32, {});
  for (size_t g = 0; g < w.size(); g += 4) {
    int nz = 0;
    for (int k = 0; k < 4; ++k) nz += w[g + k] != 0;
    ASSERT_EQ(nz, 2);
    for (int k = 0; k < 4; ++k) {
      if (w[g + k] != 0) continue;
      for (int j = 0; j < 4; ++j) {
        if (w[g + j] != 0) {
          EXPECT_LE(std::fabs(orig[g + k]), std::fabs(orig[g + j]));
        }
      }
    }
  }
}

TEST(Prune24, RejectsWidthNotMultipleOfFour) {
  std::vector<float> w(6, 1.0f);
  EXPECT_THROW(prune_2_4(w, 1, 6, {}), Error);
}

}  // namespace
}  // namespace kestrel::prune
