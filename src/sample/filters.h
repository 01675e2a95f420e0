// Truncation filters and temperature: each narrows or reshapes a CandidateSet in place, with
// llama.cpp's semantics (src/llama-sampling.cpp), and each keeps at least one candidate. The
// probabilities they use are the softmax of the current logits over the current set, so a filter
// sees what the filters before it left (temperature runs after them, so they see temperature 1).
// Every filter keeps the order invariant stated in candidates.h.
#pragma once

#include <cstdint>

#include "sample/candidates.h"

namespace kestrel::sample {

// Keeps the k best candidates, sorted. k <= 0 or k >= size: no-op. Cost O(n + k log k).
void top_k(CandidateSet& cands, int32_t k);

// Nucleus: keeps the shortest best-first prefix whose probability mass reaches p (the candidate
// that crosses p is kept). p >= 1: no-op. Sorts only as far as the prefix reaches, in doubling
// steps, so a peaked distribution over 262144 ids costs a few O(n) passes, not a full sort.
void top_p(CandidateSet& cands, float p);

// Keeps candidates with probability >= p * (largest probability), i.e. logit >= max + log(p).
// p <= 0: no-op. Cost O(n); keeps the current order.
void min_p(CandidateSet& cands, float p);

// Divides every logit by t (t > 0). Order is unchanged.
void apply_temperature(CandidateSet& cands, float t);

}  // namespace kestrel::sample
