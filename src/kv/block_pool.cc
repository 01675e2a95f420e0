#include "kv/block_pool.h"

#include "core/error.h"

namespace kestrel::kv {

BlockPool::BlockPool(int32_t n_blocks, int32_t block_size)
    : n_blocks_(n_blocks), block_size_(block_size) {
  KESTREL_CHECK(n_blocks >= 0, "kv: n_blocks must be >= 0, got ", n_blocks);
  KESTREL_CHECK(block_size > 0, "kv: block_size must be > 0, got ", block_size);
  ref_counts_.assign(n_blocks, 0);
  free_.reserve(n_blocks);
  // Pushed in reverse so that a fresh pool hands out 0, 1, 2, ...: block tables in logs and tests
  // read naturally, and the first sequences get contiguous memory.
  for (int32_t b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
}

int32_t BlockPool::allocate() {
  KESTREL_CHECK(!free_.empty(), "kv: block pool exhausted (", n_blocks_, " blocks)");
  const int32_t block = free_.back();
  free_.pop_back();
  ref_counts_[block] = 1;
  return block;
}

void BlockPool::retain(int32_t block) {
  check_id(block);
  KESTREL_CHECK(ref_counts_[block] > 0, "kv: retain of free block ", block);
  ++ref_counts_[block];
}

void BlockPool::release(int32_t block) {
  check_id(block);
  KESTREL_CHECK(ref_counts_[block] > 0, "kv: release of free block ", block);
  if (--ref_counts_[block] == 0) free_.push_back(block);
}

int32_t BlockPool::ref_count(int32_t block) const {
  check_id(block);
  return ref_counts_[block];
}

void BlockPool::check_id(int32_t block) const {
  KESTREL_CHECK(block >= 0 && block < n_blocks_, "kv: block id ", block, " out of range [0, ",
                n_blocks_, ")");
}

}  // namespace kestrel::kv
