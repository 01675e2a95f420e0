#include "kv/kv_cache_manager.h"

#include "core/error.h"

namespace kestrel::kv {

KvCacheManager::KvCacheManager(int32_t n_blocks, int32_t block_size)
    : pool_(n_blocks, block_size) {}

int32_t KvCacheManager::blocks_needed(SeqId seq, int32_t n_new_tokens) const {
  KESTREL_CHECK(n_new_tokens >= 0, "kv: n_new_tokens must be >= 0, got ", n_new_tokens);
  const auto it = tables_.find(seq);
  const int32_t len = it == tables_.end() ? 0 : it->second.n_tokens;
  const int32_t have = it == tables_.end() ? 0 : static_cast<int32_t>(it->second.blocks.size());
  // 64-bit so a huge request reports "too many blocks" instead of overflowing.
  const int64_t want = (static_cast<int64_t>(len) + n_new_tokens + block_size() - 1) / block_size();
  const int64_t need = want - have;
  return need > INT32_MAX ? INT32_MAX : static_cast<int32_t>(need);
}

bool KvCacheManager::can_allocate(SeqId seq, int32_t n_new_tokens) const {
  return blocks_needed(seq, n_new_tokens) <= pool_.n_free();
}

bool KvCacheManager::allocate(SeqId seq, int32_t n_new_tokens) {
  const int32_t need = blocks_needed(seq, n_new_tokens);
  // Checked before touching anything: this is what makes the call all-or-nothing.
  if (need > pool_.n_free()) return false;
  BlockTable& t = tables_[seq];
  for (int32_t i = 0; i < need; ++i) t.blocks.push_back(pool_.allocate());
  t.n_tokens += n_new_tokens;
  return true;
}

void KvCacheManager::free(SeqId seq) {
  const auto it = tables_.find(seq);
  if (it == tables_.end()) return;
  // Last block first: the pool hands out LIFO, so the next sequence gets them in logical order.
  for (auto b = it->second.blocks.rbegin(); b != it->second.blocks.rend(); ++b) pool_.release(*b);
  tables_.erase(it);
}

void KvCacheManager::truncate(SeqId seq, int32_t new_len) {
  const auto it = tables_.find(seq);
  KESTREL_CHECK(it != tables_.end(), "kv: unknown sequence ", seq);
  BlockTable& t = it->second;
  KESTREL_CHECK(new_len >= 0 && new_len <= t.n_tokens, "kv: truncate of sequence ", seq, " to ",
                new_len, " tokens, it has ", t.n_tokens);
  const auto keep = static_cast<size_t>(blocks_for(new_len, block_size()));
  while (t.blocks.size() > keep) {
    pool_.release(t.blocks.back());
    t.blocks.pop_back();
  }
  t.n_tokens = new_len;
}

const BlockTable& KvCacheManager::table(SeqId seq) const {
  const auto it = tables_.find(seq);
  KESTREL_CHECK(it != tables_.end(), "kv: unknown sequence ", seq);
  return it->second;
}

int32_t KvCacheManager::seq_len(SeqId seq) const { return table(seq).n_tokens; }

const std::vector<int32_t>& KvCacheManager::block_table(SeqId seq) const {
  return table(seq).blocks;
}

int32_t KvCacheManager::slot(SeqId seq, int32_t pos) const {
  const BlockTable& t = table(seq);
  KESTREL_CHECK(pos >= 0 && pos < t.n_tokens, "kv: position ", pos, " outside sequence ", seq,
                " of ", t.n_tokens, " tokens");
  return t.slot(pos, block_size());
}

void KvCacheManager::slots(SeqId seq, int32_t pos0, int32_t n, int32_t* out) const {
  const BlockTable& t = table(seq);
  KESTREL_CHECK(n >= 0 && pos0 >= 0 && static_cast<int64_t>(pos0) + n <= t.n_tokens,
                "kv: positions [", pos0, ", ", static_cast<int64_t>(pos0) + n,
                ") outside sequence ", seq, " of ", t.n_tokens, " tokens");
  for (int32_t i = 0; i < n; ++i) out[i] = t.slot(pos0 + i, block_size());
}

}  // namespace kestrel::kv
