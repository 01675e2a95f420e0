// Every compiled ISA's kernels against the float64 oracle (the same derived
// tolerance as the generic kernels' tests), over 0..2N blocks, misaligned rows,
// and every tile shape the matrix driver can ask for; plus the ISA selector's
// override.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
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
  // 3 and 19 blocks: below and above the 8-block groups some kernels take at a time.
  for (const int64_t n : {bsz == 1 ? 75 : 3 * bsz, bsz == 1 ? 300 : 19 * bsz}) {
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
                << isa_name(isa) << " " << tensor::dtype_name(type) << " tile " << n_w << "x" << n_a
                << " at " << o << "," << r;
          }
          for (int64_t o = n_w; o < ldy; ++o) EXPECT_EQ(y[r * ldy + o], -1.0f) << "wrote past n_w";
        }
      }
    }
  }
}

// Repacked weights (where the ISA repacks this type) give the oracle's products, for every
// activation-row count and group count.
TEST_P(IsaKernelTest, RepackedTileMatchesFloat64Oracle) {
  const auto [isa, type] = GetParam();
  const KernelTable& table = kernel_table(isa);
  const int64_t bsz = tensor::traits(type).block_size;
  if (table.pack == nullptr || table.packed_group_bytes(type, bsz) == 0) {
    GTEST_SKIP() << isa_name(isa) << " does not repack " << tensor::dtype_name(type);
  }
  const quant::TypeOps& ops = table.ops(type);
  const int rows = table.pack_rows;
  for (const int64_t n : {3 * bsz, 19 * bsz}) {
    for (int64_t n_groups : {1, 3}) {
      const int64_t n_w = rows * n_groups;
      const size_t w_row = tensor::row_bytes(type, n);
      const size_t a_row = tensor::row_bytes(ops.vec_dot_type, n);
      std::vector<unsigned char> w(w_row * n_w);
      for (int64_t o = 0; o < n_w; ++o) {
        const auto q = weight_row(type, n, 300 + static_cast<uint32_t>(o));
        std::memcpy(w.data() + o * w_row, q.data(), w_row);
      }
      const std::vector<uint8_t> packed = table.pack(type, w.data(), w_row, n, n_w);
      const size_t group_bytes = table.packed_group_bytes(type, n);
      ASSERT_EQ(packed.size(), group_bytes * n_groups);
      // The tile's own activation layout, where it has one; the oracle reads vec_dot_type rows.
      const size_t p_row =
          table.packed_act_bytes != nullptr ? table.packed_act_bytes(type, n) : 0;
      for (int64_t n_a : {1, 2, 3, 4, 5, 9}) {
        OffsetBuffer a(a_row * n_a, 3);
        OffsetBuffer pa(std::max<size_t>(p_row * n_a, 1), 0);
        for (int64_t r = 0; r < n_a; ++r) {
          const auto x = gaussian_row(n, 400 + static_cast<uint32_t>(r), 2.0f);
          table.ops(ops.vec_dot_type).quantize_row(x.data(), a.data() + r * a_row, n);
          if (p_row != 0) table.packed_act_quantize(type, x.data(), pa.data() + r * p_row, n);
        }
        const int64_t ldy = n_w + 2;
        std::vector<float> y(n_a * ldy, -1.0f);
        table.packed_tile(type, n, packed.data(), group_bytes, n_groups,
                          p_row != 0 ? pa.data() : a.data(), p_row != 0 ? p_row : a_row, n_a,
                          y.data(), ldy);
        for (int64_t r = 0; r < n_a; ++r) {
          for (int64_t o = 0; o < n_w; ++o) {
            const unsigned char* wr = w.data() + o * w_row;
            const unsigned char* ar = a.data() + r * a_row;
            EXPECT_NEAR(y[r * ldy + o], quant::vec_dot_f64(type, n, wr, ar),
                        tolerance(type, n, wr, ar))
                << isa_name(isa) << " " << tensor::dtype_name(type) << " n=" << n << " row " << o
                << " act " << r;
          }
          for (int64_t o = n_w; o < ldy; ++o) EXPECT_EQ(y[r * ldy + o], -1.0f);
        }
      }
    }
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return std::string(isa_name(info.param.isa)) + "_" + tensor::dtype_name(info.param.type);
}

INSTANTIATE_TEST_SUITE_P(SupportedIsas, IsaKernelTest, ::testing::ValuesIn(all_cases()), case_name);

class IsaQuantizerTest : public ::testing::TestWithParam<Isa> {};

// Activation quantizers give the generic (reference) bytes exactly, ties
// included: with amax = 127 the scale is 1 and x.5 must round away from zero.
TEST_P(IsaQuantizerTest, ActivationFormatsAreByteIdenticalToGeneric) {
  const KernelTable& table = kernel_table(GetParam());
  for (DType type : {DType::Q8_0, DType::Q8_1, DType::Q8_K}) {
    const int64_t bsz = tensor::traits(type).block_size;
    for (int nb : {0, 1, 2, 5}) {
      const int64_t n = nb * bsz;
      std::vector<float> x = gaussian_row(n, 60 + static_cast<uint32_t>(nb), 4.0f);
      for (int64_t b = 0; b < nb && type != DType::Q8_K; b += 2) {
        float* xb = x.data() + b * bsz;
        xb[0] = 127.0f;
        for (int j = 1; j < 8; ++j) xb[j] = (j % 2 ? 1.0f : -1.0f) * (j + 0.5f);
      }
      std::vector<uint8_t> want(tensor::row_bytes(type, n)), got(want.size());
      quant::generic_type_ops(type).quantize_row(x.data(), want.data(), n);
      table.ops(type).quantize_row(x.data(), got.data(), n);
      EXPECT_EQ(got, want) << isa_name(GetParam()) << " " << tensor::dtype_name(type) << " n=" << n;
    }
  }
}

// A packed tile's own activation rows hold exactly the vec_dot_type block's values: d (the f32
// of its f16), the same quants, and the per-type extra word (offset * sum(q), or Q8_1's s).
TEST_P(IsaQuantizerTest, PackedActivationRowsHoldTheBlockValues) {
  const KernelTable& table = kernel_table(GetParam());
  if (table.packed_act_bytes == nullptr) GTEST_SKIP() << "no packed activation layout";
  for (DType type : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q8_0}) {
    const int64_t nb = 7, n = 32 * nb;
    const size_t row = table.packed_act_bytes(type, n);
    if (row == 0) continue;
    ASSERT_EQ(row, 40u * nb);
    const std::vector<float> x = gaussian_row(n, 90 + static_cast<uint32_t>(type), 3.0f);
    const DType at = table.ops(type).vec_dot_type;
    std::vector<uint8_t> block(tensor::row_bytes(at, n));
    quant::generic_type_ops(at).quantize_row(x.data(), block.data(), n);
    std::vector<uint32_t> words(row / 4);  // aligned storage
    table.packed_act_quantize(type, x.data(), words.data(), n);
    const auto* packed = reinterpret_cast<const uint8_t*>(words.data());
    const size_t bsz = tensor::traits(at).type_size, qs = at == DType::Q8_1 ? 4 : 2;
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = block.data() + b * bsz;
      uint16_t dh, sh;
      std::memcpy(&dh, blk, 2);
      float d;
      int32_t extra;
      std::memcpy(&d, packed + 4 * b, 4);
      std::memcpy(&extra, packed + 4 * nb + 4 * b, 4);
      EXPECT_EQ(d, quant::fp16_to_fp32(dh)) << tensor::dtype_name(type) << " block " << b;
      const auto* q = reinterpret_cast<const int8_t*>(blk + qs);
      EXPECT_EQ(std::memcmp(packed + 8 * nb + 32 * b, q, 32), 0) << tensor::dtype_name(type);
      int32_t sum = 0;
      for (int j = 0; j < 32; ++j) sum += q[j];
      if (type == DType::Q4_1) {
        std::memcpy(&sh, blk + 2, 2);
        float s;
        std::memcpy(&s, &extra, 4);
        EXPECT_EQ(s, quant::fp16_to_fp32(sh)) << "block " << b;
      } else if (type != DType::Q8_0) {
        EXPECT_EQ(extra, (type == DType::Q4_0 ? 8 : 16) * sum) << tensor::dtype_name(type);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SupportedIsas, IsaQuantizerTest, ::testing::ValuesIn(supported_isas()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

class IsaAttentionTest : public ::testing::TestWithParam<Isa> {};

// scores and pv against double sums over the same inputs; tolerance: one
// rounding per addition, relative to the sum of magnitudes (the reduction
// length times the inputs' size).
TEST_P(IsaAttentionTest, ScoreAndValueTilesMatchFloat64) {
  const KernelTable& table = kernel_table(GetParam());
  const double u = std::ldexp(1.0, -24);
  for (int64_t d : {1, 8, 20, 64, 256}) {
    for (int rows : {1, 2, 3, 5, 16}) {
      for (int n_keys : {1, 3, 4, 9, 64}) {
        const int64_t ldq = d + 3, ldk = d + 1, lds = n_keys + 2, ldo = d + 5;
        const auto q = gaussian_row(rows * ldq, 1 + static_cast<uint32_t>(d * rows));
        const auto k = gaussian_row(n_keys * ldk, 2 + static_cast<uint32_t>(n_keys * d));
        std::vector<float> s(rows * lds, 0.0f);
        table.scores(q.data(), ldq, rows, k.data(), ldk, n_keys, d, s.data(), lds);
        for (int r = 0; r < rows; ++r) {
          for (int j = 0; j < n_keys; ++j) {
            double want = 0.0, mag = 0.0;
            for (int64_t i = 0; i < d; ++i) {
              want += static_cast<double>(q[r * ldq + i]) * k[j * ldk + i];
              mag += std::fabs(static_cast<double>(q[r * ldq + i]) * k[j * ldk + i]);
            }
            EXPECT_NEAR(s[r * lds + j], want, (d + 2) * u * mag + 1e-30)
                << "scores d=" << d << " rows=" << rows << " keys=" << n_keys;
          }
        }
        const auto v = gaussian_row(n_keys * ldk, 3 + static_cast<uint32_t>(rows * d));
        const auto o0 = gaussian_row(rows * ldo, 4);
        std::vector<float> o(o0);
        table.pv(s.data(), lds, rows, v.data(), ldk, n_keys, d, o.data(), ldo);
        for (int r = 0; r < rows; ++r) {
          for (int64_t i = 0; i < d; ++i) {
            double want = o0[r * ldo + i], mag = std::fabs(want);
            for (int j = 0; j < n_keys; ++j) {
              want += static_cast<double>(s[r * lds + j]) * v[j * ldk + i];
              mag += std::fabs(static_cast<double>(s[r * lds + j]) * v[j * ldk + i]);
            }
            EXPECT_NEAR(o[r * ldo + i], want, (n_keys + 2) * u * mag + 1e-30)
                << "pv d=" << d << " rows=" << rows << " keys=" << n_keys;
          }
        }
      }
    }
  }
}

// The F16-input score and value tiles (where an ISA has them) give exactly what the F32 tiles
// give on the converted rows: attention may use either.
TEST_P(IsaAttentionTest, F16TilesEqualF32TilesOnConvertedRows) {
  const KernelTable& table = kernel_table(GetParam());
  if (table.scores_f16 == nullptr || table.pv_f16 == nullptr) {
    GTEST_SKIP() << isa_name(GetParam()) << " has no F16-input attention tiles";
  }
  for (int64_t d : {1, 8, 20, 64, 256}) {
    for (int rows : {1, 2, 3, 4, 5, 16}) {
      for (int n_keys : {1, 3, 4, 9, 16, 64}) {
        const int64_t ldq = d + 3, ldk = d + 1, lds = n_keys + 2, ldo = d + 5;
        const auto q = gaussian_row(rows * ldq, 11 + static_cast<uint32_t>(d * rows));
        std::vector<uint16_t> k16(n_keys * ldk), v16(n_keys * ldk);
        const auto kf = gaussian_row(n_keys * ldk, 12 + static_cast<uint32_t>(n_keys));
        const auto vf = gaussian_row(n_keys * ldk, 13 + static_cast<uint32_t>(d));
        for (size_t i = 0; i < k16.size(); ++i) {
          k16[i] = quant::fp32_to_fp16(kf[i]);
          v16[i] = quant::fp32_to_fp16(vf[i]);
        }
        std::vector<float> k32(k16.size()), v32(v16.size());
        table.f16_to_f32(k16.data(), k32.data(), static_cast<int64_t>(k16.size()));
        table.f16_to_f32(v16.data(), v32.data(), static_cast<int64_t>(v16.size()));
        std::vector<float> s32(rows * lds, 0.0f), s16(rows * lds, 0.0f);
        table.scores(q.data(), ldq, rows, k32.data(), ldk, n_keys, d, s32.data(), lds);
        table.scores_f16(q.data(), ldq, rows, k16.data(), ldk, n_keys, d, s16.data(), lds);
        ASSERT_EQ(s16, s32) << "scores d=" << d << " rows=" << rows << " keys=" << n_keys;
        const auto o0 = gaussian_row(rows * ldo, 14);
        std::vector<float> o32(o0), o16(o0);
        table.pv(s32.data(), lds, rows, v32.data(), ldk, n_keys, d, o32.data(), ldo);
        table.pv_f16(s32.data(), lds, rows, v16.data(), ldk, n_keys, d, o16.data(), ldo);
        ASSERT_EQ(o16, o32) << "pv d=" << d << " rows=" << rows << " keys=" << n_keys;
      }
    }
  }
}

TEST_P(IsaAttentionTest, ExpSumAndF16ConversionsMatchReference) {
  const KernelTable& table = kernel_table(GetParam());
  for (int64_t n : {0, 1, 7, 8, 9, 100}) {
    std::vector<float> x = gaussian_row(n, 9 + static_cast<uint32_t>(n), 20.0f);
    if (n > 2) x[1] = -std::numeric_limits<float>::infinity();  // a masked key
    float m = -std::numeric_limits<float>::infinity();
    for (float xi : x) m = std::max(m, xi);
    std::vector<float> e(x);
    const float sum = table.exp_sum(e.data(), n, m);
    double want_sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double want = std::exp(static_cast<double>(x[i]) - m);
      want_sum += want;
      // A few ulps of the polynomial, plus the rounding of the float argument x
      // - max (an absolute error of |x - max| 2^-24 in the argument is that
      // relative error in exp).
      const double arg = std::fabs(static_cast<double>(x[i]) - m);
      const double rel = 4 * std::ldexp(1.0, -23) + std::ldexp(std::isinf(arg) ? 0.0 : arg, -23);
      EXPECT_NEAR(e[i], want, rel * want + 1e-38) << "exp at " << x[i];
    }
    EXPECT_NEAR(sum, want_sum, (n + 4) * std::ldexp(want_sum, -23) + 1e-38);
    std::vector<uint16_t> h(n);
    std::vector<float> back(n), rounded(x);
    for (int64_t i = 0; i < n; ++i) h[i] = quant::fp32_to_fp16(x[i]);
    table.f16_to_f32(h.data(), back.data(), n);
    table.round_f16(rounded.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_EQ(back[i], quant::fp16_to_fp32(h[i])) << i;
      EXPECT_EQ(rounded[i], quant::fp16_to_fp32(h[i])) << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SupportedIsas, IsaAttentionTest, ::testing::ValuesIn(supported_isas()),
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
