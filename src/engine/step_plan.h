// The scheduler's decision for one step, as plain data: which sequences run how many of their
// uncomputed tokens. The runner turns it into a batch; commit applies the results.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/request.h"

namespace kestrel::engine {

struct ScheduledChunk {
  SeqId seq = 0;
  int32_t first = 0;     // index of the first token of the chunk in the sequence (== n_computed)
  int32_t n_tokens = 0;
  bool wants_logits = false;  // the chunk ends at the sequence's last token: sample after it
  bool all_logits = false;    // logits of every token of the chunk (prompt log-probabilities)
};

struct StepPlan {
  std::vector<ScheduledChunk> chunks;
  int64_t n_tokens = 0;
  bool empty() const { return chunks.empty(); }
};

}  // namespace kestrel::engine
