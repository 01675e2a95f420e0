// A 2:4 semi-structured sparse matrix for the CPU: every group of 4 consecutive inputs of a row
// holds at most 2 non-zeros (the pattern `kestrel prune --method 2:4` writes). Storage per group:
// the 2 kept values (F32) and one byte with their two 2-bit positions, so a row of n inputs takes
// n/2 floats + n/4 bytes (56% of dense F32) and a product does half the multiply-adds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kestrel::sparse {

class Sparse24Matrix {
 public:
  // From a dense row-major [rows, cols] matrix with at most 2 non-zeros in every group of 4;
  // throws kestrel::Error otherwise (or when cols % 4 != 0).
  static Sparse24Matrix compress(const float* dense, int64_t rows, int64_t cols);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  size_t bytes() const { return values_.size() * sizeof(float) + index_.size(); }

  // y[n, rows] = x[n, cols] W^T. Runs of 8 or more tokens take a batched path (tiles of 16).
  void matmul(const float* x, float* y, int64_t n) const;
  // The dense matrix back (tests).
  std::vector<float> decompress() const;

 private:
  void matmul_tile(const float* x, float* y, int64_t n) const;  // n <= 16 tokens

  int64_t rows_ = 0;
  int64_t cols_ = 0;
  std::vector<float> values_;   // [rows, cols / 2]
  std::vector<uint8_t> index_;  // [rows, cols / 4]: position of value 0 in bits 0-1, value 1 in 2-3
};

// The dense reference the benchmark compares with: y[n, rows] = x[n, cols] W^T in F32, with the
// same accumulation style (8 partial sums).
void dense_matmul(const float* w, int64_t rows, int64_t cols, const float* x, float* y, int64_t n);

// The dense product with the batched path's layout (tiles of 16 tokens transposed), so that the
// benchmark separates what sparsity gains from what the layout gains.
void dense_matmul_tiled(const float* w, int64_t rows, int64_t cols, const float* x, float* y,
                        int64_t n);

}  // namespace kestrel::sparse
