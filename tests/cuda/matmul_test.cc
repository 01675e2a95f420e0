// CudaOps::matmul against a float64 product of the dequantized weights (src/quant's reference
// kernels) and against CpuOps, for every weight type the backend takes, through both paths: the
// dp4a / float mat-vec kernels (few rows, in chunks of 8) and the tensor-core path (cuBLAS, with
// quantized weights dequantized to F16 tiles).
#include <algorithm>
#include <cmath>
#include <tuple>

#include "backend/cpu/cpu_ops.h"
#include "core/error.h"
#include "cuda/cuda_test_util.h"
#include "quant/type_ops.h"

namespace kestrel::backend::cuda {
namespace {

using tensor::DType;

struct MatmulCase {
  DType type;
  int64_t n_rows;
};

void PrintTo(const MatmulCase& c, std::ostream* os) {
  *os << tensor::dtype_name(c.type) << " x " << c.n_rows << " rows";
}

std::string case_name(const ::testing::TestParamInfo<MatmulCase>& info) {
  return std::string(tensor::dtype_name(info.param.type)) + "_rows" +
         std::to_string(info.param.n_rows);
}

class CudaMatmulTest : public CudaTest, public ::testing::WithParamInterface<MatmulCase> {};

TEST_P(CudaMatmulTest, MatchesDequantizedFloat64AndCpu) {
  const DType type = GetParam().type;
  const int64_t n_rows = GetParam().n_rows;
  CudaOps ops;
  ThreadPool pool(2);
  CpuOps cpu(pool);
  // 768 = 3 K-quant super-blocks; 1000 output rows cover partial blocks of warps.
  const int64_t n_in = 768, n_out = 1000;
  const quant::TypeOps& tops = quant::generic_type_ops(type);
  auto wf = random_vector(n_in * n_out, 11);
  const size_t rb = tensor::row_bytes(type, n_in);
  std::vector<uint8_t> wq(rb * n_out);
  for (int64_t o = 0; o < n_out; ++o) tops.quantize_row(wf.data() + o * n_in, wq.data() + o * rb, n_in);
  auto x = random_vector(n_rows * n_in, 12);
  auto bias = random_vector(n_out, 13);

  std::vector<float> cpu_y(n_rows * n_out);
  cpu.matmul(WeightMatrix{wq.data(), type, n_in, n_out, rb}, x.data(), n_rows, cpu_y.data(),
             bias.data());

  DeviceBuffer dw = upload(wq), dx = upload(x), db = upload(bias);
  DeviceBuffer dy(n_rows * n_out * sizeof(float));
  const WeightMatrix w{dw.get(), type, n_in, n_out, rb};
  // Both paths on the same case: mat-vec (threshold above n_rows), tensor cores (threshold 1).
  for (int64_t threshold : {n_rows + 1, int64_t{1}}) {
    ops.set_gemm_min_rows(threshold);
    const bool tensor_path = threshold <= n_rows;
    ops.matmul(w, dx.as<float>(), n_rows, dy.as<float>(), db.as<float>());
    ops.synchronize();
    auto y = download<float>(dy.get(), n_rows * n_out);
    std::vector<float> wrow(n_in);
    for (int64_t o = 0; o < n_out; ++o) {
      tops.dequantize_row(wq.data() + o * rb, wrow.data(), n_in);
      for (int64_t r = 0; r < n_rows; ++r) {
        double want = bias[o], w2 = 0, amax = 0, abs_sum = 0;
        for (int64_t i = 0; i < n_in; ++i) {
          const double p = double(wrow[i]) * x[r * n_in + i];
          want += p;
          abs_sum += std::fabs(p);
          w2 += double(wrow[i]) * wrow[i];
          amax = std::max(amax, double(std::fabs(x[r * n_in + i])));
        }
        // Error sources: quantized weights are exact in both; the mat-vec path quantizes
        // activations to 8 bits (uniform error <= amax/254 per element; 5 standard deviations
        // of the sum as in the CPU test), the tensor path rounds weights and activations to F16
        // (relative 2^-11 each: <= 2^-10 of sum |w x|), float weight types round activations to
        // their own type (BF16: 2^-8 of sum |w x|). Plus F32 accumulation over 768 terms.
        double tol = 1e-6 * abs_sum + 1e-5;
        const bool float_type = type == DType::F32 || type == DType::F16 || type == DType::BF16;
        if (type == DType::BF16) tol += std::ldexp(abs_sum, -8);
        if (type == DType::F16 || (tensor_path && !float_type)) tol += std::ldexp(abs_sum, -10);
        if (!tensor_path && !float_type) {
          tol += 5.0 * std::sqrt(w2) * amax / (254.0 * std::sqrt(3.0));
        }
        const float got = y[r * n_out + o];
        ASSERT_NEAR(got, want, tol) << "row " << r << " out " << o << " tensor path " << tensor_path;
        // The CPU's own error has the same bound: the two agree within twice of it.
        ASSERT_NEAR(got, cpu_y[r * n_out + o], 2 * tol + 5.0 * std::sqrt(w2) * amax / 440.0);
      }
    }
  }
}

std::vector<MatmulCase> cases() {
  std::vector<MatmulCase> v;
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q4_K,
                  DType::Q5_K, DType::Q6_K, DType::F16, DType::BF16, DType::F32}) {
    for (int64_t rows : {1, 8, 13}) v.push_back({t, rows});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Types, CudaMatmulTest, ::testing::ValuesIn(cases()), case_name);

TEST_F(CudaTest, MatmulRejectsUnsupportedType) {
  CudaOps ops;
  const WeightMatrix w{nullptr, DType::Q2_K, 256, 4, tensor::row_bytes(DType::Q2_K, 256)};
  EXPECT_THROW(ops.matmul(w, nullptr, 1, nullptr, nullptr), kestrel::Error);
}

}  // namespace
}  // namespace kestrel::backend::cuda
