#include "sample/filters.h"

#include <algorithm>
#include <cmath>

namespace kestrel::sample {

void top_k(CandidateSet& cands, int32_t k) {
  if (k <= 0 || k >= cands.size()) return;
  cands.sort_prefix(k);
  cands.truncate(k);
}

void top_p(CandidateSet& cands, float p) {
  const int32_t n = cands.size();
  if (p >= 1.0f || n <= 1) return;
  const float max_logit = cands[cands.best_index()].logit;
  // Normalizer over the whole set first, so the walk below only needs the sorted prefix. Sums in
  // double: over 262144 terms float loses the tail that decides where p is crossed.
  double z = 0.0;
  for (int32_t i = 0; i < n; ++i) z += std::exp(static_cast<double>(cands[i].logit - max_logit));
  const double target = static_cast<double>(p) * z;
  double cum = 0.0;
  for (int32_t i = 0; i < n; ++i) {
    if (i >= cands.n_sorted()) cands.sort_prefix(std::max(2 * i, 64));
    cum += std::exp(static_cast<double>(cands[i].logit - max_logit));
    if (cum >= target) {
      cands.truncate(i + 1);
      return;
    }
  }
  // Rounding kept the mass just below p: everything stays, and the set is now fully sorted.
}

void min_p(CandidateSet& cands, float p) {
  const int32_t n = cands.size();
  if (p <= 0.0f || n <= 1) return;
  const float threshold = cands[cands.best_index()].logit + std::log(p);
  if (cands.fully_sorted()) {
    int32_t keep = 1;  // the best always passes (log p <= 0)
    while (keep < n && cands[keep].logit >= threshold) ++keep;
    cands.truncate(keep);
    return;
  }
  // Stable compaction: kept candidates keep their relative (id) order.
  int32_t kept = 0;
  for (int32_t i = 0; i < n; ++i) {
    if (cands[i].logit >= threshold) cands[kept++] = cands[i];
  }
  cands.set_compacted(kept, 0);
}

void apply_temperature(CandidateSet& cands, float t) {
  for (int32_t i = 0; i < cands.size(); ++i) cands[i].logit /= t;
}

}  // namespace kestrel::sample
