// Prefix caching in the block pool and the cache manager: hashed blocks survive their last owner
// on an LRU list, are found again by hash, and are evicted least recently released first, only
// when no plain free block is left; chained hashes with a salt per tenant.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "core/error.h"
#include "kv/block_pool.h"
#include "kv/kv_cache_manager.h"

namespace kestrel::kv {
namespace {

TEST(BlockPoolCache, ReleasedHashedBlockStaysFindable) {
  BlockPool pool(4, 16);
  const int32_t a = pool.allocate();
  ASSERT_TRUE(pool.set_hash(a, 42));
  EXPECT_FALSE(pool.set_hash(a, 43));  // one hash per block
  const int32_t b = pool.allocate();
  EXPECT_FALSE(pool.set_hash(b, 42));  // one block per hash
  pool.release(a);
  EXPECT_EQ(pool.n_free(), 3);  // cached-idle blocks count as allocatable
  EXPECT_EQ(pool.n_cached_idle(), 1);
  EXPECT_EQ(pool.lookup(42), a);
  pool.acquire(a);
  EXPECT_EQ(pool.ref_count(a), 1);
  EXPECT_EQ(pool.n_cached_idle(), 0);
  EXPECT_EQ(pool.n_free(), 2);
  EXPECT_THROW(pool.acquire(b), Error);  // b holds no hash
}

TEST(BlockPoolCache, EvictsLeastRecentlyReleasedOnlyWhenNoFreeBlockIsLeft) {
  BlockPool pool(3, 16);
  const int32_t a = pool.allocate(), b = pool.allocate(), c = pool.allocate();
  pool.set_hash(a, 1);
  pool.set_hash(b, 2);
  pool.release(b);  // b released first: least recently used
  pool.release(a);
  pool.release(c);  // not hashed: plain free
  EXPECT_EQ(pool.allocate(), c);
  EXPECT_EQ(pool.evictions(), 0);
  EXPECT_EQ(pool.allocate(), b);
  EXPECT_EQ(pool.evictions(), 1);
  EXPECT_EQ(pool.lookup(2), -1);
  EXPECT_FALSE(pool.has_hash(b));
  EXPECT_EQ(pool.lookup(1), a);
  // Touching a (acquire + release) makes it most recent again; it is still the only idle one.
  pool.acquire(a);
  pool.release(a);
  EXPECT_EQ(pool.allocate(), a);
  EXPECT_EQ(pool.lookup(1), -1);
  EXPECT_THROW(pool.allocate(), Error);
}

std::vector<int32_t> iota_tokens(int32_t n, int32_t start = 1) {
  std::vector<int32_t> t(n);
  std::iota(t.begin(), t.end(), start);
  return t;
}

TEST(PrefixCache, MatchesFullComputedBlocksAndLeavesOneTokenToCompute) {
  KvCacheManager kv(16, 4);
  const auto tokens = iota_tokens(12);
  ASSERT_EQ(kv.match_prefix(1, tokens, 0), 0);
  ASSERT_TRUE(kv.allocate(1, 12));
  kv.cache_computed(1, tokens, 10, 0);  // blocks 0 and 1 full and computed; block 2 not
  EXPECT_EQ(kv.pool().n_cached(), 2);
  kv.cache_computed(1, tokens, 12, 0);
  EXPECT_EQ(kv.pool().n_cached(), 3);
  // Same 12 tokens: at most 11 may come from the cache, so 2 blocks (8 tokens).
  EXPECT_EQ(kv.match_prefix(2, tokens, 0), 8);
  EXPECT_EQ(kv.block_table(2), (std::vector<int32_t>{kv.block_table(1)[0], kv.block_table(1)[1]}));
  EXPECT_EQ(kv.pool().ref_count(kv.block_table(1)[0]), 2);
  // 13 tokens with the same first 12: all three blocks.
  auto longer = tokens;
  longer.push_back(99);
  EXPECT_EQ(kv.match_prefix(3, longer, 0), 12);
  EXPECT_EQ(kv.seq_len(3), 12);
  EXPECT_EQ(kv.prefix_hit_tokens(), 20);
  kv.free(1);
  kv.free(2);
  kv.free(3);
  EXPECT_EQ(kv.usage().used_blocks, 0);
  EXPECT_EQ(kv.pool().n_cached_idle(), 3);
}

TEST(PrefixCache, ChainStopsAtTheFirstDifferentBlock) {
  KvCacheManager kv(16, 4);
  const auto a = iota_tokens(16);
  kv.match_prefix(1, a, 0);
  ASSERT_TRUE(kv.allocate(1, 16));
  kv.cache_computed(1, a, 16, 0);
  auto b = a;
  b[5] = 1000;  // second block differs: later blocks must not match even if equal
  b.push_back(1);
  EXPECT_EQ(kv.match_prefix(2, b, 0), 4);
}

TEST(PrefixCache, SaltsIsolateTenants) {
  KvCacheManager kv(16, 4);
  const auto t = iota_tokens(9);
  kv.match_prefix(1, t, /*salt=*/7);
  ASSERT_TRUE(kv.allocate(1, 9));
  kv.cache_computed(1, t, 9, 7);
  EXPECT_EQ(kv.match_prefix(2, t, 8), 0);
  EXPECT_EQ(kv.match_prefix(3, t, 7), 8);
  EXPECT_NE(KvCacheManager::block_hash(KvCacheManager::chain_seed(7), t.data(), 4),
            KvCacheManager::block_hash(KvCacheManager::chain_seed(8), t.data(), 4));
}

TEST(PrefixCache, TruncateIntoACachedBlockThrows) {
  KvCacheManager kv(8, 4);
  const auto t = iota_tokens(8);
  kv.match_prefix(1, t, 0);
  ASSERT_TRUE(kv.allocate(1, 8));
  kv.cache_computed(1, t, 8, 0);
  EXPECT_THROW(kv.truncate(1, 6), Error);
  kv.truncate(1, 4);
  EXPECT_EQ(kv.seq_len(1), 4);
  EXPECT_THROW(kv.match_prefix(1, t, 0), Error);  // not a fresh sequence
}

}  // namespace
}  // namespace kestrel::kv
