// The 2:4 sparse product against a float64 dense product of the same (pruned) matrix. Tolerance:
// float sums of n terms of |w x| err by at most ~n * 2^-24 * sum|w x| (n <= 1536 here).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "sparse/sparse24.h"

namespace kestrel::sparse {
namespace {

std::vector<float> random_24(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  std::vector<float> w(rows * cols, 0.0f);
  for (int64_t g = 0; g < rows * cols / 4; ++g) {
    const int a = rng() % 4;
    int b = rng() % 3;
    if (b >= a) ++b;
    w[4 * g + a] = nd(rng);
    if (g % 7 != 0) w[4 * g + b] = nd(rng);  // some groups keep only one value
  }
  return w;
}

TEST(Sparse24, RoundTripsAndMultipliesLikeDense) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{3, 4}, {5, 12}, {64, 576}, {16, 1536}}) {
    const std::vector<float> w = random_24(rows, cols, 1 + rows);
    const Sparse24Matrix m = Sparse24Matrix::compress(w.data(), rows, cols);
    EXPECT_EQ(m.decompress(), w);
   for (int64_t n : {1, 3, 8, 16, 21}) {
    std::mt19937 rng(9);
    std::normal_distribution<float> nd;
    std::vector<float> x(n * cols), y(n * rows), yd(n * rows), yt(n * rows);
    for (float& v : x) v = nd(rng);
    m.matmul(x.data(), y.data(), n);
    dense_matmul(w.data(), rows, cols, x.data(), yd.data(), n);
    dense_matmul_tiled(w.data(), rows, cols, x.data(), yt.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t r = 0; r < rows; ++r) {
        double ref = 0, mag = 0;
        for (int64_t j = 0; j < cols; ++j) {
          ref += double(w[r * cols + j]) * x[i * cols + j];
          mag += std::fabs(double(w[r * cols + j]) * x[i * cols + j]);
        }
        const double tol = cols * std::ldexp(1.0, -24) * mag + 1e-30;
        EXPECT_NEAR(y[i * rows + r], ref, tol);
        EXPECT_NEAR(yd[i * rows + r], ref, tol);
        EXPECT_NEAR(yt[i * rows + r], ref, tol);
      }
    }
   }
  }
}

TEST(Sparse24, RejectsDenseGroupsAndOddWidths) {
  const std::vector<float> w{1, 2, 3, 0};
  EXPECT_THROW(Sparse24Matrix::compress(w.data(), 1, 4), Error);
  EXPECT_THROW(Sparse24Matrix::compress(w.data(), 1, 3), Error);
}

}  // namespace
}  // namespace kestrel::sparse
