// The device kernels' block decoding and dot-product arithmetic, run on the HOST (the functions in
// src/backend/cuda/quant_blocks.cuh are __host__ __device__), so CPU-only CI checks them: every
// 32-element sub-block of every format against src/quant's reference dequantizer, and the dp4a
// formula (int8 activation blocks, per-sub-block scales and offsets) against a float64 product.
// This file is compiled by nvcc (tests/cuda/CMakeLists.txt) and needs no GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "backend/cuda/quant_blocks.cuh"
#include "quant/type_ops.h"

namespace kestrel::backend::cuda {
namespace {

using tensor::DType;

std::vector<float> random_floats(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

template <DType T>
Sub32 load_sub(const uint8_t* row, int64_t sb) {
  return SubBlock32<T>::load(row, sb);
}

Sub32 load_any(DType t, const uint8_t* row, int64_t sb) {
  switch (t) {
    case DType::Q4_0: return load_sub<DType::Q4_0>(row, sb);
    case DType::Q4_1: return load_sub<DType::Q4_1>(row, sb);
    case DType::Q5_0: return load_sub<DType::Q5_0>(row, sb);
    case DType::Q5_1: return load_sub<DType::Q5_1>(row, sb);
    case DType::Q8_0: return load_sub<DType::Q8_0>(row, sb);
    case DType::Q4_K: return load_sub<DType::Q4_K>(row, sb);
    case DType::Q5_K: return load_sub<DType::Q5_K>(row, sb);
    case DType::Q6_K: return load_sub<DType::Q6_K>(row, sb);
    default: ADD_FAILURE() << "no loader"; return Sub32{};
  }
}

}  // namespace
}  // namespace kestrel::backend::cuda

namespace kestrel::tensor {
// Test names and failure messages show the type's name.
void PrintTo(DType t, std::ostream* os) { *os << dtype_name(t); }
}  // namespace kestrel::tensor

namespace kestrel::backend::cuda {
namespace {

class CudaQuantBlocksTest : public ::testing::TestWithParam<DType> {
 protected:
  // n_rows rows of n_in random weights (with an offset so the affine formats' mins matter) in
  // the reference blocks, and their reference dequantization.
  void make(int64_t n_in, int64_t n_rows) {
    const quant::TypeOps& ops = quant::generic_type_ops(GetParam());
    n_in_ = n_in;
    rb_ = tensor::row_bytes(GetParam(), n_in);
    auto f = random_floats(n_in * n_rows, 31, 1.0f);
    for (size_t i = 0; i < f.size(); ++i) f[i] += (i / 32 % 3 == 0) ? 0.7f : 0.0f;
    blocks_.assign(rb_ * n_rows, 0);
    deq_.resize(f.size());
    for (int64_t r = 0; r < n_rows; ++r) {
      ops.quantize_row(f.data() + r * n_in, blocks_.data() + r * rb_, n_in);
      ops.dequantize_row(blocks_.data() + r * rb_, deq_.data() + r * n_in, n_in);
    }
  }
  int64_t n_in_ = 0;
  size_t rb_ = 0;
  std::vector<uint8_t> blocks_;
  std::vector<float> deq_;
};

TEST_P(CudaQuantBlocksTest, SubBlocksDecodeLikeTheReferenceDequantizer) {
  make(1024, 3);
  for (int64_t r = 0; r < 3; ++r) {
    for (int64_t sb = 0; sb < n_in_ / 32; ++sb) {
      const Sub32 s = load_any(GetParam(), blocks_.data() + r * rb_, sb);
      for (int i = 0; i < 32; ++i) {
        const float want = deq_[r * n_in_ + sb * 32 + i];
        // The same products; a fused multiply-add may save one rounding: 1 ulp.
        ASSERT_NEAR(sub32_value(s, i), want, 1.2e-7 * std::fabs(want) + 1e-30)
            << tensor::dtype_name(GetParam()) << " row " << r << " sub-block " << sb << " i " << i;
      }
    }
  }
}

TEST_P(CudaQuantBlocksTest, Dp4aDotMatchesFloat64WithinActivationQuantization) {
  make(2048, 4);
  auto x = random_floats(n_in_, 32, 2.0f);
  // Activations as the device quantizes them.
  const int64_t n_sub = n_in_ / 32;
  std::vector<int8_t> aq(n_in_);
  std::vector<float> da(n_sub), sa(n_sub);
  for (int64_t b = 0; b < n_sub; ++b) {
    float amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[b * 32 + i]));
    da[b] = q8_scale(amax);
    int sum = 0;
    for (int i = 0; i < 32; ++i) {
      aq[b * 32 + i] = static_cast<int8_t>(q8_level(x[b * 32 + i], da[b]));
      sum += aq[b * 32 + i];
      ASSERT_LE(std::fabs(da[b] * aq[b * 32 + i] - x[b * 32 + i]), 0.5f * da[b] * 1.0001f);
    }
    sa[b] = da[b] * sum;
  }
  for (int64_t r = 0; r < 4; ++r) {
    double got = 0, want = 0, exact_q = 0, w2 = 0, amax = 0;
    for (int64_t sb = 0; sb < n_sub; ++sb) {
      const Sub32 s = load_any(GetParam(), blocks_.data() + r * rb_, sb);
      int32_t a[8];
      std::memcpy(a, aq.data() + sb * 32, sizeof a);
      got += sub32_dot(s, a, da[sb], sa[sb]);
      for (int i = 0; i < 32; ++i) {
        const double w = deq_[r * n_in_ + sb * 32 + i];
        want += w * x[sb * 32 + i];
        exact_q += w * (double(da[sb]) * aq[sb * 32 + i]);
        w2 += w * w;
        amax = std::max(amax, double(std::fabs(x[sb * 32 + i])));
      }
    }
    // Against the dequantized weights times the quantized activations the formula is exact up
    // to float rounding of the per-block terms (64 blocks, each ~1e-7 relative).
    double abs_sum = 0;
    for (int64_t i = 0; i < n_in_; ++i) abs_sum += std::fabs(deq_[r * n_in_ + i] * x[i]);
    EXPECT_NEAR(got, exact_q, 1e-5 * abs_sum) << tensor::dtype_name(GetParam()) << " row " << r;
    // Against exact activations: the 8-bit quantization error, 5 standard deviations.
    EXPECT_NEAR(got, want, 5.0 * std::sqrt(w2) * amax / (254.0 * std::sqrt(3.0)) + 1e-5 * abs_sum);
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, CudaQuantBlocksTest,
                         ::testing::Values(DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                                           DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K),
                         [](const auto& info) { return std::string(tensor::dtype_name(info.param)); });

TEST(CudaHostHelpers, PerByteSubtractAndBf16Conversion) {
  for (uint32_t v = 0; v < 64; ++v) {
    const uint32_t packed = v | (63 - v) << 8 | (v / 2) << 16 | 32u << 24;
    const uint32_t r = sub32_per_byte(packed);
    EXPECT_EQ(static_cast<int8_t>(r & 0xff), static_cast<int>(v) - 32);
    EXPECT_EQ(static_cast<int8_t>((r >> 8) & 0xff), 31 - static_cast<int>(v));
    EXPECT_EQ(static_cast<int8_t>((r >> 16) & 0xff), static_cast<int>(v / 2) - 32);
    EXPECT_EQ(static_cast<int8_t>(r >> 24), 0);
  }
  EXPECT_EQ(dot4_i8(0x7f80ff01, 0x01ff7f80, 5), 5 + 1 * -128 + -1 * 127 + -128 * -1 + 127 * 1);
}

}  // namespace
}  // namespace kestrel::backend::cuda
