// The importance-weighted quantizers write valid blocks (the reference dequantizer reads them) and,
// for the error they minimise, beat the plain reference quantizers on the same data.
#include "quant/weighted.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "quant/type_ops.h"

namespace kestrel::quant {
namespace {

using tensor::DType;

struct Errors {
  double plain = 0, weighted = 0;
};

// Rows of Gaussian weights with a per-column importance spread over four orders of magnitude (as
// activation statistics are), the weighted squared error sum_e imp_e (x_e - x'_e)^2 of each
// quantizer.
Errors weighted_errors(DType type, int64_t n, int rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::uniform_real_distribution<float> expo(-2.0f, 2.0f);
  std::vector<float> imp(n);
  for (float& v : imp) v = std::pow(10.0f, expo(rng));
  const TypeOps& ops = generic_type_ops(type);
  const size_t bytes = tensor::row_bytes(type, n);
  std::vector<uint8_t> q(bytes);
  std::vector<float> x(n), y(n);
  Errors e;
  for (int r = 0; r < rows; ++r) {
    for (float& v : x) v = 0.02f * gauss(rng);
    ops.quantize_row(x.data(), q.data(), n);
    ops.dequantize_row(q.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) e.plain += imp[i] * (x[i] - y[i]) * (x[i] - y[i]);
    quantize_row_weighted(type, x.data(), q.data(), n, imp.data());
    ops.dequantize_row(q.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) e.weighted += imp[i] * (x[i] - y[i]) * (x[i] - y[i]);
  }
  return e;
}

class WeightedQuant : public ::testing::TestWithParam<DType> {};

TEST_P(WeightedQuant, LowerImportanceWeightedErrorThanThePlainQuantizer) {
  const DType type = GetParam();
  ASSERT_TRUE(has_weighted_quantizer(type));
  const Errors e = weighted_errors(type, 512, 64, 7);
  ASSERT_GT(e.plain, 0.0);
  // A modest margin: the searches use the weights, the plain ones cannot.
  EXPECT_LT(e.weighted, 0.9 * e.plain) << tensor::dtype_name(type) << " plain " << e.plain
                                       << " weighted " << e.weighted;
}

TEST_P(WeightedQuant, UniformImportanceStaysCloseToThePlainQuantizer) {
  const DType type = GetParam();
  const int64_t n = 512;
  std::mt19937 rng(3);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> x(n), y(n), ones(n, 1.0f);
  const TypeOps& ops = generic_type_ops(type);
  std::vector<uint8_t> q(tensor::row_bytes(type, n));
  double plain = 0, weighted = 0;
  for (int r = 0; r < 32; ++r) {
    for (float& v : x) v = gauss(rng);
    ops.quantize_row(x.data(), q.data(), n);
    ops.dequantize_row(q.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) plain += (x[i] - y[i]) * (x[i] - y[i]);
    quantize_row_weighted(type, x.data(), q.data(), n, ones.data());
    ops.dequantize_row(q.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) weighted += (x[i] - y[i]) * (x[i] - y[i]);
  }
  EXPECT_LT(weighted, 1.25 * plain) << tensor::dtype_name(type);
}

TEST(WeightedQuant, ZeroRowsGiveZeros) {
  for (DType type : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q4_K, DType::Q5_K,
                     DType::Q6_K}) {
    std::vector<float> x(256, 0.0f), imp(256, 1.0f), y(256, 1.0f);
    std::vector<uint8_t> q(tensor::row_bytes(type, 256));
    quantize_row_weighted(type, x.data(), q.data(), 256, imp.data());
    generic_type_ops(type).dequantize_row(q.data(), y.data(), 256);
    for (float v : y) ASSERT_EQ(v, 0.0f) << tensor::dtype_name(type);
  }
}

TEST(WeightedQuant, TypesWithoutAWeightedQuantizerThrow) {
  std::vector<float> x(32), imp(32, 1.0f);
  std::vector<uint8_t> q(64);
  EXPECT_FALSE(has_weighted_quantizer(DType::Q8_0));
  EXPECT_THROW(quantize_row_weighted(DType::Q8_0, x.data(), q.data(), 32, imp.data()), Error);
}

INSTANTIATE_TEST_SUITE_P(Types, WeightedQuant,
                         ::testing::Values(DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                                           DType::Q4_K, DType::Q5_K, DType::Q6_K),
                         [](const auto& info) { return std::string(tensor::dtype_name(info.param)); });

}  // namespace
}  // namespace kestrel::quant
