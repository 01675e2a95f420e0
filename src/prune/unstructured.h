// Zeroing weights inside a matrix W [rows, cols] (cols = n_in, contiguous).
#pragma once

#include <cstdint>
#include <vector>

namespace kestrel::prune {

// Zeroes the floor(sparsity * rows * cols) entries of smallest |w| (ties: lower index first).
void prune_magnitude(std::vector<float>& w, int64_t rows, int64_t cols, double sparsity);
// Per row, zeroes the floor(sparsity * cols) entries of smallest |w_ij| * sqrt(in_sq[j]), where
// in_sq[j] is the calibration sum of the j-th input squared.
void prune_wanda(std::vector<float>& w, int64_t rows, int64_t cols, double sparsity,
                 const std::vector<double>& in_sq);
// In every group of 4 consecutive entries of a row, zeroes the 2 of smallest score (|w| times
// sqrt(in_sq[j]) when in_sq is not empty). cols must be a multiple of 4.
void prune_2_4(std::vector<float>& w, int64_t rows, int64_t cols, const std::vector<double>& in_sq);

}  // namespace kestrel::prune
