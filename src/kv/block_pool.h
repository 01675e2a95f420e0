// BlockPool: a fixed set of KV blocks, each holding block_size tokens for every layer. It hands out
// block ids only; the model's KvStorage owns the memory and indexes it by id.
//
// Invariants:
//   - ids are 0..n_blocks-1; a block is free exactly when its reference count is 0, and then it
//     is on the free list exactly once.
//   - allocate() returns a block with reference count 1; retain() adds an owner (a second sequence
//     sharing a cached prefix block); release() drops one and frees the block at 0.
// Cost: allocate, retain, release and n_free are O(1) and never allocate memory (the free list is
// sized once in the constructor).
//
// Prefix caching (hash chains of full blocks, reuse of freed-but-cached blocks in LRU order) is not
// implemented yet; the reference counts are what it will build on. When it comes, the free list
// will need to become an ordered (LRU) queue so that a freed block that still holds a cached prefix
// is evicted last.
#pragma once

#include <cstdint>
#include <vector>

namespace kestrel::kv {

class BlockPool {
 public:
  // Throws kestrel::Error unless n_blocks >= 0 and block_size > 0.
  BlockPool(int32_t n_blocks, int32_t block_size);

  // Takes a free block (reference count becomes 1). Throws kestrel::Error when none is free;
  // callers that must not fail check n_free() first.
  int32_t allocate();
  // Adds an owner to a block in use (reference count + 1).
  void retain(int32_t block);
  // Drops one owner; the block returns to the free list when its count reaches 0.
  void release(int32_t block);

  int32_t ref_count(int32_t block) const;
  int32_t n_free() const { return static_cast<int32_t>(free_.size()); }
  int32_t n_used() const { return n_blocks_ - n_free(); }
  int32_t n_blocks() const { return n_blocks_; }
  int32_t block_size() const { return block_size_; }

 private:
  void check_id(int32_t block) const;

  int32_t n_blocks_;
  int32_t block_size_;
  std::vector<int32_t> ref_counts_;  // [n_blocks]
  std::vector<int32_t> free_;        // stack of free ids; capacity n_blocks, never reallocates
};

}  // namespace kestrel::kv
