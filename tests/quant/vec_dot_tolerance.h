// The derived tolerance of a vec_dot against the float64 oracle, shared by the
// generic kernels' tests (tests/quant) and every ISA's kernels' tests
// (tests/backend).
#pragma once

#include <cmath>
#include <cstring>
#include <vector>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quant_test_util.h"
#include "quant/type_ops.h"

namespace kestrel::quant::testing {

using tensor::DType;

// Byte offset of the f16 field that scales a block's minimum (Q4_1/Q5_1 `m`,
// Q4_K/Q5_K `dmin`), or -1 for types without one.
inline int min_field_offset(DType t) {
  const bool has_min = t == DType::Q4_1 || t == DType::Q5_1 || t == DType::Q4_K || t == DType::Q5_K;
  return has_min ? 2 : -1;
}

// Tolerance for |vec_dot - vec_dot_f64| (u = 2^-24, float's unit roundoff).
//
// The oracle is the exact sum of w_i * a_i over the dequantized (float) rows.
// vec_dot differs by:
//  (1) float rounding. Block types: integer sums are exact; each block adds a
//  handful of float
//      roundings (scale products, int->float of a K-quant sum above 2^24, the
//      min term) and the blocks are summed recursively in float, so the error
//      is at most (nb + 8) u per unit of sum_i M_i |a_i|, where M_i = |P_i| +
//      |R_i| splits w_i into its scaled-value part P_i and its minimum part R_i
//      (the oracle's own dequantization rounds relative to M_i as well). Float
//      types: products are exact (F16, BF16) or rounded once (F32), then 8
//      lanes of n/8 float additions plus 3 to combine: (n/8 + 8) u. By
//      Cauchy-Schwarz sum_i M_i |a_i| <= |M|_2 |a|_2, which is the bound used:
//      reduction length times input norms.
//  (2) Q8_1's s = d * sum(q) is computed from the unrounded scale d and stored as f16, while the
//      oracle dequantizes with the f16-rounded d: two relative errors of up to 2^-11 each, so the
//      minimum term m * sum(a) is off by up to |m| (2^-10 |s| + 2u sum|a_j|) per block, plus a 1%
//      cushion for the rounding of that bound itself.
inline double tolerance(DType type, int64_t n, const void* w, const void* a) {
  const double u = std::ldexp(1.0, -24);
  const TypeOps& ops = generic_type_ops(type);
  std::vector<float> wf = dequantize(type, w, n);
  std::vector<float> af = dequantize(ops.vec_dot_type, a, n);
  // P: dequantize with the minimum's scale zeroed; R = w - P.
  std::vector<float> pf = wf;
  const int off = min_field_offset(type);
  if (off >= 0 && n > 0) {
    std::vector<unsigned char> copy(tensor::row_bytes(type, n));
    std::memcpy(copy.data(), w, copy.size());
    const size_t bs = tensor::traits(type).type_size;
    for (size_t b = 0; b < copy.size(); b += bs) std::memset(copy.data() + b + off, 0, 2);
    pf = dequantize(type, copy.data(), n);
  }
  double m2 = 0.0, a2 = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double mi = std::fabs(pf[i]) + std::fabs(static_cast<double>(wf[i]) - pf[i]);
    m2 += mi * mi;
    a2 += static_cast<double>(af[i]) * af[i];
  }
  const int64_t bsz = tensor::traits(type).block_size;
  const double n_acc = bsz == 1 ? static_cast<double>(n) / 8 + 8 : static_cast<double>(n / bsz) + 8;
  double tol = n_acc * u * std::sqrt(m2) * std::sqrt(a2);
  if (ops.vec_dot_type == DType::Q8_1) {
    for (int64_t b = 0; b < n / kQK8_1; ++b) {
      BlockQ8_1 ab;
      std::memcpy(&ab, static_cast<const unsigned char*>(a) + b * sizeof ab, sizeof ab);
      uint16_t m_bits;
      std::memcpy(&m_bits,
                  static_cast<const unsigned char*>(w) + b * tensor::traits(type).type_size + 2, 2);
      double sum_abs = 0.0;
      for (int j = 0; j < kQK8_1; ++j) sum_abs += std::fabs(af[b * kQK8_1 + j]);
      tol += 1.01 * std::fabs(fp16_to_fp32(m_bits)) *
             (std::ldexp(1.0, -10) * std::fabs(fp16_to_fp32(ab.s)) + 2 * u * sum_abs);
    }
  }
  return tol + 1e-30;
}

}  // namespace kestrel::quant::testing
