// Host memory of the paged KV cache: per layer, F16 [n_slots, row] for keys and for values, where
// n_slots = n_blocks * block_size and row = n_head_kv * head_dim. Slots are handed out by
// kv::KvCacheManager; this class only owns the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kestrel::backend {

class KvStorage {
 public:
  KvStorage(int n_layer, int64_t n_slots, int64_t row)
      : n_slots_(n_slots), row_(row),
        k_(static_cast<size_t>(n_layer) * n_slots * row),
        v_(static_cast<size_t>(n_layer) * n_slots * row) {}

  int64_t n_slots() const { return n_slots_; }
  int64_t row() const { return row_; }
  size_t bytes() const { return (k_.size() + v_.size()) * sizeof(uint16_t); }
  uint16_t* k(int layer) { return k_.data() + static_cast<size_t>(layer) * n_slots_ * row_; }
  uint16_t* v(int layer) { return v_.data() + static_cast<size_t>(layer) * n_slots_ * row_; }

 private:
  int64_t n_slots_;
  int64_t row_;
  std::vector<uint16_t> k_;  // F16 [n_layer, n_slots, row]
  std::vector<uint16_t> v_;  // F16 [n_layer, n_slots, row]
};

}  // namespace kestrel::backend
