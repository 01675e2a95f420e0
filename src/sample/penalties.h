// Penalties: repetition, frequency and presence penalties over the last repeat_last_n accepted
// tokens, as llama.cpp applies them (llama_sampler_penalties): for each token that occurs c > 0
// times in the window,
//   logit = logit > 0 ? logit / repeat_penalty : logit * repeat_penalty
//   logit -= c * frequency_penalty + presence_penalty
// Tokens outside the window are untouched.
//
// Cost: accept() is O(1) (a ring buffer of the window and a count per vocabulary id, both sized in
// the constructor); apply() is one O(n_vocab) pass. With repeat_last_n == -1 the window is the
// whole history and only the counts are kept.
#pragma once

#include <cstdint>
#include <vector>

#include "sample/candidates.h"
#include "sample/sampling_params.h"

namespace kestrel::sample {

class Penalties {
 public:
  Penalties(const SamplingParams& params, int32_t n_vocab);

  // False when the settings make apply() a no-op; then accept() keeps no history either.
  bool active() const { return active_; }
  // Records a token (prompt or generated). The caller has checked 0 <= token < n_vocab.
  void accept(int32_t token);
  void reset();
  // Occurrences of token in the window.
  int32_t count(int32_t token) const { return active_ ? counts_[token] : 0; }

  // Penalizes candidates in id order (straight from CandidateSet::fill).
  void apply(CandidateSet& cands) const;

 private:
  bool active_;
  float repeat_penalty_;
  float frequency_penalty_;
  float presence_penalty_;
  int32_t window_;               // repeat_last_n; -1 = unbounded
  std::vector<int32_t> counts_;  // [n_vocab] occurrences in the window
  std::vector<int32_t> ring_;    // [window_] the window, oldest at head_ once full
  int32_t head_ = 0;
  int32_t filled_ = 0;
};

}  // namespace kestrel::sample
