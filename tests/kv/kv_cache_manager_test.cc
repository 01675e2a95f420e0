#include "kv/kv_cache_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "core/error.h"

namespace kestrel::kv {
namespace {

// Every block id in use appears in exactly one table, and tables match their lengths.
void expect_consistent(const KvCacheManager& kv, const std::vector<SeqId>& seqs) {
  std::set<int32_t> seen;
  int32_t total = 0;
  for (SeqId s : seqs) {
    if (!kv.contains(s)) continue;
    const auto& t = kv.block_table(s);
    EXPECT_EQ(static_cast<int32_t>(t.size()), blocks_for(kv.seq_len(s), kv.block_size()));
    for (int32_t b : t) EXPECT_TRUE(seen.insert(b).second) << "block " << b << " shared";
    total += static_cast<int32_t>(t.size());
  }
  EXPECT_EQ(kv.usage().used_blocks, total);
}

TEST(KvCacheManager, GrowsAcrossBlockBoundaries) {
  KvCacheManager kv(10, 16);
  ASSERT_TRUE(kv.allocate(1, 15));
  EXPECT_EQ(kv.seq_len(1), 15);
  EXPECT_EQ(kv.block_table(1).size(), 1u);
  ASSERT_TRUE(kv.allocate(1, 1));  // fills block 0 exactly
  EXPECT_EQ(kv.block_table(1).size(), 1u);
  ASSERT_TRUE(kv.allocate(1, 1));  // first token of the second block
  EXPECT_EQ(kv.seq_len(1), 17);
  EXPECT_EQ(kv.block_table(1).size(), 2u);
  ASSERT_TRUE(kv.allocate(1, 40));  // 57 tokens -> 4 blocks
  EXPECT_EQ(kv.block_table(1).size(), 4u);
  EXPECT_EQ(kv.usage().used_blocks, 4);
  ASSERT_TRUE(kv.allocate(2, 0));  // a known sequence with no memory yet
  EXPECT_TRUE(kv.contains(2));
  EXPECT_EQ(kv.seq_len(2), 0);
  EXPECT_TRUE(kv.block_table(2).empty());
}

TEST(KvCacheManager, BlocksNeeded) {
  KvCacheManager kv(10, 16);
  EXPECT_EQ(kv.blocks_needed(7, 0), 0);
  EXPECT_EQ(kv.blocks_needed(7, 1), 1);
  EXPECT_EQ(kv.blocks_needed(7, 16), 1);
  EXPECT_EQ(kv.blocks_needed(7, 17), 2);
  ASSERT_TRUE(kv.allocate(7, 10));
  EXPECT_EQ(kv.blocks_needed(7, 6), 0);
  EXPECT_EQ(kv.blocks_needed(7, 7), 1);
  EXPECT_EQ(kv.blocks_needed(7, 1 << 30), (10 + (1 << 30) + 15) / 16 - 1);
  EXPECT_FALSE(kv.can_allocate(7, INT32_MAX));  // no overflow
  EXPECT_THROW(kv.blocks_needed(7, -1), Error);
  EXPECT_THROW(kv.allocate(7, -1), Error);
}

TEST(KvCacheManager, FailedAllocationChangesNothing) {
  KvCacheManager kv(4, 16);
  ASSERT_TRUE(kv.allocate(1, 20));  // 2 blocks
  const std::vector<int32_t> before = kv.block_table(1);
  EXPECT_FALSE(kv.can_allocate(1, 60));  // 80 tokens -> 5 blocks, 3 more needed, 2 free
  EXPECT_FALSE(kv.allocate(1, 60));
  EXPECT_EQ(kv.seq_len(1), 20);
  EXPECT_EQ(kv.block_table(1), before);
  EXPECT_EQ(kv.n_free_blocks(), 2);
  // A new sequence that does not fit is not even registered.
  EXPECT_FALSE(kv.allocate(2, 33));
  EXPECT_FALSE(kv.contains(2));
  EXPECT_EQ(kv.n_seqs(), 1);
  // Exactly what is left still fits.
  EXPECT_TRUE(kv.can_allocate(1, 44));
  EXPECT_TRUE(kv.allocate(1, 44));
  EXPECT_EQ(kv.n_free_blocks(), 0);
}

TEST(KvCacheManager, FreeReturnsBlocks) {
  KvCacheManager kv(6, 8);
  ASSERT_TRUE(kv.allocate(1, 20));  // 3 blocks
  ASSERT_TRUE(kv.allocate(2, 24));  // 3 blocks
  EXPECT_FALSE(kv.allocate(3, 1));
  kv.free(1);
  EXPECT_FALSE(kv.contains(1));
  EXPECT_EQ(kv.n_free_blocks(), 3);
  EXPECT_THROW(kv.seq_len(1), Error);
  kv.free(1);  // second free is a no-op
  kv.free(42);
  EXPECT_EQ(kv.n_free_blocks(), 3);
  ASSERT_TRUE(kv.allocate(3, 24));
  expect_consistent(kv, {1, 2, 3});
  kv.free(2);
  kv.free(3);
  EXPECT_EQ(kv.usage().used_blocks, 0);
  EXPECT_EQ(kv.n_seqs(), 0);
}

TEST(KvCacheManager, SlotMapping) {
  KvCacheManager kv(8, 4);
  ASSERT_TRUE(kv.allocate(1, 3));
  ASSERT_TRUE(kv.allocate(2, 5));
  ASSERT_TRUE(kv.allocate(1, 6));  // seq 1's blocks are not contiguous any more
  const auto& t = kv.block_table(1);
  ASSERT_EQ(t.size(), 3u);
  for (int32_t p = 0; p < 9; ++p) {
    EXPECT_EQ(kv.slot(1, p), t[p / 4] * 4 + p % 4) << "pos " << p;
  }
  std::vector<int32_t> out(5);
  kv.slots(1, 2, 5, out.data());
  for (int32_t i = 0; i < 5; ++i) EXPECT_EQ(out[i], kv.slot(1, 2 + i));
  // Slots of different sequences never collide.
  std::set<int32_t> all;
  for (int32_t p = 0; p < 9; ++p) EXPECT_TRUE(all.insert(kv.slot(1, p)).second);
  for (int32_t p = 0; p < 5; ++p) EXPECT_TRUE(all.insert(kv.slot(2, p)).second);
  EXPECT_THROW(kv.slot(1, 9), Error);
  EXPECT_THROW(kv.slot(1, -1), Error);
  EXPECT_THROW(kv.slot(99, 0), Error);
  EXPECT_THROW(kv.slots(1, 5, 5, out.data()), Error);
}

TEST(KvCacheManager, UsageNumbers) {
  KvCacheManager kv(10, 16);
  EXPECT_EQ(kv.usage().used_blocks, 0);
  EXPECT_EQ(kv.usage().total_blocks, 10);
  EXPECT_DOUBLE_EQ(kv.usage().fraction(), 0.0);
  ASSERT_TRUE(kv.allocate(1, 33));  // 3 blocks
  ASSERT_TRUE(kv.allocate(2, 16));  // 1 block
  EXPECT_EQ(kv.usage().used_blocks, 4);
  EXPECT_DOUBLE_EQ(kv.usage().fraction(), 0.4);
  EXPECT_DOUBLE_EQ(KvCacheManager(0, 16).usage().fraction(), 0.0);
}

TEST(KvCacheManager, ExhaustingThePool) {
  KvCacheManager kv(5, 2);
  int32_t tokens = 0;
  while (kv.allocate(1, 1)) ++tokens;
  EXPECT_EQ(tokens, 10);
  EXPECT_EQ(kv.n_free_blocks(), 0);
  EXPECT_EQ(kv.seq_len(1), 10);
  EXPECT_TRUE(kv.allocate(1, 0));  // nothing needed, still fine
  EXPECT_FALSE(kv.allocate(2, 1));
  kv.truncate(1, 7);  // frees the last block (8 -> 7 tokens needs 4 blocks)
  EXPECT_EQ(kv.n_free_blocks(), 1);
  EXPECT_EQ(kv.seq_len(1), 7);
  EXPECT_TRUE(kv.allocate(1, 1));  // fills block 3, no new block
  EXPECT_EQ(kv.n_free_blocks(), 1);
  EXPECT_THROW(kv.truncate(1, 9), Error);
  kv.truncate(1, 0);
  EXPECT_TRUE(kv.block_table(1).empty());
  EXPECT_EQ(kv.n_free_blocks(), 5);
}

TEST(KvCacheManager, ManySequencesInterleaved) {
  KvCacheManager kv(64, 16);
  std::map<SeqId, int32_t> lens;
  std::vector<SeqId> ids;
  uint32_t x = 12345;  // fixed LCG: the same interleaving on every run
  auto next = [&x] { return x = x * 1664525u + 1013904223u, x >> 8; };
  for (int step = 0; step < 2000; ++step) {
    const SeqId s = static_cast<SeqId>(next() % 12);
    if (ids.size() < 12 && std::find(ids.begin(), ids.end(), s) == ids.end()) ids.push_back(s);
    if (next() % 10 == 0) {
      kv.free(s);
      lens.erase(s);
    } else {
      const int32_t n = static_cast<int32_t>(next() % 40);
      const bool fits = kv.can_allocate(s, n);
      const int32_t free_before = kv.n_free_blocks();
      const int32_t need = kv.blocks_needed(s, n);
      EXPECT_EQ(kv.allocate(s, n), fits);
      if (fits) {
        lens[s] += n;
        EXPECT_EQ(kv.n_free_blocks(), free_before - need);
      } else {
        EXPECT_EQ(kv.n_free_blocks(), free_before);
      }
    }
    for (const auto& [seq, len] : lens) ASSERT_EQ(kv.seq_len(seq), len);
  }
  expect_consistent(kv, ids);
  // Every slot in use is distinct.
  std::set<int32_t> slots;
  for (const auto& [seq, len] : lens)
    for (int32_t p = 0; p < len; ++p) EXPECT_TRUE(slots.insert(kv.slot(seq, p)).second);
}

}  // namespace
}  // namespace kestrel::kv
