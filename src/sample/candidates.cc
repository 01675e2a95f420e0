#include "sample/candidates.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kestrel::sample {

void CandidateSet::fill(const float* logits) {
  const auto n = static_cast<int32_t>(data_.size());
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  for (int32_t i = 0; i < n; ++i) {
    const float l = logits[i];
    data_[i] = {std::isnan(l) ? kNegInf : l, i};
  }
  size_ = n;
  sorted_ = 0;
}

void CandidateSet::truncate(int32_t n) {
  size_ = std::min(n, size_);
  sorted_ = std::min(sorted_, size_);
}

void CandidateSet::set_compacted(int32_t n, int32_t n_sorted) {
  size_ = n;
  sorted_ = n_sorted;
}

void CandidateSet::sort_prefix(int32_t m) {
  m = std::min(m, size_);
  if (m <= sorted_) return;
  Candidate* first = data_.data() + sorted_;
  Candidate* mid = data_.data() + m;
  Candidate* last = data_.data() + size_;
  // Everything in [sorted_, size_) is no better than the sorted prefix, so ordering that range's
  // best (m - sorted_) extends the prefix.
  const ptrdiff_t k = mid - first;
  if (k <= kHeapSelectMax && (last - first) > 8 * k) {
    // Few wanted from many (top-k 40 of 262144, every token): one pass against a heap whose top
    // is the worst kept candidate. Almost every element loses that single float compare, which is
    // several times faster than nth_element's partitioning.
    std::make_heap(first, mid, better);
    for (Candidate* it = mid; it < last; ++it) {
      if (better(*it, *first)) {
        std::pop_heap(first, mid, better);
        std::swap(*(mid - 1), *it);
        std::push_heap(first, mid, better);
      }
    }
    std::sort_heap(first, mid, better);
  } else {
    if (mid < last) std::nth_element(first, mid, last, better);
    std::sort(first, mid, better);
  }
  sorted_ = m;
}

int32_t CandidateSet::best_index() const {
  if (sorted_ > 0) return 0;
  int32_t best = 0;
  for (int32_t i = 1; i < size_; ++i) {
    if (better(data_[i], data_[best])) best = i;
  }
  return best;
}

}  // namespace kestrel::sample
