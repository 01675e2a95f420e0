// Per-token kernels through the public dispatch, at the sizes of a 1B model (n_embd 2048, 32 heads
// of 64, 8 KV heads):
//   BM_QuantizeActivation/<type>: F32 rows -> the dot-product format (Q8_0, Q8_1, Q8_K) through
//     the CPU backend's kernel table (its TypeOps entry); GB/s of F32 read.
//   BM_RmsNorm: 512 rows of 2048 through CpuOps; GB/s of F32 read and written.
//   BM_Rope: 512 tokens x 32 heads x 64 through CpuOps; GB/s of F32 read and written.
//   BM_AttentionDecode/<ctx>: one query token over ctx cached tokens; GB/s of F16 K and V read.
//   BM_AttentionPrefill/<n>: n tokens attending causally to each other; GFLOP/s of the
//     q.k and p.v products (2 * 2 * head_dim per pair per head).
#include <numeric>
#include <vector>

#include "kernel_bench_util.h"
#include "quant/fp16.h"
#include "quant/type_ops.h"

namespace kestrel::bench {
namespace {

using tensor::DType;

constexpr int64_t kEmbd = 2048;
constexpr int kHeads = 32, kHeadsKv = 8, kHeadDim = 64;

void BM_QuantizeActivation(benchmark::State& state, DType type) {
  constexpr int64_t kRows = 64;
  const quant::TypeOps& ops = cpu_ops(1).kernels().ops(type);
  const std::vector<float> x = random_floats(kEmbd * kRows, 3);
  std::vector<uint8_t> out(tensor::row_bytes(type, kEmbd) * kRows);
  for (auto _ : state) {
    for (int64_t r = 0; r < kRows; ++r) {
      ops.quantize_row(x.data() + r * kEmbd, out.data() + r * tensor::row_bytes(type, kEmbd),
                       kEmbd);
    }
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "GB", 4.0 * kEmbd * kRows);
}

void BM_RmsNorm(benchmark::State& state) {
  constexpr int64_t kRows = 512;
  backend::CpuOps& ops = cpu_ops(static_cast<int>(state.range(0)));
  std::vector<float> x = random_floats(kEmbd * kRows, 5);
  const std::vector<float> w = random_floats(kEmbd, 6);
  std::vector<float> y(x.size());
  for (auto _ : state) {
    ops.rms_norm(x.data(), w.data(), y.data(), kRows, kEmbd, 1e-5f);
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state, "GB", 2.0 * 4 * kEmbd * kRows);
}

void BM_Rope(benchmark::State& state) {
  constexpr int64_t kTokens = 512;
  backend::CpuOps& ops = cpu_ops(static_cast<int>(state.range(0)));
  std::vector<float> x = random_floats(kTokens * kHeads * kHeadDim, 8);
  std::vector<int32_t> pos(kTokens);
  std::iota(pos.begin(), pos.end(), 0);
  for (auto _ : state) {
    ops.rope(x.data(), pos.data(), kTokens, kHeads, kHeadDim, kHeadDim, 500000.0f,
             backend::RopeStyle::kNormal);
    benchmark::DoNotOptimize(x.data());
  }
  set_rate(state, "GB", 2.0 * 4 * kTokens * kHeads * kHeadDim);
}

// A KV cache of n_ctx tokens in one sequence (blocks of 16 in order) plus queries for the last
// n_query positions.
struct AttentionSetup {
  std::vector<uint16_t> k, v;
  std::vector<float> q, out;
  std::vector<int32_t> positions, seq_of_token, table;
  backend::SeqKvView view;
  backend::AttentionArgs args;

  AttentionSetup(int32_t n_ctx, int32_t n_query) {
    constexpr int32_t kBlock = 16;
    const int64_t row = static_cast<int64_t>(kHeadsKv) * kHeadDim;
    const int32_t n_blocks = (n_ctx + kBlock - 1) / kBlock;
    const std::vector<float> kf = random_floats(static_cast<size_t>(n_blocks) * kBlock * row, 21);
    k.resize(kf.size());
    v.resize(kf.size());
    for (size_t i = 0; i < kf.size(); ++i) {
      k[i] = quant::fp32_to_fp16(kf[i]);
      v[i] = quant::fp32_to_fp16(kf[kf.size() - 1 - i]);
    }
    q = random_floats(static_cast<size_t>(n_query) * kHeads * kHeadDim, 22);
    out.resize(q.size());
    positions.resize(n_query);
    std::iota(positions.begin(), positions.end(), n_ctx - n_query);
    seq_of_token.assign(n_query, 0);
    table.resize(n_blocks);
    std::iota(table.begin(), table.end(), 0);
    view = {table.data(), n_blocks};
    args.q = q.data();
    args.out = out.data();
    args.n_tokens = n_query;
    args.n_head = kHeads;
    args.n_head_kv = kHeadsKv;
    args.head_dim = kHeadDim;
    args.positions = positions.data();
    args.seq_of_token = seq_of_token.data();
    args.seqs = &view;
    args.block_size = kBlock;
    args.k_cache = k.data();
    args.v_cache = v.data();
    args.scale = 0.125f;
  }
};

void BM_AttentionDecode(benchmark::State& state) {
  const auto n_ctx = static_cast<int32_t>(state.range(0));
  backend::CpuOps& ops = cpu_ops(static_cast<int>(state.range(1)));
  AttentionSetup s(n_ctx, 1);
  for (auto _ : state) {
    ops.attention(s.args);
    benchmark::DoNotOptimize(s.out.data());
  }
  set_rate(state, "GB", 2.0 * 2 * n_ctx * kHeadsKv * kHeadDim);
}

void BM_AttentionPrefill(benchmark::State& state) {
  const auto n = static_cast<int32_t>(state.range(0));
  backend::CpuOps& ops = cpu_ops(static_cast<int>(state.range(1)));
  AttentionSetup s(n, n);
  for (auto _ : state) {
    ops.attention(s.args);
    benchmark::DoNotOptimize(s.out.data());
  }
  const double pairs = 0.5 * n * (n + 1.0);
  set_rate(state, "GFLOP", pairs * kHeads * 4.0 * kHeadDim);
}

int register_all() {
  benchmark::AddCustomContext("kestrel_cpu_ops", cpu_ops(1).name());
  for (DType t : {DType::Q8_0, DType::Q8_1, DType::Q8_K}) {
    benchmark::RegisterBenchmark(
        (std::string("BM_QuantizeActivation/") + tensor::dtype_name(t)).c_str(),
        BM_QuantizeActivation, t)->UseRealTime();
  }
  benchmark::RegisterBenchmark("BM_RmsNorm", BM_RmsNorm)->Arg(1)->Arg(2)->ArgName("threads")
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_Rope", BM_Rope)->Arg(1)->Arg(2)->ArgName("threads")
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_AttentionDecode", BM_AttentionDecode)
      ->ArgsProduct({{512, 4096}, {1, 2}})->ArgNames({"ctx", "threads"})->UseRealTime();
  benchmark::RegisterBenchmark("BM_AttentionPrefill", BM_AttentionPrefill)
      ->ArgsProduct({{512}, {1, 2}})->ArgNames({"tokens", "threads"})->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace kestrel::bench
