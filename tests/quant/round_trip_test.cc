// Error budget of quantize -> dequantize per type on Gaussian data (sigma = 1, 64 K-blocks).
#include <gtest/gtest.h>

#include <cmath>

#include "quant/quant_test_util.h"
#include "quant/type_ops.h"

namespace kestrel::quant {
namespace {

using tensor::DType;

struct Budget {
  DType type;
  double max_rel_rms;  // RMS(x - dequant(quant(x))) / RMS(x)
};

// Where the numbers come from. A uniform rounding error over a step h has RMS h / sqrt(12). For a
// block of k standard normals the expected largest magnitude is about 2.05 (k = 16), 2.35 (k = 32)
// and 3.0 (k = 256), and the expected range max - min of 32 is about 4.1. Each budget is the
// resulting estimate plus ~15% for the spread of that mean over 512 blocks and the f16 rounding of
// the scales.
//   F32   exact copy: 0.
//   F16   round to nearest with an 11-bit significand: relative error <= 2^-11 = 4.9e-4 for every
//         element (none of these values is subnormal in f16), so the RMS is below that.
//   BF16  8-bit significand: <= 2^-8 = 3.9e-3.
//   Q8_0  h = amax/127 = 2.35/127 -> 5.3e-3; budget 6.2e-3. Q8_1 is the same quantizer.
//   Q8_K  h = amax/127 over 256 = 3.0/127 -> 6.8e-3; budget 7.9e-3.
//   Q4_0  h = amax/8 = 0.29 -> 0.085 (the side opposite the largest element clips at 7h, rarely
//         reached); budget 0.098.
//   Q4_1  h = range/15 = 0.27 -> 0.079; budget 0.091.
//   Q5_0  h = amax/16 -> 0.042; budget 0.049.
//   Q5_1  h = range/31 -> 0.038; budget 0.044.
//   Q4_K  as Q4_1 per 32; the least-squares search lowers it (mins clamp at 0 and the grid fits
//         the bulk, not the extremes), 6-bit scales add < 1/63 of a step; budget 0.091.
//   Q5_K  as Q5_1 per 32; budget 0.044.
//   Q6_K  per 16: h = amax/32 = 2.05/32 -> 0.0185; budget 0.021.
constexpr Budget kBudgets[] = {
    {DType::F32, 0.0},     {DType::F16, 4.9e-4},  {DType::BF16, 3.9e-3}, {DType::Q8_0, 6.2e-3},
    {DType::Q8_1, 6.2e-3}, {DType::Q8_K, 7.9e-3}, {DType::Q4_0, 0.098},  {DType::Q4_1, 0.091},
    {DType::Q5_0, 0.049},  {DType::Q5_1, 0.044},  {DType::Q4_K, 0.091},  {DType::Q5_K, 0.044},
    {DType::Q6_K, 0.021},
};

class RoundTripTest : public ::testing::TestWithParam<Budget> {};

TEST_P(RoundTripTest, RelativeRmsErrorWithinBudget) {
  const Budget b = GetParam();
  const int64_t n = 64 * 256;
  const std::vector<float> x = testing::gaussian_row(n, 42);
  const std::vector<unsigned char> q = testing::quantize(b.type, x);
  const std::vector<float> y = testing::dequantize(b.type, q.data(), n);
  double err2 = 0.0, ref2 = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    err2 += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
    ref2 += static_cast<double>(x[i]) * x[i];
  }
  const double rel = std::sqrt(err2 / ref2);
  EXPECT_LE(rel, b.max_rel_rms) << tensor::dtype_name(b.type);
  RecordProperty("rel_rms", std::to_string(rel));
  std::printf("%-5s rel rms %.3g (budget %.3g)\n", tensor::dtype_name(b.type), rel, b.max_rel_rms);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, RoundTripTest, ::testing::ValuesIn(kBudgets),
                         [](const auto& info) { return tensor::dtype_name(info.param.type); });

// Blocks that are all zero, constant, or hold one outlier must not produce NaN or infinity.
TEST(RoundTripEdgeTest, DegenerateBlocksStayFinite) {
  for (const Budget& b : kBudgets) {
    for (float fill : {0.0f, 1.5f, -3.0f}) {
      std::vector<float> x(512, fill);
      x[17] = fill * 100.0f + 1.0f;
      const std::vector<unsigned char> q = testing::quantize(b.type, x);
      const std::vector<float> y = testing::dequantize(b.type, q.data(), 512);
      for (int i = 0; i < 512; ++i) {
        ASSERT_TRUE(std::isfinite(y[i])) << tensor::dtype_name(b.type) << " fill " << fill;
      }
      std::vector<float> zeros(512, 0.0f);
      const std::vector<unsigned char> qz = testing::quantize(b.type, zeros);
      for (float v : testing::dequantize(b.type, qz.data(), 512)) {
        ASSERT_EQ(v, 0.0f) << tensor::dtype_name(b.type);
      }
    }
  }
}

}  // namespace
}  // namespace kestrel::quant
