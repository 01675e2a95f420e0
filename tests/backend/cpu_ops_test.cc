// CpuOps against float64 scalar twins written here from the definitions
// (RMSNorm, RoPE, paged causal attention with GQA and sliding windows,
// quantized matmul, GLU), over odd sizes, several thread counts and scattered
// KV blocks. Tolerances are derived in each test.
#include "backend/cpu/cpu_ops.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "quant/fp16.h"
#include "quant/type_ops.h"

namespace kestrel::backend {
namespace {

std::vector<float> random_vector(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Float64 attention output of one query head (q: head_dim floats) over the keys and values at
// positions [first, last] of one sequence (rows kv_row apart; KV head hk).
std::vector<double> attention_f64(const float* q, const std::vector<float>& k,
                                  const std::vector<float>& v, int64_t kv_row, int hk,
                                  int head_dim, int32_t first, int32_t last, double scale) {
  std::vector<double> s;
  double m = -1e300;
  for (int32_t j = first; j <= last; ++j) {
    double d = 0;
    for (int i = 0; i < head_dim; ++i) d += double(q[i]) * k[j * kv_row + hk * head_dim + i];
    s.push_back(d * scale);
    m = std::max(m, s.back());
  }
  double sum = 0;
  for (double& e : s) sum += (e = std::exp(e - m));
  std::vector<double> out(head_dim, 0.0);
  for (int32_t j = first; j <= last; ++j) {
    for (int i = 0; i < head_dim; ++i) out[i] += s[j - first] / sum * v[j * kv_row + hk * head_dim + i];
  }
  return out;
}

// K, V, the query and the probabilities are rounded to F16 (relative 2^-11 each), so an output
// is within a few F16 steps of the largest |v|, ~4 standard normals.
constexpr double kAttentionTolerance = 4 * 4.0 * 4.9e-4;

// Parameters: thread count, and the ISA whose kernels CpuOps calls (every
// supported one).
class CpuOpsTest : public ::testing::TestWithParam<std::tuple<int, Isa>> {
 protected:
  CpuOpsTest() : pool_(std::get<0>(GetParam())), ops_(pool_, std::get<1>(GetParam())) {}
  ThreadPool pool_;
  CpuOps ops_;
};

TEST_P(CpuOpsTest, RmsNormMatchesFloat64) {
  for (int64_t dim : {1, 7, 64, 577}) {
    const int64_t rows = 5;
    auto x = random_vector(rows * dim, 1, 3.0f);
    auto w = random_vector(dim, 2);
    std::vector<float> y(rows * dim);
    ops_.rms_norm(x.data(), w.data(), y.data(), rows, dim, 1e-5f);
    for (int64_t r = 0; r < rows; ++r) {
      double ss = 0;
      for (int64_t i = 0; i < dim; ++i) ss += double(x[r * dim + i]) * x[r * dim + i];
      const double scale = 1.0 / std::sqrt(ss / dim + 1e-5);
      for (int64_t i = 0; i < dim; ++i) {
        const double want = x[r * dim + i] * scale * w[i];
        // A handful of float roundings (sqrt, two products): 8 ulp of the
        // magnitude.
        EXPECT_NEAR(y[r * dim + i], want, 8 * 1.2e-7 * (std::fabs(want) + 1e-3));
      }
    }
  }
}

TEST_P(CpuOpsTest, RopeMatchesFloat64) {
  const int n_heads = 3, head_dim = 16, n_rot = 16;
  const std::vector<int32_t> pos = {0, 1, 17, 300};
  for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
    auto x = random_vector(pos.size() * n_heads * head_dim, 3);
    auto y = x;
    ops_.rope(y.data(), pos.data(), pos.size(), n_heads, head_dim, n_rot, 10000.0f, style);
    for (size_t t = 0; t < pos.size(); ++t) {
      for (int h = 0; h < n_heads; ++h) {
        const float* a = x.data() + (t * n_heads + h) * head_dim;
        const float* b = y.data() + (t * n_heads + h) * head_dim;
        for (int i = 0; i < n_rot / 2; ++i) {
          const double theta = pos[t] * std::pow(10000.0, -2.0 * i / n_rot);
          const int i0 = style == RopeStyle::kNormal ? 2 * i : i;
          const int i1 = style == RopeStyle::kNormal ? 2 * i + 1 : i + n_rot / 2;
          const double w0 = a[i0] * std::cos(theta) - a[i1] * std::sin(theta);
          const double w1 = a[i0] * std::sin(theta) + a[i1] * std::cos(theta);
          // The angle is a running float product: relative error ~ i ulp, times
          // pos radians.
          const double tol = 1e-5 + 2e-7 * (i + 1) * pos[t] * (std::fabs(a[i0]) + std::fabs(a[i1]));
          EXPECT_NEAR(b[i0], w0, tol);
          EXPECT_NEAR(b[i1], w1, tol);
        }
      }
    }
  }
}

TEST_P(CpuOpsTest, MatmulMatchesDequantizedFloat64) {
  using tensor::DType;
  for (DType type : {DType::F32, DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                     DType::Q4_K, DType::Q6_K}) {
    const int64_t n_in = 512, n_out = 40, n_rows = 3;
    const quant::TypeOps& tops = quant::generic_type_ops(type);
    auto wf = random_vector(n_in * n_out, 4);
    const size_t rb = tensor::row_bytes(type, n_in);
    std::vector<uint8_t> wq(rb * n_out);
    for (int64_t o = 0; o < n_out; ++o)
      tops.quantize_row(wf.data() + o * n_in, wq.data() + o * rb, n_in);
    WeightMatrix w{wq.data(), type, n_in, n_out, rb};
    auto x = random_vector(n_rows * n_in, 5);
    auto bias = random_vector(n_out, 6);
    std::vector<float> y(n_rows * n_out);
    ops_.matmul(w, x.data(), n_rows, y.data(), bias.data());
    // The same product through the backend's repacked layout, where it has one.
    WeightMatrix wp{wq.data(), type, n_in, n_out, rb};
    std::vector<float> yp(n_rows * n_out);
    const bool repacked = ops_.prepare_weight(wp) > 0;
    if (repacked) ops_.matmul(wp, x.data(), n_rows, yp.data(), bias.data());
    std::vector<float> wrow(n_in);
    for (int64_t o = 0; o < n_out; ++o) {
      tops.dequantize_row(wq.data() + o * rb, wrow.data(), n_in);
      for (int64_t r = 0; r < n_rows; ++r) {
        double want = bias[o];
        double w2 = 0;
        double amax = 0;
        for (int64_t i = 0; i < n_in; ++i) {
          want += double(wrow[i]) * x[r * n_in + i];
          w2 += double(wrow[i]) * wrow[i];
          amax = std::max(amax, double(std::fabs(x[r * n_in + i])));
        }
        // Activations are quantized to 8 bits first (F16/F32 are finer): each
        // element is off by a uniform error of at most amax/254, standard
        // deviation amax/(254 sqrt 3), independent across elements, so the dot
        // product's error has standard deviation sqrt(sum w^2) * amax / (254
        // sqrt 3). Bound: 5 standard deviations.
        const double tol = 5.0 * std::sqrt(w2) * amax / (254.0 * std::sqrt(3.0)) + 1e-4;
        EXPECT_NEAR(y[r * n_out + o], want, tol) << tensor::dtype_name(type) << " row " << o;
        if (repacked) {
          EXPECT_NEAR(yp[r * n_out + o], want, tol)
              << tensor::dtype_name(type) << " repacked, row " << o;
        }
      }
    }
  }
}

// One pass over Q/K/V-like matrices of different formats (two activation
// formats) gives exactly what separate products give: each output is computed
// by the same kernel on the same rows.
TEST_P(CpuOpsTest, SharedInputMatmulEqualsSeparateMatmuls) {
  using tensor::DType;
  const int64_t n_in = 256, n_rows = 5;
  const DType types[] = {DType::Q4_0, DType::Q4_1, DType::Q8_0};
  const int64_t outs[] = {40, 17, 33};
  std::vector<std::vector<uint8_t>> storage;
  std::vector<WeightMatrix> ws;
  for (int i = 0; i < 3; ++i) {
    const size_t rb = tensor::row_bytes(types[i], n_in);
    auto wf = random_vector(n_in * outs[i], 20 + i);
    storage.emplace_back(rb * outs[i]);
    for (int64_t o = 0; o < outs[i]; ++o) {
      quant::generic_type_ops(types[i]).quantize_row(wf.data() + o * n_in,
                                                     storage.back().data() + o * rb, n_in);
    }
    ws.push_back({storage.back().data(), types[i], n_in, outs[i], rb});
  }
  const auto x = random_vector(n_rows * n_in, 30);
  const auto bias = random_vector(64, 31);
  std::vector<float> shared[3], separate[3];
  for (int i = 0; i < 3; ++i) {
    shared[i].assign(n_rows * outs[i], 0.0f);
    separate[i].assign(n_rows * outs[i], 0.0f);
    ops_.matmul(ws[i], x.data(), n_rows, separate[i].data(), i == 1 ? bias.data() : nullptr);
  }
  const WeightMatrix* wp[] = {&ws[0], &ws[1], &ws[2]};
  float* yp[] = {shared[0].data(), shared[1].data(), shared[2].data()};
  const float* bp[] = {nullptr, bias.data(), nullptr};
  ops_.matmul_shared(wp, 3, x.data(), n_rows, yp, bp);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(shared[i], separate[i]) << "matrix " << i;
}

TEST_P(CpuOpsTest, PagedAttentionMatchesFloat64) {
  const int n_head = 4, n_head_kv = 2, head_dim = 8, block = 4;
  const int32_t n_ctx = 11;  // tokens of one sequence, all in this step
  for (int32_t window : {0, 5}) {
    // Blocks deliberately out of order in the cache.
    const std::vector<int32_t> table = {2, 0, 3};
    const int64_t kv_row = n_head_kv * head_dim;
    std::vector<uint16_t> kc(4 * block * kv_row), vc(4 * block * kv_row);
    auto k = random_vector(n_ctx * kv_row, 7), v = random_vector(n_ctx * kv_row, 8);
    auto q = random_vector(n_ctx * n_head * head_dim, 9);
    std::vector<int32_t> pos(n_ctx), seq(n_ctx, 0), slots(n_ctx);
    for (int32_t p = 0; p < n_ctx; ++p) {
      pos[p] = p;
      slots[p] = table[p / block] * block + p % block;
    }
    ops_.write_kv(k.data(), v.data(), slots.data(), n_ctx, kv_row, kc.data(), vc.data());
    SeqKvView view{table.data(), 3};
    std::vector<float> out(q.size());
    AttentionArgs a;
    a.q = q.data();
    a.out = out.data();
    a.n_tokens = n_ctx;
    a.n_head = n_head;
    a.n_head_kv = n_head_kv;
    a.head_dim = head_dim;
    a.positions = pos.data();
    a.seq_of_token = seq.data();
    a.seqs = &view;
    a.block_size = block;
    a.k_cache = kc.data();
    a.v_cache = vc.data();
    a.scale = 0.35f;
    a.window = window;
    ops_.attention(a);
    for (int32_t t = 0; t < n_ctx; ++t) {
      for (int h = 0; h < n_head; ++h) {
        const int hk = h / (n_head / n_head_kv);
        const int32_t first = window > 0 ? std::max(0, t - window + 1) : 0;
        const std::vector<double> want = attention_f64(q.data() + (t * n_head + h) * head_dim, k,
                                                       v, kv_row, hk, head_dim, first, t, 0.35);
        for (int i = 0; i < head_dim; ++i) {
          EXPECT_NEAR(out[(t * n_head + h) * head_dim + i], want[i], kAttentionTolerance)
              << "t " << t << " h " << h << " window " << window;
        }
      }
    }
  }
}

// Decode-shaped steps: one new token per sequence over long cached contexts, with fewer work
// items than threads can share, so the key range of each item is split across threads.
TEST_P(CpuOpsTest, DecodeAttentionOverLongContextsMatchesFloat64) {
  const int n_head = 6, n_head_kv = 2, head_dim = 16, block = 16;
  const int64_t kv_row = n_head_kv * head_dim;
  const std::vector<int32_t> lengths = {1100, 700};  // keys per sequence, the new one included
  for (int32_t window : {0, 600}) {
    std::vector<std::vector<int32_t>> tables(lengths.size());
    std::vector<std::vector<float>> ks, vs;
    std::vector<uint16_t> kc, vc;
    int32_t next_block = 0;
    for (size_t s = 0; s < lengths.size(); ++s) {
      const int32_t n_blocks = (lengths[s] + block - 1) / block;
      // Interleaved: sequence s owns every other block, in reverse order.
      for (int32_t b = 0; b < n_blocks; ++b) tables[s].push_back(2 * (n_blocks - 1 - b) + int32_t(s));
      next_block = std::max(next_block, 2 * n_blocks + 2);
      ks.push_back(random_vector(lengths[s] * kv_row, 20 + uint32_t(s)));
      vs.push_back(random_vector(lengths[s] * kv_row, 30 + uint32_t(s)));
    }
    kc.assign(size_t(next_block) * block * kv_row, 0);
    vc.assign(kc.size(), 0);
    std::vector<SeqKvView> views;
    for (size_t s = 0; s < lengths.size(); ++s) {
      std::vector<int32_t> slots(lengths[s]);
      for (int32_t p = 0; p < lengths[s]; ++p) slots[p] = tables[s][p / block] * block + p % block;
      ops_.write_kv(ks[s].data(), vs[s].data(), slots.data(), lengths[s], kv_row, kc.data(),
                    vc.data());
      views.push_back({tables[s].data(), int32_t(tables[s].size())});
    }
    auto q = random_vector(lengths.size() * n_head * head_dim, 40);
    std::vector<int32_t> pos, seq;
    for (size_t s = 0; s < lengths.size(); ++s) {
      pos.push_back(lengths[s] - 1);
      seq.push_back(int32_t(s));
    }
    std::vector<float> out(q.size());
    AttentionArgs a;
    a.q = q.data();
    a.out = out.data();
    a.n_tokens = int64_t(lengths.size());
    a.n_head = n_head;
    a.n_head_kv = n_head_kv;
    a.head_dim = head_dim;
    a.positions = pos.data();
    a.seq_of_token = seq.data();
    a.seqs = views.data();
    a.block_size = block;
    a.k_cache = kc.data();
    a.v_cache = vc.data();
    a.scale = 0.25f;
    a.window = window;
    ops_.attention(a);
    for (size_t t = 0; t < lengths.size(); ++t) {
      for (int h = 0; h < n_head; ++h) {
        const int32_t first = window > 0 ? std::max(0, pos[t] - window + 1) : 0;
        const std::vector<double> want =
            attention_f64(q.data() + (t * n_head + h) * head_dim, ks[t], vs[t], kv_row,
                          h / (n_head / n_head_kv), head_dim, first, pos[t], 0.25);
        for (int i = 0; i < head_dim; ++i) {
          EXPECT_NEAR(out[(t * n_head + h) * head_dim + i], want[i], kAttentionTolerance)
              << "seq " << t << " h " << h << " window " << window;
        }
      }
    }
  }
}

TEST_P(CpuOpsTest, GluMatchesFloat64) {
  const int64_t n = 10001;
  auto g = random_vector(n, 10, 3.0f), u = random_vector(n, 11);
  std::vector<float> silu(n), gelu(n);
  ops_.glu(g.data(), u.data(), silu.data(), n, Activation::kSilu);
  ops_.glu(g.data(), u.data(), gelu.data(), n, Activation::kGeluTanh);
  for (int64_t i = 0; i < n; ++i) {
    const double x = g[i];
    const double ws = x / (1 + std::exp(-x)) * u[i];
    const double wg =
        0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))) * u[i];
    EXPECT_NEAR(silu[i], ws, 1e-5 * (1 + std::fabs(ws)));
    EXPECT_NEAR(gelu[i], wg, 1e-5 * (1 + std::fabs(wg)));
  }
}

INSTANTIATE_TEST_SUITE_P(ThreadsAndIsas, CpuOpsTest,
                         ::testing::Combine(::testing::Values(1, 3),
                                            ::testing::ValuesIn(supported_isas())),
                         [](const auto& info) {
                           return std::to_string(std::get<0>(info.param)) + "threads_" +
                                  isa_name(std::get<1>(info.param));
                         });

}  // namespace
}  // namespace kestrel::backend
