// Every compiled ISA's kernels against the float64 oracle (the same derived tolerance as the
// generic kernels' tests), over 0..2N blocks, misaligned rows, and every tile shape the matrix
// driver can ask for; plus the ISA selector's override.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "backend/cpu/isa.h"
#include "backend/cpu/kernel_table.h"
#include "core/error.h"
#include "quant/fp16.h"
#include "quant/quant_test_util.h"
#include "quant/vec_dot_tolerance.h"

namespace kestrel::backend {
namespace {

using quant::testing::gaussian_row;
using quant::testing::OffsetBuffer;
using quant::testing::tolerance;
using tensor::DType;

constexpr DType kWeightTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0,
                                  DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                                  DType::Q4_K, DType::Q5_K, DType::Q6_K};

struct Case {
  Isa isa;
  DType type;
};

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (Isa isa : supported_isas()) {
    for (DType t : kWeightTypes) out.push_back({isa, t});
  }
  return out;
}

class IsaKernelTest : public ::testing::TestWithParam<Case> {};

// Quantizes a Gaussian row to `type` with the generic (reference) quantizer.
std::vector<unsigned char> weight_row(DType type, int64_t n, uint32_t seed) {
  return quant::testing::quantize(type, gaussian_row(n, seed));
}

TEST_P(IsaKernelTest, VecDotMatchesFloat64OracleOverSizesAndAlignments) {
  const auto [isa, type] = GetParam();
  const KernelTable& table = kernel_table(isa);
  const quant::TypeOps& ops = table.ops(type);
  const quant::TypeOps& act = table.ops(ops.vec_dot_type);
  const int64_t bsz = tensor::traits(type).block_size;
  const int64_t unit = bsz == 1 ? 37 : bsz;
  const int max_blocks = bsz == 256 ? 8 : 16;
  uint32_t seed = 7;
  for (int nb = 0; nb <= 2 * max_blocks; ++nb) {
    const int64_t n = nb * unit;
    const std::vector<unsigned char> wq = weight_row(type, n, seed++);
    const std::vector<float> ax = gaussian_row(n, seed++, 3.0f);
    std::vector<unsigned char> aq(tensor::row_bytes(ops.vec_dot_type, n));
    act.quantize_row(ax.data(), aq.data(), n);
    const double want = quant::vec_dot_f64(type, n, wq.data(), aq.data());
    const double tol = tolerance(type, n, wq.data(), aq.data());
    for (size_t w_off : {0, 1, 3}) {
      for (size_t a_off : {0, 2, 1}) {
        OffsetBuffer wb(wq.size(), w_off), ab(aq.size(), a_off);
        if (!wq.empty()) std::memcpy(wb.data(), wq.data(), wq.size());
        if (!aq.empty()) std::memcpy(ab.data(), aq.data(), aq.size());
        EXPECT_NEAR(ops.vec_dot(n, wb.data(), ab.data()), want, tol)
            << isa_name(isa) << " " << tensor::dtype_name(type) << " n=" << n << " offsets "
            << w_off << "," << a_off;
      }
    }
  }
}

