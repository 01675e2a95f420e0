#include "sample/penalties.h"

#include <algorithm>

namespace kestrel::sample {

Penalties::Penalties(const SamplingParams& params, int32_t n_vocab)
    : active_(params.repeat_last_n != 0 &&
              (params.repeat_penalty != 1.0f || params.frequency_penalty != 0.0f ||
               params.presence_penalty != 0.0f)),
      repeat_penalty_(params.repeat_penalty),
      frequency_penalty_(params.frequency_penalty),
      presence_penalty_(params.presence_penalty),
      window_(params.repeat_last_n) {
  if (!active_) return;
  counts_.assign(n_vocab, 0);
  if (window_ > 0) ring_.assign(window_, 0);
}

void Penalties::accept(int32_t token) {
  if (!active_) return;
  ++counts_[token];
  if (window_ < 0) return;
  if (filled_ == window_) {
    --counts_[ring_[head_]];  // the oldest token leaves the window
  } else {
    ++filled_;
  }
  ring_[head_] = token;
  head_ = (head_ + 1) % window_;
}

void Penalties::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  head_ = 0;
  filled_ = 0;
}

void Penalties::apply(CandidateSet& cands) const {
  if (!active_) return;
  for (int32_t i = 0; i < cands.size(); ++i) {
    Candidate& c = cands[i];
    const int32_t n = counts_[c.id];
    if (n == 0) continue;
    c.logit = c.logit > 0.0f ? c.logit / repeat_penalty_ : c.logit * repeat_penalty_;
    c.logit -= static_cast<float>(n) * frequency_penalty_ + presence_penalty_;
  }
}

}  // namespace kestrel::sample
