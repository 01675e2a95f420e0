// CandidateSet: the (logit, id) pairs a sampling step narrows down, pre-sized to the vocabulary so
// a step never allocates.
//
// Order invariant, kept by every filter in filters.h: between filters the active range
// [0, size) is either in id order (fresh from fill(), or compacted from it) or fully sorted by
// `better` (logit descending, lower id first on ties). Both orders are canonical, so the final
// draw maps a random number to the same token whatever std::nth_element's implementation does.
// sort_prefix() is the only place that reorders, and its callers truncate to the sorted prefix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kestrel::sample {

struct Candidate {
  float logit;
  int32_t id;
};

// Strict total order: higher logit first, lower id on ties (greedy's tie rule).
inline bool better(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

class CandidateSet {
 public:
  explicit CandidateSet(int32_t n_vocab) : data_(n_vocab) {}

  // Loads logits (F32 [n_vocab]) in id order. NaN becomes -inf: a NaN would break the sort's
  // ordering (undefined behaviour) and can never be a sensible pick.
  void fill(const float* logits);

  Candidate* data() { return data_.data(); }
  const Candidate* data() const { return data_.data(); }
  Candidate& operator[](int32_t i) { return data_[i]; }
  const Candidate& operator[](int32_t i) const { return data_[i]; }
  int32_t size() const { return size_; }
  bool fully_sorted() const { return sorted_ >= size_; }

  // Keeps the first n candidates (n <= size()).
  void truncate(int32_t n);
  // Marks the active range as no longer sorted, after a filter compacted it in id order.
  void set_compacted(int32_t n, int32_t n_sorted);
  int32_t n_sorted() const { return sorted_; }

  // Makes [0, m) the m best candidates in `better` order (m clipped to size()). Cost: nothing if
  // already sorted that far, else O(size + m log m): a heap selection pass when few are wanted
  // from many, nth_element + sort otherwise.
  void sort_prefix(int32_t m);

  // Index of the best candidate (the greedy pick). O(1) when sorted, else O(size).
  int32_t best_index() const;

 private:
  static constexpr ptrdiff_t kHeapSelectMax = 256;

  std::vector<Candidate> data_;  // [n_vocab]
  int32_t size_ = 0;
  int32_t sorted_ = 0;  // [0, sorted_) are the sorted_ best, in order
};

}  // namespace kestrel::sample
