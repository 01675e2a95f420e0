// Paged causal attention, tiled over the KV cache.
//
// Work items are (a run of up to kMaxRows / group consecutive tokens of one
// sequence) x (one KV head): the item's rows are those tokens' query heads that
// share the KV head (grouped-query attention), so every key and value is
// converted from F16 once per item and used by all its rows. Per item: scores
// for all rows over the visible key range, tile by tile (kernels.scores), then
// the softmax, then probabilities x values, tile by tile (kernels.pv).
//
// Decode steps have few items (one per KV head per sequence) and long key
// ranges; when there are fewer items than two per thread, each item's key range
// is split into chunks that threads take separately (scores, then the softmax
// per row over all chunks, then partial value sums added in chunk order), so no
// thread waits on one long item.
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
#include <utility>

#include "backend/cpu/cpu_ops.h"
#include "core/error.h"

namespace kestrel::backend {
namespace {

constexpr int kMaxRows = 16;               // query rows per work item
constexpr int kKeyTile = 64;               // keys converted to F32 at a time
constexpr int32_t kMinSplitKeys = 256;     // a split chunk covers at least this many keys

// An item's rows and the key positions [lo, hi] any of its tokens can see.
struct Geometry {
  int rows;
  int32_t lo, hi;
  int64_t span() const { return int64_t{hi} - lo + 1; }
};

int32_t first_visible(const AttentionArgs& a, int32_t pos) {
  return a.window > 0 ? std::max<int32_t>(0, pos - a.window + 1) : 0;
}

Geometry geometry(const AttentionArgs& a, int64_t t0, int32_t nt, int group) {
  Geometry g{nt * group, std::numeric_limits<int32_t>::max(), 0};
  for (int64_t u = t0; u < t0 + nt; ++u) {
    g.lo = std::min(g.lo, first_visible(a, a.positions[u]));
    g.hi = std::max(g.hi, a.positions[u]);
  }
  return g;
}

// Everything an item's kernels need; row r = token u * group + g holds query
// head hk * group + g of token t0 + u.
struct ItemContext {
  const KernelTable& k;
  const AttentionArgs& a;
  const SeqKvView& seq;
  int64_t t0;
  int hk;
  int group;
  Geometry g;
  int64_t d() const { return a.head_dim; }
  int64_t kv_row() const { return int64_t{a.n_head_kv} * a.head_dim; }
  int64_t q_row() const { return int64_t{a.n_head} * a.head_dim; }

  // The rows' queries, rounded to F16 as the reference rounds them.
  void load_queries(float* qs) const {
    for (int r = 0; r < g.rows; ++r) {
      const int64_t t = t0 + r / group;
      const int h = hk * group + r % group;
      std::copy_n(a.q + t * q_row() + h * d(), d(), qs + r * d());
      k.round_f16(qs + r * d(), d());
    }
  }

  // Calls fn(first cache row, count, index of the first) for the cache rows of keys j0 .. j0 + n - 1
  // of this KV head, one call per run of consecutive positions in one cache block (consecutive
  // slots, kv_row apart), so the block table is read and positions divided once per block.
  template <class Fn>
  void for_each_run(const uint16_t* cache, int32_t j0, int n, Fn&& fn) const {
    for (int32_t j = j0; j < j0 + n;) {
      const int32_t block = j / a.block_size;
      const int32_t in_block = j - block * a.block_size;
      const int32_t run = std::min(a.block_size - in_block, j0 + n - j);
      fn(cache + (int64_t{seq.block_table[block]} * a.block_size + in_block) * kv_row() + hk * d(),
         run, j - j0);
      j += run;
    }
  }

  // Keys (or values) j0 .. j0 + n - 1 of this KV head, F16 -> F32 rows.
  void load_tile(const uint16_t* cache, int32_t j0, int n, float* out) const {
    for_each_run(cache, j0, n, [&](const uint16_t* src, int32_t run, int32_t at) {
      for (int32_t i = 0; i < run; ++i) k.f16_to_f32(src + i * kv_row(), out + (at + i) * d(), d());
    });
  }

