#include "sample/filters.h"

#include <algorithm>
#include <cmath>

namespace kestrel::sample {
namespace {

// Below this many candidates top_p sorts directly; the prefilter pass is not worth it.
constexpr int32_t kPrefilterMin = 1024;

}  // namespace

void top_k(CandidateSet& cands, int32_t k) {
  if (k <= 0 || k >= cands.size()) return;
  cands.sort_prefix(k);
  cands.truncate(k);
}

void top_p(CandidateSet& cands, float p) {
  const int32_t n = cands.size();
  if (p >= 1.0f || n <= 1) return;
  const float max_logit = cands[cands.best_index()].logit;
  if (std::isinf(max_logit)) return;  // all masked (-inf): no distribution to cut
  // Normalizer over the whole set first, so the walk below only needs the sorted prefix. Float
  // exp (several times cheaper than double over 262144 terms, and exact to an ulp) summed in
  // double: a float sum would lose the tail that decides where p is crossed.
  double z = 0.0;
  for (int32_t i = 0; i < n; ++i) z += std::exp(cands[i].logit - max_logit);
  const double target = static_cast<double>(p) * z;
  int32_t m = n;
  if (!cands.fully_sorted() && n > kPrefilterMin) {
    // The candidate that crosses p is the best of a tail holding more than (1 - p) of the mass,
    // so its weight is at least (1 - p) * z / n, and so is every kept one. Dropping the rest
    // first (one cheap pass) spares sorting them; on a peaked distribution that is nearly all.
    // The 0.01 margin in log space keeps rounding from dropping a candidate on the edge.
    const double cut = max_logit + std::log((1.0 - p) * z / n) - 0.01;
    Candidate* end = std::partition(cands.data(), cands.data() + n,
                                    [cut](const Candidate& c) { return c.logit >= cut; });
    m = static_cast<int32_t>(end - cands.data());
    // Any order now; the walk below sorts what it keeps, so the result is canonical again.
    cands.set_compacted(m, 0);
  }
  double cum = 0.0;
  for (int32_t i = 0; i < m; ++i) {
    if (i >= cands.n_sorted()) cands.sort_prefix(std::max(2 * i, 64));
    cum += std::exp(cands[i].logit - max_logit);
    if (cum >= target) {
      cands.truncate(i + 1);
      return;
    }
  }
  // Rounding kept the mass just below p: all m stay, and they are now fully sorted.
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
