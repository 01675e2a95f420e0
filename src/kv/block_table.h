// BlockTable: one sequence's logical-to-physical map. Logical token position p lives in block
// blocks[p / block_size] at offset p % block_size; its flat slot in the KV storage is
// blocks[p / block_size] * block_size + p % block_size.
//
// Invariants (kept by KvCacheManager): 0 <= n_tokens <= blocks.size() * block_size, and blocks
// holds exactly ceil(n_tokens / block_size) ids (no spare trailing block).
//
// Cost: every query is O(1).
#pragma once

#include <cstdint>
#include <vector>

namespace kestrel::kv {

// Blocks needed to hold n_tokens tokens.
inline int32_t blocks_for(int32_t n_tokens, int32_t block_size) {
  return (n_tokens + block_size - 1) / block_size;
}

struct BlockTable {
  std::vector<int32_t> blocks;  // physical block ids, in logical order
  int32_t n_tokens = 0;         // tokens this sequence holds slots for
  // Chained prefix hashes of the leading full, computed blocks (prefix caching); may be shorter.
  std::vector<uint64_t> hashes;

  // Flat slot of logical position pos; the caller guarantees 0 <= pos < n_tokens.
  int32_t slot(int32_t pos, int32_t block_size) const {
    return blocks[pos / block_size] * block_size + pos % block_size;
  }
};

}  // namespace kestrel::kv
