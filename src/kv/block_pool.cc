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
  prev_.assign(n_blocks + 1, n_blocks);
  next_.assign(n_blocks + 1, n_blocks);
  hash_.assign(n_blocks, 0);
  hashed_.assign(n_blocks, 0);
}

void BlockPool::lru_push_back(int32_t block) {
  const int32_t s = n_blocks_;
  const int32_t last = prev_[s];
  next_[last] = block;
  prev_[block] = last;
  next_[block] = s;
  prev_[s] = block;
  ++n_idle_;
}

void BlockPool::lru_unlink(int32_t block) {
  next_[prev_[block]] = next_[block];
  prev_[next_[block]] = prev_[block];
  prev_[block] = next_[block] = n_blocks_;
  --n_idle_;
}

int32_t BlockPool::allocate() {
  int32_t block;
  if (!free_.empty()) {
    block = free_.back();
    free_.pop_back();
  } else {
    KESTREL_CHECK(n_idle_ > 0, "kv: block pool exhausted (", n_blocks_, " blocks)");
    block = next_[n_blocks_];  // least recently released
    lru_unlink(block);
    by_hash_.erase(hash_[block]);
    hashed_[block] = 0;
    ++evictions_;
  }
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
  if (--ref_counts_[block] > 0) return;
  if (hashed_[block]) {
    lru_push_back(block);
  } else {
    free_.push_back(block);
  }
}

bool BlockPool::set_hash(int32_t block, uint64_t hash) {
  check_id(block);
  KESTREL_CHECK(ref_counts_[block] > 0, "kv: set_hash of free block ", block);
  if (hashed_[block] || by_hash_.count(hash) != 0) return false;
  by_hash_.emplace(hash, block);
  hash_[block] = hash;
  hashed_[block] = 1;
  return true;
}

int32_t BlockPool::lookup(uint64_t hash) const {
  const auto it = by_hash_.find(hash);
  return it == by_hash_.end() ? -1 : it->second;
}

void BlockPool::acquire(int32_t block) {
  check_id(block);
  KESTREL_CHECK(hashed_[block], "kv: acquire of block ", block, " that holds no cached prefix");
  if (ref_counts_[block] == 0) lru_unlink(block);
  ++ref_counts_[block];
}

bool BlockPool::has_hash(int32_t block) const {
  check_id(block);
  return hashed_[block] != 0;
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
