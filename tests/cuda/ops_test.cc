// CudaOps' row-wise and element-wise ops against the CPU backend (CpuOps) on the same inputs:
// embedding lookup for every weight type, RMSNorm, RoPE (normal and neox), KV writes, GLU, add,
// row gather. Tolerances are stated per test.
#include <cmath>

#include "backend/cpu/cpu_ops.h"
#include "cuda/cuda_test_util.h"
#include "quant/type_ops.h"

namespace kestrel::backend::cuda {
namespace {

using tensor::DType;

class CudaOpsTest : public CudaTest {
 protected:
  void SetUp() override {
    CudaTest::SetUp();
    if (IsSkipped()) return;
    ops_ = std::make_unique<CudaOps>();
  }
  ThreadPool pool_{2};
  CpuOps cpu_{pool_};
  std::unique_ptr<CudaOps> ops_;
};

TEST_F(CudaOpsTest, EmbedMatchesCpuForEveryType) {
  for (DType type : {DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                     DType::Q5_1, DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    const int64_t n_in = 512, n_vocab = 50;
    const quant::TypeOps& tops = quant::generic_type_ops(type);
    auto wf = random_vector(n_in * n_vocab, 1);
    const size_t rb = tensor::row_bytes(type, n_in);
    std::vector<uint8_t> wq(rb * n_vocab);
    for (int64_t o = 0; o < n_vocab; ++o) {
      tops.quantize_row(wf.data() + o * n_in, wq.data() + o * rb, n_in);
    }
    const std::vector<int32_t> ids = {3, 0, 49, 3, 17};
    std::vector<float> want(ids.size() * n_in);
    cpu_.embed(WeightMatrix{wq.data(), type, n_in, n_vocab, rb}, ids.data(), ids.size(), 1.5f,
               want.data());
    DeviceBuffer dw = upload(wq), dids = upload(ids), dout(want.size() * sizeof(float));
    ops_->embed(WeightMatrix{dw.get(), type, n_in, n_vocab, rb}, dids.as<int32_t>(), ids.size(),
                1.5f, dout.as<float>());
    ops_->synchronize();
    auto got = download<float>(dout.get(), want.size());
    // Same formula, at most a fused multiply-add apart: 2 float roundings.
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], 2.5e-7 * (std::fabs(want[i]) + 1e-3))
          << tensor::dtype_name(type) << " element " << i;
    }
  }
}

TEST_F(CudaOpsTest, RmsNormMatchesCpu) {
  for (int64_t dim : {1, 7, 64, 577, 4096}) {
    const int64_t rows = 5;
    auto x = random_vector(rows * dim, 2, 3.0f);
    auto w = random_vector(dim, 3);
    std::vector<float> want(x.size());
    cpu_.rms_norm(x.data(), w.data(), want.data(), rows, dim, 1e-5f);
    DeviceBuffer dx = upload(x), dw = upload(w);
    ops_->rms_norm(dx.as<float>(), dw.as<float>(), dx.as<float>(), rows, dim, 1e-5f);  // in place
    auto got = download<float>(dx.get(), x.size());
    // Double accumulation on both sides; the float scale and products differ by a few ulp.
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], 4 * 1.2e-7 * (std::fabs(want[i]) + 1e-3)) << "dim " << dim;
    }
  }
}

TEST_F(CudaOpsTest, RopeMatchesCpu) {
  const int n_heads = 3, head_dim = 64;
  const std::vector<int32_t> pos = {0, 1, 17, 300, 4095};
  for (int n_rot : {64, 32}) {
    for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
      auto x = random_vector(pos.size() * n_heads * head_dim, 4);
      auto want = x;
      cpu_.rope(want.data(), pos.data(), pos.size(), n_heads, head_dim, n_rot, 10000.0f, style);
      DeviceBuffer dx = upload(x), dpos = upload(pos);
      ops_->rope(dx.as<float>(), dpos.as<int32_t>(), pos.size(), n_heads, head_dim, n_rot,
                 10000.0f, style);
      auto got = download<float>(dx.get(), x.size());
      // Bit-identical angles; cosf/sinf on the device are within 2 ulp of the host's, and the
      // argument reaches 4095 rad, where one ulp of the angle is already 2.4e-4.
      for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-5) << i;
    }
  }
}

TEST_F(CudaOpsTest, WriteKvMatchesCpuBitForBit) {
  const int64_t row = 48, n_tokens = 7, n_slots = 32;
  auto k = random_vector(n_tokens * row, 5), v = random_vector(n_tokens * row, 6);
  const std::vector<int32_t> slots = {31, 0, 5, 6, 17, 2, 9};
  std::vector<uint16_t> kc(n_slots * row, 0), vc(n_slots * row, 0);
  cpu_.write_kv(k.data(), v.data(), slots.data(), n_tokens, row, kc.data(), vc.data());
  DeviceBuffer dk = upload(k), dv = upload(v), ds = upload(slots);
  std::vector<uint16_t> zeros(n_slots * row, 0);
  DeviceBuffer dkc = upload(zeros), dvc = upload(zeros);
  ops_->write_kv(dk.as<float>(), dv.as<float>(), ds.as<int32_t>(), n_tokens, row,
                 dkc.as<uint16_t>(), dvc.as<uint16_t>());
  EXPECT_EQ(download<uint16_t>(dkc.get(), kc.size()), kc);
  EXPECT_EQ(download<uint16_t>(dvc.get(), vc.size()), vc);
}

TEST_F(CudaOpsTest, GluAndAddMatchCpu) {
  const int64_t n = 10001;
  auto g = random_vector(n, 7, 3.0f), u = random_vector(n, 8);
  for (Activation act : {Activation::kSilu, Activation::kGeluTanh}) {
    std::vector<float> want(n);
    cpu_.glu(g.data(), u.data(), want.data(), n, act);
    DeviceBuffer dg = upload(g), du = upload(u);
    ops_->glu(dg.as<float>(), du.as<float>(), dg.as<float>(), n, act);  // out aliases gate
    auto got = download<float>(dg.get(), n);
    // expf/tanhf differ from the host's by a couple of ulp.
    for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(got[i], want[i], 1e-6 * (1 + std::fabs(want[i])));
  }
  std::vector<float> sum = g;
  cpu_.add(sum.data(), u.data(), n);
  DeviceBuffer dg = upload(g), du = upload(u);
  ops_->add(dg.as<float>(), du.as<float>(), n);
  EXPECT_EQ(download<float>(dg.get(), n), sum);
}

TEST_F(CudaOpsTest, GatherRowsPicksRows) {
  const int64_t dim = 33;
  auto x = random_vector(5 * dim, 9);
  const std::vector<int32_t> rows = {4, 0, 4};
  DeviceBuffer dx = upload(x), dr = upload(rows), dout(rows.size() * dim * sizeof(float));
  ops_->gather_rows(dx.as<float>(), dr.as<int32_t>(), rows.size(), dim, dout.as<float>());
  auto got = download<float>(dout.get(), rows.size() * dim);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (int64_t i = 0; i < dim; ++i) ASSERT_EQ(got[r * dim + i], x[rows[r] * dim + i]);
  }
}

}  // namespace
}  // namespace kestrel::backend::cuda
