// KvCacheManager: which KV blocks each sequence owns. Pure bookkeeping: it hands out block ids and
// slots; the model's KvStorage owns the memory and writes K/V at the slots given here.
//
// Semantics: allocate(seq, n) reserves slots for the sequence's next n tokens, so afterwards
// seq_len(seq) counts them (the tokens this step will compute) and slot(seq, p) is valid for every
// p < seq_len(seq). It is all-or-nothing, so the engine can plan a step with can_allocate() and
// then apply it, or let a preemption policy decide when it returns false.
//
// Invariants:
//   - every block listed in some table has reference count >= 1 in the pool; a table holds exactly
//     blocks_for(seq_len, block_size) blocks.
//   - a sequence is known from its first allocate() (n may be 0) until free().
// Cost: allocate is O(blocks added) plus one hash lookup; free is O(blocks of the sequence); the
// queries are O(1). No call allocates memory except a table's growth (amortized) and the first
// allocate of a new sequence.
//
// Prefix caching: the hash of block i of a sequence chains the hash of block i-1, a salt (the tenant:
// two salts never share a block) and the block's block_size token ids, so equal hashes mean equal
// whole prefixes (up to a 64-bit collision). cache_computed() registers a sequence's full computed
// blocks; match_prefix() lets a new sequence start with the longest chain of registered blocks
// (shared, reference counted, never written again: only full blocks are shared, and a sequence
// writes only past its last full block). Unreferenced cached blocks are evicted in LRU order by
// the pool, only when no free block is left.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "kv/block_pool.h"
#include "kv/block_table.h"

namespace kestrel::kv {

using SeqId = int64_t;

struct KvUsage {
  int32_t used_blocks = 0;
  int32_t total_blocks = 0;
  // used / total, 0 for an empty pool.
  double fraction() const {
    return total_blocks == 0 ? 0.0 : static_cast<double>(used_blocks) / total_blocks;
  }
};

class KvCacheManager {
 public:
  // Throws kestrel::Error unless n_blocks >= 0 and block_size > 0.
  KvCacheManager(int32_t n_blocks, int32_t block_size);

  // Grows seq (creating it if new) by n_new_tokens slots. Returns false and changes nothing when
  // the pool has too few free blocks. Throws kestrel::Error if n_new_tokens < 0.
  bool allocate(SeqId seq, int32_t n_new_tokens);
  // Whether allocate(seq, n_new_tokens) would succeed now; changes nothing.
  bool can_allocate(SeqId seq, int32_t n_new_tokens) const;
  // Free blocks allocate(seq, n_new_tokens) would take (0 when the last block has room).
  int32_t blocks_needed(SeqId seq, int32_t n_new_tokens) const;

  // Releases all of seq's blocks and forgets it. Freeing an unknown sequence is a no-op, so abort
  // paths need not track whether a sequence ever got memory.
  void free(SeqId seq);
  // Shrinks seq to new_len tokens (e.g. rejected speculative tokens), releasing blocks no longer
  // needed. Throws kestrel::Error unless 0 <= new_len <= seq_len(seq).
  void truncate(SeqId seq, int32_t new_len);

  // Starts an unknown (or empty) sequence with the longest cached chain of full blocks of tokens,
  // leaving at least one token to compute (the caller needs logits after it). Returns the number of
  // tokens reused (a multiple of block_size); 0 when nothing matched (the sequence is then known,
  // with 0 tokens).
  int32_t match_prefix(SeqId seq, const std::vector<int32_t>& tokens, uint64_t salt);
  // Registers the full blocks among seq's first n_computed tokens (whose k and v are now written)
  // so later match_prefix() calls can reuse them. tokens are the sequence's token ids.
  void cache_computed(SeqId seq, const std::vector<int32_t>& tokens, int32_t n_computed,
                      uint64_t salt);
  // Chained hash of one block given the previous block's hash (or the salt-derived seed for the
  // first block, from chain_seed()).
  static uint64_t chain_seed(uint64_t salt);
  static uint64_t block_hash(uint64_t prev, const int32_t* tokens, int32_t n);

  bool contains(SeqId seq) const { return tables_.count(seq) != 0; }
  // The queries below throw kestrel::Error for an unknown sequence.
  int32_t seq_len(SeqId seq) const;
  const std::vector<int32_t>& block_table(SeqId seq) const;
  // block_id * block_size + offset for logical position pos; throws unless 0 <= pos < seq_len.
  int32_t slot(SeqId seq, int32_t pos) const;
  // Writes the slots of positions [pos0, pos0 + n) to out[0..n); same checks as slot().
  void slots(SeqId seq, int32_t pos0, int32_t n, int32_t* out) const;

  KvUsage usage() const { return {pool_.n_used(), pool_.n_blocks()}; }
  // Prefix-cache lookups: tokens asked for (all full blocks that could match) and tokens reused.
  int64_t prefix_query_tokens() const { return prefix_query_tokens_; }
  int64_t prefix_hit_tokens() const { return prefix_hit_tokens_; }
  int32_t n_free_blocks() const { return pool_.n_free(); }
  int32_t block_size() const { return pool_.block_size(); }
  int32_t n_seqs() const { return static_cast<int32_t>(tables_.size()); }
  const BlockPool& pool() const { return pool_; }

 private:
  const BlockTable& table(SeqId seq) const;

  BlockPool pool_;
  std::unordered_map<SeqId, BlockTable> tables_;
  int64_t prefix_query_tokens_ = 0;
  int64_t prefix_hit_tokens_ = 0;
};

}  // namespace kestrel::kv
