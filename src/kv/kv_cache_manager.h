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
// Prefix caching (matching a new prompt's full blocks against blocks other sequences computed, by
// chained block hashes with LRU eviction) is not implemented yet. The pool's reference counts are
// there for it: a shared block is retained by each table that lists it, and free() only releases.
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

  bool contains(SeqId seq) const { return tables_.count(seq) != 0; }
  // The queries below throw kestrel::Error for an unknown sequence.
  int32_t seq_len(SeqId seq) const;
  const std::vector<int32_t>& block_table(SeqId seq) const;
  // block_id * block_size + offset for logical position pos; throws unless 0 <= pos < seq_len.
  int32_t slot(SeqId seq, int32_t pos) const;
  // Writes the slots of positions [pos0, pos0 + n) to out[0..n); same checks as slot().
  void slots(SeqId seq, int32_t pos0, int32_t n, int32_t* out) const;

  KvUsage usage() const { return {pool_.n_used(), pool_.n_blocks()}; }
  int32_t n_free_blocks() const { return pool_.n_free(); }
  int32_t block_size() const { return pool_.block_size(); }
  int32_t n_seqs() const { return static_cast<int32_t>(tables_.size()); }
  const BlockPool& pool() const { return pool_; }

 private:
  const BlockTable& table(SeqId seq) const;

  BlockPool pool_;
  std::unordered_map<SeqId, BlockTable> tables_;
};

}  // namespace kestrel::kv