  // s[r * lds + (j - lo)] = q_r . key_j for keys j in [j0, j1]: straight from the cache where the
  // ISA reads F16 rows, else tile by tile through F32 copies.
  void scores(const float* qs, int32_t j0, int32_t j1, float* tile, float* s, int64_t lds) const {
    if (k.scores_f16 != nullptr) {
      for_each_run(a.k_cache, j0, j1 - j0 + 1, [&](const uint16_t* src, int32_t run, int32_t at) {
        k.scores_f16(qs, d(), g.rows, src, kv_row(), run, d(), s + (j0 + at - g.lo), lds);
      });
      return;
    }
    for (int32_t j = j0; j <= j1; j += kKeyTile) {
      const int kt = static_cast<int>(std::min<int64_t>(kKeyTile, int64_t{j1} - j + 1));
      load_tile(a.k_cache, j, kt, tile);
      k.scores(qs, d(), g.rows, tile, d(), kt, d(), s + (j - g.lo), lds);
    }
  }

  // Row r of s becomes the F16-rounded softmax of its scaled, masked scores.
  void softmax(int r, float* sr) const {
    const int32_t pos = a.positions[t0 + r / group];
    const int32_t first = first_visible(a, pos);
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < g.span(); ++j) {
      const int32_t key = g.lo + static_cast<int32_t>(j);
      sr[j] = key >= first && key <= pos ? sr[j] * a.scale : -std::numeric_limits<float>::infinity();
      m = std::max(m, sr[j]);
    }
    const float inv = 1.0f / k.exp_sum(sr, g.span(), m);
    for (int64_t j = 0; j < g.span(); ++j) sr[j] *= inv;
    k.round_f16(sr, g.span());
  }

  // o[r * d + i] += sum over keys j in [j0, j1] of p[r][j] * value_j[i], keys in order.
  void values(const float* s, int64_t lds, int32_t j0, int32_t j1, float* tile, float* o) const {
    if (k.pv_f16 != nullptr) {
      for_each_run(a.v_cache, j0, j1 - j0 + 1, [&](const uint16_t* src, int32_t run, int32_t at) {
        k.pv_f16(s + (j0 + at - g.lo), lds, g.rows, src, kv_row(), run, d(), o, d());
      });
      return;
    }
    for (int32_t j = j0; j <= j1; j += kKeyTile) {
      const int kt = static_cast<int>(std::min<int64_t>(kKeyTile, int64_t{j1} - j + 1));
      load_tile(a.v_cache, j, kt, tile);
      k.pv(s + (j - g.lo), lds, g.rows, tile, d(), kt, d(), o, d());
    }
  }

  void store(const float* o) const {
    for (int r = 0; r < g.rows; ++r) {
      const int64_t t = t0 + r / group;
      const int h = hk * group + r % group;
      std::copy_n(o + r * d(), d(), a.out + t * q_row() + h * d());
    }
  }
};

// Chunk c of `chunks` of the key range [lo, hi], cut at key-tile multiples: [j0, j1], empty
// when j0 > j1.
std::pair<int32_t, int32_t> chunk_range(const Geometry& g, int c, int chunks) {
  const int64_t tiles = (g.span() + kKeyTile - 1) / kKeyTile;
  const int64_t t0 = tiles * c / chunks, t1 = tiles * (c + 1) / chunks;
  const int32_t j0 = g.lo + static_cast<int32_t>(t0 * kKeyTile);
  const int32_t j1 = std::min<int32_t>(g.hi, g.lo + static_cast<int32_t>(t1 * kKeyTile) - 1);
  return {j0, j1};
}

}  // namespace

