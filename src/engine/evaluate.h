// Teacher forcing: runs a whole token sequence through the model in chunks and hands over the
// next-token logits of every position. For logit tests, perplexity and KL-divergence.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "model/model.h"

namespace kestrel::engine {

// Calls on_logits(pos, logits F32 [n_vocab]) for pos = 0 .. tokens.size()-1, in order; logits at
// pos predict tokens[pos + 1]. Chunks of at most `chunk` tokens (capped by the model's max_batch).
void evaluate_logits(model::Model& model, const std::vector<int32_t>& tokens, int64_t chunk,
                     const std::function<void(int64_t pos, const float* logits)>& on_logits);

}  // namespace kestrel::engine
