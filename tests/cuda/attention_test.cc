// CudaOps::attention against CpuOps::attention (which mirrors the reference engine's rounding):
// several sequences with scattered KV blocks, grouped-query heads, sliding windows, prefill chunks
// and decode tokens in one batch, contexts spanning several key splits, head sizes with and without
// the 16-byte load path.
#include <algorithm>
#include <cmath>

#include "backend/cpu/cpu_ops.h"
#include "cuda/cuda_test_util.h"
#include "quant/fp16.h"

namespace kestrel::backend::cuda {
namespace {

struct AttnCase {
  int head_dim;
  int32_t window;
};

void PrintTo(const AttnCase& c, std::ostream* os) {
  *os << "head_dim " << c.head_dim << " window " << c.window;
}

class CudaAttentionTest : public CudaTest, public ::testing::WithParamInterface<AttnCase> {};

TEST_P(CudaAttentionTest, MatchesCpu) {
  const int head_dim = GetParam().head_dim;
  const int32_t window = GetParam().window;
  const int n_head = 8, n_head_kv = 2, block = 16;
  const int64_t kv_row = int64_t{n_head_kv} * head_dim;
  // Sequence 0: 700 cached positions, a decode token at 700. Sequence 1: a prefill chunk of 40
  // tokens at positions 260..299 (earlier positions cached). Sequence 2: a single first token.
  const std::vector<int32_t> seq_len = {701, 300, 1};
  const int32_t max_blocks = (701 + block - 1) / block;
  const int32_t n_blocks_total = 3 * max_blocks;
  // Block tables: a shuffled assignment of cache blocks.
  std::vector<int32_t> perm(n_blocks_total);
  for (int32_t i = 0; i < n_blocks_total; ++i) perm[i] = i;
  std::mt19937 rng(21);
  std::shuffle(perm.begin(), perm.end(), rng);
  std::vector<int32_t> tables(3 * max_blocks);
  for (int s = 0; s < 3; ++s) {
    for (int32_t b = 0; b < max_blocks; ++b) tables[s * max_blocks + b] = perm[s * max_blocks + b];
  }
  const int64_t n_slots = int64_t{n_blocks_total} * block;
  // A random F16 cache (every slot, so stale slots would show up if read).
  auto kf = random_vector(n_slots * kv_row, 22), vf = random_vector(n_slots * kv_row, 23);
  std::vector<uint16_t> kc(kf.size()), vc(vf.size());
  for (size_t i = 0; i < kf.size(); ++i) {
    kc[i] = quant::fp32_to_fp16(kf[i]);
    vc[i] = quant::fp32_to_fp16(vf[i]);
  }
  std::vector<int32_t> pos, seq;
  pos.push_back(700), seq.push_back(0);
  for (int32_t p = 260; p < 300; ++p) pos.push_back(p), seq.push_back(1);
  pos.push_back(0), seq.push_back(2);
  const int64_t n_tokens = pos.size();
  auto q = random_vector(n_tokens * n_head * head_dim, 24, 2.0f);
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));

  ThreadPool pool(2);
  CpuOps cpu(pool);
  std::vector<SeqKvView> views(3);
  for (int s = 0; s < 3; ++s) views[s] = {tables.data() + s * max_blocks, max_blocks};
  std::vector<float> want(q.size());
  AttentionArgs a;
  a.q = q.data();
  a.out = want.data();
  a.n_tokens = n_tokens;
  a.n_head = n_head;
  a.n_head_kv = n_head_kv;
  a.head_dim = head_dim;
  a.positions = pos.data();
  a.seq_of_token = seq.data();
  a.seqs = views.data();
  a.block_size = block;
  a.k_cache = kc.data();
  a.v_cache = vc.data();
  a.scale = scale;
  a.window = window;
  cpu.attention(a);

  CudaOps ops;
  DeviceBuffer dq = upload(q), dpos = upload(pos), dseq = upload(seq), dtab = upload(tables);
  DeviceBuffer dk = upload(kc), dv = upload(vc), dout(q.size() * sizeof(float));
  for (int32_t max_kv_len : {701, 4096}) {  // exact fit, and the spare splits of a graph
    DeviceAttentionArgs d;
    d.q = dq.as<float>();
    d.out = dout.as<float>();
    d.n_tokens = n_tokens;
    d.n_head = n_head;
    d.n_head_kv = n_head_kv;
    d.head_dim = head_dim;
    d.positions = dpos.as<int32_t>();
    d.seq_of_token = dseq.as<int32_t>();
    d.block_tables = dtab.as<int32_t>();
    d.max_blocks_per_seq = max_blocks;
    d.block_size = block;
    d.k_cache = dk.as<uint16_t>();
    d.v_cache = dv.as<uint16_t>();
    d.scale = scale;
    d.window = window;
    d.max_kv_len = max_kv_len;
    ops.attention(d);
    ops.synchronize();
    auto got = download<float>(dout.get(), q.size());
    // Same rounding points; scores differ in summation order (a few F32 ulp), which can move a
    // probability across an F16 rounding boundary: one F16 step (2^-11 relative) of p per key,
    // times |v| <= ~5. Over the whole softmax that is <= 2^-11 * 5 plus F32 noise.
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], 3e-3) << "element " << i << " max_kv_len " << max_kv_len;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaAttentionTest,
                         ::testing::Values(AttnCase{64, 0}, AttnCase{128, 0}, AttnCase{128, 100},
                                           AttnCase{36, 0}, AttnCase{256, 37}));

}  // namespace
}  // namespace kestrel::backend::cuda
