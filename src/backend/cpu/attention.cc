// Paged causal attention, tiled over the KV cache.
//
// Work items are (a run of up to kMaxRows / group consecutive tokens of one
// sequence) x (one KV head): the item's rows are those tokens' query heads that
// share the KV head (grouped-query attention), so every key and value is
// converted from F16 once per item and used by all its rows. Per item: scores
// for all rows over the visible key range, tile by tile (kernels.scores), then
// the softmax, then probabilities x values, tile by tile (kernels.pv).
//
// Numerics follow the reference engine's attention without flash attention, so
// greedy generations agree token for token: the query is rounded to F16 (the K
// cache's dot-product format), scores accumulate in F32, the softmax runs in
// F32 over the full row (two passes, not an online softmax: the reference
// rounds the *normalized* probabilities to F16 before they weight the values,
// which an online softmax cannot reproduce), and those F16 probabilities weight
// the F16 values. Small quantized models are sensitive enough that skipping
// either rounding moves logits by tenths (measured: docs/correctness.md).
#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/cpu/cpu_ops.h"
#include "core/error.h"

namespace kestrel::backend {
namespace {

constexpr int kMaxRows = 16;  // query rows per work item
constexpr int kKeyTile = 64;  // keys converted to F32 at a time

}  // namespace

void CpuOps::attention(const AttentionArgs& a) {
  const int group = a.n_head / a.n_head_kv;
  const int64_t d = a.head_dim;
  const int64_t kv_row = static_cast<int64_t>(a.n_head_kv) * d;
  const int64_t q_row = static_cast<int64_t>(a.n_head) * d;
  const int tokens_per_item = std::max(1, kMaxRows / group);
  const int max_rows = tokens_per_item * group;

  // Work items: runs of consecutive tokens of the same sequence, times KV
  // heads.
  items_.clear();
  int32_t max_span = 1;
  for (int64_t t = 0; t < a.n_tokens;) {
    int64_t end = t + 1;
    while (end < a.n_tokens && end - t < tokens_per_item &&
           a.seq_of_token[end] == a.seq_of_token[t]) {
      ++end;
    }
    int32_t lo = std::numeric_limits<int32_t>::max(), hi = 0;
    for (int64_t u = t; u < end; ++u) {
      const int32_t pos = a.positions[u];
      lo = std::min(lo, a.window > 0 ? std::max<int32_t>(0, pos - a.window + 1) : 0);
      hi = std::max(hi, pos);
    }
    max_span = std::max(max_span, hi - lo + 1);
    for (int hk = 0; hk < a.n_head_kv; ++hk) {
      items_.push_back({t, static_cast<int32_t>(end - t), hk});
    }
    t = end;
  }

  // Per-thread scratch: Q and O rows, one F32 key/value tile, a score row per
  // query row. Grown to the largest need seen, then reused: no allocation in
  // steady state.
  const int64_t per_thread = 2 * max_rows * d + kKeyTile * d + max_rows * int64_t{max_span};
  const size_t need = static_cast<size_t>(pool_.size()) * per_thread;
  if (attn_scratch_.size() < need) attn_scratch_.resize(need);

  const KernelTable& k = kernels_;
  const int64_t n_items = static_cast<int64_t>(items_.size());
  const int n_threads = pool_.size();
  // Items interleave over threads (item i to thread i mod n): later tokens see
  // more keys, so contiguous ranges would load the last thread most.
  pool_.parallel_for(n_threads, 1, [&](int64_t th0, int64_t th1, int thread) {
    float* scratch = attn_scratch_.data() + static_cast<size_t>(thread) * per_thread;
    float* qs = scratch;
    float* os = qs + max_rows * d;
    float* tile = os + max_rows * d;
    float* s = tile + kKeyTile * d;
    for (int64_t th = th0; th < th1; ++th) {
      for (int64_t it = th; it < n_items; it += n_threads) {
        const AttentionItem& item = items_[it];
        const SeqKvView& seq = a.seqs[a.seq_of_token[item.t0]];
        const int rows = item.nt * group;
        int32_t lo = std::numeric_limits<int32_t>::max(), hi = 0;
        for (int u = 0; u < item.nt; ++u) {
          const int32_t pos = a.positions[item.t0 + u];
          lo = std::min(lo, a.window > 0 ? std::max<int32_t>(0, pos - a.window + 1) : 0);
          hi = std::max(hi, pos);
        }
        const int64_t span = hi - lo + 1;
        auto kv_offset = [&](int32_t j) {
          const int64_t slot =
              static_cast<int64_t>(seq.block_table[j / a.block_size]) * a.block_size +
              j % a.block_size;
          return slot * kv_row + static_cast<int64_t>(item.hk) * d;
        };
        // Row r = token u * group + g holds query head hk * group + g of token
        // t0 + u.
        for (int r = 0; r < rows; ++r) {
          const int64_t t = item.t0 + r / group;
          const int h = item.hk * group + r % group;
          std::copy_n(a.q + t * q_row + h * d, d, qs + r * d);
          k.round_f16(qs + r * d, d);
        }
        for (int32_t j0 = lo; j0 <= hi; j0 += kKeyTile) {
          const int kt = static_cast<int>(std::min<int64_t>(kKeyTile, hi - j0 + 1));
          for (int j = 0; j < kt; ++j) k.f16_to_f32(a.k_cache + kv_offset(j0 + j), tile + j * d, d);
          k.scores(qs, d, rows, tile, d, kt, d, s + (j0 - lo), span);
        }
        for (int r = 0; r < rows; ++r) {
          const int32_t pos = a.positions[item.t0 + r / group];
          const int32_t first = a.window > 0 ? std::max<int32_t>(0, pos - a.window + 1) : 0;
          float* sr = s + r * span;
          float m = -std::numeric_limits<float>::infinity();
          for (int64_t j = 0; j < span; ++j) {
            const int32_t key = lo + static_cast<int32_t>(j);
            sr[j] = key >= first && key <= pos ? sr[j] * a.scale
                                               : -std::numeric_limits<float>::infinity();
            m = std::max(m, sr[j]);
          }
          const float inv = 1.0f / k.exp_sum(sr, span, m);
          for (int64_t j = 0; j < span; ++j) sr[j] *= inv;
          k.round_f16(sr, span);
        }
        std::fill_n(os, rows * d, 0.0f);
        for (int32_t j0 = lo; j0 <= hi; j0 += kKeyTile) {
          const int kt = static_cast<int>(std::min<int64_t>(kKeyTile, hi - j0 + 1));
          for (int j = 0; j < kt; ++j) k.f16_to_f32(a.v_cache + kv_offset(j0 + j), tile + j * d, d);
          k.pv(s + (j0 - lo), span, rows, tile, d, kt, d, os, d);
        }
        for (int r = 0; r < rows; ++r) {
          const int64_t t = item.t0 + r / group;
          const int h = item.hk * group + r % group;
          std::copy_n(os + r * d, d, a.out + t * q_row + h * d);
        }
      }
    }
  });
}

}  // namespace kestrel::backend
