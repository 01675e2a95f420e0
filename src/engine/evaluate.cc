#include "engine/evaluate.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "kv/kv_cache_manager.h"

namespace kestrel::engine {

void evaluate_logits(model::Model& model, const std::vector<int32_t>& tokens, int64_t chunk,
                     const std::function<void(int64_t pos, const float* logits)>& on_logits) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  KESTREL_CHECK(n > 0, "evaluate: no tokens");
  chunk = std::clamp<int64_t>(chunk, 1, model.max_batch());
  constexpr int32_t kBlock = 16;
  const int32_t n_blocks = static_cast<int32_t>((n + kBlock - 1) / kBlock);
  kv::KvCacheManager kv(n_blocks, kBlock);
  backend::KvStorage storage(model.hparams().n_layer, static_cast<int64_t>(n_blocks) * kBlock,
                             model.hparams().kv_row());
  const kv::SeqId seq = 0;
  const int64_t n_vocab = model.hparams().n_vocab;
  std::vector<int32_t> positions(chunk), seq_of_token(chunk, 0), slots(chunk), rows(chunk);
  std::vector<float> logits(chunk * n_vocab);
  for (int64_t p0 = 0; p0 < n; p0 += chunk) {
    const int32_t m = static_cast<int32_t>(std::min(chunk, n - p0));
    KESTREL_CHECK(kv.allocate(seq, m), "evaluate: KV cache full");
    kv.slots(seq, static_cast<int32_t>(p0), m, slots.data());
    std::iota(positions.begin(), positions.begin() + m, static_cast<int32_t>(p0));
    std::iota(rows.begin(), rows.begin() + m, 0);
    const std::vector<int32_t>& table = kv.block_table(seq);
    const backend::SeqKvView view{table.data(), static_cast<int32_t>(table.size())};
    model::BatchView b;
    b.n_tokens = m;
    b.token_ids = tokens.data() + p0;
    b.positions = positions.data();
    b.seq_of_token = seq_of_token.data();
    b.slots = slots.data();
    b.n_seqs = 1;
    b.seqs = &view;
    b.block_size = kBlock;
    b.n_logits = m;
    b.logit_rows = rows.data();
    model.forward(b, storage, logits.data());
    for (int32_t i = 0; i < m; ++i) on_logits(p0 + i, logits.data() + i * n_vocab);
  }
}

}  // namespace kestrel::engine
