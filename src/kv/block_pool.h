// BlockPool: a fixed set of KV blocks, each holding block_size tokens for every layer. It hands out
// block ids only; the model's KvStorage owns the memory and indexes it by id.
//
// Prefix caching lives here too: a full, computed block may be given a hash (set_hash), after which
// lookup(hash) finds it. When the last owner releases a hashed block it is not freed but parked on
// an LRU list of unreferenced cached blocks: a later request with the same prefix can take it back
// (acquire), and allocate() evicts the least recently released one only when no plain free block is
// left. So cached prefixes cost nothing: they occupy only memory nobody else needs yet.
//
// Invariants:
//   - ids are 0..n_blocks-1. A block is exactly one of: in use (reference count >= 1), free (count
//     0, no hash, on the free list once) or cached-idle (count 0, hashed, on the LRU list once).
//   - a hash maps to at most one block and a block has at most one hash (by_hash_ and hash_ agree).
//   - allocate() returns a block with reference count 1 and no hash; retain() adds an owner;
//     release() drops one.
// Cost: allocate, retain, release, acquire, n_free are O(1); set_hash and lookup are one hash-map
// operation. The free and LRU lists are sized once in the constructor and never reallocate.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace kestrel::kv {

class BlockPool {
 public:
  // Throws kestrel::Error unless n_blocks >= 0 and block_size > 0.
  BlockPool(int32_t n_blocks, int32_t block_size);

  // Takes a free block, or evicts the least recently released cached one (its hash is forgotten);
  // the reference count becomes 1. Throws kestrel::Error when neither exists; callers that must
  // not fail check n_free() first.
  int32_t allocate();
  // Adds an owner to a block in use (reference count + 1).
  void retain(int32_t block);
  // Drops one owner; at 0 the block becomes free, or cached-idle if it has a hash.
  void release(int32_t block);

  // Gives a block in use the hash of its contents, so lookup() finds it. Returns false (and changes
  // nothing) when another block already holds that hash or this block already has one.
  bool set_hash(int32_t block, uint64_t hash);
  // The block holding this hash (in use or cached-idle), or -1.
  int32_t lookup(uint64_t hash) const;
  // Adds an owner to a hashed block found by lookup(): a cached-idle block leaves the LRU list.
  void acquire(int32_t block);
  bool has_hash(int32_t block) const;

  int32_t ref_count(int32_t block) const;
  // Blocks allocate() can hand out: free plus cached-idle.
  int32_t n_free() const { return static_cast<int32_t>(free_.size()) + n_idle_; }
  int32_t n_used() const { return n_blocks_ - n_free(); }
  int32_t n_cached() const { return static_cast<int32_t>(by_hash_.size()); }
  int32_t n_cached_idle() const { return n_idle_; }
  int64_t evictions() const { return evictions_; }
  int32_t n_blocks() const { return n_blocks_; }
  int32_t block_size() const { return block_size_; }

 private:
  void check_id(int32_t block) const;
  void lru_push_back(int32_t block);
  void lru_unlink(int32_t block);

  int32_t n_blocks_;
  int32_t block_size_;
  std::vector<int32_t> ref_counts_;  // [n_blocks]
  std::vector<int32_t> free_;        // stack of free ids; capacity n_blocks, never reallocates
  // Intrusive doubly linked LRU list of cached-idle blocks; index n_blocks is the sentinel.
  std::vector<int32_t> prev_, next_;  // [n_blocks + 1]
  int32_t n_idle_ = 0;
  std::vector<uint64_t> hash_;      // [n_blocks], valid where hashed_
  std::vector<uint8_t> hashed_;     // [n_blocks]
  std::unordered_map<uint64_t, int32_t> by_hash_;
  int64_t evictions_ = 0;
};

}  // namespace kestrel::kv