void CpuOps::attention(const AttentionArgs& a) {
  const int group = a.n_head / a.n_head_kv;
  const int64_t d = a.head_dim;
  const int tokens_per_item = std::max(1, kMaxRows / group);
  const int max_rows = tokens_per_item * group;

  // Work items: runs of consecutive tokens of the same sequence, times KV heads.
  items_.clear();
  int64_t max_span = 1;
  for (int64_t t = 0; t < a.n_tokens;) {
    int64_t end = t + 1;
    while (end < a.n_tokens && end - t < tokens_per_item &&
           a.seq_of_token[end] == a.seq_of_token[t]) {
      ++end;
    }
    max_span = std::max(max_span, geometry(a, t, static_cast<int32_t>(end - t), group).span());
    for (int hk = 0; hk < a.n_head_kv; ++hk) {
      items_.push_back({t, static_cast<int32_t>(end - t), hk});
    }
    t = end;
  }
  const int64_t n_items = static_cast<int64_t>(items_.size());
  const int n_threads = pool_.size();
  const int chunks = static_cast<int>(std::min<int64_t>(
      (2 * n_threads + n_items - 1) / n_items, max_span / kMinSplitKeys));
  auto context = [&](int64_t it) {
    const AttentionItem& item = items_[it];
    return ItemContext{kernels_, a, a.seqs[a.seq_of_token[item.t0]], item.t0, item.hk, group,
                       geometry(a, item.t0, item.nt, group)};
  };

  // Scratch, grown to the largest need seen and then reused (no allocation in steady state):
  // per thread Q rows, O rows and one F32 key/value tile; then either a score row per query row
  // per thread, or (split) the scores of every item and the partial outputs of every chunk.
  const int64_t per_thread = 2 * max_rows * d + kKeyTile * d;
  const int64_t scores_per_item = max_rows * max_span;
  const int64_t shared = chunks > 1 ? n_items * (scores_per_item + chunks * max_rows * d)
                                    : n_threads * scores_per_item;
  const size_t need = static_cast<size_t>(n_threads * per_thread + shared);
  if (attn_scratch_.size() < need) attn_scratch_.resize(need);
  float* const thread_base = attn_scratch_.data();
  float* const shared_base = thread_base + n_threads * per_thread;

  if (chunks <= 1) {
    // Items interleave over threads (item i to thread i mod n): later tokens see more keys, so
    // contiguous ranges would load the last thread most.
    pool_.parallel_for(n_threads, 1, [&](int64_t th0, int64_t th1, int thread) {
      float* qs = thread_base + thread * per_thread;
      float* os = qs + max_rows * d;
      float* tile = os + max_rows * d;
      float* s = shared_base + thread * scores_per_item;
      for (int64_t th = th0; th < th1; ++th) {
        for (int64_t it = th; it < n_items; it += n_threads) {
          const ItemContext c = context(it);
          c.load_queries(qs);
          c.scores(qs, c.g.lo, c.g.hi, tile, s, c.g.span());
          for (int r = 0; r < c.g.rows; ++r) c.softmax(r, s + r * c.g.span());
          std::fill_n(os, c.g.rows * d, 0.0f);
          c.values(s, c.g.span(), c.g.lo, c.g.hi, tile, os);
          c.store(os);
        }
      }
    });
    return;
  }

  // Split: tasks are (item, chunk), item-major.
  float* const scores = shared_base;
  float* const partials = scores + n_items * scores_per_item;
  auto partial = [&](int64_t it, int c) { return partials + (it * chunks + c) * max_rows * d; };
  pool_.parallel_for(n_items * chunks, 1, [&](int64_t t0, int64_t t1, int thread) {
    float* qs = thread_base + thread * per_thread;
    float* tile = qs + 2 * max_rows * d;
    for (int64_t task = t0; task < t1; ++task) {
      const int64_t it = task / chunks;
      const ItemContext c = context(it);
      const auto [j0, j1] = chunk_range(c.g, static_cast<int>(task % chunks), chunks);
      if (j0 > j1) continue;
      c.load_queries(qs);
      c.scores(qs, j0, j1, tile, scores + it * scores_per_item, c.g.span());
    }
  });
  pool_.parallel_for(n_items * max_rows, 1, [&](int64_t r0, int64_t r1, int) {
    for (int64_t x = r0; x < r1; ++x) {
      const int64_t it = x / max_rows;
      const int r = static_cast<int>(x % max_rows);
      const ItemContext c = context(it);
      if (r < c.g.rows) c.softmax(r, scores + it * scores_per_item + r * c.g.span());
    }
  });
  pool_.parallel_for(n_items * chunks, 1, [&](int64_t t0, int64_t t1, int thread) {
    float* tile = thread_base + thread * per_thread + 2 * max_rows * d;
    for (int64_t task = t0; task < t1; ++task) {
      const int64_t it = task / chunks;
      const int ci = static_cast<int>(task % chunks);
      const ItemContext c = context(it);
      float* o = partial(it, ci);
      std::fill_n(o, c.g.rows * d, 0.0f);
      const auto [j0, j1] = chunk_range(c.g, ci, chunks);
      if (j0 <= j1) c.values(scores + it * scores_per_item, c.g.span(), j0, j1, tile, o);
    }
  });
  // Partial sums added in chunk order (the same order whatever the thread count).
  pool_.parallel_for(n_items, 1, [&](int64_t i0, int64_t i1, int thread) {
    float* os = thread_base + thread * per_thread + max_rows * d;
    for (int64_t it = i0; it < i1; ++it) {
      const ItemContext c = context(it);
      std::copy_n(partial(it, 0), c.g.rows * d, os);
      for (int ci = 1; ci < chunks; ++ci) {
        const float* p = partial(it, ci);
        for (int64_t i = 0; i < c.g.rows * d; ++i) os[i] += p[i];
      }
      c.store(os);
    }
  });
}

}  // namespace kestrel::backend
