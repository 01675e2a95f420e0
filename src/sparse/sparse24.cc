#include "sparse/sparse24.h"

#include <algorithm>
#include <utility>

#include "core/error.h"

namespace kestrel::sparse {

Sparse24Matrix Sparse24Matrix::compress(const float* dense, int64_t rows, int64_t cols) {
  KESTREL_CHECK(cols % 4 == 0, "sparse: 2:4 rows need a multiple of 4 columns, not ", cols);
  Sparse24Matrix m;
  m.rows_ = rows;
  m.cols_ = cols;
  m.values_.assign(rows * cols / 2, 0.0f);
  m.index_.assign(rows * cols / 4, 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < cols / 4; ++g) {
      const float* src = dense + r * cols + 4 * g;
      int pos[2] = {0, 1};  // unused slots hold 0.0 at positions 0 and 1
      int k = 0;
      for (int j = 0; j < 4; ++j) {
        if (src[j] == 0.0f) continue;
        KESTREL_CHECK(k < 2, "sparse: row ", r, " group ", g, " has more than 2 non-zeros");
        pos[k++] = j;
      }
      // Keep positions ascending and distinct when only one (or no) value is non-zero.
      if (k == 1 && pos[0] == pos[1]) pos[1] = pos[0] == 0 ? 1 : 0;
      if (pos[0] > pos[1]) std::swap(pos[0], pos[1]);
      const int64_t v = (r * cols / 4 + g) * 2;
      m.values_[v] = src[pos[0]];
      m.values_[v + 1] = src[pos[1]];
      m.index_[r * cols / 4 + g] = static_cast<uint8_t>(pos[0] | (pos[1] << 2));
    }
  }
  return m;
}

std::vector<float> Sparse24Matrix::decompress() const {
  std::vector<float> d(rows_ * cols_, 0.0f);
  for (int64_t r = 0; r < rows_; ++r) {
    for (int64_t g = 0; g < cols_ / 4; ++g) {
      const uint8_t ix = index_[r * cols_ / 4 + g];
      const int64_t v = (r * cols_ / 4 + g) * 2;
      d[r * cols_ + 4 * g + (ix & 3)] = values_[v];
      d[r * cols_ + 4 * g + ((ix >> 2) & 3)] = values_[v + 1];
    }
  }
  return d;
}

namespace {

constexpr int64_t kTile = 16;  // tokens per tile of the batched path

}  // namespace

// Batched path: with the tile's activations transposed to [cols, kTile], both kept inputs of a
// group are contiguous across tokens, so each group is two vectorizable multiply-adds over the
// tile, and the index byte is decoded once per tile instead of once per token.
void Sparse24Matrix::matmul_tile(const float* x, float* y, int64_t n) const {
  const int64_t groups = cols_ / 4;
  std::vector<float> xt(cols_ * kTile, 0.0f);  // per call: n * cols floats, small next to W
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < cols_; ++j) xt[j * kTile + i] = x[i * cols_ + j];
  }
  for (int64_t r = 0; r < rows_; ++r) {
    const float* v = values_.data() + r * cols_ / 2;
    const uint8_t* ix = index_.data() + r * groups;
    float acc[kTile] = {};
    for (int64_t g = 0; g < groups; ++g) {
      const float* a = xt.data() + (4 * g + (ix[g] & 3)) * kTile;
      const float* b = xt.data() + (4 * g + (ix[g] >> 2)) * kTile;
      const float v0 = v[2 * g], v1 = v[2 * g + 1];
      for (int64_t t = 0; t < kTile; ++t) acc[t] += v0 * a[t] + v1 * b[t];
    }
    for (int64_t i = 0; i < n; ++i) y[i * rows_ + r] = acc[i];
  }
}

void Sparse24Matrix::matmul(const float* x, float* y, int64_t n) const {
  const int64_t groups = cols_ / 4;
  int64_t i0 = 0;
  for (; n - i0 >= kTile / 2; i0 += kTile) {
    const int64_t m = std::min(kTile, n - i0);
    matmul_tile(x + i0 * cols_, y + i0 * rows_, m);
  }
  for (int64_t i = i0; i < n; ++i) {
    const float* xi = x + i * cols_;
    for (int64_t r = 0; r < rows_; ++r) {
      const float* v = values_.data() + r * cols_ / 2;
      const uint8_t* ix = index_.data() + r * groups;
      float acc[4] = {0, 0, 0, 0};
      int64_t g = 0;
      for (; g + 2 <= groups; g += 2) {
        const float* x0 = xi + 4 * g;
        acc[0] += v[2 * g] * x0[ix[g] & 3];
        acc[1] += v[2 * g + 1] * x0[ix[g] >> 2];
        acc[2] += v[2 * g + 2] * x0[4 + (ix[g + 1] & 3)];
        acc[3] += v[2 * g + 3] * x0[4 + (ix[g + 1] >> 2)];
      }
      for (; g < groups; ++g) {
        acc[0] += v[2 * g] * xi[4 * g + (ix[g] & 3)];
        acc[1] += v[2 * g + 1] * xi[4 * g + (ix[g] >> 2)];
      }
      y[i * rows_ + r] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
  }
}

void dense_matmul(const float* w, int64_t rows, int64_t cols, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * cols;
    for (int64_t r = 0; r < rows; ++r) {
      const float* wr = w + r * cols;
      float acc[8] = {};
      int64_t j = 0;
      for (; j + 8 <= cols; j += 8) {
        for (int k = 0; k < 8; ++k) acc[k] += wr[j + k] * xi[j + k];
      }
      float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
      for (; j < cols; ++j) s += wr[j] * xi[j];
      y[i * rows + r] = s;
    }
  }
}

void dense_matmul_tiled(const float* w, int64_t rows, int64_t cols, const float* x, float* y,
                        int64_t n) {
  std::vector<float> xt(cols * kTile, 0.0f);
  for (int64_t i0 = 0; i0 < n; i0 += kTile) {
    const int64_t m = std::min(kTile, n - i0);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < cols; ++j) xt[j * kTile + i] = x[(i0 + i) * cols + j];
    }
    for (int64_t r = 0; r < rows; ++r) {
      const float* wr = w + r * cols;
      float acc[kTile] = {};
      for (int64_t j = 0; j < cols; ++j) {
        const float* a = xt.data() + j * kTile;
        for (int64_t t = 0; t < kTile; ++t) acc[t] += wr[j] * a[t];
      }
      for (int64_t i = 0; i < m; ++i) y[(i0 + i) * rows + r] = acc[i];
    }
  }
}

}  // namespace kestrel::sparse
