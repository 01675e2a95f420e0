#include "prune/unstructured.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace kestrel::prune {
namespace {

// Zeroes the k entries of w[idx] with the smallest score (stable: lower index first on ties).
void zero_smallest(float* w, const std::vector<double>& score, int64_t k,
                   std::vector<int64_t>& idx) {
  if (k <= 0) return;
  idx.resize(score.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::nth_element(idx.begin(), idx.begin() + (k - 1), idx.end(), [&](int64_t a, int64_t b) {
    return score[a] != score[b] ? score[a] < score[b] : a < b;
  });
  for (int64_t i = 0; i < k; ++i) w[idx[i]] = 0.0f;
}

}  // namespace

void prune_magnitude(std::vector<float>& w, int64_t rows, int64_t cols, double sparsity) {
  KESTREL_CHECK(static_cast<int64_t>(w.size()) == rows * cols, "prune: matrix size mismatch");
  std::vector<double> score(w.size());
  for (size_t i = 0; i < w.size(); ++i) score[i] = std::fabs(w[i]);
  std::vector<int64_t> idx;
  zero_smallest(w.data(), score, static_cast<int64_t>(std::floor(sparsity * w.size())), idx);
}

void prune_wanda(std::vector<float>& w, int64_t rows, int64_t cols, double sparsity,
                 const std::vector<double>& in_sq) {
  KESTREL_CHECK(static_cast<int64_t>(in_sq.size()) == cols, "prune: calibration width ",
                in_sq.size(), " != ", cols);
  const int64_t k = static_cast<int64_t>(std::floor(sparsity * cols));
  std::vector<double> norm(cols), score(cols);
  for (int64_t j = 0; j < cols; ++j) norm[j] = std::sqrt(in_sq[j]);
  std::vector<int64_t> idx;
  for (int64_t r = 0; r < rows; ++r) {
    float* row = w.data() + r * cols;
    for (int64_t j = 0; j < cols; ++j) score[j] = std::fabs(row[j]) * norm[j];
    zero_smallest(row, score, k, idx);
  }
}

void prune_2_4(std::vector<float>& w, int64_t rows, int64_t cols, const std::vector<double>& in_sq) {
  KESTREL_CHECK(cols % 4 == 0, "prune: 2:4 needs rows of a multiple of 4 elements, not ", cols);
  KESTREL_CHECK(in_sq.empty() || static_cast<int64_t>(in_sq.size()) == cols,
                "prune: calibration width mismatch");
  for (int64_t r = 0; r < rows; ++r) {
    float* row = w.data() + r * cols;
    for (int64_t g = 0; g < cols; g += 4) {
      double s[4];
      for (int k = 0; k < 4; ++k) {
        s[k] = std::fabs(row[g + k]) * (in_sq.empty() ? 1.0 : std::sqrt(in_sq[g + k]));
      }
      int order[4] = {0, 1, 2, 3};
      std::stable_sort(order, order + 4, [&](int a, int b) { return s[a] < s[b]; });
      row[g + order[0]] = 0.0f;
      row[g + order[1]] = 0.0f;
    }
  }
}

}  // namespace kestrel::prune
