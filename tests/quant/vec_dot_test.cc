// Every weight type's vec_dot against the float64 oracle vec_dot_f64, over 0..2N blocks and
// misaligned weight and activation pointers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quant_test_util.h"
#include "quant/vec_dot_tolerance.h"
#include "quant/type_ops.h"

namespace kestrel::quant {
namespace {

using tensor::DType;

constexpr DType kWeightTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0,
                                  DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                                  DType::Q4_K, DType::Q5_K, DType::Q6_K};

class VecDotTest : public ::testing::TestWithParam<DType> {};

TEST_P(VecDotTest, MatchesFloat64OracleOverSizesAndAlignments) {
  const DType type = GetParam();
  const TypeOps& ops = generic_type_ops(type);
  const TypeOps& act = generic_type_ops(ops.vec_dot_type);
  ASSERT_NE(ops.vec_dot, nullptr);
  const int64_t bsz = tensor::traits(type).block_size;
  // Blocks of 32 or 256 elements; float types count "blocks" of 32 elements so sizes 0..2N cover
  // partial 8-lane tails as well.
  const int64_t unit = bsz == 1 ? 37 : bsz;
  const int max_blocks = bsz == 256 ? 8 : 16;
  uint32_t seed = 1;
  for (int nb = 0; nb <= 2 * max_blocks; ++nb) {
    const int64_t n = nb * unit;
    const std::vector<float> wx = testing::gaussian_row(n, seed++);
    const std::vector<float> ax = testing::gaussian_row(n, seed++, 3.0f);
    const std::vector<unsigned char> wq = testing::quantize(type, wx);
    std::vector<unsigned char> aq(tensor::row_bytes(ops.vec_dot_type, n));
    act.quantize_row(ax.data(), aq.data(), n);
    const double want = vec_dot_f64(type, n, wq.data(), aq.data());
    const double tol = testing::tolerance(type, n, wq.data(), aq.data());
    for (size_t w_off : {0, 1, 3}) {
      for (size_t a_off : {0, 2, 1}) {
        testing::OffsetBuffer wb(wq.size(), w_off), ab(aq.size(), a_off);
        if (!wq.empty()) std::memcpy(wb.data(), wq.data(), wq.size());
        if (!aq.empty()) std::memcpy(ab.data(), aq.data(), aq.size());
        const float got = ops.vec_dot(n, wb.data(), ab.data());
        EXPECT_NEAR(got, want, tol) << tensor::dtype_name(type) << " n=" << n
                                    << " offsets " << w_off << "," << a_off;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllWeightTypes, VecDotTest, ::testing::ValuesIn(kWeightTypes),
                         [](const auto& info) { return tensor::dtype_name(info.param); });

TEST(TypeOpsTest, TableCoversWeightAndActivationTypes) {
  for (DType t : kWeightTypes) {
    ASSERT_TRUE(has_type_ops(t)) << tensor::dtype_name(t);
    const TypeOps& ops = generic_type_ops(t);
    EXPECT_EQ(ops.type, t);
    EXPECT_NE(ops.quantize_row, nullptr);
    EXPECT_NE(ops.dequantize_row, nullptr);
    EXPECT_NE(ops.vec_dot, nullptr);
    EXPECT_NE(generic_type_ops(ops.vec_dot_type).quantize_row, nullptr);
    EXPECT_TRUE(tensor::traits(t).computable) << tensor::dtype_name(t);
  }
  for (DType t : {DType::Q8_1, DType::Q8_K}) {
    ASSERT_TRUE(has_type_ops(t));
    EXPECT_EQ(generic_type_ops(t).vec_dot, nullptr);
    EXPECT_NE(generic_type_ops(t).quantize_row, nullptr);
  }
  EXPECT_EQ(generic_type_ops(DType::Q4_0).vec_dot_type, DType::Q8_0);
  EXPECT_EQ(generic_type_ops(DType::Q5_0).vec_dot_type, DType::Q8_0);
  EXPECT_EQ(generic_type_ops(DType::Q8_0).vec_dot_type, DType::Q8_0);
  EXPECT_EQ(generic_type_ops(DType::Q4_1).vec_dot_type, DType::Q8_1);
  EXPECT_EQ(generic_type_ops(DType::Q5_1).vec_dot_type, DType::Q8_1);
  EXPECT_EQ(generic_type_ops(DType::Q6_K).vec_dot_type, DType::Q8_K);
  EXPECT_FALSE(has_type_ops(DType::Q2_K));
  EXPECT_THROW(generic_type_ops(DType::IQ2_XXS), Error);
}

}  // namespace
}  // namespace kestrel::quant
