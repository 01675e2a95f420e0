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
  // Last block first: the pool hands out LIFO, so the next sequence gets them in logical order; and
  // cached blocks join the LRU list tail-first, so a prefix's deepest blocks are evicted first.
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
  // A cached block is shared read-only; writing into it again after a truncate would change what
  // other sequences see.
  KESTREL_CHECK(new_len % block_size() == 0 || !pool_.has_hash(t.blocks[keep - 1]),
                "kv: truncate of sequence ", seq, " into a cached prefix block");
  if (t.hashes.size() > static_cast<size_t>(new_len / block_size())) {
    t.hashes.resize(new_len / block_size());
  }
  while (t.blocks.size() > keep) {
    pool_.release(t.blocks.back());
    t.blocks.pop_back();
  }
  t.n_tokens = new_len;
}

uint64_t KvCacheManager::chain_seed(uint64_t salt) {
  return salt ^ 0x6a09e667f3bcc908ull;
}

uint64_t KvCacheManager::block_hash(uint64_t prev, const int32_t* tokens, int32_t n) {
  // splitmix64 finalizer over (previous hash, each token): every input bit reaches every output
  // bit, and the chaining makes a block's hash depend on the whole prefix before it.
  auto mix = [](uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  uint64_t h = mix(prev + 0x9e3779b97f4a7c15ull);
  for (int32_t i = 0; i < n; ++i) {
    h = mix(h ^ (static_cast<uint64_t>(static_cast<uint32_t>(tokens[i])) + 0x9e3779b97f4a7c15ull));
  }
  return h;
}

int32_t KvCacheManager::match_prefix(SeqId seq, const std::vector<int32_t>& tokens,
                                     uint64_t salt) {
  BlockTable& t = tables_[seq];
  KESTREL_CHECK(t.n_tokens == 0 && t.blocks.empty(), "kv: match_prefix on sequence ", seq,
                " that already holds ", t.n_tokens, " tokens");
  const int32_t bs = block_size();
  const int32_t n = static_cast<int32_t>(tokens.size());
  const int32_t max_blocks = n > 0 ? (n - 1) / bs : 0;
  prefix_query_tokens_ += static_cast<int64_t>(max_blocks) * bs;
  uint64_t h = chain_seed(salt);
  for (int32_t i = 0; i < max_blocks; ++i) {
    h = block_hash(h, tokens.data() + static_cast<size_t>(i) * bs, bs);
    const int32_t block = pool_.lookup(h);
    if (block < 0) break;
    pool_.acquire(block);
    t.blocks.push_back(block);
    t.hashes.push_back(h);
  }
  t.n_tokens = static_cast<int32_t>(t.blocks.size()) * bs;
  prefix_hit_tokens_ += t.n_tokens;
  return t.n_tokens;
}

void KvCacheManager::cache_computed(SeqId seq, const std::vector<int32_t>& tokens,
                                    int32_t n_computed, uint64_t salt) {
  const auto it = tables_.find(seq);
  KESTREL_CHECK(it != tables_.end(), "kv: unknown sequence ", seq);
  BlockTable& t = it->second;
  KESTREL_CHECK(n_computed <= t.n_tokens && n_computed <= static_cast<int32_t>(tokens.size()),
                "kv: cache_computed of ", n_computed, " tokens, sequence ", seq, " holds ",
                t.n_tokens);
  const int32_t bs = block_size();
  const size_t full = static_cast<size_t>(n_computed / bs);
  uint64_t h = t.hashes.empty() ? chain_seed(salt) : t.hashes.back();
  for (size_t i = t.hashes.size(); i < full; ++i) {
    h = block_hash(h, tokens.data() + i * bs, bs);
    t.hashes.push_back(h);
    // false when an equal block is cached already (two sequences computed the same prefix at once):
    // this block then stays private and is freed normally.
    pool_.set_hash(t.blocks[i], h);
  }
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
