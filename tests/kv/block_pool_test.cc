#include "kv/block_pool.h"

#include <gtest/gtest.h>

#include <set>

#include "core/error.h"

namespace kestrel::kv {
namespace {

TEST(BlockPool, FreshPoolHandsOutEveryBlockOnce) {
  BlockPool pool(8, 16);
  EXPECT_EQ(pool.n_free(), 8);
  std::set<int32_t> seen;
  for (int i = 0; i < 8; ++i) {
    const int32_t b = pool.allocate();
    EXPECT_GE(b, 0);
    EXPECT_LT(b, 8);
    EXPECT_TRUE(seen.insert(b).second) << "block " << b << " handed out twice";
    EXPECT_EQ(pool.ref_count(b), 1);
  }
  EXPECT_EQ(pool.n_free(), 0);
  EXPECT_EQ(pool.n_used(), 8);
  EXPECT_THROW(pool.allocate(), Error);
}

TEST(BlockPool, ReleaseReturnsBlock) {
  BlockPool pool(2, 4);
  const int32_t a = pool.allocate();
  pool.allocate();
  pool.release(a);
  EXPECT_EQ(pool.n_free(), 1);
  EXPECT_EQ(pool.ref_count(a), 0);
  EXPECT_EQ(pool.allocate(), a);
}

TEST(BlockPool, SharedBlockFreedOnlyByLastOwner) {
  BlockPool pool(1, 4);
  const int32_t b = pool.allocate();
  pool.retain(b);
  EXPECT_EQ(pool.ref_count(b), 2);
  pool.release(b);
  EXPECT_EQ(pool.n_free(), 0);
  pool.release(b);
  EXPECT_EQ(pool.n_free(), 1);
}

TEST(BlockPool, MisuseThrows) {
  BlockPool pool(2, 4);
  EXPECT_THROW(pool.release(0), Error);  // free block
  EXPECT_THROW(pool.retain(0), Error);
  EXPECT_THROW(pool.release(2), Error);  // out of range
  EXPECT_THROW(pool.ref_count(-1), Error);
  EXPECT_THROW(BlockPool(4, 0), Error);
  EXPECT_THROW(BlockPool(-1, 16), Error);
  BlockPool empty(0, 16);
  EXPECT_EQ(empty.n_free(), 0);
  EXPECT_THROW(empty.allocate(), Error);
}

}  // namespace
}  // namespace kestrel::kv