TEST_P(IsaKernelTest, MatrixTileMatchesFloat64OracleForEveryShape) {
  const auto [isa, type] = GetParam();
  const KernelTable& table = kernel_table(isa);
  const quant::TypeOps& ops = table.ops(type);
  const MatTileFn tile = table.tile(type);
  const int64_t bsz = tensor::traits(type).block_size;
  const int64_t n = bsz == 1 ? 75 : 3 * bsz;
  const size_t w_row = tensor::row_bytes(type, n);
  const size_t a_row = tensor::row_bytes(ops.vec_dot_type, n);
  for (int64_t n_w : {1, 2, 3, 4, 5, 7, 16}) {
    for (int64_t n_a : {1, 2, 3, 4, 5, 8, 9}) {
      // Rows stored at an odd offset to catch any alignment assumption.
      OffsetBuffer w(w_row * n_w, 1), a(a_row * n_a, 3);
      for (int64_t o = 0; o < n_w; ++o) {
        const auto q = weight_row(type, n, 100 + static_cast<uint32_t>(o));
        std::memcpy(w.data() + o * w_row, q.data(), w_row);
      }
      for (int64_t r = 0; r < n_a; ++r) {
        const auto x = gaussian_row(n, 200 + static_cast<uint32_t>(r), 2.0f);
        table.ops(ops.vec_dot_type).quantize_row(x.data(), a.data() + r * a_row, n);
      }
      const int64_t ldy = n_w + 3;
      std::vector<float> y(n_a * ldy, -1.0f);
      tile(n, w.data(), w_row, n_w, a.data(), a_row, n_a, y.data(), ldy);
      for (int64_t r = 0; r < n_a; ++r) {
        for (int64_t o = 0; o < n_w; ++o) {
          const unsigned char* wr = w.data() + o * w_row;
          const unsigned char* ar = a.data() + r * a_row;
          EXPECT_NEAR(y[r * ldy + o], quant::vec_dot_f64(type, n, wr, ar),
                      tolerance(type, n, wr, ar))
              << isa_name(isa) << " " << tensor::dtype_name(type) << " tile " << n_w << "x"
              << n_a << " at " << o << "," << r;
        }
        for (int64_t o = n_w; o < ldy; ++o) EXPECT_EQ(y[r * ldy + o], -1.0f) << "wrote past n_w";
      }
    }
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return std::string(isa_name(info.param.isa)) + "_" + tensor::dtype_name(info.param.type);
}

INSTANTIATE_TEST_SUITE_P(SupportedIsas, IsaKernelTest, ::testing::ValuesIn(all_cases()),
                         case_name);

class IsaF16Test : public ::testing::TestWithParam<Isa> {};

TEST_P(IsaF16Test, AttentionHelpersMatchFloat64) {
  const KernelTable& table = kernel_table(GetParam());
  for (int64_t n : {0, 1, 7, 8, 9, 64, 100, 256}) {
    const std::vector<float> q = gaussian_row(n, 1 + static_cast<uint32_t>(n));
    const std::vector<float> kf = gaussian_row(n, 50 + static_cast<uint32_t>(n));
    std::vector<uint16_t> k(n);
    double want = 0.0, norm = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      k[i] = quant::fp32_to_fp16(kf[i]);
      want += static_cast<double>(q[i]) * quant::fp16_to_fp32(k[i]);
      norm += std::fabs(static_cast<double>(q[i]) * quant::fp16_to_fp32(k[i]));
    }
    // n float additions at most, each off by half an ulp of a partial sum bounded by norm.
    const double tol = (n + 1) * std::ldexp(1.0, -24) * norm + 1e-30;
    EXPECT_NEAR(table.dot_f16(q.data(), k.data(), n), want, tol) << "n=" << n;
    std::vector<float> y(q);
    table.axpy_f16(0.75f, k.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double yi = q[i] + 0.75 * quant::fp16_to_fp32(k[i]);
      EXPECT_NEAR(y[i], yi, 2 * std::ldexp(std::fabs(yi) + std::fabs(q[i]), -24)) << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SupportedIsas, IsaF16Test, ::testing::ValuesIn(supported_isas()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

TEST(IsaSelectTest, OverrideChoosesOrRefuses) {
  const char* old = std::getenv("KESTREL_FORCE_ISA");
  const std::string saved = old != nullptr ? old : "";
  setenv("KESTREL_FORCE_ISA", "generic", 1);
  EXPECT_EQ(select_isa(), Isa::kGeneric);
  setenv("KESTREL_FORCE_ISA", "pentium", 1);
  EXPECT_THROW(select_isa(), Error);
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512, Isa::kAmx, Isa::kNeon}) {
    setenv("KESTREL_FORCE_ISA", isa_name(isa), 1);
    if (isa_supported(isa)) {
      EXPECT_EQ(select_isa(), isa);
    } else {
      EXPECT_THROW(select_isa(), Error) << isa_name(isa);
    }
  }
  if (old != nullptr) {
    setenv("KESTREL_FORCE_ISA", saved.c_str(), 1);
  } else {
    unsetenv("KESTREL_FORCE_ISA");
  }
  EXPECT_FALSE(supported_isas().empty());
  EXPECT_EQ(supported_isas().front(), Isa::kGeneric);
}

}  // namespace
}  // namespace kestrel::backend
